import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { billedBytes, FIREHOSE_PUT_LIMITS, fillBatch, RecordPacker } from '../../src/producer/pack';

const line = fc.string({ minLength: 1, maxLength: 300 }).filter((s) => !s.includes('\n'));

describe('RecordPacker', () => {
  it('keeps every line exactly once, in order per key, in records within the size cap', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('errors|10', 'runtime|10', 'audit|11'), line), { maxLength: 300 }),
        fc.integer({ min: 302, max: 4_000 }),
        (items, cap) => {
          // Prepare
          const packer = new RecordPacker(cap);
          const records = [];

          // Act
          for (const [key, text] of items) {
            const full = packer.add(key, Buffer.from(text));
            if (full) records.push(full);
          }
          records.push(...packer.drain());

          // Assess
          for (const r of records) {
            expect(r.data.length).toBeLessThanOrEqual(cap);
            expect(r.data.toString().endsWith('\n')).toBe(true);
          }
          for (const key of new Set(items.map(([k]) => k))) {
            const sent = records
              .filter((r) => r.key === key)
              .flatMap((r) => r.data.toString().split('\n').slice(0, -1));
            expect(sent).toEqual(items.filter(([k]) => k === key).map(([, t]) => t));
          }
          expect(packer.bytes).toBe(0);
        },
      ),
    );
  });

  it('keeps multi-byte lines whole and records within the cap when lines reach it exactly', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 200 }).chain((cap) =>
          fc.tuple(
            fc.constant(cap),
            // Whole UTF-8 lines up to the longest that fits (cap - 1 bytes), often exactly that long.
            fc.array(
              fc
                .string({ unit: 'binary', minLength: 1, maxLength: cap })
                .map((s) => s.replaceAll('\n', ' '))
                .map((s) => fitTo(Buffer.from(s), cap - 1)),
              { maxLength: 60 },
            ),
          ),
        ),
        ([cap, lines]) => {
          // Prepare
          const packer = new RecordPacker(cap);
          const records = [];

          // Act
          for (const l of lines) {
            const full = packer.add('k', l);
            if (full) records.push(full);
          }
          records.push(...packer.drain());

          // Assess: the bytes go out unchanged, in order, each record a run of whole lines
          for (const r of records) expect(r.data.length).toBeLessThanOrEqual(cap);
          expect(Buffer.concat(records.map((r) => r.data))).toEqual(
            Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])),
          );
          expect(records.reduce((s, r) => s + r.lines, 0)).toBe(lines.length);
        },
      ),
    );
  });

  it('refuses a line that can never fit a record', () => {
    // Prepare
    const packer = new RecordPacker(100);

    // Act
    const act = () => packer.add('k', Buffer.alloc(100, 'a'));

    // Assess
    expect(packer.fits(100)).toBe(false);
    expect(packer.fits(99)).toBe(true);
    expect(act).toThrow(RangeError);
  });
});

/** `line` cut to at most `max` bytes at a character boundary (never empty). */
function fitTo(line: Buffer, max: number): Buffer {
  let end = Math.min(line.length, max);
  // A UTF-8 continuation byte (10xxxxxx) is never where a character starts.
  while (end > 1 && end < line.length && ((line[end] as number) & 0xc0) === 0x80) end--;
  return line.subarray(0, end);
}

describe('fillBatch', () => {
  it('never exceeds 500 records or 4 MiB per call and keeps order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: FIREHOSE_PUT_LIMITS.maxRecordBytes }), { maxLength: 700 }),
        (sizes) => {
          // Prepare
          const queue = sizes.map((n, i) => ({ i, data: { length: n } }));
          const batches: Array<typeof queue> = [];

          // Act
          while (queue.length > 0) {
            const batch: typeof queue = [];
            fillBatch(batch, 0, queue, FIREHOSE_PUT_LIMITS);
            batches.push(batch);
          }

          // Assess
          for (const b of batches) {
            expect(b.length).toBeGreaterThan(0);
            expect(b.length).toBeLessThanOrEqual(500);
            expect(b.reduce((s, x) => s + x.data.length, 0)).toBeLessThanOrEqual(
              FIREHOSE_PUT_LIMITS.maxBatchBytes,
            );
          }
          expect(batches.flat().map((x) => x.i)).toEqual(sizes.map((_, i) => i));
        },
      ),
    );
  });
});

describe('billedBytes', () => {
  it.each([
    [1, 5120],
    [480, 5120],
    [5120, 5120],
    [5121, 10240],
    [1_024_000, 1_024_000],
  ])('bills %d bytes as %d', (bytes, expected) => {
    // Act
    const got = billedBytes(bytes);

    // Assess
    expect(got).toBe(expected);
  });
});
