import {
  appendFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  base64Bytes,
  encodeFrame,
  newSegmentId,
  recoverSegments,
  removeSegment,
  SegmentWriter,
  SpoolWriteError,
  tableCrc32,
} from '../../src/local/spool';
import { FaultySpoolIo } from '../helpers/faulty-spool';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'loglake-spool-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const b64 = (s: string) => Buffer.from(s).toString('base64');
const text = (r: { data: string }) => Buffer.from(r.data, 'base64').toString();
const rec = (s: string) => ({ data: b64(s), bytes: s.length });

/** The outcome of an append: its ids, or the SpoolWriteError it was rejected with. */
function settle(p: Promise<string[]>): Promise<string[] | SpoolWriteError> {
  return p.catch((e: unknown) => {
    if (e instanceof SpoolWriteError) return e;
    throw e;
  });
}

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

describe('SegmentWriter when the disk fails', () => {
  it('rejects every request of a torn group commit, keeps none of it, and goes on in the same file', async () => {
    // Prepare: while 'before' commits, two requests queue up; their group commit is cut off after 30
    // bytes by a full disk
    const io = new FaultySpoolIo();
    const writer = new SegmentWriter(dir, io);
    io.fail({ op: 'append', prefix: 30, skip: 1 });

    // Act
    const before = writer.append([rec('before')], 1);
    const failed = await Promise.all([
      settle(writer.append([rec('lost-1')], 2)),
      settle(writer.append([rec('lost-2'), rec('lost-3')], 2)),
    ]);
    await before;
    const after = await writer.append([rec('after')], 3);
    const sealed = await writer.seal();
    const [recovered] = recoverSegments(dir);

    // Assess
    expect(failed.map((f) => f instanceof SpoolWriteError && !f.indeterminate)).toEqual([true, true]);
    expect(String(failed[0])).toMatch(/nothing of this request was kept: ENOSPC/);
    expect(sealed.records.map(text)).toEqual(['before', 'after']);
    expect(recovered?.records.map(text)).toEqual(['before', 'after']);
    expect(recovered?.records.map((r) => r.id)).toEqual(sealed.records.map((r) => r.id));
    expect(after).toEqual([sealed.records[1]?.id]);
    expect(recovered?.skippedFrames).toBe(0);
    expect(writer.bytes).toBe(sealed.bytes);
  });

  it('truncates frames written whole when their fdatasync fails', async () => {
    // Prepare
    const io = new FaultySpoolIo();
    const writer = new SegmentWriter(dir, io);
    await writer.append([rec('kept')], 1);
    const size = statSync(writer.path).size;
    io.fail({ op: 'datasync' });

    // Act
    const failed = await settle(writer.append([rec('not-durable')], 2));
    const sealed = await writer.seal();

    // Assess
    expect(failed).toBeInstanceOf(SpoolWriteError);
    expect(statSync(sealed.path).size).toBe(size);
    expect(recoverSegments(dir)[0]?.records.map(text)).toEqual(['kept']);
    expect(io.log).toEqual(['create', 'append', 'datasync', 'append', 'datasync', 'truncate', 'datasync']);
  });

  it('names the valid length in the file name when truncation fails, so recovery never reads the rejected frames', async () => {
    // Prepare: the frames reach the file whole, the fdatasync and then the truncation fail
    const io = new FaultySpoolIo();
    const writer = new SegmentWriter(dir, io);
    await writer.append([rec('kept')], 1);
    const size = statSync(writer.path).size;
    io.fail({ op: 'datasync' }, { op: 'truncate' });

    // Act
    const failed = await settle(writer.append([rec('rejected')], 2));
    const writable = writer.writable;
    const late = await settle(writer.append([rec('late')], 3));
    const sealed = await writer.seal();
    const [recovered] = recoverSegments(dir);

    // Assess
    expect(failed).toBeInstanceOf(SpoolWriteError);
    expect((failed as SpoolWriteError).indeterminate).toBe(false);
    expect(writable).toBe(false);
    expect(late).toBeInstanceOf(SpoolWriteError);
    expect(readdirSync(dir)).toEqual([`${writer.id}@${size}.seg`]);
    expect(readFileSync(sealed.path, 'utf8')).toContain(b64('rejected'));
    expect(sealed.records.map(text)).toEqual(['kept']);
    expect(recovered?.id).toBe(writer.id);
    expect(recovered?.records.map(text)).toEqual(['kept']);
  });

  it('reports an outcome it cannot know as indeterminate when truncation and rename both fail', async () => {
    // Prepare
    const io = new FaultySpoolIo();
    const warnings: string[] = [];
    const writer = new SegmentWriter(dir, io, (m) => warnings.push(m));
    await writer.append([rec('kept')], 1);
    io.fail({ op: 'datasync' }, { op: 'truncate' }, { op: 'rename' });

    // Act
    const failed = await settle(writer.append([rec('unknown')], 2));

    // Assess
    expect((failed as SpoolWriteError).indeterminate).toBe(true);
    expect(String(failed)).toMatch(/may or may not be kept/);
    expect(warnings.join()).toMatch(/neither truncated nor marked/);
    expect((await writer.seal()).records.map(text)).toEqual(['kept']);
  });

  it('creates nothing deliverable when the segment file cannot even be created', async () => {
    // Prepare
    const io = new FaultySpoolIo().fail({ op: 'create' });
    const writer = new SegmentWriter(dir, io);

    // Act
    const failed = await settle(writer.append([rec('x')], 1));
    const retried = await writer.append([rec('y')], 2);
    const sealed = await writer.seal();

    // Assess
    expect(failed).toBeInstanceOf(SpoolWriteError);
    expect(retried).toEqual([`${writer.id}-0`]);
    expect(recoverSegments(dir)[0]?.records.map(text)).toEqual(['y']);
    expect(sealed.records.map(text)).toEqual(['y']);
  });
});

