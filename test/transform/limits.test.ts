import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  decodeRecords,
  LAMBDA_RESPONSE_LIMIT_BYTES,
  responseBytes,
  type TransformInputRecord,
  transformRecords,
} from '../../src/transform';
import { ARRIVAL, settings } from './helpers';

/** Firehose's largest processor buffer (3 MB) and largest record (1,000 KiB). */
const BUFFER_BYTES = 3 * 1024 * 1024;
const MAX_RECORD_BYTES = 1000 * 1024;

/** Fills a 3 MB buffer with records made of `unit` repeated up to `recordBytes` each. */
function fullBuffer(unit: string, recordBytes: number): TransformInputRecord[] {
  const body = unit.repeat(Math.floor(recordBytes / Buffer.byteLength(unit)));
  const count = Math.floor(BUFFER_BYTES / Buffer.byteLength(body));
  return Array.from({ length: count }, (_, i) => ({
    recordId: `49546986683135544286507457936321625675700192471156785${String(i).padStart(3, '0')}`,
    data: Buffer.from(body).toString('base64'),
    approximateArrivalTimestamp: ARRIVAL,
  }));
}

const worstCases: ReadonlyArray<readonly [string, TransformInputRecord[]]> = [
  ['one-character lines (per-event overhead)', fullBuffer('x\n', MAX_RECORD_BYTES)],
  ['tiny JSON events', fullBuffer('{"a":1}\n', MAX_RECORD_BYTES)],
  ['short e-mails (marker growth)', fullBuffer('a@b.co ', MAX_RECORD_BYTES)],
  ['control characters (JSON escaping growth)', fullBuffer('\u0001', MAX_RECORD_BYTES)],
  [
    'corpus-like events in small records',
    fullBuffer(
      `${JSON.stringify({ timestamp: '2026-01-02T03:04:05.000Z', level: 'INFO', service: 'auth', logger: 'auth.worker', correlation_id: '5d0f179c7b9f3ef15c2eaa3cdcb1cd6d', message: 'user jane@example.com logged in from 203.0.113.9' })}\n`,
      500,
    ),
  ],
  [
    'gzip CloudWatch payloads (decompression growth)',
    Array.from({ length: 3 }, (_, i) => ({
      recordId: `cwl-${i}`,
      data: gzipSync(
        JSON.stringify({
          messageType: 'DATA_MESSAGE',
          owner: '1',
          logGroup: '/aws/lambda/x',
          logStream: 's',
          subscriptionFilters: [],
          logEvents: Array.from({ length: 40_000 }, (_, j) => ({
            id: String(j),
            timestamp: ARRIVAL,
            message: 'ok',
          })),
        }),
      ).toString('base64'),
      approximateArrivalTimestamp: ARRIVAL,
    })),
  ],
  [
    'random bytes',
    Array.from({ length: 3 }, (_, i) => ({
      recordId: `rnd-${i}`,
      data: randomBytes(MAX_RECORD_BYTES).toString('base64'),
      approximateArrivalTimestamp: ARRIVAL,
    })),
  ],
];

