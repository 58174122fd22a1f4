import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCriLine } from '../../src/transform/envelopes';
import { ARRIVAL, json, normalizeOne, transformOne } from './helpers';

const KUBERNETES = {
  pod_name: 'checkout-7d9f-x2x',
  namespace_name: 'shop',
  pod_id: '5b0f8c3e-1111-2222-3333-444455556666',
  labels: { 'app.kubernetes.io/name': 'checkout', app: 'checkout-legacy', tier: 'web' },
  annotations: { 'prometheus.io/scrape': 'true' },
  host: 'ip-10-0-1-23.eu-west-1.compute.internal',
  container_name: 'app',
  docker_id: '3f9c1e2d4b5a',
  container_image: 'registry.example/checkout:1.4.2',
};

const inner = {
  level: 'error',
  time: '2026-01-02T03:04:04.500Z',
  msg: 'payment declined',
  correlation_id: 'corr-fb-1',
  err: { type: 'CardError', stack: 'CardError: declined\n    at charge (/app/pay.js:10:3)' },
};

describe('Fluent Bit / Fluentd records', () => {
  it('reads the JSON payload of a Kubernetes record as if it had arrived alone', () => {
    const record = normalizeOne(
      json({
        log: `${JSON.stringify(inner)}\n`,
        stream: 'stderr',
        time: '2026-01-02T03:04:04.9Z',
        kubernetes: KUBERNETES,
      }),
    );
    expect(record).toMatchObject({
      timestamp: '2026-01-02T03:04:04.500Z',
      level: 'ERROR',
      service: 'checkout',
      message: 'payment declined',
      correlation_id: 'corr-fb-1',
      error_type: 'CardError',
      stack_trace: 'CardError: declined\n    at charge (/app/pay.js:10:3)',
      schema_errors: [],
    });
    expect(record.attributes).toMatchObject({
      'k8s.namespace.name': 'shop',
      'k8s.pod.name': 'checkout-7d9f-x2x',
      'k8s.container.name': 'app',
      'k8s.node.name': 'ip-10-0-1-23.eu-west-1.compute.internal',
      'k8s.pod.labels.tier': 'web',
      'k8s.pod.annotations.prometheus.io/scrape': 'true',
      'container.id': '3f9c1e2d4b5a',
      'container.image.name': 'registry.example/checkout:1.4.2',
      'log.iostream': 'stderr',
    });
  });

  it('lands an ERROR shipped through Fluent Bit in the errors category', () => {
    const { output } = transformOne(
      json({ log: JSON.stringify(inner), stream: 'stderr', kubernetes: KUBERNETES }),
    );
    expect(output.metadata?.partitionKeys.category).toBe('errors');
  });

  it('uses the envelope time when the payload has none, and reads a text payload', () => {
    const record = normalizeOne(
      json({
        log: 'WARN cache miss for key 42\n',
        stream: 'stdout',
        time: '2026-01-02T03:04:03.25Z',
        kubernetes: KUBERNETES,
      }),
    );
    expect(record).toMatchObject({
      timestamp: '2026-01-02T03:04:03.250Z',
      level: 'WARN',
      message: 'cache miss for key 42',
      service: 'checkout',
    });
    expect(record.schema_errors).toEqual([]);
  });

  it('reads Fluent Bit `date` (epoch seconds) and Fluentd records', () => {
    const fluentBit = normalizeOne(
      json({ date: ARRIVAL / 1000 - 1.5, log: 'INFO ok', stream: 'stdout', kubernetes: KUBERNETES }),
    );
    expect(fluentBit.timestamp).toBe(new Date(ARRIVAL - 1500).toISOString());
    const fluentd = normalizeOne(
      json({
        log: 'INFO started',
        stream: 'stdout',
        docker: { container_id: 'abc123' },
        kubernetes: {
          namespace_name: 'ops',
          pod_name: 'cron-1',
          container_name: 'cron',
          labels: { app: 'nightly' },
        },
      }),
    );
    expect(fluentd).toMatchObject({ service: 'nightly', message: 'started' });
    expect(fluentd.attributes['container.id']).toBe('abc123');
  });

  it('falls back from app.kubernetes.io/name to the app label, then to the container name', () => {
    const service = (labels: Record<string, string>) =>
      normalizeOne(json({ log: 'INFO x', stream: 'stdout', kubernetes: { ...KUBERNETES, labels } })).service;
    expect(service({ 'app.kubernetes.io/name': 'a', app: 'b' })).toBe('a');
    expect(service({ app: 'b' })).toBe('b');
    expect(service({})).toBe('app');
  });

  it("keeps the payload's own service over the labels", () => {
    const record = normalizeOne(
      json({
        log: json({ level: 'info', msg: 'x', service: 'own' }),
        stream: 'stdout',
        kubernetes: KUBERNETES,
      }),
    );
    expect(record.service).toBe('own');
  });

  it('does not repeat fields Fluent Bit merged from the payload (Merge_Log), and keeps other fields', () => {
    const record = normalizeOne(
      json({
        log: JSON.stringify(inner),
        ...inner,
        stream: 'stderr',
        kubernetes: KUBERNETES,
        cluster: 'prod-eu',
      }),
    );
    expect(record.message).toBe('payment declined');
    expect(record.attributes.msg).toBeUndefined();
    expect(record.attributes.cluster).toBe('prod-eu');
  });

  it('reads a Docker json-file line', () => {
    const record = normalizeOne(
      json({ log: 'ERROR disk full\n', stream: 'stderr', time: '2026-01-02T03:04:05.000000001Z' }),
    );
    expect(record).toMatchObject({
      level: 'ERROR',
      message: 'disk full',
      timestamp: '2026-01-02T03:04:05.000Z',
    });
    expect(record.attributes['log.iostream']).toBe('stderr');
  });

  it('leaves an application JSON event with a `log` message field alone', () => {
    expect(normalizeOne(json({ log: 'hello', level: 'info', service: 's', time: ARRIVAL })).message).toBe(
      'hello',
    );
  });
});

