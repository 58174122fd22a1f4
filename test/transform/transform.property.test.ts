import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeRecords,
  partitionKeysSchema,
  responseBytes,
  type TransformInputRecord,
  type TransformOutputRecord,
  transformRecords,
} from '../../src/transform';
import { ARRIVAL, settings } from './helpers';

const s = settings();
const audit = settings('audit');

/** Arbitrary record contents: bytes, text, JSON values, NDJSON, CloudWatch payloads, gzip. */
const content: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 400 }),
  fc.string({ unit: 'binary', maxLength: 300 }).map((t) => Buffer.from(t)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(JSON.stringify(v))),
  fc
    .array(fc.object({ maxDepth: 3 }), { minLength: 1, maxLength: 5 })
    .map((objects) => Buffer.from(objects.map((o) => JSON.stringify(o)).join('\n'))),
  fc
    .array(
      fc.record({
        id: fc.string(),
        timestamp: fc.integer({ min: 0, max: 4e12 }),
        message: fc.string({ unit: 'binary' }),
      }),
      {
        maxLength: 4,
      },
    )
    .map((logEvents) =>
      gzipSync(
        JSON.stringify({
          messageType: 'DATA_MESSAGE',
          owner: '1',
          logGroup: '/g',
          logStream: 's',
          subscriptionFilters: [],
          logEvents,
        }),
      ),
    ),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.concat([Buffer.from([0x1f, 0x8b]), bytes])),
  // Collector envelopes around anything (JSON, text, CRI lines), with arbitrary metadata.
  fc
    .record({
      log: fc.oneof(
        fc.string({ unit: 'binary' }),
        fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
      ),
      stream: fc.constantFrom('stdout', 'stderr', 'x'),
      time: fc.oneof(fc.string(), fc.double(), fc.constant('2026-01-02T03:04:05.123456789Z')),
      kubernetes: fc.oneof(
        fc.object({ maxDepth: 2 }),
        fc.constant({ labels: { app: 'a' }, container_name: 'c' }),
      ),
    })
    .map((r) => Buffer.from(JSON.stringify(r))),
  fc
    .array(
      fc.tuple(fc.constantFrom('stdout', 'stderr'), fc.constantFrom('P', 'F'), fc.string({ unit: 'binary' })),
      { maxLength: 6 },
    )
    .map((lines) =>
      Buffer.from(
        lines.map(([st, tag, text]) => `2026-01-02T03:04:05.123456789Z ${st} ${tag} ${text}`).join('\n'),
      ),
    ),
  fc
    .array(fc.object({ maxDepth: 2 }), { maxLength: 4 })
    .map((logRecords) =>
      Buffer.from(
        JSON.stringify({ resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ logRecords }] }] }),
      ),
    ),
  fc
    .array(
      fc.oneof(
        fc.constantFrom(
          'Traceback (most recent call last):',
          '  File "a.py", line 1, in f',
          'ValueError: bad',
          '\tat a.B.c(B.java:1)',
          'Caused by: java.io.IOException: x',
          '\t... 3 more',
          'goroutine 1 [running]:',
          'main.main()',
          'panic: boom',
          '2026-01-02 03:04:05,000 ERROR failed',
          '',
        ),
        fc.string({ unit: 'binary', maxLength: 30 }),
      ),
      { maxLength: 12 },
    )
    .map((lines) => Buffer.from(lines.join('\n'))),
);

const batch = fc
  .array(fc.tuple(content, fc.oneof(fc.constant(ARRIVAL), fc.integer({ min: -1, max: 4e12 }))), {
    maxLength: 12,
  })
  .map((items): TransformInputRecord[] =>
    items.map(([bytes, arrival], i) => ({
      recordId: `id-${i}`,
      data: Buffer.from(bytes).toString('base64'),
      approximateArrivalTimestamp: arrival,
    })),
  );

