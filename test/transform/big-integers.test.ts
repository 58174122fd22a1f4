import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../src/schema';
import { decodeRecords, transformRecords } from '../../src/transform';
import { ARRIVAL, input, json, normalizeOne, settings, transformOne } from './helpers';

const T = new Date(ARRIVAL - 60_000).toISOString();
const ID = '1234567890123456789';
/** 2^53 + 1: the first integer a double cannot hold (it reads as 9007199254740992). */
const TWEET = '9007199254740993';

/** `json(value)` with each `"§n"` string replaced by the bare JSON literal `literals[n]`. */
function withLiterals(value: unknown, ...literals: string[]): string {
  return json(value).replace(/"§(\d+)"/g, (_, n: string) => literals[Number(n)] as string);
}

function line(fields: Record<string, unknown>, ...literals: string[]): string {
  return withLiterals(
    { timestamp: T, level: 'INFO', service: 'orders', message: 'order placed', ...fields },
    ...literals,
  );
}

describe('transformRecord, integers beyond 2^53', () => {
  it('keeps a top-level integer beyond 2^53 with its exact digits, in attributes', () => {
    // Prepare
    const data = line({ order_id: '§0', tweet: '§1', count: 3 }, ID, TWEET);
    // Act
    const record = normalizeOne(data);
    // Assess
    expect(record.attributes).toEqual({ order_id: ID, tweet: TWEET });
    expect(record.metrics).toEqual({ count: 3 });
  });

  it('keeps such integers nested in objects and arrays', () => {
    const data = line({ order: { id: '§0', items: ['§1', 2, '§2'] } }, ID, TWEET, '-9223372036854775808');
    const record = normalizeOne(data);
    expect(record.attributes).toMatchObject({
      'order.id': ID,
      'order.items.0': TWEET,
      'order.items.2': '-9223372036854775808',
    });
    expect(record.metrics).toEqual({ 'order.items.1': 2 });
  });

  it('fills text columns with the exact digits: trace id, and the user id pseudonym of the real id', () => {
    const asNumber = normalizeOne(line({ trace_id: '§0', user_id: '§0' }, ID));
    const asText = normalizeOne(line({ trace_id: ID, user_id: ID }));
    expect(asNumber.trace_id).toBe(ID);
    expect(asNumber.user_id).toBe(asText.user_id);
  });

  it('reads a nanosecond epoch timestamp beyond 2^53 as before', () => {
    const ns = `${ARRIVAL - 60_000}123456`;
    const record = normalizeOne(withLiterals({ time: '§0', level: 'info', service: 's', msg: 'm' }, ns));
    expect(record.timestamp).toBe(T);
    expect(record.schema_errors).toEqual([]);
  });

  it('keeps the limits: 2^53 − 1 is a metric, 2^53 and beyond keep their digits as text', () => {
    const record = normalizeOne(
      line(
        { a: '§0', b: '§1', c: '§2', d: '§3' },
        '9007199254740991',
        '9007199254740992',
        '-9007199254740991',
        '-9007199254740993',
      ),
    );
    expect(record.metrics).toEqual({ a: 9007199254740991, c: -9007199254740991 });
    expect(record.attributes).toEqual({ b: '9007199254740992', d: '-9007199254740993' });
  });

  it('keeps literals with a fraction or an exponent as doubles, -0 as 0, and 1E400 as Infinity text', () => {
    const record = normalizeOne(
      line(
        { neg_zero: '§0', exp: '§1', huge: '§2', fraction: '§3', precise: '§4' },
        '-0',
        '1e21',
        '1E400',
        '12345678901234567890.0',
        '0.1234567890123456789',
      ),
    );
    expect(record.metrics).toEqual({
      neg_zero: 0,
      exp: 1e21,
      fraction: 12345678901234567000,
      precise: 0.12345678901234568,
    });
    expect(record.attributes).toEqual({ huge: 'Infinity' });
  });

  it('keeps an integer literal too large for a double with its digits, not as Infinity', () => {
    const digits = `1${'0'.repeat(400)}`;
    expect(normalizeOne(line({ big: '§0' }, digits)).attributes).toEqual({ big: digits });
  });

  it('keeps such integers in a JSON message of a CloudWatch Logs event', async () => {
    const { gzipSync } = await import('node:zlib');
    const message = line({ order_id: '§0' }, ID);
    const payload = `{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"/app/orders","logStream":"s","subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":${ARRIVAL},"message":${JSON.stringify(message)}}]}`;
    const { records } = transformOne(gzipSync(payload));
    expect(records[0]?.attributes.order_id).toBe(ID);
  });
});