describe('recoverSegments', () => {
  it('skips a damaged frame in the middle and recovers every frame after it, with their ids', async () => {
    // Prepare: three requests, then one byte of the second frame flipped (bit rot)
    const writer = new SegmentWriter(dir);
    await writer.append([rec('one')], 1);
    await writer.append([rec('two-a'), rec('two-b')], 2);
    await writer.append([rec('three')], 3);
    const sealed = await writer.seal();
    const bytes = readFileSync(sealed.path);
    const second = bytes.indexOf('\n') + 20;
    bytes[second] = (bytes[second] as number) ^ 0x01;
    writeFileSync(sealed.path, bytes);

    // Act
    const [recovered] = recoverSegments(dir);

    // Assess
    expect(recovered?.records.map(text)).toEqual(['one', 'three']);
    expect(recovered?.records.map((r) => r.id)).toEqual([`${writer.id}-0`, `${writer.id}-3`]);
    expect(recovered?.skippedFrames).toBe(1);
  });

  it('reads on past a torn frame when later frames follow it, on its line or the next', () => {
    // Prepare: a write cut short, then more appends that went on after it (no truncation happened)
    const id = newSegmentId();
    const torn = encodeFrame(1, 2, [b64('torn')]).slice(0, 25);
    writeFileSync(
      join(dir, `${id}.seg`),
      encodeFrame(0, 1, [b64('a')]) +
        torn +
        encodeFrame(2, 3, [b64('b')]) +
        torn +
        '\n' +
        encodeFrame(3, 4, [b64('c')]),
    );

    // Act
    const [recovered] = recoverSegments(dir);

    // Assess
    expect(recovered?.records.map(text)).toEqual(['a', 'b', 'c']);
    expect(recovered?.skippedFrames).toBe(2);
  });

  it('recovers version-1 segments (one JSON line per record), reading on past a torn line', () => {
    // Prepare: loglake 0.1 wrote this; a failed write tore line 2 and the next append continued it
    const id = newSegmentId();
    const line = (t: number, s: string) => `${JSON.stringify({ t, d: b64(s) })}\n`;
    writeFileSync(
      join(dir, `${id}.seg`),
      line(1, 'first') +
        line(2, 'torn').slice(0, 12) +
        line(3, 'acked-after') +
        'garbage\n' +
        line(4, 'last'),
    );

    // Act
    const [recovered] = recoverSegments(dir);

    // Assess
    expect(recovered?.records.map(text)).toEqual(['first', 'acked-after', 'last']);
    expect(recovered?.records.map((r) => r.arrival)).toEqual([1, 3, 4]);
    expect(recovered?.skippedFrames).toBe(2);
  });

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

describe('tableCrc32', () => {
  it('equals zlib.crc32 (the fallback for Node < 20.15)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), (s) => {
        // Act + Assess
        expect(tableCrc32(s)).toBe(crc32(s));
      }),
    );
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
