/**
 * Dashboard load time in a real browser (the specification: interactive loads under 10 s): each of the
 * explorer's dashboards opened in Debian's Chromium (playwright-core, `LOGLAKE_CHROMIUM` or
 * /usr/bin/chromium) from `loglake ui` over a lake of realistic size: the lake benchmark's steady
 * traffic (`bench/lake.ts`, `LOGLAKE_BENCH_LAKE_EVENTS` over `LOGLAKE_BENCH_LAKE_HOURS`, as delivered by the
 * pipeline), plus the demo's traffic over the same span (sent through the local endpoint) so the security
 * and AI panels have their WAF, GuardDuty and model events.
 *
 * Three states of that lake (`LOGLAKE_BENCH_DASHBOARD_STATES` picks some):
 * - `delivered`: every file as delivered, nothing compacted (the worst case, and what the current hour
 *   held before the local compaction compacted open hours);
 * - `live`: what a running `loglake local` leaves at the end of the last hour, just before a compaction
 *   pass: the earlier hours compacted, the last hour's files delivered minute by minute (by their
 *   segment's time) with the pipeline's compaction pass (its defaults) after each minute but the last;
 * - `compacted`: every hour compacted (closed).
 *
 * Per dashboard and lake state: the median and range of `LOGLAKE_BENCH_DASHBOARD_RUNS` (default 5) cold loads (navigation to the load
 * event; each a range one millisecond apart, so no panel is answered from the explorer's cache) and of
 * a reload inside the refresh interval (answered from the cache), with the page's own query time.
 * Printed, never asserted.
 *
 * `npm run bench -- dashboards`.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium } from 'playwright-core';
import { startLocal } from '../src/cli/commands/local';
import { startUi } from '../src/cli/commands/ui';
import { quietSdkNodeVersionWarning } from '../src/cli/env';
import { DEFAULT_CONFIG } from '../src/config';
import { Compactor, compactionSettings } from '../src/local/compact';
import { COMPACTED_PREFIX, listPartitions } from '../src/local/lake-files';
import { sampleTraffic } from '../src/local/sample-traffic';
import { firehoseClientConfig, Shipper } from '../src/producer';
import { STREAMS } from '../src/schema';
import { DASHBOARDS } from '../src/ui/dashboards';
import { benchEnv } from './env';
import { type BenchLake, benchLake, reportLingering } from './lake';

const RUNS = benchEnv.dashboardRuns;
const STATES = ['delivered', 'live', 'compacted'] as const;
type LakeState = (typeof STATES)[number];
const HOUR = 3_600_000;
const MINUTE = 60_000;
const TARGET_MS = 10_000;
const quiet = { stdout: () => undefined, stderr: () => undefined };

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

/** A copy of the lake with the demo's traffic added over its span (the explorer writes access events). */
async function withDemoTraffic(lake: BenchLake): Promise<string> {
  const dataDir = join(mkdtempSync(join(tmpdir(), 'loglake-bench-dash-')), 'lake');
  cpSync(lake.dataDir, dataDir, { recursive: true });
  const local = await startLocal({ dataDir, port: 0, flushSeconds: 1, quiet: true, alerts: false }, quiet);
  try {
    const end = Date.parse(lake.dayEnd);
    const span = end - Date.parse(lake.dayStart);
    const traffic = sampleTraffic(new Date(end - 60_000), 2_000, span - 120_000);
    for (const stream of STREAMS) {
      const shipper = new Shipper({
        streamName: stream,
        clientConfig: firehoseClientConfig({ endpoint: local.endpoint.url }),
      });
      for (const e of traffic.events.filter((x) => x.stream === stream)) await shipper.write(e.line);
      await shipper.close();
    }
    await local.pipeline.flush();
  } finally {
    await local.stop();
  }
  return dataDir;
}

function states(): LakeState[] {
  const unknown = benchEnv.dashboardStates.filter((s) => !(STATES as readonly string[]).includes(s));
  if (unknown.length > 0) {
    throw new Error(
      `LOGLAKE_BENCH_DASHBOARD_STATES: unknown state(s) ${unknown.join(', ')}; expected some of ${STATES.join(', ')}`,
    );
  }
  return STATES.filter((s) => benchEnv.dashboardStates.includes(s));
}

/** Epoch ms a delivered file's name (its spool segment: base-36 time, then a random part) was made. */
function segmentTime(name: string): number {
  return Number.parseInt(name.slice(0, name.indexOf('-')), 36);
}

/**
 * Turns a delivered lake into what a running `loglake local` leaves at the end of its last hour, just
 * before a compaction pass (see the module comment); says what is left of that hour.
 */
