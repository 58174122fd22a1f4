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
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_CONFIG } from '../src/config';
import type * as Redact from '../src/redact';
import type * as Transform from '../src/transform';
import type { TransformInputRecord } from '../src/transform';
import { requireBundled } from './bundle';

const { settingsFromConfig, transformRecords, Redactor } = requireBundled<typeof Transform & typeof Redact>(
  'transform',
  "export * from './src/transform'; export { Redactor } from './src/redact';",
);

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
    for (const line of text.split('\n')) {
      if (line === '') continue;
      let value: unknown = line;
      if (line.charCodeAt(0) === 123) {
        try {
          value = JSON.parse(line);
        } catch {
          // text after all
        }
      }
      ndjson += `${JSON.stringify(value)}\n`;
    }
    out += Buffer.from(ndjson, 'utf8').toString('base64').length;
  }
  return out;
}

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

/** One event of the mixed corpus, by kind; `i` varies ids, values and times. */
function mixedEvent(i: number, nextDigit: () => string): string {
  const digitsOf = (n: number) => Array.from({ length: n }, nextDigit).join('');
  const time = new Date(arrival - (i % 3_600_000)).toISOString();
  const corr = `${digitsOf(8)}-${digitsOf(4)}-4${digitsOf(3)}-8${digitsOf(3)}-${digitsOf(12)}`;
  const frames = <T>(n: number, frame: (k: number) => T): T[] =>
    Array.from({ length: n }, (_, k) => frame(k));
  switch (i % 15) {
    case 0: {
      const inner = {
        level: i % 5 === 0 ? 'error' : 'info',
        time,
        msg: `order ${digitsOf(6)} placed`,
        correlation_id: corr,
        tokens: Number(digitsOf(3)),
        cost_usd: Number(`0.${digitsOf(4)}`),
      };
      return JSON.stringify({
        log: `${JSON.stringify(inner)}\n`,
        stream: 'stdout',
        time,
        kubernetes: {
          pod_name: `checkout-${digitsOf(4)}`,
          namespace_name: 'shop',
          container_name: 'app',
          host: 'node-1',
          labels: { 'app.kubernetes.io/name': 'checkout', tier: 'web' },
        },
      });
    }
    case 1:
      return `${time.replace('Z', `${digitsOf(6)}Z`)} stderr F ${time} ERROR payment ${digitsOf(5)} failed for card 4111 1111 1111 1111`;
    case 2:
      return JSON.stringify({
        resourceLogs: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'payments' } }] },
            scopeLogs: [
              {
                scope: { name: 'payments.http' },
                logRecords: frames(4, (k) => ({
                  timeUnixNano: String((arrival - k * 1000) * 1e6),
                  severityNumber: 9 + (k % 9),
                  body: { stringValue: `call ${digitsOf(4)} to upstream` },
                  attributes: [
                    { key: 'http.request.method', value: { stringValue: 'POST' } },
                    { key: 'retries', value: { intValue: digitsOf(1) } },
                  ],
                  traceId: `${digitsOf(16)}${digitsOf(16)}`,
                  spanId: digitsOf(16),
                })),
              },
            ],
          },
        ],
      });
    case 3:
      return [
        `${time.slice(0, 10)} ${time.slice(11, 19)},${digitsOf(3)} - billing.jobs - ERROR - invoice ${digitsOf(5)} failed`,
        'Traceback (most recent call last):',
        ...frames(
          30,
          (k) =>
            `  File "/app/billing/mod${k}.py", line ${digitsOf(2)}, in step_${k}\n    result = step_${k + 1}(ctx)`,
        ),
        'ValueError: negative total',
      ].join('\n');
    case 4:
      return [
        `${time} ERROR [main] OrderService - order ${digitsOf(4)} failed`,
        'java.lang.IllegalStateException: no lines',
        ...frames(60, (k) => `\tat com.example.layer${k}.Service.call(Service.java:${digitsOf(3)})`),
        'Caused by: java.sql.SQLException: reset',
        '\t... 42 more',
      ].join('\n');
    case 5:
      return JSON.stringify({
        '@timestamp': time,
        'log.level': 'warn',
        message: `slow query ${digitsOf(3)} ms for user jane.doe${digitsOf(2)}@example.com`,
        'ecs.version': '1.6.0',
        service: { name: 'catalog' },
        trace: { id: digitsOf(32) },
        event: { duration: Number(digitsOf(7)) },
      });
    case 6:
      return JSON.stringify({
        '@t': time,
        '@l': 'Error',
        '@mt': 'Payment {PaymentId} failed for {Email}',
        PaymentId: digitsOf(6),
        Email: `a${digitsOf(3)}@corp.example`,
        '@x': [
          'System.InvalidOperationException: declined',
          ...frames(20, (k) => `   at Pay.Step${k}() in /src/Pay.cs:line ${digitsOf(2)}`),
        ].join('\n'),
      });
    case 7:
      return JSON.stringify({
        text: `${time} | INFO | app:run - done\n`,
        record: {
          level: { name: 'INFO', no: 20 },
          time: { timestamp: (arrival - i) / 1000, repr: time },
          message: `batch ${digitsOf(4)} done`,
          name: 'app',
          extra: { user_id: digitsOf(4), rows: Number(digitsOf(4)) },
          line: 42,
          function: 'run',
        },
      });
    case 8:
      return `REPORT RequestId: ${corr}\tDuration: ${digitsOf(2)}.${digitsOf(2)} ms\tBilled Duration: ${digitsOf(2)} ms\tMemory Size: 128 MB\tMax Memory Used: ${digitsOf(2)} MB\t`;
    case 9:
      // Secret-dense: tokens, cards, e-mails, phones, IPs, a URL password, key=value secrets.
      return JSON.stringify({
        timestamp: time,
        level: 'info',
        service: 'auth',
        message: `login ${digitsOf(4)} from 203.0.113.${digitsOf(2)} jane${digitsOf(2)}@example.org +44 20 7946 ${digitsOf(4)} card 5500 0000 0000 0004 token ghp_${'A'.repeat(8)}${digitsOf(28)} db postgres://app:pa#ss${digitsOf(3)}@db.internal:5432/app password=hunter${digitsOf(2)} Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIx${digitsOf(4)}In0.sig${digitsOf(6)}`,
        context: { api_key: `sk-${digitsOf(40)}`, ip: `198.51.100.${digitsOf(2)}` },
      });
    case 10:
      // Backfilled history: three weeks old.
      return JSON.stringify({
        timestamp: new Date(arrival - 21 * 86_400_000 - i).toISOString(),
        level: 'info',
        service: 'import',
        message: `imported row ${digitsOf(6)}`,
        correlation_id: corr,
        bytes: Number(digitsOf(5)),
      });
    case 12:
      // AWS WAF (test/fixtures/aws-sources/waf.ndjson's shape).
      return JSON.stringify({
        timestamp: arrival - (i % 3_600_000),
        formatVersion: 1,
        webaclId: `arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/edge/${corr}`,
        terminatingRuleId: i % 4 === 0 ? 'AWS-AWSManagedRulesCommonRuleSet' : 'Default_Action',
        terminatingRuleType: i % 4 === 0 ? 'MANAGED_RULE_GROUP' : 'REGULAR',
        action: i % 4 === 0 ? 'BLOCK' : 'ALLOW',
        terminatingRuleMatchDetails: [],
        httpSourceName: 'ALB',
        httpSourceId: `111122223333-app/edge/${digitsOf(16)}`,
        ruleGroupList: [],
        rateBasedRuleList: [],
        nonTerminatingMatchingRules: [],
        httpRequest: {
          clientIp: `203.0.113.${digitsOf(2)}`,
          country: 'DE',
          headers: [
            { name: 'Host', value: 'shop.example.org' },
            { name: 'User-Agent', value: 'Mozilla/5.0' },
            { name: 'Cookie', value: `session=${digitsOf(24)}` },
          ],
          uri: `/api/items/${digitsOf(4)}`,
          args: '',
          httpVersion: 'HTTP/1.1',
          httpMethod: 'GET',
          requestId: corr,
        },
      });
    case 13: {
      // A VPC Flow Logs line, default format.
      const start = Math.floor((arrival - (i % 3_600_000)) / 1000);
      return `2 123456789010 eni-${digitsOf(8)} 10.0.${digitsOf(1)}.${digitsOf(2)} 198.51.100.${digitsOf(2)} ${digitsOf(5)} 443 6 ${digitsOf(2)} ${digitsOf(4)} ${start} ${start + 60} ${i % 7 === 0 ? 'REJECT' : 'ACCEPT'} OK`;
    }
    case 14:
      // A CloudTrail event, as a trail delivers it to CloudWatch Logs.
      return JSON.stringify({
        eventVersion: '1.08',
        userIdentity: {
          type: 'AssumedRole',
          arn: `arn:aws:sts::111122223333:assumed-role/deploy/${digitsOf(6)}`,
        },
        eventTime: time,
        eventSource: i % 3 === 0 ? 'iam.amazonaws.com' : 's3.amazonaws.com',
        eventName: i % 3 === 0 ? 'PutRolePolicy' : 'GetObject',
        awsRegion: 'eu-west-1',
        sourceIPAddress: `198.51.100.${digitsOf(2)}`,
        userAgent: 'aws-cli/2.15.0',
        requestParameters: { bucketName: 'reports', key: `r/${digitsOf(6)}.csv` },
        responseElements: null,
        requestID: corr,
        eventID: corr,
        readOnly: i % 3 !== 0,
        eventType: 'AwsApiCall',
        recipientAccountId: '111122223333',
      });
    default:
      return `time=${time} level=info service=edge msg="GET /api/items/${digitsOf(4)}" status=200 duration_ms=${digitsOf(2)} user_id=${digitsOf(3)} bytes=${digitsOf(4)}`;
  }
}

