import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keyValueColumns, parseTextLine } from '../../src/transform/text';

const T = Date.UTC(2026, 0, 2, 3, 4, 5);

function text(line: string) {
  const parsed = parseTextLine(line, T);
  if (parsed.kind !== 'text') throw new Error(`expected text, got ${parsed.kind}`);
  return parsed.fields;
}

describe('parseTextLine', () => {
  it('reads the Lambda runtime format: timestamp, request id, level, message', () => {
    expect(
      text('2026-01-02T03:04:05.000Z\t4990ed56-0826-4ffe-af98-6f0b04c59e5f\tERROR\tboom\n  at x'),
    ).toEqual({
      timestamp: T,
      level: 'ERROR',
      message: 'boom\n  at x',
      correlation_id: '4990ed56-0826-4ffe-af98-6f0b04c59e5f',
    });
  });

  it('reads a Lambda REPORT line: request id and duration, no level expected', () => {
    const fields = text(
      'REPORT RequestId: 4990ed56-0826-4ffe-af98-6f0b04c59e5f\tDuration: 102.25 ms\tBilled Duration: 103 ms',
    );
    expect(fields).toMatchObject({
      correlation_id: '4990ed56-0826-4ffe-af98-6f0b04c59e5f',
      duration_ms: 102.25,
      levelless: true,
    });
  });

  it('reads Python logging: asctime - name - LEVEL - message', () => {
    expect(text('2026-01-02 03:04:05,000 - app.db - WARNING - slow query')).toEqual({
      timestamp: T,
      timestampZoneless: true,
      logger: 'app.db',
      level: 'WARNING',
      message: 'slow query',
    });
  });

  it('reads Python basicConfig: LEVEL:name:message', () => {
    expect(text('INFO:root:started')).toEqual({ level: 'INFO', logger: 'root', message: 'started' });
  });

  it.each([
    ['2026-01-02T03:04:05Z ERROR payment failed', 'ERROR', 'payment failed', {}],
    ['[2026-01-02 03:04:05] [warn] disk low', 'warn', 'disk low', { timestampZoneless: true }],
    ['2026-01-02 03:04:05 | INFO | ready', 'INFO', 'ready', { timestampZoneless: true }],
    ['INFO 2026-01-02T03:04:05Z ready', 'INFO', 'ready', {}],
  ])('reads a leading timestamp and level from %j', (line, level, message, zone) => {
    expect(text(line)).toEqual({ timestamp: T, level, message, ...zone });
  });

  it('keeps the whole line as the message when there is neither timestamp nor level', () => {
    expect(text('just words, 12:00 is lunch')).toEqual({ message: 'just words, 12:00 is lunch' });
  });

  it('reads an access log line into HTTP fields', () => {
    const fields = text(
      '203.0.113.9 - frank [02/Jan/2026:03:04:05 +0000] "GET /index.html?q=1 HTTP/1.1" 200 2326 "-" "curl/8.0"',
    );
    expect(fields).toMatchObject({
      timestamp: T,
      http_method: 'GET',
      http_path: '/index.html?q=1',
      http_status: 200,
      attributes: {
        client_ip: '203.0.113.9',
        remote_user: 'frank',
        response_bytes: 2326,
        user_agent: 'curl/8.0',
      },
    });
  });

  it('reads RFC 5424 syslog with its severity', () => {
    const fields = text('<11>1 2026-01-02T03:04:05.000Z host1 sshd 42 ID7 - auth failure');
    expect(fields).toMatchObject({ timestamp: T, level: 'ERROR', logger: 'sshd', message: 'auth failure' });
  });

  it('reads RFC 3164 syslog', () => {
    const fields = text('<38>Jan  2 03:04:05 host1 cron[123]: job done');
    expect(fields).toMatchObject({ timestamp: T, level: 'INFO', logger: 'cron', message: 'job done' });
  });
});

