/**
 * Whole-CLI queries over a lake the pipeline's own layout wrote (`bench/lake.ts`: steady traffic, ~720
 * small files per category-hour), before and after the local compaction, in the same run, and where the
 * time of one query goes:
 * - a correlation-id lookup, a free-text search and `stats` (count per service), each a whole `loglake`
 *   process run as the published package runs it (its bin and esbuild bundle, `compiled-cli.ts`), on the
 *   delivered lake (the baseline) and on the compacted one; the compacted lake also with the sources
 *   compiled file by file (what the package ran before the bundle);
 * - start-up on its own: `node -e ""`, and `loglake search` on an empty lake (loading the command,
 *   DuckDB and the access audit: the fixed cost of every query), with the access audit on (as users run
 *   it) and off (`accessAudit.enabled: false`), so the access record's share is printed too;
 * - the query alone, in this process (`LocalLakeReader`: listing, view, DuckDB), on both lakes;
 * - for each: median wall time, median CPU time (user + system of the process: on a loaded machine wall
 *   time mostly measures the wait for a core, CPU time much less) and peak resident memory;
 * - the specification's targets (1M events: lookup < 1 s; 10M: text < 5 s) are printed next to the
 *   figures, never asserted.
 *
 * `npm run bench -- lake`: by default 100,000 events over 2 simulated hours (`LOGLAKE_BENCH_LAKE_EVENTS`,
 * `LOGLAKE_BENCH_LAKE_HOURS`; a day is 24: each simulated hour of 1M-a-day traffic is ~5,000 delivery
 * files, so the default keeps the per-hour file count and fewer hours). Built lakes are cached under
 * `.cache/bench/lakes/`. `LOGLAKE_BENCH_10M=1` adds 10M events over the same span;
 * `LOGLAKE_BENCH_LAKE_BASELINE_RUNS=1` measures the delivered lake once (minutes per query when large), `0`
 * not at all. `LOGLAKE_BENCH_LAKE_SAMPLE=10` cuts the first lake from the 10M day (one request in 10, each
 * hour compacted again) instead of building it: the 1M day in a minute.
 * On the first lake, the lookup also runs while this hour is not compacted yet (an hour of delivery
 * files added): open + query with the reader's view over every partition (before) and over the query's.
 * The load average is printed with each case: on a shared machine prefer CPU time and in-engine time.
 * Each `loglake` process records its read in the lake's `audit` category (today's hour, outside the
 * simulated span, so the figures do not count it), as every query of a user does.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { listPartitions } from '../src/local/lake-files';
import { type BuiltQuery, buildQuery } from '../src/query/build';
import { LOCAL_TABLE, LocalLakeReader } from '../src/query/duckdb';
import type { LogFilter, LogQuery } from '../src/query/model';
import { packagedCli, perFileCli } from './compiled-cli';
import { benchEnv } from './env';
import { type BenchLake, benchLake, reportLingering, sampledLake } from './lake';

const RUNS = 5;

/** The package's bin (set once built). */
let compiledEntry = '';

/** What every measured process gets in its environment besides this one's. */
const runEnv: Record<string, string> = {};

interface Figure {
  readonly ms: number;
  /** User + system CPU time of the process. */
  readonly cpuMs: number;
  readonly rssMiB: number;
  /** Output lines (records, or stats rows). */
  readonly lines: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** Medians of wall and CPU time and the largest max-RSS of `node args` over `runs` runs after one warm-up (none for 1 run). */
function measure(args: readonly string[], runs = RUNS): Figure {
  const times: number[] = [];
  const cpu: number[] = [];
  let rss = 0;
  let lines = Number.NaN;
  for (let i = runs === 1 ? 1 : 0; i <= runs; i++) {
    const t0 = performance.now();
    // `/usr/bin/time` gives the child's CPU time and peak RSS (KiB) without touching its code.
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S %M', process.execPath, ...args], {
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...runEnv },
      encoding: 'utf8',
      maxBuffer: 1024 ** 3,
    });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    const [user, sys, kib] = (r.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
    if (i > 0) {
      times.push(ms);
      cpu.push(((user ?? Number.NaN) + (sys ?? Number.NaN)) * 1000);
      rss = Math.max(rss, (kib ?? Number.NaN) / 1024);
    }
    lines = r.stdout.split('\n').filter((l) => l.trim() !== '').length;
  }
  return { ms: median(times), cpuMs: median(cpu), rssMiB: rss, lines };
}

