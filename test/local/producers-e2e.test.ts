/**
 * Issue 9's evidence, end to end: what real producers and collectors send (a Fluent Bit record from a
 * Kubernetes pod, a Python traceback in one record, an OpenTelemetry OTLP/JSON batch, containerd's split
 * CRI lines, Lambda's REPORT line, backfilled history) goes through the real Firehose client to the local
 * endpoint, is transformed and delivered as Parquet, and is found again with `loglake search` and
 * `loglake stats` as a user runs them: by correlation id, with the level, service, stack trace,
 * Kubernetes fields and numeric metrics its producer meant.
 */
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchCommand, searchFlags } from '../../src/cli/commands/search';
import { statsCommand, statsFlags } from '../../src/cli/commands/stats';
import { parseFlags } from '../../src/cli/flags';
import type { CliIO } from '../../src/cli/io';
import type { SearchRecord } from '../../src/query';
import { startTestLocal, type TestLocal } from '../helpers/local';

let local: TestLocal;
const now = Date.now();
const iso = (ms: number) => new Date(ms).toISOString();
const RUN = now.toString(36);
const id = (name: string) => `e2e-${name}-${RUN}`;

/** A pod's JSON log line as Fluent Bit ships it (tail + cri parser + kubernetes filter + kinesis_firehose). */
const FLUENT_INNER = {
  level: 'error',
  time: iso(now - 120_000),
  msg: 'payment declined for postgres://app:pa#ss/w?rd@db.internal:5432/shop',
  correlation_id: id('fluentbit'),
  cost_usd: 0.25,
  tokens: 120,
};
const FLUENT_BIT = {
  time: iso(now - 119_000),
  stream: 'stderr',
  _p: 'F',
  log: `${JSON.stringify(FLUENT_INNER)}\n`,
  kubernetes: {
    pod_name: 'checkout-7d9f8b6c5-x2k4q',
    namespace_name: 'shop',
    pod_id: '5c1f0e7a-3b2d-4c8e-9f6a-1d2e3f4a5b6c',
    labels: { 'app.kubernetes.io/name': 'checkout', 'pod-template-hash': '7d9f8b6c5' },
    annotations: { 'kubernetes.io/psp': 'eks.privileged' },
    host: 'ip-10-0-12-34.eu-west-1.compute.internal',
    container_name: 'app',
  },
};

/** Python's Lambda runtime printing `logger.exception(...)`: the log line, then its traceback, one record. */
const PY_REQUEST = '9b2e4c1a-7f3d-4e5a-8b6c-0d1e2f3a4b5c';
const PY_TIME = iso(now - 100_000);
const PYTHON_TRACEBACK = [
  `[ERROR]\t${PY_TIME}\t${PY_REQUEST}\tinvoice 42 failed`,
  'Traceback (most recent call last):',
  '  File "/var/task/billing/jobs.py", line 18, in handler',
  '    total(invoice)',
  '  File "/var/task/billing/jobs.py", line 9, in total',
  '    raise ValueError("negative total")',
  'ValueError: negative total',
  '',
].join('\n');

/** A plain Python `logging` traceback from a pod, as Fluent Bit ships it: one `log` holding every line. */
const PY_K8S_TIME = now - 90_000;
const PYTHON_K8S = {
  time: iso(PY_K8S_TIME),
  stream: 'stderr',
  log: [
    `${iso(PY_K8S_TIME).slice(0, 10)} ${iso(PY_K8S_TIME).slice(11, 19)},361 - reports.nightly - ERROR - nightly report failed`,
    'Traceback (most recent call last):',
    '  File "/app/reports/nightly.py", line 31, in run',
    '    render(rows)',
    "KeyError: 'region'",
    '',
  ].join('\n'),
  kubernetes: {
    pod_name: 'reports-5f6d7c8b9-abcde',
    namespace_name: 'analytics',
    labels: { app: 'reports' },
    container_name: 'main',
  },
};

/** OpenTelemetry's OTLP/JSON export (logs), two records of one service. */
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const OTLP = {
  resourceLogs: [
    {
      resource: {
        attributes: [
          { key: 'service.name', value: { stringValue: 'payments' } },
          { key: 'service.version', value: { stringValue: '1.4.2' } },
        ],
      },
      scopeLogs: [
        {
          scope: { name: 'payments.http', version: '1.4.2' },
          logRecords: [
            {
              timeUnixNano: `${now - 80_000}000000`,
              severityNumber: 17,
              severityText: 'ERROR',
              body: { stringValue: 'upstream call failed' },
              attributes: [
                { key: 'correlation_id', value: { stringValue: id('otlp-error') } },
                { key: 'retries', value: { intValue: '3' } },
                { key: 'exception.type', value: { stringValue: 'UpstreamTimeout' } },
                {
                  key: 'exception.stacktrace',
                  value: { stringValue: 'UpstreamTimeout: 30s\n    at call (/app/http.js:12:5)' },
                },
              ],
              traceId: TRACE_ID,
              spanId: '00f067aa0ba902b7',
            },
            {
              timeUnixNano: `${now - 79_000}000000`,
              severityNumber: 9,
              body: { stringValue: 'retry scheduled' },
              attributes: [
                { key: 'correlation_id', value: { stringValue: id('otlp-info') } },
                { key: 'delay_s', value: { doubleValue: 1.5 } },
              ],
              traceId: TRACE_ID,
              spanId: '00f067aa0ba902b8',
            },
          ],
        },
      ],
    },
  ],
};