function checkContract(
  inputs: TransformInputRecord[],
  outputs: TransformOutputRecord[],
  budgeted = false,
): void {
  expect(outputs.map((o) => o.recordId)).toEqual(inputs.map((i) => i.recordId));
  for (const o of outputs) {
    expect(['Ok', 'Dropped', 'ProcessingFailed']).toContain(o.result);
    // No input makes the transform throw: ProcessingFailed only ever comes from a tight response budget.
    if (!budgeted) expect(o.result).not.toBe('ProcessingFailed');
    if (o.result !== 'Ok') continue;
    expect(partitionKeysSchema.safeParse(o.metadata?.partitionKeys).success).toBe(true);
    const records = decodeRecords(o.data);
    expect(records.length).toBeGreaterThan(0);
    // The record's partition is its first event's UTC hour.
    const first = records[0]?.timestamp ?? '';
    expect([first.slice(0, 10), first.slice(11, 13)]).toEqual([
      o.metadata?.partitionKeys.dt,
      o.metadata?.partitionKeys.hour,
    ]);
  }
}

describe('transformRecords (properties)', () => {
  it('never throws, returns every id once, and every Ok record decodes to valid records', () => {
    fc.assert(
      fc.property(batch, (inputs) => {
        checkContract(inputs, transformRecords(inputs, s).records);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps the same guarantees on the audit stream, where every Ok record is locked', () => {
    fc.assert(
      fc.property(batch, (inputs) => {
        const { records } = transformRecords(inputs, audit);
        checkContract(inputs, records);
        for (const o of records)
          if (o.result === 'Ok') expect(['security', 'audit']).toContain(o.metadata?.partitionKeys.category);
      }),
      { numRuns: 150 },
    );
  });

  it('keeps the response within any budget that can hold the records at all', () => {
    fc.assert(
      fc.property(batch, fc.integer({ min: 0, max: 20_000 }), (inputs, slack) => {
        // The smallest possible response: every record ProcessingFailed without data.
        const floor = responseBytes(
          inputs.map((i) => ({ recordId: i.recordId, result: 'ProcessingFailed', data: '' })),
        );
        const budget = floor + slack;
        const { records } = transformRecords(inputs, s, { maxResponseBytes: budget });
        checkContract(inputs, records, true);
        // The budget is kept by counting, not serializing: the count is the serialized size (every
        // entry counted with its separating comma, so the last one's is one byte over).
        const serialized = Buffer.byteLength(JSON.stringify({ records }));
        expect(responseBytes(records)).toBe(serialized + (records.length > 0 ? 1 : 0));
        expect(responseBytes(records)).toBeLessThanOrEqual(budget);
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic for the same input and sampling randomness', () => {
    fc.assert(
      fc.property(batch, (inputs) => {
        const a = transformRecords(inputs, s, { random: () => 0.5, now: () => ARRIVAL });
        const b = transformRecords(inputs, s, { random: () => 0.5, now: () => ARRIVAL });
        expect(a.records).toEqual(b.records);
      }),
      { numRuns: 100 },
    );
  });
});

describe('transformRecords (order)', () => {
  /** Each record's output, by id. */
  const byId = (inputs: TransformInputRecord[]) => {
    const { records } = transformRecords(inputs, s, { random: () => 0.5, now: () => ARRIVAL });
    return new Map(records.map((o) => [o.recordId, o]));
  };

  it('gives a record the same output alone, in a batch, in any order and across normalizing windows', () => {
    fc.assert(
      fc.property(batch, fc.integer({ min: 1, max: 30 }), (inputs, copies) => {
        // Enough copies to fill several windows of events normalized together, grouped by shape.
        const many = Array.from({ length: copies }, (_, c) =>
          inputs.map((r) => ({ ...r, recordId: `${r.recordId}-${c}` })),
        ).flat();
        const together = byId(many);
        const reversed = byId([...many].reverse());
        for (const r of many) {
          const alone = byId([r]).get(r.recordId);
          expect(together.get(r.recordId)).toEqual(alone);
          expect(reversed.get(r.recordId)).toEqual(alone);
        }
      }),
      { numRuns: 40 },
    );
  });
});
