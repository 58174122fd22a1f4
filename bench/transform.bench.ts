/**
 * Transform throughput on ~1 MiB Firehose batches, against a floor measured in the same run: for the
 * same records, base64-decode, JSON.parse, JSON.stringify, base64-encode (the least any JSON-in,
 * JSON-out transform must do; a text line is stringified as a string). Prints MiB/s and the ratio of
 * times; the target is at most 3x the floor. Two corpora: the project's redaction corpus, and a
 * realistic mix of what producers send (Fluent Bit/Kubernetes and CRI envelopes, OTLP batches, ECS,
 * CLEF, loguru, Lambda platform lines, Python/Java/Go stack traces up to 60 frames, secret-dense
 * events, backfilled history).
 *
 * The transform is measured as deployed: bundled by esbuild (what `NodejsFunction` ships), not through
 * tsx's per-module wrappers.
 */
import { performance } from 'node:perf_hooks';
import { DEFAULT_CONFIG } from '../src/config';
import type * as Redact from '../src/redact';
import type * as Transform from '../src/transform';
import type { TransformInputRecord } from '../src/transform';
import { requireBundled } from './bundle';
import { batch, floor, MIXED_KINDS, mixedBatch, stormBatch, TARGET_BYTES } from './transform-corpus';

const { settingsFromConfig, transformRecords, Redactor } = requireBundled<typeof Transform & typeof Redact>(
  'transform',
  "export * from './src/transform'; export { Redactor } from './src/redact';",
);

const ITERATIONS = 30;
const WARMUP = 5;

/**
 * The output half of any transform writing this schema: `JSON.stringify` of the rows the transform
 * wrote (read back before timing), one NDJSON per record, base64-encoded. The schema's rows are ~2.5x
 * the input's bytes (every column, nulls included), so this part alone is about the floor's whole cost.
 */
function writeRows(rowsByRecord: ReadonlyArray<readonly unknown[]>): number {
  let out = 0;
  for (const rows of rowsByRecord) {
    let ndjson = '';
    for (const row of rows) ndjson += `${JSON.stringify(row)}\n`;
    out += Buffer.from(ndjson, 'utf8').toString('base64').length;
  }
  return out;
}

/** The rows of each `Ok` output record, parsed. */
function rowsOf(records: TransformInputRecord[]): unknown[][] {
  return transformRecords(records, settings, { random: () => 0 })
    .records.filter((r) => r.result === 'Ok')
    .map((r) =>
      Buffer.from(r.data, 'base64')
        .toString('utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as unknown),
    );
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/** CPU time of this process in ms: on a shared host, waiting for a core does not count. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * Times `a` and `b` on the same batch, alternately (so machine noise hits both alike), each run on a
 * fresh batch variant after a warm-up; returns every sample as process CPU time (the build machine is
 * shared: wall time there measures the other tenants as much as the code).
 */
function timeBoth(
  variants: ReadonlyArray<TransformInputRecord[]>,
  a: (records: TransformInputRecord[]) => unknown,
  b: (records: TransformInputRecord[]) => unknown,
): [number[], number[]] {
  const ta: number[] = [];
  const tb: number[] = [];
  variants.forEach((records, i) => {
    let start = cpuMs();
    a(records);
    const da = cpuMs() - start;
    start = cpuMs();
    b(records);
    const db = cpuMs() - start;
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

function measure(corpus: string, make: typeof batch, perRecord: number): void {
  const variants = Array.from({ length: WARMUP + ITERATIONS }, (_, v) => make(perRecord, v));
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
  const rows = variants.map((v) => rowsOf(v.records));
  const writeTimes = variants.flatMap((_, i) => {
    const start = cpuMs();
    writeRows(rows[i] as unknown[][]);
    return i >= WARMUP ? [cpuMs() - start] : [];
  });
  const [f, t] = [median(floorTimes), median(transformTimes)];
  const [fMin, tMin] = [Math.min(...floorTimes), Math.min(...transformTimes)];
  console.log(
    [
      `${corpus}, ${perRecord} event(s)/record, ${records.length} records, ${mib.toFixed(2)} MiB:`,
      `floor ${f.toFixed(1)} ms CPU (${mibPerS(mib, f)} MiB/s),`,
      `transform ${t.toFixed(1)} ms CPU (${mibPerS(mib, t)} MiB/s),`,
      `ratio ${(t / f).toFixed(2)}x median, ${(tMin / fMin).toFixed(2)}x best (target <= 3x),`,
      `writing its rows alone ${(median(writeTimes) / f).toFixed(2)}x,`,
      `heap after ${((heapAfter - heapBefore) / 1024 / 1024).toFixed(1)} MiB over the batches`,
    ].join(' '),
  );
}

for (const perRecord of [1, 10, 100]) measure('corpus', batch, perRecord);
for (const perRecord of [1, 10, 100]) measure('mixed', mixedBatch, perRecord);

/**
 * The mixed corpus at one event a record, the same records ordered by kind (every Fluent Bit record,
 * then every CRI line, …): against `mixed, 1 event(s)/record`, what producers interleaving in a batch
 * costs the transform (code and data of fifteen shapes in turn instead of one at a time).
 */
function mixedByKind(perRecord: number, variant: number): { records: TransformInputRecord[]; bytes: number } {
  const { records, bytes } = mixedBatch(perRecord, variant);
  const kind = (r: TransformInputRecord) => Number(r.recordId) % MIXED_KINDS.length;
  return { records: [...records].sort((a, b) => kind(a) - kind(b)), bytes };
}
measure('mixed ordered by kind', mixedByKind, 1);

/**
 * Each kind of the mixed corpus alone (10 events a record, ~256 KiB, median of 10): where the ratio
 * comes from. Short text lines cost the most relative to the floor, which only stringifies them.
 */
/** `name` and the transform's median ratio to the floor over `WARMUP + 10` batches made by `make`. */
function kindRatio(name: string, make: (variant: number) => TransformInputRecord[]): string {
  const [f, t] = timeBoth(
    Array.from({ length: WARMUP + 10 }, (_, v) => make(v)),
    (batchRecords) => floor(batchRecords),
    (batchRecords) => transformRecords(batchRecords, settings, { random: () => 0 }),
  );
  return `${name} ${(median(t) / median(f)).toFixed(1)}x`;
}

const byKind = MIXED_KINDS.map((name, kind) =>
  kindRatio(name, (v) => mixedBatch(10, v, kind, TARGET_BYTES / 4).records),
);
console.log(`mixed, by kind alone (10 events/record, ratio to the floor): ${byKind.join(', ')}`);

/**
 * Exception storms: every event of a batch carries the same trace, against the same kind with a
 * different trace per event (the mixed corpus's, above). The redaction of a long text is remembered whole,
 * so a repeated trace is scanned once per container, not once per event.
 */
const storms = (['Java trace', 'Python trace'] as const).map((name) =>
  kindRatio(name, (v) => stormBatch(10, v, MIXED_KINDS.indexOf(name)).records),
);
console.log(
  `exception storms (one trace repeated, 10 events/record, ratio to the floor): ${storms.join(', ')}`,
);

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
  'URL userinfo': 'ab://u:'.repeat(N / 7),
  'userinfo @s': `ab://u:${'@'.repeat(N)}`,
};
const worst = Object.entries(adversarial).map(([name, text]) => {
  const start = performance.now();
  redactor.text(text, {});
  return `${name} ${(performance.now() - start).toFixed(0)} ms`;
});
console.log(`adversarial strings (${N.toLocaleString('en')} chars each): ${worst.join(', ')}`);