/** containerd splitting one long JSON line into a partial (`P`) and a final (`F`) entry. */
const CRI_TIME = iso(now - 70_000);
const CRI_INNER = JSON.stringify({
  level: 'warn',
  service: 'search',
  msg: `slow query ${'x'.repeat(64)}`,
  correlation_id: id('cri'),
  rows: 9000,
});
const CRI = `${CRI_TIME} stdout P ${CRI_INNER.slice(0, 40)}\n${CRI_TIME} stdout F ${CRI_INNER.slice(40)}\n`;

/** The Lambda runtime's own REPORT line. */
const LAMBDA_REQUEST = '3c4d5e6f-1a2b-4c3d-8e9f-0a1b2c3d4e5f';
const REPORT = `REPORT RequestId: ${LAMBDA_REQUEST}\tDuration: 182.34 ms\tBilled Duration: 183 ms\tMemory Size: 512 MB\tMax Memory Used: 87 MB\t\n`;

/** History imported three weeks late: within the `runtime` category's 30-day retention. */
const BACKFILL_TIME = iso(now - 21 * 86_400_000);
const BACKFILL = {
  timestamp: BACKFILL_TIME,
  level: 'info',
  service: 'import',
  message: 'imported order 1001',
  correlation_id: id('backfill'),
  bytes: 5120,
};

const RECORDS: readonly string[] = [
  JSON.stringify(FLUENT_BIT),
  PYTHON_TRACEBACK,
  JSON.stringify(PYTHON_K8S),
  JSON.stringify(OTLP),
  CRI,
  REPORT,
  JSON.stringify(BACKFILL),
];

function captured(): CliIO & { out: () => string } {
  let out = '';
  return {
    stdout: (t) => {
      out += t;
    },
    stderr: () => undefined,
    out: () => out,
  };
}

/** The records `loglake search` prints for these flags (JSON output), as it printed them. */
async function search(flags: Record<string, unknown>, text?: string): Promise<SearchRecord[]> {
  const io = captured();
  await searchCommand(
    text,
    parseFlags(searchFlags, { dataDir: local.dataDir, since: '2h', format: 'json', ...flags }),
    io,
  );
  return JSON.parse(io.out()) as SearchRecord[];
}

async function byCorrelationId(correlationId: string, since = '2h'): Promise<SearchRecord> {
  const found = await search({ correlationId, since });
  expect(found.map((r) => r.correlation_id)).toEqual([correlationId]);
  return found[0] as SearchRecord;
}

beforeAll(async () => {
  local = await startTestLocal({ flushSeconds: 1 });
  const out = await local.client.send(
    new PutRecordBatchCommand({
      DeliveryStreamName: 'logs',
      Records: RECORDS.map((r) => ({ Data: Buffer.from(r) })),
    }),
  );
  expect(out.FailedPutCount).toBe(0);
  expect(out.RequestResponses?.every((r) => r.RecordId !== undefined)).toBe(true);
  await local.pipeline.flush();
});
afterAll(async () => {
  await local?.dispose();
});

