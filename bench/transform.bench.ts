/**
 * Transform throughput on ~1 MiB Firehose batches, against a floor measured in the same run: for the
 * same records, base64-decode, JSON.parse, JSON.stringify, base64-encode (the least any JSON-in,
 * JSON-out transform must do). Prints MiB/s and the ratio of times; the target is at most 3x the floor.
 *
 * The transform is measured as deployed: bundled by esbuild (what `NodejsFunction` ships), not through
 * tsx's per-module wrappers.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildSync } from 'esbuild';
import { DEFAULT_CONFIG } from '../src/config';
import type * as Transform from '../src/transform';
import type { TransformInputRecord } from '../src/transform';

const bundle = join(mkdtempSync(join(tmpdir(), 'loglake-bench-')), 'transform.cjs');
const built = buildSync({
  entryPoints: [join(__dirname, '..', 'src', 'transform', 'index.ts')],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  write: false,
});
writeFileSync(bundle, built.outputFiles[0]?.text ?? '');
const { settingsFromConfig, transformRecords } = require(bundle) as typeof Transform;

const CORPUS = join(__dirname, '..', '..', 'shared', 'corpus', 'redaction-public.jsonl');
const TARGET_BYTES = 1024 * 1024;
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 30);

const logs = readFileSync(CORPUS, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.stringify((JSON.parse(l) as { log: unknown }).log));
const arrival = Date.parse('2026-07-01T00:00:00Z');

/** Corpus events (timestamps moved near arrival), packed `perRecord` to a record, ~1 MiB in total. */
function batch(perRecord: number): { records: TransformInputRecord[]; bytes: number } {
  const records: TransformInputRecord[] = [];
  let bytes = 0;
  let i = 0;
  while (bytes < TARGET_BYTES) {
    const lines: string[] = [];
    for (let j = 0; j < perRecord; j++, i++) {
      const event = JSON.parse(logs[i % logs.length] as string) as Record<string, unknown>;
      event.timestamp = new Date(arrival - (i % 3_600_000)).toISOString();
      lines.push(JSON.stringify(event));
    }
    const data = Buffer.from(`${lines.join('\n')}\n`);
    bytes += data.length;
    records.push({
      recordId: String(records.length),
      data: data.toString('base64'),
      approximateArrivalTimestamp: arrival,
    });
  }
  return { records, bytes };
}

function floor(records: TransformInputRecord[]): number {
  let out = 0;
  for (const r of records) {
    const text = Buffer.from(r.data, 'base64').toString('utf8');
    let ndjson = '';
    for (const line of text.split('\n')) if (line !== '') ndjson += `${JSON.stringify(JSON.parse(line))}\n`;
    out += Buffer.from(ndjson, 'utf8').toString('base64').length;
  }
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/**
 * Times `a` and `b` alternately (so machine noise, e.g. other processes on a shared host, hits both
 * alike) after a warm-up; returns every sample of each.
 */
function timeBoth(a: () => unknown, b: () => unknown): [number[], number[]] {
  for (let i = 0; i < 5; i++) {
    a();
    b();
  }
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    let start = performance.now();
    a();
    ta.push(performance.now() - start);
    start = performance.now();
    b();
    tb.push(performance.now() - start);
  }
  return [ta, tb];
}

const settings = settingsFromConfig(DEFAULT_CONFIG, 'bench-key', 'logs');
const gc = (globalThis as { gc?: () => void }).gc;
const mibPerS = (mib: number, ms: number) => (mib / (ms / 1000)).toFixed(1);

for (const perRecord of [1, 10, 100]) {
  const { records, bytes } = batch(perRecord);
  const mib = bytes / (1024 * 1024);
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const [floorTimes, transformTimes] = timeBoth(
    () => floor(records),
    () => transformRecords(records, settings, { random: () => 0 }),
  );
  gc?.();
  const heapAfter = process.memoryUsage().heapUsed;
  const [f, t] = [median(floorTimes), median(transformTimes)];
  const [fMin, tMin] = [Math.min(...floorTimes), Math.min(...transformTimes)];
  console.log(
    [
      `${perRecord} event(s)/record, ${records.length} records, ${mib.toFixed(2)} MiB:`,
      `floor ${f.toFixed(1)} ms (${mibPerS(mib, f)} MiB/s),`,
      `transform ${t.toFixed(1)} ms (${mibPerS(mib, t)} MiB/s),`,
      `ratio ${(t / f).toFixed(2)}x median, ${(tMin / fMin).toFixed(2)}x best (target <= 3x),`,
      `retained heap ${((heapAfter - heapBefore) / 1024 / 1024).toFixed(1)} MiB`,
    ].join(' '),
  );
}