describe('transformRecord, integers beyond 2^53 in producer shapes', () => {
  it('OTLP/JSON: an intValue string or number beyond 2^53 keeps its digits', () => {
    const doc = withLiterals(
      {
        resourceLogs: [
          {
            resource: { attributes: [{ key: 'service.name', value: { stringValue: 'payments' } }] },
            scopeLogs: [
              {
                logRecords: [
                  {
                    timeUnixNano: String((ARRIVAL - 1000) * 1e6),
                    severityNumber: 9,
                    body: { stringValue: 'ok' },
                    attributes: [
                      { key: 'order.id', value: { intValue: ID } },
                      { key: 'tweet.id', value: { intValue: '§0' } },
                      { key: 'retries', value: { intValue: '3' } },
                    ],
                  },
                ],
              },
            ],
          },
        ],
      },
      TWEET,
    );
    const { records } = transformOne(doc);
    expect(records[0]?.attributes).toMatchObject({ 'order.id': ID, 'tweet.id': TWEET });
    expect(records[0]?.metrics).toMatchObject({ retries: 3 });
  });

  it('OTLP/JSON: a timeUnixNano written as a bare number still gives the time', () => {
    const doc = withLiterals(
      {
        resourceLogs: [
          {
            scopeLogs: [
              { logRecords: [{ timeUnixNano: '§0', severityNumber: 9, body: { stringValue: 'ok' } }] },
            ],
          },
        ],
      },
      `${ARRIVAL - 1000}000000`,
    );
    const { records } = transformOne(doc);
    expect(records[0]?.timestamp).toBe(new Date(ARRIVAL - 1000).toISOString());
  });

  it('ECS: a long field beyond 2^53 keeps its digits', () => {
    const record = normalizeOne(
      withLiterals(
        {
          '@timestamp': T,
          'log.level': 'info',
          message: 'm',
          'ecs.version': '8.11.0',
          service: { name: 'checkout' },
          event: { sequence: '§0', duration: 1_500_000 },
        },
        ID,
      ),
    );
    expect(record.attributes['event.sequence']).toBe(ID);
    expect(record.duration_ms).toBe(1.5);
  });

  it('CLEF: a property beyond 2^53 keeps its digits, in attributes and in the rendered message', () => {
    const record = normalizeOne(
      withLiterals({ '@t': T, '@mt': 'Order {OrderId} placed', OrderId: '§0' }, ID),
    );
    // Rendered as text is (quoted): the exact digits, though Seq would print the number bare.
    expect(record.message).toBe(`Order "${ID}" placed`);
    expect(record.attributes.OrderId).toBe(ID);
  });

  it('pino: a field beyond 2^53 keeps its digits', () => {
    const record = normalizeOne(
      withLiterals(
        { level: 30, time: ARRIVAL - 60_000, pid: 7, hostname: 'h', msg: 'm', snowflake: '§0' },
        ID,
      ),
    );
    expect(record.attributes.snowflake).toBe(ID);
  });
});

describe('transformRecord, integers beyond 2^53 in JSON inside a message', () => {
  it('keeps the digits of JSON after text that the redactor rewrites', () => {
    const message = `payload {"password":"hunter2","id":${ID}}`;
    const record = normalizeOne(json({ timestamp: T, level: 'INFO', service: 's', message }));
    expect(record.message).toBe(`payload {"password":"[REDACTED:password]","id":${ID}}`);
  });

  it('keeps the digits of a JSON message the redactor rewrites whole', () => {
    const message = `{"token":"secret-value-1","id":${ID},"n":[${TWEET}]}`;
    const record = normalizeOne(json({ timestamp: T, level: 'INFO', service: 's', message }));
    expect(record.message).toContain(`"id":${ID}`);
    expect(record.message).toContain(`"n":[${TWEET}]`);
    expect(record.message).not.toContain('secret-value-1');
  });

  it('pseudonymizes a user id beyond 2^53 in embedded JSON from its exact digits', () => {
    const embedded = normalizeOne(
      json({ timestamp: T, level: 'INFO', service: 's', message: `login {"user_id":${ID},"password":"x"}` }),
    );
    const column = normalizeOne(line({ user_id: ID }));
    expect(embedded.message).toContain(`"user_id":"${column.user_id}"`);
  });
});

describe('transformRecord, integers beyond 2^53 in the compact form', () => {
  it('keeps their digits when an oversized record is stored as one compact record', () => {
    // Prepare
    const body = `${line({ order_id: '§0', password: 'p4ss' }, ID)}\n`.repeat(2000);
    // Act
    const { records } = transformRecords([input(body)], settings(), {
      maxResponseBytes: Math.floor(body.length * 2.5),
    });
    // Assess
    const stored = decodeRecords(records[0]?.data ?? '');
    expect(stored).toHaveLength(1);
    expect(stored[0]?.message).toContain(`"order_id":${ID}`);
    expect(stored[0]?.message).not.toContain('p4ss');
  });
});

/** Every stored value of a row as text: columns, attributes and metrics. */
function storedTexts(record: LogRecord): string[] {
  return [
    ...Object.values(record.attributes),
    ...Object.values(record.metrics).map((n) => JSON.stringify(n)),
    record.message,
  ];
}

describe('transformRecord, integers property', () => {
  it('stores any integer in -(2^63)..2^64 with exactly its digits, or redacted, never as another number', () => {
    fc.assert(
      fc.property(
        fc.bigInt(-(2n ** 63n), 2n ** 64n),
        fc.constantFrom('order_id', 'nested', 'array'),
        (n, where) => {
          const digits = n.toString();
          const fields =
            where === 'order_id'
              ? { order_id: '§0' }
              : where === 'nested'
                ? { a: { b: '§0' } }
                : { ids: [1, '§0'] };
          const record = normalizeOne(line(fields, digits));
          const texts = storedTexts(record);
          const redacted = Object.keys(record.redactions).length > 0;
          expect(texts.includes(digits) || redacted).toBe(true);
          if (redacted)
            expect(JSON.stringify(record)).not.toMatch(new RegExp(`(?<!\\d)${digits.slice(0, 12)}`));
        },
      ),
      { numRuns: 300 },
    );
  });
});