/** The query alone in this process: median wall time of listing, view and DuckDB, and the rows. */
async function inEngine(lake: BenchLake, query: LogQuery, runs = RUNS): Promise<Figure> {
  const reader = await LocalLakeReader.open(lake.dataDir);
  try {
    const built = buildQuery(query, { dialect: 'duckdb', tables: [{ table: LOCAL_TABLE }] });
    const times: number[] = [];
    const cpu: number[] = [];
    let lines = 0;
    for (let i = runs === 1 ? 1 : 0; i <= runs; i++) {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      lines = (await reader.query(built)).length;
      const c = process.cpuUsage(c0);
      if (i > 0) {
        times.push(performance.now() - t0);
        cpu.push((c.user + c.system) / 1000);
      }
    }
    return { ms: median(times), cpuMs: median(cpu), rssMiB: Number.NaN, lines };
  } finally {
    reader.close();
  }
}

const load = () => loadavg()[0]?.toFixed(1) ?? '?';

/**
 * Open, query and close, each run (what one CLI query pays in the engine), with the reader's view over
 * every partition (how the CLI opened the lake before) or over the query's own.
 */
async function openAndQuery(dataDir: string, built: BuiltQuery, scoped: boolean): Promise<Figure> {
  const times: number[] = [];
  const cpu: number[] = [];
  let lines = 0;
  for (let i = 0; i <= RUNS; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const reader = await LocalLakeReader.open(dataDir, scoped && built.scope ? { scope: built.scope } : {});
    try {
      lines = (await reader.query(built)).length;
    } finally {
      reader.close();
    }
    const c = process.cpuUsage(c0);
    if (i > 0) {
      times.push(performance.now() - t0);
      cpu.push((c.user + c.system) / 1000);
    }
  }
  return { ms: median(times), cpuMs: median(cpu), rssMiB: Number.NaN, lines };
}

/**
 * The lake while the current hour is not compacted yet: the compacted day plus an hour of delivery
 * files as the pipeline writes them (a delivered 1-hour lake of the day's hourly rate, moved to this
 * hour), and a query over the day. The reader opened over every partition names the hour's files in
 * its view (DuckDB reads each footer); opened over the query's scope it never lists them.
 */
async function uncompactedHour(lake: BenchLake, c: Case, range: LogFilter, dir: string): Promise<void> {
  const hourEvents = Math.round(lake.events / 24);
  const hour = await benchLake({ events: hourEvents, spanHours: 1, state: 'delivered' });
  const dataDir = join(dir, 'with-open-hour');
  cpSync(lake.dataDir, dataDir, { recursive: true });
  const now = new Date();
  const [dt, hh] = [now.toISOString().slice(0, 10), now.toISOString().slice(11, 13)];
  for (const p of listPartitions(hour.dataDir)) {
    cpSync(p.abs, join(dataDir, 'logs', `category=${p.category}`, `dt=${dt}`, `hour=${hh}`), {
      recursive: true,
    });
  }
  const built = buildQuery(c.query(range), { dialect: 'duckdb', tables: [{ table: LOCAL_TABLE }] });
  console.log(
    `\n${c.name} over the compacted day while this hour is not compacted (${hour.files.toLocaleString('en')} delivery files, ${hourEvents.toLocaleString('en')} events; load average ${load()}):`,
  );
  const before = await openAndQuery(dataDir, built, false);
  const after = await openAndQuery(dataDir, built, true);
  const cliRun = measure(cli(compiledEntry, c.command, { ...lake, dataDir }, c.args));
  for (const f of [before, after, cliRun]) {
    if (f.lines !== c.rows)
      throw new Error(`${c.name} with an open hour gave ${f.lines} rows; expected ${c.rows}`);
  }
  row('  open + query, view over every partition (before)', before);
  row('  open + query, view over the query scope', after, before);
  row('  whole CLI (package bundle)', cliRun, undefined, c.target);
}

