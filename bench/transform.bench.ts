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
import type * as Redact from '../src/redact';
import type * as Transform from '../src/transform';
import type { TransformInputRecord } from '../src/transform';

const bundle = join(mkdtempSync(join(tmpdir(), 'loglake-bench-')), 'transform.cjs');
const built = buildSync({
  stdin: {
    contents: "export * from './src/transform'; export { Redactor } from './src/redact';",
    resolveDir: join(__dirname, '..'),
    loader: 'ts',
  },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  write: false,
});
writeFileSync(bundle, built.outputFiles[0]?.text ?? '');
const { settingsFromConfig, transformRecords, Redactor } = require(bundle) as typeof Transform &
  typeof Redact;

const CORPUS = join(__dirname, '..', '..', 'shared', 'corpus', 'redaction-public.jsonl');
const TARGET_BYTES = 1024 * 1024;
const ITERATIONS = 30;
const WARMUP = 5;

const logs = readFileSync(CORPUS, 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.stringify((JSON.parse(l) as { log: unknown }).log));
const arrival = Date.parse('2026-07-01T00:00:00Z');

/** Deterministic pseudo-random digits (LCG), so runs are comparable. */
function digits(seed: number): () => string {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return String(state % 10);
  };
}

/**
 * Corpus events (timestamps moved near arrival), packed `perRecord` to a record, ~1 MiB in total.
 * Every digit of the message, context and correlation id is replaced per `variant`, so each timed run
 * sees new values (cards, phones, ids, IPs) as production would, and no cache is flattered by replays.
 */
function batch(perRecord: number, variant: number): { records: TransformInputRecord[]; bytes: number } {
  const nextDigit = digits(variant * 7919 + perRecord);
  const vary = (value: unknown): unknown => {
    if (typeof value === 'string') return value.replace(/\d/g, nextDigit);
    if (Array.isArray(value)) return value.map(vary);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, vary(v)]));
    }
    return value;
  };
  const records: TransformInputRecord[] = [];
  let bytes = 0;
  let i = 0;
  while (bytes < TARGET_BYTES) {
    const lines: string[] = [];
    for (let j = 0; j < perRecord; j++, i++) {
      const event = JSON.parse(logs[i % logs.length] as string) as Record<string, unknown>;
      event.timestamp = new Date(arrival - (i % 3_600_000)).toISOString();
      event.message = vary(event.message);
      event.correlation_id = vary(event.correlation_id);
      if (event.context !== undefined) event.context = vary(event.context);
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
 * Times `a` and `b` on the same batch, alternately (so machine noise, e.g. other processes on a shared
 * host, hits both alike), each run on a fresh batch variant after a warm-up; returns every sample.
 */
function timeBoth(
  variants: ReadonlyArray<TransformInputRecord[]>,
  a: (records: TransformInputRecord[]) => unknown,
  b: (records: TransformInputRecord[]) => unknown,
): [number[], number[]] {
  const ta: number[] = [];
  const tb: number[] = [];
  variants.forEach((records, i) => {
    let start = performance.now();
    a(records);
    const da = performance.now() - start;
    start = performance.now();
    b(records);
    const db = performance.now() - start;
    if (i >= WARMUP) {
      ta.push(da);
      tb.push(db);
    }
  });
  return [ta, tb];
}

const settings = settingsFromConfig(DEFAULT_CONFIG, 'bench-key', 'logs');
const gc = (globalThis as { gc?: () => void }).gc;
const mibPerS = (mib: number, ms: number) => (mib / (ms / 1000)).toFixed(1);

for (const perRecord of [1, 10, 100]) {
  const variants = Array.from({ length: WARMUP + ITERATIONS }, (_, v) => batch(perRecord, v));
  const { records, bytes } = variants[0] as { records: TransformInputRecord[]; bytes: number };
  const mib = bytes / (1024 * 1024);
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const [floorTimes, transformTimes] = timeBoth(
    variants.map((v) => v.records),
    (batchRecords) => floor(batchRecords),
    (batchRecords) => transformRecords(batchRecords, settings, { random: () => 0 }),
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
      `heap after ${((heapAfter - heapBefore) / 1024 / 1024).toFixed(1)} MiB over the batches`,
    ].join(' '),
  );
}

/**
 * Worst-case inputs for the detectors' regular expressions (long runs that almost match): the scan
 * must stay linear. Printed as ms per 200,000 characters, one string each.
 */
const redactor = new Redactor({
  ipv4PrefixLength: 24,
  ipv6PrefixLength: 48,
  extraSensitiveKeys: [],
  pseudonymKey: 'bench-key',
});
const N = 200_000;
const adversarial: Record<string, string> = {
  letters: 'a'.repeat(N),
  digits: '1'.repeat(N),
  'spaced digits': '1 '.repeat(N / 2),
  'dashed digits': '12-'.repeat(N / 3),
  'jwt prefix': `eyJ${'a'.repeat(N)}`,
  'at signs': 'a@'.repeat(N / 2),
  'plus digits': '+1 '.repeat(N / 3),
  'hex colons': 'ab:'.repeat(N / 3),
  'key=': 'password='.repeat(N / 9),
  'dotted digits': '1.'.repeat(N / 2),
  'open PEM': `-----BEGIN RSA PRIVATE KEY-----${'a'.repeat(N)}`,
  'base64-ish': 'aB3/'.repeat(N / 4),
  'phone-ish': '(555) '.repeat(N / 6),
};
const worst = Object.entries(adversarial).map(([name, text]) => {
  const start = performance.now();
  redactor.text(text, {});
  return `${name} ${(performance.now() - start).toFixed(0)} ms`;
});
console.log(`adversarial strings (${N.toLocaleString('en')} chars each): ${worst.join(', ')}`);
