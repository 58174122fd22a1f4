import { describe, expect, it } from 'vitest';
import { PRODUCER_SHAPES, recognize } from '../../src/transform/producers';
import { ARRIVAL, cwl, json, normalizeOne, transformOne } from './helpers';

const T = '2026-01-02T03:04:04.250Z';

describe('producer shapes', () => {
  it('are a table the transform consults in order', () => {
    expect(PRODUCER_SHAPES.map((s) => s.name)).toEqual([
      'aws-waf',
      'aws-cloudtrail',
      'aws-eventbridge',
      'vpc-flow-logs',
      'aws-alb',
      'aws-cloudfront',
      'aws-s3-access',
      'loguru',
      'clef',
      'lambda-platform',
      'lambda',
      'monolog',
      'dotnet-json-console',
      'gcp',
      'ecs',
      'gelf',
      'pino-bunyan',
    ]);
    expect(recognize({ level: 'info', msg: 'plain' })).toBeUndefined();
  });

  it('Monolog (JsonFormatter): level_name, channel, context and extra as fields, the exception chain as a stack', () => {
    const record = normalizeOne(
      json({
        message: 'payment failed',
        context: {
          order_id: 'o-1',
          service: 'from-context',
          exception: {
            class: 'App\\PaymentError',
            message: 'declined',
            code: 402,
            file: '/srv/app/Pay.php:12',
            trace: ['/srv/app/Checkout.php:40', '/srv/public/index.php:7'],
            previous: {
              class: 'GuzzleHttp\\Exception\\ConnectException',
              message: 'timeout',
              code: 0,
              file: '/srv/vendor/Client.php:99',
            },
          },
        },
        level: 550,
        level_name: 'ALERT',
        channel: 'payments',
        datetime: '2026-01-02T03:04:04.250123+01:00',
        extra: { service: 'shop', uid: 'a1b2c3d' },
      }),
    );
    expect(record).toMatchObject({
      timestamp: '2026-01-02T02:04:04.250Z',
      level: 'CRITICAL',
      service: 'from-context',
      logger: 'payments',
      message: 'payment failed',
      error_type: 'App\\PaymentError',
      stack_trace:
        'App\\PaymentError: declined at /srv/app/Pay.php:12\n#0 /srv/app/Checkout.php:40\n#1 /srv/public/index.php:7\n' +
        'Caused by: GuzzleHttp\\Exception\\ConnectException: timeout at /srv/vendor/Client.php:99',
    });
    // The context's service wins; the processor's stays under extra., with the other extra fields.
    expect(record.attributes).toEqual({
      order_id: 'o-1',
      'extra.service': 'shop',
      uid: 'a1b2c3d',
      'level.no': '550',
      'exception.code': '402',
    });
    expect(record.metrics).toEqual({});
  });

  it('Monolog: an exception left as text is read as any `exception` field is', () => {
    const record = normalizeOne(
      json({
        message: 'odd',
        context: { exception: 'RuntimeException: flat text' },
        level: 200,
        level_name: 'NOTICE',
        channel: 'app',
        datetime: T,
        extra: {},
      }),
    );
    expect(record).toMatchObject({
      level: 'INFO',
      logger: 'app',
      error_type: 'RuntimeException',
      stack_trace: 'RuntimeException: flat text',
    });
    expect(record.attributes).toEqual({ 'level.no': '200' });
  });

  it('.NET JSON console: a text scope stays under Scopes, a scope key taken already under scope., no time without a format', () => {
    const record = normalizeOne(
      json({
        EventId: 7,
        LogLevel: 'Critical',
        Category: 'Orders.Api',
        Message: 'order 12 lost',
        State: {
          Message: 'order 12 lost',
          OrderId: 12,
          correlation_id: 'c-1',
          '{OriginalFormat}': 'order {OrderId} lost',
        },
        Scopes: ['batch nightly', { Message: 'scope', OrderId: 99, RequestId: 'r-1', TraceId: 'abc' }],
      }),
    );
    expect(record).toMatchObject({
      timestamp: new Date(ARRIVAL).toISOString(),
      level: 'CRITICAL',
      logger: 'Orders.Api',
      message: 'order 12 lost',
      correlation_id: 'c-1',
      trace_id: 'abc',
      span_id: null,
      error_type: null,
    });
    expect(record.attributes).toEqual({
      EventId: '7',
      '{OriginalFormat}': 'order {OrderId} lost',
      RequestId: 'r-1',
      'Scopes.0': 'batch nightly',
    });
    expect(record.metrics).toEqual({ OrderId: 12, 'scope.OrderId': 99 });
  });

  it('ECS (ecs-logging): @timestamp, log.level, service.name, trace.id, error.*, event.duration in ns', () => {
    const record = normalizeOne(
      json({
        '@timestamp': T,
        'log.level': 'error',
        message: 'checkout failed',
        'ecs.version': '1.6.0',
        service: { name: 'checkout' },
        log: { logger: 'app.checkout', origin: { file: { name: 'pay.py', line: 12 } } },
        trace: { id: '0af7651916cd43dd8448eb211c80319c' },
        span: { id: 'b7ad6b7169203331' },
        error: { type: 'ValueError', message: 'bad card', stack_trace: 'Traceback …\nValueError: bad card' },
        event: { duration: 1_500_000, dataset: 'checkout.log' },
      }),
    );
    expect(record).toMatchObject({
      timestamp: T,
      level: 'ERROR',
      service: 'checkout',
      logger: 'app.checkout',
      message: 'checkout failed',
      trace_id: '0af7651916cd43dd8448eb211c80319c',
      span_id: 'b7ad6b7169203331',
      error_type: 'ValueError',
      stack_trace: 'Traceback …\nValueError: bad card',
      duration_ms: 1.5,
    });
    expect(record.attributes).toMatchObject({ 'error.message': 'bad card', 'event.dataset': 'checkout.log' });
    expect(record.attributes).toMatchObject({ 'log.origin.file.line': '12' });
  });

  it('CLEF (Serilog compact JSON): @t, @l, @mt rendered, @x, @tr/@sp, escaped @@ properties', () => {
    const record = normalizeOne(
      json({
        '@t': T,
        '@l': 'Error',
        '@mt': 'Payment {PaymentId} failed after {Elapsed:0.0} ms',
        '@x': 'System.InvalidOperationException: declined\n   at Pay.Run() in /src/Pay.cs:line 9',
        '@tr': '4bf92f3577b34da6a3ce929d0e0e4736',
        '@sp': '00f067aa0ba902b7',
        PaymentId: 'p-77',
        Elapsed: 12.3,
        '@@odd': 'x',
        SourceContext: 'Payments.Worker',
      }),
    );
    expect(record).toMatchObject({
      timestamp: T,
      level: 'ERROR',
      message: 'Payment "p-77" failed after 12.3 ms',
      logger: 'Payments.Worker',
      error_type: 'System.InvalidOperationException',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: '00f067aa0ba902b7',
    });
    expect(record.attributes).toMatchObject({
      '@mt': 'Payment {PaymentId} failed after {Elapsed:0.0} ms',
      PaymentId: 'p-77',
      '@odd': 'x',
    });
    expect(record.metrics).toEqual({ Elapsed: 12.3 });
  });

  it('CLEF without @l is Information', () => {
    expect(normalizeOne(json({ '@t': T, '@m': 'hello', App: 'a' })).level).toBe('INFO');
  });

  it('OTLP/JSON export: one event per log record, service from the resource, logger from the scope', () => {
    const { records } = transformOne(
      json({
        resourceLogs: [
          {
            resource: {
              attributes: [
                { key: 'service.name', value: { stringValue: 'payments' } },
                { key: 'k8s.pod.name', value: { stringValue: 'payments-1' } },
              ],
            },
            scopeLogs: [
              {
                scope: { name: 'payments.http', version: '1.2.0' },
                logRecords: [
                  {
                    timeUnixNano: String((ARRIVAL - 1000) * 1e6),
                    severityNumber: 17,
                    severityText: 'ERROR',
                    body: { stringValue: 'upstream timeout' },
                    attributes: [
                      { key: 'http.request.method', value: { stringValue: 'POST' } },
                      { key: 'retries', value: { intValue: '3' } },
                      { key: 'exception.type', value: { stringValue: 'TimeoutError' } },
                    ],
                    traceId: '5b8efff798038103d269b633813fc60c',
                    spanId: 'eee19b7ec3c1b174',
                  },
                  {
                    timeUnixNano: '0',
                    observedTimeUnixNano: String(ARRIVAL * 1e6),
                    severityNumber: 9,
                    body: { stringValue: 'ok' },
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      timestamp: new Date(ARRIVAL - 1000).toISOString(),
      level: 'ERROR',
      service: 'payments',
      logger: 'payments.http',
      message: 'upstream timeout',
      trace_id: '5b8efff798038103d269b633813fc60c',
      span_id: 'eee19b7ec3c1b174',
      http_method: 'POST',
      error_type: 'TimeoutError',
    });
    expect(records[0]?.metrics).toMatchObject({ retries: 3 });
    expect(records[0]?.attributes['k8s.pod.name']).toBe('payments-1');
    expect(records[1]).toMatchObject({
      level: 'INFO',
      message: 'ok',
      timestamp: new Date(ARRIVAL).toISOString(),
    });
  });

  it('Google Cloud structured logging: severity, trace path, serviceContext, {seconds, nanos}, latency', () => {
    const record = normalizeOne(
      json({
        severity: 'WARNING',
        message: 'slow request',
        timestamp: { seconds: ARRIVAL / 1000 - 2, nanos: 500_000_000 },
        'logging.googleapis.com/trace': 'projects/shop-prod/traces/06796866738c859f2f19b7cfb3214824',
        'logging.googleapis.com/spanId': '000000000000004a',
        serviceContext: { service: 'frontend', version: '3' },
        httpRequest: {
          requestMethod: 'GET',
          requestUrl: 'https://shop.example/cart?id=1',
          status: 200,
          latency: '1.25s',
        },
      }),
    );
    expect(record).toMatchObject({
      level: 'WARN',
      message: 'slow request',
      timestamp: new Date(ARRIVAL - 1500).toISOString(),
      trace_id: '06796866738c859f2f19b7cfb3214824',
      span_id: '000000000000004a',
      service: 'frontend',
      http_method: 'GET',
      http_path: '/cart?id=1',
      http_status: 200,
      duration_ms: 1250,
    });
    expect(record.attributes['serviceContext.version']).toBe('3');
  });

  it('Lambda JSON log format: an error as errorType, errorMessage and a stackTrace array', () => {
    const record = normalizeOne(
      json({
        timestamp: T,
        level: 'ERROR',
        requestId: '79b4f56e-95b1-4643-9700-2807f4e68189',
        message: {
          errorType: 'TypeError',
          errorMessage: "Cannot read properties of undefined (reading 'id')",
          stackTrace: [
            "TypeError: Cannot read properties of undefined (reading 'id')",
            '    at handler (/var/task/index.mjs:3:20)',
          ],
        },
      }),
    );
    expect(record).toMatchObject({
      level: 'ERROR',
      correlation_id: '79b4f56e-95b1-4643-9700-2807f4e68189',
      message: "Cannot read properties of undefined (reading 'id')",
      error_type: 'TypeError',
      stack_trace:
        "TypeError: Cannot read properties of undefined (reading 'id')\n    at handler (/var/task/index.mjs:3:20)",
    });
  });

  it('Lambda JSON platform.report: duration and memory as numbers', () => {
    const record = normalizeOne(
      json({
        time: T,
        type: 'platform.report',
        record: {
          requestId: '79b4f56e-95b1-4643-9700-2807f4e68189',
          metrics: {
            durationMs: 12.5,
            billedDurationMs: 13,
            memorySizeMB: 128,
            maxMemoryUsedMB: 68,
            initDurationMs: 180.2,
          },
          status: 'success',
        },
      }),
    );
    expect(record).toMatchObject({
      level: 'INFO',
      message: 'platform.report',
      duration_ms: 12.5,
      correlation_id: '79b4f56e-95b1-4643-9700-2807f4e68189',
      schema_errors: ['missing service: defaulted to "unknown"'],
    });
    expect(record.metrics).toEqual({
      billed_duration_ms: 13,
      memory_size_mb: 128,
      max_memory_used_mb: 68,
      init_duration_ms: 180.2,
    });
  });

  it("Lambda text platform lines: START, END and REPORT are one event each, the REPORT's figures numbers", () => {
    const id = '4990ed56-0826-4ffe-af98-6f0b04c59e5f';
    const { records } = transformOne(
      cwl({
        messageType: 'DATA_MESSAGE',
        owner: '1',
        logGroup: '/aws/lambda/orders',
        logStream: 's',
        subscriptionFilters: [],
        logEvents: [
          { id: 'e1', timestamp: ARRIVAL - 300, message: `START RequestId: ${id} Version: $LATEST\n` },
          { id: 'e2', timestamp: ARRIVAL - 200, message: `2026-01-02T03:04:04.800Z\t${id}\tINFO\tworking\n` },
          { id: 'e3', timestamp: ARRIVAL - 100, message: `END RequestId: ${id}\n` },
          {
            id: 'e4',
            timestamp: ARRIVAL,
            message: `REPORT RequestId: ${id}\tDuration: 102.25 ms\tBilled Duration: 103 ms\tMemory Size: 128 MB\tMax Memory Used: 70 MB\tInit Duration: 150.12 ms\t\nXRAY TraceId: 1-5759e988-bd862e3fe1be46a994272793\tSegmentId: 3f1e\tSampled: true\n`,
          },
        ],
      }),
    );
    // One event each, however the subscription batched them: the same log gives the same events.
    expect(records.map((r) => r.message.split('\n')[0]?.split(/[ \t]/)[0])).toEqual([
      'START',
      'working',
      'END',
      'REPORT',
    ]);
    expect(records.map((r) => r.correlation_id)).toEqual([id, id, id, id]);
    const report = records[3];
    expect(report?.message.split('\n').map((l) => l.split(' ')[0])).toEqual(['REPORT', 'XRAY']);
    expect(report).toMatchObject({
      duration_ms: 102.25,
      correlation_id: id,
      trace_id: '1-5759e988-bd862e3fe1be46a994272793',
      schema_errors: [],
    });
    expect(report?.metrics).toEqual({
      billed_duration_ms: 103,
      memory_size_mb: 128,
      max_memory_used_mb: 70,
      init_duration_ms: 150.12,
    });
    expect(report?.attributes).toMatchObject({ 'aws.log_event_id': 'e4' });
  });

  it('Lambda Python runtime text format', () => {
    const record = normalizeOne(
      '[WARNING]\t2026-01-02T03:04:04.250Z\t79b4f56e-95b1-4643-9700-2807f4e68189\tlow stock',
    );
    expect(record).toMatchObject({
      timestamp: T,
      level: 'WARN',
      message: 'low stock',
      correlation_id: '79b4f56e-95b1-4643-9700-2807f4e68189',
    });
  });

  it('loguru serialize=True: level, time, message, logger, exception and its traceback', () => {
    const record = normalizeOne(
      json({
        text: `2026-01-02 04:04:04.250 | ERROR    | billing:run:42 - charge failed\nTraceback (most recent call last):\n  File "billing.py", line 42, in run\nZeroDivisionError: division by zero\n`,
        record: {
          elapsed: { repr: '0:00:01.5', seconds: 1.5 },
          exception: { type: 'ZeroDivisionError', value: 'division by zero', traceback: true },
          extra: { order_id: 'o-9', user_id: 'u-1' },
          file: { name: 'billing.py', path: '/app/billing.py' },
          function: 'run',
          level: { icon: '❌', name: 'ERROR', no: 40 },
          line: 42,
          message: 'charge failed',
          module: 'billing',
          name: 'billing',
          process: { id: 7, name: 'MainProcess' },
          thread: { id: 1, name: 'MainThread' },
          time: { repr: '2026-01-02 04:04:04.250000+01:00', timestamp: Date.parse(T) / 1000 },
        },
      }),
    );
    expect(record).toMatchObject({
      timestamp: T,
      level: 'ERROR',
      message: 'charge failed',
      logger: 'billing',
      error_type: 'ZeroDivisionError',
      stack_trace:
        'Traceback (most recent call last):\n  File "billing.py", line 42, in run\nZeroDivisionError: division by zero',
      schema_errors: ['missing service: defaulted to "unknown"'],
    });
    expect(record.user_id).toMatch(/^u_[0-9a-f]{32}$/);
    expect(record.attributes).toMatchObject({
      order_id: 'o-9',
      function: 'run',
      'exception.value': 'division by zero',
      elapsed: '0:00:01.5',
      line: '42',
      'level.no': '40',
    });
    expect(record.metrics).toEqual({});
  });

  it('loguru SUCCESS is INFO', () => {
    const record = normalizeOne(
      json({
        text: 'ok\n',
        record: {
          level: { name: 'SUCCESS', no: 25 },
          time: { timestamp: ARRIVAL / 1000 },
          message: 'ok',
          name: 'm',
        },
      }),
    );
    expect(record.level).toBe('INFO');
  });
});