describe('real producers through the local pipeline', () => {
  it('reads a Fluent Bit Kubernetes record as its pod meant it: level, service, k8s fields, numbers', async () => {
    // Act
    const r = await byCorrelationId(id('fluentbit'));

    // Assess
    expect(r.level).toBe('ERROR');
    expect(r.service).toBe('checkout');
    expect(r.timestamp).toBe(FLUENT_INNER.time);
    expect(r.category).toBe('errors');
    expect(r.message).toBe('payment declined for postgres://app:[REDACTED:password]@db.internal:5432/shop');
    expect(r.redactions).toEqual({ url_password: 1 });
    expect(r.attributes).toMatchObject({
      'k8s.pod.name': 'checkout-7d9f8b6c5-x2k4q',
      'k8s.namespace.name': 'shop',
      'k8s.container.name': 'app',
      'k8s.pod.uid': '5c1f0e7a-3b2d-4c8e-9f6a-1d2e3f4a5b6c',
      'k8s.node.name': 'ip-10-0-12-34.eu-west-1.compute.internal',
      'k8s.pod.labels.app.kubernetes.io/name': 'checkout',
      'log.iostream': 'stderr',
    });
    expect(r.metrics).toEqual({ cost_usd: 0.25, tokens: 120 });
    expect(r.schema_errors).toEqual([]);
  });

  it('finds the Fluent Bit record by a Kubernetes field and sums its numbers with stats --agg', async () => {
    // Act
    const byPod = await search({ where: ['attributes.k8s.namespace.name=shop'] });
    const io = captured();
    await statsCommand(
      parseFlags(statsFlags, {
        dataDir: local.dataDir,
        since: '2h',
        groupBy: ['service'],
        agg: ['sum:metrics.tokens', 'sum:metrics.cost_usd'],
        where: ['metrics.tokens>100'],
        format: 'json',
      }),
      io,
    );

    // Assess
    expect(byPod.map((r) => r.correlation_id)).toEqual([id('fluentbit')]);
    expect(JSON.parse(io.out())).toEqual([
      expect.objectContaining({
        service: 'checkout',
        count: 1,
        'sum(metrics.tokens)': 120,
        'sum(metrics.cost_usd)': 0.25,
      }),
    ]);
  });

  it('keeps a Python traceback sent in one record as one ERROR event with its stack trace', async () => {
    // Act
    const r = await byCorrelationId(PY_REQUEST);
    const mentions = await search({}, 'billing/jobs.py');

    // Assess
    expect(r.level).toBe('ERROR');
    expect(r.timestamp).toBe(PY_TIME);
    expect(r.message).toBe('invoice 42 failed');
    expect(r.error_type).toBe('ValueError');
    expect(r.stack_trace).toBe(PYTHON_TRACEBACK.split('\n').slice(1, -1).join('\n'));
    expect(r.category).toBe('errors');
    // No traceback line became an event of its own.
    expect(mentions.map((m) => m.correlation_id)).toEqual([PY_REQUEST]);
  });

  it('joins a pod’s plain-text Python traceback to its ERROR line, its service from the app label', async () => {
    // Act
    const found = await search({ where: ['attributes.k8s.pod.name=reports-5f6d7c8b9-abcde'] });

    // Assess
    expect(found).toHaveLength(1);
    const r = found[0] as SearchRecord;
    expect(r.level).toBe('ERROR');
    expect(r.service).toBe('reports');
    expect(r.logger).toBe('reports.nightly');
    expect(r.message).toBe('nightly report failed');
    expect(r.error_type).toBe('KeyError');
    expect(r.stack_trace?.split('\n')).toEqual(PYTHON_K8S.log.split('\n').slice(1, -1));
    expect(r.timestamp).toBe(`${iso(PY_K8S_TIME).slice(0, 19)}.361Z`);
  });

  it('fans an OTLP/JSON batch out into one event per log record, with the resource’s service', async () => {
    // Act
    const error = await byCorrelationId(id('otlp-error'));
    const info = await byCorrelationId(id('otlp-info'));
    const byTrace = await search({ where: [`trace_id=${TRACE_ID}`], order: 'asc' });

    // Assess
    expect(error).toMatchObject({
      level: 'ERROR',
      service: 'payments',
      logger: 'payments.http',
      message: 'upstream call failed',
      trace_id: TRACE_ID,
      span_id: '00f067aa0ba902b7',
      error_type: 'UpstreamTimeout',
      stack_trace: 'UpstreamTimeout: 30s\n    at call (/app/http.js:12:5)',
      timestamp: iso(now - 80_000),
    });
    expect(error.metrics).toEqual({ retries: 3 });
    expect(info).toMatchObject({ level: 'INFO', service: 'payments', message: 'retry scheduled' });
    expect(info.metrics).toEqual({ delay_s: 1.5 });
    expect(byTrace.map((r) => r.correlation_id)).toEqual([id('otlp-error'), id('otlp-info')]);
  });

  it('joins containerd’s partial CRI entries into the one JSON line they split', async () => {
    // Act
    const r = await byCorrelationId(id('cri'));

    // Assess
    expect(r).toMatchObject({
      level: 'WARN',
      service: 'search',
      message: `slow query ${'x'.repeat(64)}`,
      timestamp: CRI_TIME,
    });
    expect(r.metrics).toEqual({ rows: 9000 });
    expect(r.attributes['log.iostream']).toBe('stdout');
  });

  it('reads Lambda’s REPORT line with its duration and memory as numbers', async () => {
    // Act
    const r = await byCorrelationId(LAMBDA_REQUEST);

    // Assess
    expect(r.message).toBe(REPORT.trimEnd());
    expect(r.duration_ms).toBe(182.34);
    expect(r.metrics).toMatchObject({ billed_duration_ms: 183, memory_size_mb: 512, max_memory_used_mb: 87 });
  });

  it('keeps backfilled history at its own time, in its own partition', async () => {
    // Act
    const recent = await search({ correlationId: id('backfill') });
    const r = await byCorrelationId(id('backfill'), '30d');

    // Assess
    expect(recent).toEqual([]);
    expect(r.timestamp).toBe(BACKFILL_TIME);
    expect(r.metrics).toEqual({ bytes: 5120 });
    expect(r.schema_errors).toEqual([]);
  });
});