function cli(entry: string, command: string, lake: BenchLake, filter: readonly string[]): string[] {
  return [
    entry,
    command,
    ...filter,
    '--data-dir',
    lake.dataDir,
    '--since',
    lake.dayStart,
    '--until',
    lake.dayEnd,
    ...(command === 'search' ? ['--limit', '1000'] : []),
    '--format',
    'ndjson',
  ];
}

function row(name: string, f: Figure, baseline?: Figure, note?: string): void {
  const ratio = baseline
    ? `${(baseline.ms / f.ms).toFixed(1)}x faster (CPU ${(baseline.cpuMs / f.cpuMs).toFixed(1)}x)`
    : '';
  const rss = Number.isNaN(f.rssMiB) ? '' : `${f.rssMiB.toFixed(0)} MiB`;
  console.log(
    `${name.padEnd(44)} ${f.ms.toFixed(0).padStart(7)} ms  CPU ${f.cpuMs.toFixed(0).padStart(7)} ms  ${rss.padStart(9)}  ${String(f.lines).padStart(4)} rows  ${ratio}${note ? `  ${note}` : ''}`,
  );
}

interface Case {
  readonly name: string;
  readonly command: 'search' | 'stats';
  readonly args: string[];
  readonly query: (f: LogFilter) => LogQuery;
  readonly rows: number;
  readonly target?: string;
}

