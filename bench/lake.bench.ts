/**
 * Whole-CLI search over a lake the pipeline's own layout wrote (`bench/lake.ts`: a simulated day of
 * steady traffic, ~720 small files per category-hour), before and after the local compaction, in the
 * same run:
 * - a correlation-id lookup and a free-text search, each a whole `loglake search` process (start-up,
 *   listing, DuckDB, output), median wall time and peak resident memory (the child's max RSS);
 * - the baseline: the same lake as delivered (uncompacted), and `node -e ""` for start-up alone;
 * - the specification's targets (1M events: lookup < 1 s; 10M: text < 5 s) are printed next to the
 *   figures, never asserted.
 *
 * `npm run bench -- lake`: by default 100,000 events over 2 simulated hours (`LOGLAKE_BENCH_LAKE_EVENTS`,
 * `LOGLAKE_BENCH_LAKE_HOURS`; a day is 24: its ~35,000 delivery files take hours to build on 2 shared
 * cores, so the default keeps the per-hour file count of a day and fewer hours). Built lakes are cached
 * under `.cache/bench/lakes/`. `LOGLAKE_BENCH_10M=1` adds 10M events over the same span;
 * `LOGLAKE_BENCH_LAKE_BASELINE_RUNS=1` measures the delivered lake once (minutes per search when large).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { benchEnv } from './env';
import { type BenchLake, benchLake } from './lake';

const RUNS = 5;
const root = join(__dirname, '..');
const bin = join(root, 'bin', 'loglake.cjs');

interface Figure {
  readonly ms: number;
  readonly rssMiB: number;
  readonly matches: number;
}

/** Median wall time and the largest max-RSS of `node args` over `runs` runs after one warm-up (none for 1 run). */
function measure(args: readonly string[], runs = RUNS): Figure {
  const times: number[] = [];
  let rss = 0;
  let matches = Number.NaN;
  for (let i = runs === 1 ? 1 : 0; i <= runs; i++) {
    const t0 = performance.now();
    // `/usr/bin/time -f %M` gives the child's peak RSS in KiB without touching its code.
    const r = spawnSync('/usr/bin/time', ['-f', '%M', process.execPath, ...args], {
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      encoding: 'utf8',
      maxBuffer: 1024 ** 3,
    });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    const kib = Number(r.stderr.trim().split('\n').pop());
    if (i > 0) {
      times.push(ms);
      rss = Math.max(rss, kib / 1024);
    }
    matches = r.stdout.split('\n').filter((l) => l.trim() !== '').length;
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)] ?? Number.NaN, rssMiB: rss, matches };
}

function search(lake: BenchLake, filter: string[]): string[] {
  return [
    bin,
    'search',
    ...filter,
    '--data-dir',
    lake.dataDir,
    '--since',
    lake.dayStart,
    '--until',
    lake.dayEnd,
    '--limit',
    '1000',
    '--format',
    'ndjson',
  ];
}

function row(name: string, f: Figure, baseline?: Figure, target?: string): void {
  const ratio = baseline ? `${(baseline.ms / f.ms).toFixed(1)}x faster than delivered` : 'baseline';
  console.log(
    `${name.padEnd(46)} ${f.ms.toFixed(0).padStart(7)} ms  ${f.rssMiB.toFixed(0).padStart(5)} MiB peak  ${String(f.matches).padStart(4)} hits  ${ratio}${target ? `  (target ${target})` : ''}`,
  );
}

async function main(): Promise<void> {
  const events = [benchEnv.lakeEvents, ...(benchEnv.tenMillion ? [10_000_000] : [])];
  const spanHours = benchEnv.lakeSpanHours;
  const floor = measure(['-e', '']);
  const help = measure([bin, '--help']);
  console.log(`process start-up, median of ${RUNS} runs:`);
  row('node -e ""', floor);
  console.log(
    `${'loglake --help'.padEnd(46)} ${help.ms.toFixed(0).padStart(7)} ms  ${help.rssMiB.toFixed(0).padStart(5)} MiB peak        ${(help.ms / floor.ms).toFixed(1)}x node's start-up`,
  );
  for (const n of events) {
    const delivered = await benchLake({ events: n, spanHours, state: 'delivered' });
    const compacted = await benchLake({ events: n, spanHours, state: 'compacted' });
    console.log(
      `\n${n.toLocaleString('en')} events over ${spanHours} simulated hour(s): delivered ${delivered.files.toLocaleString('en')} files ` +
        `(${(delivered.bytes / 1024 ** 2).toFixed(0)} MiB), compacted ${compacted.files.toLocaleString('en')} files ` +
        `(${(compacted.bytes / 1024 ** 2).toFixed(0)} MiB; compaction took ${compacted.compaction?.seconds.toFixed(0) ?? '?'} s)`,
    );
    const lookup = ['--correlation-id', delivered.correlationId];
    const text = [delivered.text];
    const cases: Array<[string, string[], number, string | undefined]> = [
      [
        'correlation-id lookup',
        lookup,
        delivered.correlationEvents,
        n >= 1_000_000 ? '< 1 s at 1M' : undefined,
      ],
      ['free text', text, Math.min(1000, delivered.textEvents), n >= 10_000_000 ? '< 5 s at 10M' : undefined],
    ];
    for (const [name, filter, expected, target] of cases) {
      const before = measure(search(delivered, filter), benchEnv.lakeBaselineRuns);
      const after = measure(search(compacted, filter));
      for (const [state, f] of [
        ['delivered', before],
        ['compacted', after],
      ] as const) {
        if (f.matches !== expected) {
          throw new Error(`${name} on the ${state} lake found ${f.matches} events; expected ${expected}`);
        }
      }
      row(`${name}, delivered lake (whole CLI)`, before);
      row(`${name}, compacted lake (whole CLI)`, after, before, target);
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