describe('parseTextLine (logfmt)', () => {
  it('reads a logfmt line as an object', () => {
    expect(parseTextLine('time=2026-01-02T03:04:05Z level=info msg="hello world" user_id=42')).toEqual({
      kind: 'object',
      object: { time: '2026-01-02T03:04:05Z', level: 'info', msg: 'hello world', user_id: 42 },
    });
  });

  it('keeps prose with a single key=value as text', () => {
    expect(parseTextLine('retry=3 failed for order').kind).toBe('text');
  });
});

describe('parseTextLine (key=value tokens in text)', () => {
  it('fills the correlation id, service and level from tokens and keeps the message as printed', () => {
    const line = '2026-01-02 03:04:05,000 [worker] [service=billing correlation_id=req-7f3a] job done';
    expect(text(line)).toMatchObject({
      timestamp: T,
      timestampZoneless: true,
      service: 'billing',
      correlation_id: 'req-7f3a',
      message: '[worker] [service=billing correlation_id=req-7f3a] job done',
    });
  });

  it('reads request_id, trace_id and span_id tokens, quoted or not, and prefers correlation_id', () => {
    expect(
      text('INFO handled request_id="r-1" correlation_id=c-2 trace_id=abc123, span_id=\'s9\''),
    ).toMatchObject({ correlation_id: 'c-2', trace_id: 'abc123', span_id: 's9', level: 'INFO' });
    expect(text('INFO handled request_id=r-1')).toMatchObject({ correlation_id: 'r-1' });
  });

  it('takes a level token only when the format gave none and it names a level', () => {
    expect(text('2026-01-02T03:04:05Z job level=warn done').level).toBe('warn');
    expect(text('2026-01-02T03:04:05Z ERROR job level=warn done').level).toBe('ERROR');
    expect(text('2026-01-02T03:04:05Z battery level=50 ok').level).toBeUndefined();
  });

  it('leaves tokens that name no column, and key=value glued into a word, alone', () => {
    const fields = text('2026-01-02T03:04:05Z INFO cost=3 name=x url=/a?request_id=zz done');
    expect(fields.correlation_id).toBeUndefined();
    expect(fields.logger).toBeUndefined();
    expect(fields.service).toBeUndefined();
  });
});

describe('parseTextLine (structlog ConsoleRenderer)', () => {
  it('reads time, padded level, event, logger and trailing pairs as the event it renders', () => {
    const parsed = parseTextLine(
      '2026-01-02T03:04:05.000000Z [warning  ] tool slow                      [agent.worker] attempt=2 cost_usd=0.5 id=0042 tool=web',
      T,
    );
    expect(parsed).toEqual({
      kind: 'object',
      object: {
        timestamp: '2026-01-02T03:04:05.000000Z',
        level: 'warning',
        event: 'tool slow',
        logger: 'agent.worker',
        attempt: 2,
        cost_usd: 0.5,
        id: '0042',
        tool: 'web',
      },
    });
  });

  it('keeps a value with spaces, which cannot be told from words, in the event', () => {
    const parsed = parseTextLine('2026-01-02 03:04:05 [info     ] saved note=hello world', T);
    expect(parsed).toEqual({
      kind: 'object',
      object: { timestamp: '2026-01-02 03:04:05', level: 'info', event: 'saved note=hello world' },
    });
  });

  it('is not a bracketed word after a time that names no level', () => {
    expect(parseTextLine('2026-01-02T03:04:05Z [worker] ok', T).kind).toBe('text');
  });
});

describe('keyValueColumns (properties)', () => {
  const piece = fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom(
      'correlation_id=',
      'request_id=',
      'trace_id=',
      'service=',
      'level=',
      'logger=',
      '"',
      "'",
      ' ',
      '=',
    ),
  );
  it('keeps the message and fills only from values the text holds', () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
        const message = parts.join('');
        const out = keyValueColumns({ message });
        expect(out.message).toBe(message);
        for (const column of [
          'correlation_id',
          'trace_id',
          'span_id',
          'service',
          'level',
          'logger',
        ] as const) {
          const value = out[column];
          if (value !== undefined) expect(message).toContain(value);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