async function main(): Promise<void> {
  const events = [benchEnv.lakeEvents, ...(benchEnv.tenMillion ? [10_000_000] : [])];
  const spanHours = benchEnv.lakeSpanHours;
  const dir = mkdtempSync(join(tmpdir(), 'loglake-bench-lake-'));
  try {
    const compiled = await packagedCli(join(dir, 'package'));
    compiledEntry = compiled;
    const perFile = perFileCli(join(dir, 'per-file'));
    // Node's compile cache (the bin turns it on) of this run only: cold on each warm-up run, then warm.
    runEnv.NODE_COMPILE_CACHE = join(dir, 'compile-cache');
    const empty = join(dir, 'empty');
    mkdirSync(join(empty, '.loglake'), { recursive: true });
    console.log(
      `Node ${process.versions.node}, median of ${RUNS} runs; wall and CPU (user + system) time; load average ${loadavg()[0]?.toFixed(1)} at the start`,
    );
    const floor = measure(['-e', '']);
    row('node -e ""', floor);
    row('loglake --help (package bundle)', measure([compiled, '--help']));
    row('loglake --help (per-file JS, before)', measure([perFile, '--help']));
    // Start-up on its own: what every query pays before it reads a file, and the access record's share.
    const emptySearch = (extra: string[], entry = compiled) =>
      measure([
        entry,
        'search',
        '--data-dir',
        empty,
        '--since',
        '1h',
        // Each run records its read in the audit category: the next one must not find it.
        '--category',
        'debug',
        '--format',
        'ndjson',
        ...extra,
      ]);
    const noAudit = join(dir, 'no-audit.json');
    writeFileSync(noAudit, JSON.stringify({ accessAudit: { enabled: false } }));
    const startup = emptySearch([]);
    const unaudited = emptySearch(['--config', noAudit]);
    const startupBefore = emptySearch([], perFile);
    row('loglake search, empty lake (per-file JS, before)', startupBefore);
    row('loglake search, empty lake (package bundle)', startup, startupBefore, '(the fixed cost of a query)');
    row(
      '  the same, access audit off',
      unaudited,
      undefined,
      `(the access record: ${(startup.ms - unaudited.ms).toFixed(0)} ms wall, ${(startup.cpuMs - unaudited.cpuMs).toFixed(0)} ms CPU)`,
    );
    for (const n of events) {
      // 0 baseline runs: the delivered lake is not queried (minutes per query at 1M; its figures are known),
      // nor kept: the compacted lake is built with each hour compacted as it is delivered.
      const sampled = benchEnv.lakeSample > 0 && n === benchEnv.lakeEvents && n < 10_000_000;
      // A cut lake has no delivered twin: its delivered files were never the pipeline's.
      const baseline = benchEnv.lakeBaselineRuns > 0 && !sampled;
      const compacted = sampled
        ? await sampledLake(
            await benchLake({ events: 10_000_000, spanHours, state: 'compacted' }),
            benchEnv.lakeSample,
          )
        : await benchLake({ events: n, spanHours, state: 'compacted' });
      const delivered = baseline ? await benchLake({ events: n, spanHours, state: 'delivered' }) : compacted;
      const asDelivered = compacted.delivered ?? delivered;
      console.log(
        `\n${compacted.events.toLocaleString('en')} events over ${spanHours} simulated hour(s)${compacted.sampledFrom ? ` (one request in ${compacted.sampledFrom.every} of the ${compacted.sampledFrom.events.toLocaleString('en')}-event day)` : ''}: ${compacted.sampledFrom ? 'cut to' : 'delivered'} ${asDelivered.files.toLocaleString('en')} files ` +
          `(${(asDelivered.bytes / 1024 ** 2).toFixed(0)} MiB), compacted ${compacted.files.toLocaleString('en')} files ` +
          `(${(compacted.bytes / 1024 ** 2).toFixed(0)} MiB; compaction took ${compacted.compaction?.seconds.toFixed(0) ?? '?'} s; ` +
          `the lake was built in ${compacted.buildSeconds.toFixed(0)} s); load average ${load()}`,
      );
      const range = { since: new Date(delivered.dayStart), until: new Date(delivered.dayEnd) };
      const cases: Case[] = [
        {
          name: 'correlation-id lookup',
          command: 'search',
          args: ['--correlation-id', delivered.correlationId],
          query: (filter) => ({
            kind: 'search',
            filter: { ...filter, correlationId: delivered.correlationId },
            limit: 1000,
          }),
          rows: delivered.correlationEvents,
          ...(n >= 1_000_000 ? { target: '(target < 1 s at 1M)' } : {}),
        },
        {
          name: 'free text',
          command: 'search',
          args: [delivered.text],
          query: (filter) => ({ kind: 'search', filter: { ...filter, text: delivered.text }, limit: 1000 }),
          rows: Math.min(1000, delivered.textEvents),
          ...(n >= 10_000_000 ? { target: '(target < 5 s at 10M)' } : {}),
        },
        {
          name: 'stats --group-by service',
          command: 'stats',
          args: ['--group-by', 'service'],
          query: (filter) => ({ kind: 'aggregate', filter, groupBy: ['service'] }),
          rows: 12,
        },
      ];
      for (const c of cases) {
        const before = baseline
          ? measure(cli(compiled, c.command, delivered, c.args), benchEnv.lakeBaselineRuns)
          : undefined;
        const after = measure(cli(compiled, c.command, compacted, c.args));
        const perFileRun = measure(cli(perFile, c.command, compacted, c.args));
        const engineBefore = baseline
          ? await inEngine(delivered, c.query(range), benchEnv.lakeBaselineRuns)
          : undefined;
        const engineAfter = await inEngine(compacted, c.query(range));
        for (const [state, f] of [
          ['delivered', before],
          ['compacted', after],
          ['compacted (per-file JS)', perFileRun],
          ['delivered (in-engine)', engineBefore],
          ['compacted (in-engine)', engineAfter],
        ] as const) {
          if (f && f.lines !== c.rows)
            throw new Error(`${c.name} on the ${state} lake gave ${f.lines} rows; expected ${c.rows}`);
        }
        console.log(`${c.name}: (load average ${load()})`);
        if (before) row('  delivered lake, whole CLI (package bundle)', before);
        row('  compacted lake, whole CLI (per-file JS, before)', perFileRun);
        row('  compacted lake, whole CLI (package bundle)', after, before ?? perFileRun, c.target);
        if (engineBefore) row('  delivered lake, query alone (in-engine)', engineBefore);
        row('  compacted lake, query alone (in-engine)', engineAfter, engineBefore);
      }
      if (n === events[0]) await uncompactedHour(compacted, cases[0] as Case, range, dir);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => reportLingering('bench/lake.bench.ts'),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
