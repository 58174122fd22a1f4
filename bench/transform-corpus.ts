/**
 * The transform benchmarks' inputs: the project's redaction corpus and a realistic mix of what
 * producers send, as ~1 MiB Firehose batches whose digits vary per `variant` (so each timed run sees new
 * values, as production would, and no cache is flattered by replays). Shared by `transform.bench.ts`
 * and `transform-ab.ts`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TransformInputRecord } from '../src/transform';

const CORPUS = join(__dirname, '..', '..', 'shared', 'corpus', 'redaction-public.jsonl');
export const TARGET_BYTES = 1024 * 1024;

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
export function batch(
  perRecord: number,
  variant: number,
): { records: TransformInputRecord[]; bytes: number } {
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
    bytes += pushRecord(records, lines);
  }
  return { records, bytes };
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
export const MIXED_KINDS = [
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
export function mixedBatch(
  perRecord: number,
  variant: number,
  kind?: number,
  target = TARGET_BYTES,
): { records: TransformInputRecord[]; bytes: number } {
  const nextDigit = digits(variant * 104729 + perRecord);
  // One kind only: every MIXED_KINDS.length-th event of the mix.
  const step = kind === undefined ? 1 : MIXED_KINDS.length;
  return packEvents(perRecord, target, kind ?? 0, step, (i) => mixedEvent(i, nextDigit));
}

/** Events `first`, `first + step`, … packed `perRecord` to a record until `target` bytes. */
function packEvents(
  perRecord: number,
  target: number,
  first: number,
  step: number,
  event: (i: number) => string,
): { records: TransformInputRecord[]; bytes: number } {
  const records: TransformInputRecord[] = [];
  let bytes = 0;
  let i = first;
  while (bytes < target) {
    const lines: string[] = [];
    for (let j = 0; j < perRecord; j++, i += step) lines.push(event(i));
    bytes += pushRecord(records, lines);
  }
  return { records, bytes };
}

/**
 * An exception storm: one kind of the mixed corpus (a Java or Python trace) where every event of a batch
 * carries the same trace (a service failing the same way on every request), only the timestamps
 * changing; ~1 MiB, `perRecord` events to a record, a new trace per `variant`.
 */
export function stormBatch(
  perRecord: number,
  variant: number,
  kind: number,
): { records: TransformInputRecord[]; bytes: number } {
  // The same digits for every event's trace: each event starts the stream of this variant afresh.
  return packEvents(perRecord, TARGET_BYTES, kind, MIXED_KINDS.length, (i) =>
    mixedEvent(i, digits(variant * 7919 + 1)),
  );
}

/**
 * The floor every ratio is measured against: base64-decode each record, `JSON.parse` each JSON line (text
 * lines stay strings), `JSON.stringify` each back and base64-encode the record; returns the output's size.
 */
export function floor(records: readonly TransformInputRecord[]): number {
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

/** Appends one Firehose record of `lines` (NDJSON) arriving at the corpus's arrival time; returns its size. */
function pushRecord(records: TransformInputRecord[], lines: readonly string[]): number {
  const data = Buffer.from(`${lines.join('\n')}\n`);
  records.push({
    recordId: String(records.length),
    data: data.toString('base64'),
    approximateArrivalTimestamp: arrival,
  });
  return data.length;
}
