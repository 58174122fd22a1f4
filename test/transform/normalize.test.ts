import { describe, expect, it } from 'vitest';
import { pseudonymizeUserId } from '../../src/redact/pseudonym';
import { ARRIVAL, json, normalizeOne, PSEUDONYM_KEY, settings } from './helpers';

const iso = (ms: number) => new Date(ms).toISOString();

describe('normalizeEvent', () => {
  it('normalizes the canonical shape and keeps every other field in attributes, flattened', () => {
    const record = normalizeOne(
      json({
        timestamp: '2026-01-02T03:04:01.781Z',
        level: 'warning',
        service: 'auth',
        logger: 'notifications.handler',
        correlation_id: '5d0f179c7b9f3ef15c2eaa3cdcb1cd6d',
        message: 'hello',
        context: { region: 'eu-west-1', retries: 2, tags: ['a', 'b'], ok: true, none: null, empty: {} },
      }),
    );
    expect(record).toEqual({
      timestamp: '2026-01-02T03:04:01.781Z',
      level: 'WARN',
      service: 'auth',
      logger: 'notifications.handler',
      message: 'hello',
      correlation_id: '5d0f179c7b9f3ef15c2eaa3cdcb1cd6d',
      trace_id: null,
      span_id: null,
      user_id: null,
      error_type: null,
      stack_trace: null,
      duration_ms: null,
      http_method: null,
      http_path: null,
      http_status: null,
      attributes: {
        'context.region': 'eu-west-1',
        'context.tags.0': 'a',
        'context.tags.1': 'b',
        'context.ok': 'true',
        'context.none': 'null',
        'context.empty': '{}',
      },
      metrics: { 'context.retries': 2 },
      redactions: {},
      ingest_time: iso(ARRIVAL),
      schema_errors: [],
      message_template: 'hello',
    });
  });

  it('recognises pino: numeric level, msg, time, name, err', () => {
    const record = normalizeOne(
      json({
        level: 50,
        time: ARRIVAL - 3000,
        pid: 7,
        hostname: 'web-1',
        name: 'orders',
        msg: 'charge failed',
        err: {
          type: 'CardError',
          message: 'declined',
          stack: 'CardError: declined\n    at charge (index.js:10:15)',
        },
      }),
    );
    expect(record).toMatchObject({
      timestamp: iso(ARRIVAL - 3000),
      level: 'ERROR',
      service: 'orders',
      logger: null,
      message: 'charge failed',
      error_type: 'CardError',
      stack_trace: 'CardError: declined\n    at charge (index.js:10:15)',
      attributes: { hostname: 'web-1', 'err.message': 'declined', pid: '7' },
      metrics: {},
    });
  });

  it.each([
    [10, 'DEBUG'],
    [20, 'DEBUG'],
    [30, 'INFO'],
    [40, 'WARN'],
    [50, 'ERROR'],
    [60, 'CRITICAL'],
  ])('maps pino level %d to %s', (level, expected) => {
    expect(normalizeOne(json({ level, msg: 'x', service: 's', time: ARRIVAL })).level).toBe(expected);
  });

  it('recognises Powertools Logger fields', () => {
    const record = normalizeOne(
      json({
        level: 'INFO',
        message: 'GET /v1/runs 200',
        sampling_rate: 0,
        service: 'api',
        timestamp: '2026-01-02T03:04:04.000+00:00',
        xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793',
        function_request_id: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
        cold_start: true,
      }),
    );
    expect(record).toMatchObject({
      service: 'api',
      trace_id: '1-5759e988-bd862e3fe1be46a994272793',
      correlation_id: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
      attributes: { cold_start: 'true', sampling_rate: '0' },
      metrics: {},
      schema_errors: [],
    });
  });

  it('recognises Python logging (levelname, asctime, name)', () => {
    const record = normalizeOne(
      json({
        asctime: '2026-01-02 03:04:04,250',
        name: 'app.db',
        levelname: 'WARNING',
        message: 'slow',
        process: 12,
      }),
    );
    expect(record).toMatchObject({
      timestamp: '2026-01-02T03:04:04.250Z',
      level: 'WARN',
      logger: 'app.db',
      message: 'slow',
      attributes: {},
      metrics: { process: 12 },
    });
  });

  it('recognises OpenTelemetry records (severityText, body, attributes, traceId, resource service.name)', () => {
    const record = normalizeOne(
      json({
        timeUnixNano: '1767323044500000000',
        severityText: 'ERROR',
        severityNumber: 17,
        body: 'upstream timeout',
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: '00f067aa0ba902b7',
        attributes: { 'http.request.method': 'POST', 'url.path': '/pay', 'http.response.status_code': 504 },
        resource: { 'service.name': 'payments' },
      }),
    );
    expect(record).toMatchObject({
      timestamp: '2026-01-02T03:04:04.500Z',
      level: 'ERROR',
      service: 'payments',
      message: 'upstream timeout',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
      http_method: 'POST',
      http_path: '/pay',
      http_status: 504,
      attributes: {},
      metrics: { severityNumber: 17 },
    });
  });

  it('unwraps OTLP/JSON AnyValue bodies and key/value attribute lists', () => {
    const record = normalizeOne(
      json({
        timeUnixNano: '1767323044500000000',
        severityNumber: 13,
        body: { stringValue: 'disk low' },
        attributes: [{ key: 'host.name', value: { stringValue: 'node-1' } }],
      }),
    );
    expect(record).toMatchObject({
      level: 'WARN',
      message: 'disk low',
      attributes: { 'attributes.host.name': 'node-1' },
    });
  });

  it('recognises camelCase names (correlationId, serviceName, loggerName, userId, durationMs)', () => {
    const record = normalizeOne(
      json({
        timestamp: ARRIVAL,
        level: 'info',
        message: 'm',
        correlationId: 'c-1',
        serviceName: 'svc',
        loggerName: 'lg',
        userId: 'alice',
        durationMs: 12.5,
      }),
    );
    expect(record).toMatchObject({
      correlation_id: 'c-1',
      service: 'svc',
      logger: 'lg',
      user_id: pseudonymizeUserId('alice', PSEUDONYM_KEY),
      duration_ms: 12.5,
      redactions: { user_id: 1 },
      attributes: {},
    });
  });

  it('converts durations given in other units', () => {
    expect(normalizeOne(json({ level: 'info', msg: 'x', duration_s: 1.5 })).duration_ms).toBe(1500);
    expect(normalizeOne(json({ level: 'info', msg: 'x', duration: '250ms' })).duration_ms).toBe(250);
    expect(normalizeOne(json({ level: 'info', msg: 'x', duration_ns: 2_000_000 })).duration_ms).toBe(2);
  });

  it('keeps a duration too large for a double in attributes or metrics, not as a nulled duration_ms', () => {
    // JSON cannot carry Infinity: written as `null`, the value would vanish from the row.
    const scaled = normalizeOne(json({ level: 'info', msg: 'x', duration_s: 1e306 }));
    const text = normalizeOne(json({ level: 'info', msg: 'x', duration_ms: `1${'0'.repeat(400)}` }));

    expect([scaled.duration_ms, scaled.metrics.duration_s]).toEqual([null, 1e306]);
    expect([text.duration_ms, text.attributes.duration_ms]).toEqual([null, `1${'0'.repeat(400)}`]);
  });

  it('never stores a raw user id, also outside the user_id column', () => {
    const record = normalizeOne(
      json({ level: 'info', msg: 'x', user: { id: 42 }, context: { user_id: 'bob' } }),
    );
    expect(record.user_id).toBe(pseudonymizeUserId('42', PSEUDONYM_KEY));
    expect(record.attributes['context.user_id']).toBe(pseudonymizeUserId('bob', PSEUDONYM_KEY));
    expect(JSON.stringify(record)).not.toContain('bob');
  });

  it('takes HTTP fields from a context container, and `status` only next to a method', () => {
    const withMethod = normalizeOne(
      json({ level: 'info', msg: 'x', context: { http_method: 'GET', http_path: '/a', status: 200 } }),
    );
    expect(withMethod).toMatchObject({
      http_method: 'GET',
      http_path: '/a',
      http_status: 200,
      attributes: {},
    });
    const alone = normalizeOne(json({ level: 'info', msg: 'x', status: 200, method: 'getUser' }));
    expect(alone).toMatchObject({
      http_method: null,
      http_status: null,
      attributes: { method: 'getUser' },
      metrics: { status: 200 },
    });
  });

  it('reduces a full URL to path and query', () => {
    expect(
      normalizeOne(
        json({ level: 'info', msg: 'x', http_method: 'GET', url: 'https://api.example.com/v1/a?b=1' }),
      ).http_path,
    ).toBe('/v1/a?b=1');
  });

  it('defaults missing required fields, with a schema error each', () => {
    const record = normalizeOne(json({ foo: 'bar' }));
    expect(record).toMatchObject({
      timestamp: iso(ARRIVAL),
      level: 'INFO',
      service: 'unknown',
      message: '',
      attributes: { foo: 'bar' },
      schema_errors: [
        'missing timestamp: used arrival time',
        'missing level: defaulted to INFO',
        'missing service: defaulted to "unknown"',
        'missing message',
      ],
    });
  });

  it('keeps a record whose timestamp cannot be parsed, with a schema error and the value in attributes', () => {
    const record = normalizeOne(json({ time: 'yesterday-ish', level: 'info', msg: 'x', service: 's' }));
    expect(record.timestamp).toBe(iso(ARRIVAL));
    expect(record.attributes.time).toBe('yesterday-ish');
    expect(record.schema_errors).toEqual(['invalid timestamp "yesterday-ish": used arrival time']);
  });

  it('keeps an unknown level in attributes with a schema error', () => {
    const record = normalizeOne(json({ time: ARRIVAL, level: 'loud', msg: 'x', service: 's' }));
    expect(record).toMatchObject({
      level: 'INFO',
      attributes: { level: 'loud' },
      schema_errors: ['unknown level "loud": defaulted to INFO'],
    });
  });

  it('uses arrival time for a timestamp older than its category keeps data, keeping the original', () => {
    const past = ARRIVAL - 31 * 24 * 3_600_000;
    const record = normalizeOne(json({ time: past, level: 'info', msg: 'x', service: 's' }));
    expect(record.timestamp).toBe(iso(ARRIVAL));
    expect(record.attributes.original_timestamp).toBe(iso(past));
    expect(record.schema_errors).toEqual([
      `timestamp ${iso(past)} is older than the 30-day retention of category "runtime" at arrival ${iso(ARRIVAL)}: used arrival time`,
    ]);
  });

  it('honours a configured window', () => {
    const s = settings('logs', { transform: { maxFutureMinutes: 60 } });
    const future = ARRIVAL + 30 * 60_000;
    expect(normalizeOne(json({ time: future, level: 'info', msg: 'x', service: 's' }), s).timestamp).toBe(
      iso(future),
    );
    expect(normalizeOne(json({ time: future, level: 'info', msg: 'x', service: 's' })).timestamp).toBe(
      iso(ARRIVAL),
    );
  });

  it('redacts every string value: message, attributes, stack trace, path, error type', () => {
    const record = normalizeOne(
      json({
        time: ARRIVAL,
        level: 'error',
        service: 's',
        msg: 'mail bob@example.com',
        http_method: 'GET',
        http_path: '/reset?token=abc123&email=bob%40example.com',
        stack: 'Error: card 4111111111111111\n    at f (x.js:1:1)',
        error_type: 'Error for 198.51.100.23',
        headers: { authorization: 'Bearer abc.def.ghi', 'x-forwarded-for': '203.0.113.50' },
      }),
    );
    const text = JSON.stringify(record);
    for (const secret of [
      'bob@example.com',
      'abc123',
      'bob%40example.com',
      '4111111111111111',
      '198.51.100.23',
      'abc.def.ghi',
      '203.0.113.50',
    ]) {
      expect(text).not.toContain(secret);
    }
    expect(record.redactions).toEqual({ email: 2, token: 1, card: 1, ip: 2, authorization: 1 });
  });
});