describe('transformRecords response size', () => {
  it.each(worstCases)(
    'stays under 6 MB for a full 3 MB buffer of %s, losing nothing silently',
    (_name, inputs) => {
      const { records, metrics } = transformRecords(inputs, settings());
      const size = Buffer.byteLength(JSON.stringify({ records }));
      expect(size).toBeLessThanOrEqual(DEFAULT_MAX_RESPONSE_BYTES);
      expect(size).toBeLessThan(LAMBDA_RESPONSE_LIMIT_BYTES);
      expect(records.map((r) => r.recordId)).toEqual(inputs.map((r) => r.recordId));
      // Every record is delivered (maybe compact) or handed to Firehose's error output with its raw bytes.
      records.forEach((r, i) => {
        if (r.result === 'Ok') expect(decodeRecords(r.data).length).toBeGreaterThan(0);
        else
          expect(r).toEqual({
            recordId: inputs[i]?.recordId,
            result: 'ProcessingFailed',
            data: inputs[i]?.data,
          });
      });
      expect(metrics.records.Dropped).toBe(0);
    },
  );

  it('falls back to one compact flagged record per input record, redacted, when that is enough', () => {
    const inputs = fullBuffer('{"a":1}\n', MAX_RECORD_BYTES).slice(0, 1);
    const { records, metrics } = transformRecords(inputs, settings(), { maxResponseBytes: 2_000_000 });
    expect(records.map((r) => r.result)).toEqual(['Ok']);
    const compact = decodeRecords(records[0]?.data ?? '');
    expect(compact).toHaveLength(1);
    expect(compact[0]?.schema_errors[0]).toMatch(/^oversized: 128000 events kept as one flagged record/);
    expect(compact[0]?.message.startsWith('{"a":1}\n{"a":1}')).toBe(true);
    expect(metrics.oversizedRecords).toBeGreaterThan(0);
  });

  it('keeps in the compact form what every event would have said of the whole record', () => {
    // Prepare: a record of invalid UTF-8, delivered here with a reason from the caller (recordErrors).
    const body = Buffer.concat([Buffer.from('{"a":1}\n'.repeat(20_000)), Buffer.from([0xff, 0x0a])]);
    const inputs = [{ recordId: 'r', data: body.toString('base64'), approximateArrivalTimestamp: ARRIVAL }];

    // Act
    const { records } = transformRecords(inputs, settings(), {
      maxResponseBytes: 400_000,
      recordErrors: new Map([['r', 'could not be forwarded to the audit stream']]),
    });

    // Assess
    const compact = decodeRecords(records[0]?.data ?? '');
    expect(records[0]?.result).toBe('Ok');
    expect(compact).toHaveLength(1);
    expect(compact[0]?.schema_errors.slice(1)).toEqual([
      'invalid UTF-8 bytes replaced with U+FFFD',
      'could not be forwarded to the audit stream',
    ]);
  });

  it('redacts the compact form field by field (user ids become pseudonyms)', () => {
    const body =
      `${JSON.stringify({ msg: 'x', user: { id: 'alice' }, password: 'p4ss', note: 'bob@example.com' })}\n`.repeat(
        2000,
      );
    const inputs = [
      { recordId: 'a', data: Buffer.from(body).toString('base64'), approximateArrivalTimestamp: ARRIVAL },
    ];
    const { records } = transformRecords(inputs, settings(), {
      maxResponseBytes: Math.floor(body.length * 2.5),
    });
    const text = Buffer.from(records[0]?.data ?? '', 'base64').toString();
    expect(records[0]?.result).toBe('Ok');
    expect(decodeRecords(records[0]?.data ?? '')).toHaveLength(1);
    for (const secret of ['alice', 'p4ss', 'bob@example.com']) expect(text).not.toContain(secret);
  });

  it('defers the oldest records first, so a re-ingested record is not set aside again', () => {
    const body = `${JSON.stringify({ level: 'info', msg: 'z'.repeat(60) })}\n`.repeat(2000);
    const inputs = [3, 1, 2].map((age, i) => ({
      recordId: `age-${age}`,
      data: Buffer.from(body).toString('base64'),
      approximateArrivalTimestamp: ARRIVAL - age * 1000 + i,
    }));
    const one = responseBytes(transformRecords(inputs.slice(0, 1), settings()).records);
    const { deferred } = transformRecords(inputs, settings(), {
      deferOversized: true,
      maxResponseBytes: one * 2 + 100,
    });
    expect(deferred.map((d) => d.recordId)).toEqual(['age-3']);
  });

  it('defers records instead of shrinking them, when asked, so they can be re-ingested whole', () => {
    const inputs = fullBuffer(`${JSON.stringify({ level: 'info', msg: 'y'.repeat(60) })}\n`, 200_000);
    const { records, deferred, metrics } = transformRecords(inputs, settings(), { deferOversized: true });
    expect(Buffer.byteLength(JSON.stringify({ records }))).toBeLessThanOrEqual(DEFAULT_MAX_RESPONSE_BYTES);
    expect(deferred.length).toBeGreaterThan(0);
    expect(metrics.deferredRecords).toBe(deferred.length);
    const dropped = records.filter((r) => r.result === 'Dropped').map((r) => r.recordId);
    expect(dropped).toEqual(deferred.map((d) => d.recordId));
    expect(metrics.oversizedRecords).toBe(0);
  });

  it('fails only the record whose compact form cannot be made, never the batch', () => {
    // Prepare: a CloudWatch Logs event whose second line is JSON nested 100,000 deep: read as a text
    // line it is delivered, but the compact form parses it as JSON and exhausts the stack. Beside it, a
    // record that only needs compacting.
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const payload = {
      messageType: 'DATA_MESSAGE',
      owner: '123456789012',
      logGroup: '/aws/lambda/api',
      logStream: 's',
      subscriptionFilters: ['loglake'],
      logEvents: [{ id: '1', timestamp: ARRIVAL, message: `request failed\n${deep}` }],
    };
    const body = `${JSON.stringify({ level: 'info', msg: 'w'.repeat(60) })}\n`.repeat(200);
    const inputs: TransformInputRecord[] = [
      {
        recordId: 'deep',
        data: gzipSync(JSON.stringify(payload)).toString('base64'),
        approximateArrivalTimestamp: ARRIVAL,
      },
      { recordId: 'plain', data: Buffer.from(body).toString('base64'), approximateArrivalTimestamp: ARRIVAL },
    ];
    expect(transformRecords(inputs, settings()).records.map((r) => r.result)).toEqual(['Ok', 'Ok']);

    // Act
    const { records } = transformRecords(inputs, settings(), { maxResponseBytes: 100_000 });

    // Assess
    expect(records.map((r) => r.recordId)).toEqual(['deep', 'plain']);
    expect(records[0]).toEqual({ recordId: 'deep', result: 'ProcessingFailed', data: inputs[0]?.data });
    expect(records[1]?.result).toBe('Ok');
    expect(decodeRecords(records[1]?.data ?? '')[0]?.schema_errors[0]).toMatch(/^oversized: 200 events/);
    expect(responseBytes(records)).toBeLessThanOrEqual(100_000);
  });
});