/** The kinds of {@link mixedEvent}, by `i % 15` (11 is the `default` case). */
const MIXED_KINDS = [
  'Fluent Bit',
  'CRI text',
  'OTLP',
  'Python trace',
  'Java trace',
  'ECS',
  'CLEF',
  'loguru',
  'Lambda REPORT',
  'secret-dense',
  'backfill',
  'logfmt',
  'WAF',
  'VPC flow',
  'CloudTrail',
] as const;

/** The mixed corpus, packed `perRecord` events to a record (as a shipper or a collector would), ~1 MiB. */
function mixedBatch(
  perRecord: number,
  variant: number,
  kind?: number,
  target = TARGET_BYTES,
): { records: TransformInputRecord[]; bytes: number } {
  const nextDigit = digits(variant * 104729 + perRecord);
  const records: TransformInputRecord[] = [];
  let bytes = 0;
  // One kind only: every MIXED_KINDS.length-th event of the mix.
  const step = kind === undefined ? 1 : MIXED_KINDS.length;
  let i = kind ?? 0;
  while (bytes < target) {
    const lines: string[] = [];
    for (let j = 0; j < perRecord; j++, i += step) lines.push(mixedEvent(i, nextDigit));
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
 * Each kind of the mixed corpus alone (10 events a record, ~256 KiB, median of 10): where the ratio
 * comes from. Short text lines cost the most relative to the floor, which only stringifies them.
 */
const byKind = MIXED_KINDS.map((name, kind) => {
  const variants = Array.from(
    { length: WARMUP + 10 },
    (_, v) => mixedBatch(10, v, kind, TARGET_BYTES / 4).records,
  );
  const [f, t] = timeBoth(
    variants,
    (batchRecords) => floor(batchRecords),
    (batchRecords) => transformRecords(batchRecords, settings, { random: () => 0 }),
  );
  return `${name} ${(median(t) / median(f)).toFixed(1)}x`;
});
console.log(`mixed, by kind alone (10 events/record, ratio to the floor): ${byKind.join(', ')}`);

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