async function simulateCurrentHour(dataDir: string, lake: BenchLake): Promise<string> {
  const end = Date.parse(lake.dayEnd);
  const start = end - HOUR;
  const held = join(dataDir, '..', 'held');
  const arrivals: Array<{ from: string; to: string; at: number }> = [];
  for (const p of listPartitions(dataDir)) {
    if (Date.parse(`${p.dt}T${p.hour}:00:00Z`) !== start) continue;
    for (const name of p.visible) {
      const from = join(held, p.rel, name);
      mkdirSync(dirname(from), { recursive: true });
      renameSync(join(p.abs, name), from);
      // The demo's files were delivered now (after the span): they arrive in the last minute.
      arrivals.push({
        from,
        to: join(p.abs, name),
        at: Math.min(Math.max(segmentTime(name), start), end - 1),
      });
    }
  }
  arrivals.sort((a, b) => a.at - b.at);
  const settings = compactionSettings(5_000, { compression: DEFAULT_CONFIG.output.compression });
  const compactor = await Compactor.open({ dataDir, settings });
  let compactions = 0;
  try {
    // The earlier hours: compacted once closed, their grace period long over by the end of the hour.
    compactions += (await compactor.run({ now: () => new Date(start + settings.closedAfterMs) })).compacted
      .length;
    compactor.tidy(new Date(start + settings.closedAfterMs + settings.graceMs));
    let next = 0;
    for (let minute = 1; minute <= 60; minute++) {
      const now = start + minute * MINUTE;
      for (let a = arrivals[next]; a !== undefined && a.at < now; a = arrivals[++next])
        renameSync(a.from, a.to);
      if (minute < 60) compactions += (await compactor.run({ now: () => new Date(now) })).compacted.length;
    }
  } finally {
    compactor.close();
  }
  rmSync(held, { recursive: true, force: true });
  const last = listPartitions(dataDir).filter((p) => Date.parse(`${p.dt}T${p.hour}:00:00Z`) === start);
  const visible = last.flatMap((p) => p.visible);
  const compacted = visible.filter((n) => n.startsWith(COMPACTED_PREFIX)).length;
  const pending = last.reduce((n, p) => n + p.markers.length, 0);
  return `the last hour after 59 one-minute passes (${compactions} compactions): ${visible.length} files in ${last.length} partitions, ${compacted} compacted (${pending} still in their grace period) and ${visible.length - compacted} delivered in its last minute, against ${arrivals.length} delivered`;
}

function visibleCount(dataDir: string): number {
  return listPartitions(dataDir).reduce((n, p) => n + p.visible.length, 0);
}

/** Fails when the pipeline that added the demo's traffic compacted a lake meant to stay as delivered. */
function expectNothingCompacted(dataDir: string): void {
  const compacted = listPartitions(dataDir).flatMap((p) =>
    p.visible.filter((n) => n.startsWith(COMPACTED_PREFIX)),
  );
  if (compacted.length > 0) {
    throw new Error(
      `adding the demo's traffic compacted ${compacted.length} file(s) of the delivered lake; run again`,
    );
  }
}

async function main(): Promise<void> {
  quietSdkNodeVersionWarning();
  const executablePath = benchEnv.chromium;
  if (!existsSync(executablePath)) {
    console.log(`dashboards: SKIPPED: no Chromium at ${executablePath} (apt-get install chromium)`);
    return;
  }
  const options = { events: benchEnv.lakeEvents, spanHours: benchEnv.lakeSpanHours };
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
  try {
    for (const state of states()) {
      const lake = await benchLake({ ...options, state: state === 'compacted' ? 'compacted' : 'delivered' });
      const dataDir = await withDemoTraffic(lake);
      if (state !== 'compacted') expectNothingCompacted(dataDir);
      const live = state === 'live' ? await simulateCurrentHour(dataDir, lake) : undefined;
      const ui = await startUi({ dataDir, port: 0 }, quiet);
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      try {
        console.log(
          `\n${lake.events.toLocaleString('en')} events over ${options.spanHours} simulated hour(s), ${state} (${visibleCount(dataDir).toLocaleString('en')} files with the demo's traffic; the lake's own ${lake.files.toLocaleString('en')}, ${(lake.bytes / 1024 ** 2).toFixed(0)} MiB); load average ${loadavg()
            .map((x) => x.toFixed(1))
            .join(' ')}${live ? `\n${live}` : ''}`,
        );
        console.log(
          'dashboard | range | panels | cold load, median (min-max) | its queries | cached reload | target < 10 s',
        );
        console.log('---|---|---|---|---|---|---');
        for (const d of DASHBOARDS) {
          const end = Date.parse(lake.dayEnd);
          const spanMs = Math.min(
            end - Date.parse(lake.dayStart),
            { '15m': 900_000, '1h': 3_600_000, '24h': 86_400_000 }[d.since] ?? 86_400_000,
          );
          const href = (i: number) => {
            const until = new Date(end - i);
            const since = new Date(until.getTime() - spanMs);
            return new URL(
              `/dashboard?id=${d.id}&since=${since.toISOString()}&until=${until.toISOString()}`,
              ui.url,
            ).toString();
          };
          const load = async (target: string) => {
            const t0 = performance.now();
            // Over a lake as delivered a page can take minutes: measure it rather than give up.
            await page.goto(target, { waitUntil: 'load', timeout: 600_000 });
            const ms = performance.now() - t0;
            const footer = (await page.locator('footer summary').textContent()) ?? '';
            const queryMs = Number(/in (\d+) ms/.exec(footer)?.[1] ?? Number.NaN);
            return { ms, queryMs };
          };
          await load(href(RUNS + 1)); // warm-up: the browser, DuckDB's file metadata
          const cold: { ms: number; queryMs: number }[] = [];
          for (let i = 0; i < RUNS; i++) cold.push(await load(href(i)));
          const cached = await load(href(RUNS - 1));
          const ms = cold.map((c) => c.ms);
          const m = median(ms);
          console.log(
            `${d.id} | ${d.since} | ${await page.locator('section.panel').count()} | ${(m / 1000).toFixed(2)} s (${(Math.min(...ms) / 1000).toFixed(2)}-${(Math.max(...ms) / 1000).toFixed(2)}) | ${(median(cold.map((c) => c.queryMs)) / 1000).toFixed(2)} s | ${(cached.ms / 1000).toFixed(2)} s | ${m < TARGET_MS ? 'met' : 'NOT met'}`,
          );
        }
      } finally {
        await page.close();
        await ui.stop();
        rmSync(join(dataDir, '..'), { recursive: true, force: true });
      }
    }
  } finally {
    await browser.close();
  }
  reportLingering('dashboards.bench');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