describe('Vector kubernetes_logs events', () => {
  it('unwraps the message and maps the Kubernetes fields', () => {
    const record = normalizeOne(
      json({
        message: JSON.stringify({ level: 'warn', msg: 'slow upstream', duration_ms: 812 }),
        source_type: 'kubernetes_logs',
        stream: 'stdout',
        timestamp: '2026-01-02T03:04:02Z',
        file: '/var/log/pods/shop_checkout/app/0.log',
        kubernetes: {
          pod_name: 'checkout-1',
          pod_namespace: 'shop',
          container_name: 'app',
          pod_labels: { app: 'checkout' },
          pod_node_name: 'node-1',
        },
      }),
    );
    expect(record).toMatchObject({
      level: 'WARN',
      message: 'slow upstream',
      duration_ms: 812,
      service: 'checkout',
      timestamp: '2026-01-02T03:04:02.000Z',
    });
    expect(record.attributes).toMatchObject({
      'k8s.namespace.name': 'shop',
      'k8s.node.name': 'node-1',
      'log.file.path': '/var/log/pods/shop_checkout/app/0.log',
    });
  });
});

describe('CRI lines', () => {
  it('parses the time, stream and partial flag', () => {
    expect(parseCriLine('2026-01-02T03:04:05.123456789Z stderr F boom')).toEqual({
      timeMs: Date.UTC(2026, 0, 2, 3, 4, 5, 123),
      stream: 'stderr',
      partial: false,
      text: 'boom',
    });
    expect(parseCriLine('2026-01-02T03:04:05Z stdout P ')?.partial).toBe(true);
    expect(parseCriLine('2026-01-02 03:04:05 INFO not cri')).toBeUndefined();
  });

  it('joins partial lines and reads each entry as if it had arrived alone', () => {
    const data = [
      `2026-01-02T03:04:05.100Z stdout P {"level":"info","msg":"part`,
      `2026-01-02T03:04:05.100Z stdout F ial done","n":3}`,
      '2026-01-02T03:04:05.200Z stderr F ERROR second line',
    ].join('\n');
    const { records } = transformOne(data);
    expect(records.map((r) => [r.level, r.message, r.timestamp])).toEqual([
      ['INFO', 'partial done', '2026-01-02T03:04:05.100Z'],
      ['ERROR', 'second line', '2026-01-02T03:04:05.200Z'],
    ]);
    expect(records[0]?.metrics).toEqual({ n: 3 });
    expect(records[1]?.attributes['log.iostream']).toBe('stderr');
  });

  it('attaches a stack trace printed line by line to its event', () => {
    const data = [
      '2026-01-02T03:04:05.100Z stderr F 2026-01-02 03:04:05,100 ERROR job failed',
      '2026-01-02T03:04:05.101Z stderr F Traceback (most recent call last):',
      '2026-01-02T03:04:05.101Z stderr F   File "job.py", line 3, in <module>',
      '2026-01-02T03:04:05.102Z stderr F ZeroDivisionError: division by zero',
    ].join('\n');
    const { records } = transformOne(data);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      level: 'ERROR',
      message: 'job failed',
      error_type: 'ZeroDivisionError',
    });
  });

  it('reads a CRI line inside a Fluent Bit record (tail without the cri parser)', () => {
    const record = normalizeOne(
      json({ log: '2026-01-02T03:04:05.5Z stdout F INFO hello', kubernetes: KUBERNETES }),
    );
    expect(record).toMatchObject({ level: 'INFO', message: 'hello', timestamp: '2026-01-02T03:04:05.500Z' });
  });
});

describe('envelopes (properties)', () => {
  const event = fc.record(
    {
      level: fc.constantFrom('debug', 'info', 'warn', 'error'),
      msg: fc.string({ maxLength: 40 }),
      time: fc.integer({ min: ARRIVAL - 3_600_000, max: ARRIVAL }).map((ms) => new Date(ms).toISOString()),
      correlation_id: fc.uuid(),
      tokens: fc.integer({ min: 0, max: 10_000 }),
      service: fc.constantFrom('a', 'b'),
    },
    { requiredKeys: ['msg'] },
  );
  const envelope = fc.constantFrom(
    (line: string) => ({
      log: `${line}\n`,
      stream: 'stdout',
      time: '2026-01-02T03:00:00Z',
      kubernetes: KUBERNETES,
    }),
    (line: string) => ({ log: line, stream: 'stderr', time: '2026-01-02T03:00:00Z' }),
    (line: string) => ({ message: line, source_type: 'kubernetes_logs', kubernetes: { pod_namespace: 'x' } }),
  );

  it('reads a payload in an envelope exactly as it reads the payload alone', () => {
    fc.assert(
      fc.property(event, envelope, (e, wrap) => {
        const line = JSON.stringify(e);
        const alone = normalizeOne(line);
        const wrapped = normalizeOne(json(wrap(line)));
        const { attributes: _a, service: _s, schema_errors: _e, timestamp: _t, ...rest } = alone;
        expect(wrapped).toMatchObject(rest);
        if (e.time !== undefined) expect(wrapped.timestamp).toBe(alone.timestamp);
        if (e.service !== undefined) expect(wrapped.service).toBe(alone.service);
        for (const [k, v] of Object.entries(alone.attributes)) expect(wrapped.attributes[k]).toBe(v);
      }),
      { numRuns: 300 },
    );
  });
});
