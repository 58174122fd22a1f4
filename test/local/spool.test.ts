import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  base64Bytes,
  newSegmentId,
  recoverSegments,
  removeSegment,
  SegmentWriter,
} from '../../src/local/spool';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'loglake-spool-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('SegmentWriter', () => {
  it('makes concurrent appends durable with stable ids that recovery reproduces', async () => {
    // Prepare
    const writer = new SegmentWriter(dir);
    const batches = Array.from({ length: 20 }, (_, i) =>
      Array.from({ length: (i % 3) + 1 }, (_, j) => ({ data: b64(`r${i}-${j}`), bytes: 4 })),
    );

    // Act
    const ids = await Promise.all(batches.map((b, i) => writer.append(b, 1_000 + i)));
    const sealed = await writer.seal();
    const [recovered] = recoverSegments(dir);

    // Assess
    expect(ids.flat()).toEqual(sealed.records.map((r) => r.id));
    expect(new Set(ids.flat()).size).toBe(ids.flat().length);
    expect(recovered?.records.map((r) => [r.id, r.data, r.arrival])).toEqual(
      sealed.records.map((r) => [r.id, r.data, r.arrival]),
    );
  });

  it('refuses appends once sealed', async () => {
    // Prepare
    const writer = new SegmentWriter(dir);
    await writer.append([{ data: b64('a'), bytes: 1 }], 1);
    await writer.seal();

    // Act
    const act = () => writer.append([{ data: b64('b'), bytes: 1 }], 2);

    // Assess
    expect(act).toThrow(/sealed/);
  });
});

describe('recoverSegments', () => {
  it('drops a torn last line (a write the crash cut short, never acknowledged)', async () => {
    // Prepare
    const writer = new SegmentWriter(dir);
    await writer.append(
      [
        { data: b64('kept-1'), bytes: 6 },
        { data: b64('kept-2'), bytes: 6 },
      ],
      5,
    );
    const segment = await writer.seal();
    appendFileSync(segment.path, '{"t":6,"d":"dG9y');

    // Act
    const [recovered] = recoverSegments(dir);

    // Assess
    expect(recovered?.records.map((r) => Buffer.from(r.data, 'base64').toString())).toEqual([
      'kept-1',
      'kept-2',
    ]);
  });

  it('returns segments oldest first and nothing for a missing directory', () => {
    // Prepare
    writeFileSync(join(dir, `${newSegmentId(2_000)}.seg`), `${JSON.stringify({ t: 2, d: b64('second') })}\n`);
    writeFileSync(join(dir, `${newSegmentId(1_000)}.seg`), `${JSON.stringify({ t: 1, d: b64('first') })}\n`);

    // Act
    const segments = recoverSegments(dir);
    const none = recoverSegments(join(dir, 'missing'));

    // Assess
    expect(segments.map((s) => s.records[0]?.arrival)).toEqual([1, 2]);
    expect(none).toEqual([]);
  });

  it('forgets a segment once it is removed', async () => {
    // Prepare
    const writer = new SegmentWriter(dir);
    await writer.append([{ data: b64('x'), bytes: 1 }], 1);
    const segment = await writer.seal();

    // Act
    removeSegment(segment, dir);

    // Assess
    expect(readdirSync(dir)).toEqual([]);
    expect(recoverSegments(dir)).toEqual([]);
  });
});

describe('base64Bytes', () => {
  it('equals the decoded length for any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        // Act
        const n = base64Bytes(Buffer.from(bytes).toString('base64'));

        // Assess
        expect(n).toBe(bytes.length);
      }),
    );
  });
});
