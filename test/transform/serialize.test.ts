import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LEVELS, type LogRecord } from '../../src/schema';
import { encodeRecords, serializeRecord } from '../../src/transform';

const text = fc.string({ unit: 'binary', maxLength: 40 });
const nullable = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: null });
const iso = fc.integer({ min: 0, max: 253_402_300_799_999 }).map((ms) => new Date(ms).toISOString());

const record: fc.Arbitrary<LogRecord> = fc.record({
  timestamp: iso,
  level: fc.constantFrom(...LEVELS),
  service: text,
  logger: nullable(text),
  message: text,
  correlation_id: nullable(text),
  trace_id: nullable(text),
  span_id: nullable(text),
  user_id: nullable(text),
  error_type: nullable(text),
  stack_trace: nullable(text),
  duration_ms: nullable(fc.double({ noNaN: true, noDefaultInfinity: true })),
  http_method: nullable(text),
  http_path: nullable(text),
  http_status: nullable(fc.integer({ min: 100, max: 599 })),
  attributes: fc.dictionary(text, text, { maxKeys: 5 }),
  redactions: fc.dictionary(text, fc.integer({ min: 1, max: 99 }), { maxKeys: 3 }),
  ingest_time: iso,
  schema_errors: fc.array(text, { maxLength: 3 }),
  message_template: nullable(text),
});

describe('serializeRecord', () => {
  it('writes exactly what JSON.stringify writes, for any record', () => {
    fc.assert(
      fc.property(record, (r) => {
        expect(serializeRecord(r)).toBe(JSON.stringify(r));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('encodeRecords', () => {
  it('writes one JSON document per line, each ending in a newline', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 5 }), (records) => {
        expect(encodeRecords(records)).toBe(records.map((r) => `${JSON.stringify(r)}\n`).join(''));
      }),
    );
  });
});
