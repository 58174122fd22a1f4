/**
 * The local endpoint's write-ahead spool: a record acknowledged to a producer is on disk (fdatasync'd)
 * before the response leaves, and is replayed after a crash until its delivery has committed. A request
 * answered with an error leaves nothing that can be delivered.
 *
 * **On-disk format (version 2).** One directory per stream, one append-only segment file per buffer,
 * `<dir>/<segmentId>.seg`. Each accepted request (PutRecord or PutRecordBatch) is one line, a *frame*:
 *
 * ```
 * ~<crc32 of the JSON, 8 hex digits> {"i":<index of its first record>,"t":<arrival ms>,"d":["<base64>",…]}\n
 * ```
 *
 * Record `k` of a frame has the id `<segmentId>-<i + k>`. A frame is all of its request or nothing: a
 * frame that is cut short or damaged fails its CRC and is skipped whole, and recovery goes on with the
 * next line (counted in {@link RecoveredSegment.skippedFrames}). `~` cannot occur inside a frame (JSON of
 * numbers and base64), so a frame that follows torn bytes on the same line is still found.
 *
 * **Appends.** Appends from concurrent requests are group-committed: one write and one fdatasync for all
 * frames waiting. A record joins the segment's records (what is delivered) only after that fdatasync
 * succeeded. If the write or the fdatasync fails (ENOSPC, EIO), *every* request of that group commit is
 * answered with the error and none of it is kept: the file is truncated back to the end of the last
 * durable frame and fdatasync'd again. (Keeping the frames of a failed group that happened to be written
 * whole would need a second fdatasync per request on a disk that is failing; the producer retries.) If
 * the truncation itself fails, the writer stops accepting appends (the pipeline starts a new segment) and
 * renames the file to `<segmentId>@<bytes>.seg`: recovery reads only its first `<bytes>` bytes, so frames
 * of the failed group that reached the disk whole are never replayed either. If the rename fails too (a
 * dying disk), the outcome of those requests is unknown, like a crash in the middle of a request: they
 * are rejected with `indeterminate` set and the endpoint closes their connections without an answer.
 *
 * **Version 1** segments (`{"t":<arrival ms>,"d":"<base64>"}\n`, one line per record, no CRC), written by
 * loglake 0.1, are still recovered, with the same skip-and-continue over damaged lines.
 *
 * A segment is deleted only after everything made from it is durably in the lake. Segment ids sort by
 * creation time (`<ms, base36, padded>-<random>`), are unique without any counter kept on disk, and name
 * the files delivered from the segment, so a replay overwrites instead of duplicating.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { LogLakeError } from '../errors';

/** One spooled record. `id` is stable across replays: `<segmentId>-<index>`. */
export interface SpooledRecord {
  readonly id: string;
  /** Arrival time, epoch ms (becomes `approximateArrivalTimestamp` and `ingest_time`). */
  readonly arrival: number;
  /** The record's data, base64 as the producer sent it. */
  readonly data: string;
  /** Decoded size in bytes. */
  readonly bytes: number;
}

/** A sealed or recovered segment, ready to deliver. */
export interface Segment {
  readonly id: string;
  readonly path: string;
  readonly records: readonly SpooledRecord[];
  readonly bytes: number;
}

/** A segment read back from disk, with what recovery had to skip. */
export interface RecoveredSegment extends Segment {
  /** Frames (or version-1 lines) skipped as torn or damaged; recovery went on after each. */
  readonly skippedFrames: number;
  /** Bytes of the skipped frames. */
  readonly skippedBytes: number;
}

/**
 * A spool append failed. Normally nothing of the request was kept; `indeterminate` means its bytes may
 * have reached the disk and could not be removed (the write, the truncation and the rename all failed),
 * so after a crash it might be replayed: the endpoint then answers nothing at all rather than an error,
 * as a crash would, and the producer's retry may store it twice but never loses it.
 */
export class SpoolWriteError extends LogLakeError {
  constructor(
    message: string,
    readonly indeterminate: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SpoolWriteError';
  }
}

/** The file operations of one segment: the seam the fault-injection tests use. */
export interface SpoolFile {
  /** Append all of `data`. When it throws, any prefix of `data` may have reached the file. */
  append(data: Buffer): Promise<void>;
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

/** How the spool opens and renames segment files. @default {@link nodeSpoolIo} */
export interface SpoolIo {
  /** Create a new segment file (it must not exist). */
  create(path: string): Promise<SpoolFile>;
  rename(from: string, to: string): Promise<void>;
}

/** The spool's file operations on the real file system. */
export const nodeSpoolIo: SpoolIo = {
  async create(path) {
    const fh = await open(path, 'ax', 0o600);
    return {
      async append(data) {
        let done = 0;
        while (done < data.length) done += (await fh.write(data, done, data.length - done)).bytesWritten;
      },
      datasync: () => fh.datasync(),
      truncate: (length) => fh.truncate(length),
      close: () => fh.close(),
    };
  },
  rename: (from, to) => rename(from, to),
};

const SEGMENT_FILE = /^(.+?)(?:@(\d+))?\.seg$/;

/** A new segment id: sortable by creation time, unique across restarts. */
export function newSegmentId(now = Date.now()): string {
  return `${now.toString(36).padStart(9, '0')}-${randomBytes(4).toString('hex')}`;
}

/** Decoded byte length of a base64 string, without decoding it. */
export function base64Bytes(b64: string): number {
  const len = b64.length;
  if (len === 0) return 0;
  const padding = b64.endsWith('==') ? 2 : b64.endsWith('=') ? 1 : 0;
  return Math.floor((len * 3) / 4) - padding;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (ISO-HDLC, as zlib and gzip) of a string's UTF-8 bytes, by table; for Node < 20.15. */
export function tableCrc32(text: string): number {
  crcTable ??= Uint32Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text, 'utf8')) crc = (crcTable[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// zlib.crc32 arrived in Node 20.15 / 22.2; the engines field allows any Node 20.
const crc32: (text: string) => number =
  typeof (zlib as Partial<typeof zlib>).crc32 === 'function' ? (text) => zlib.crc32(text) : tableCrc32;

function crcHex(text: string): string {
  return crc32(text).toString(16).padStart(8, '0');
}

/** The frame of one request (see the module comment). */
export function encodeFrame(first: number, arrival: number, data: readonly string[]): string {
  const json = JSON.stringify({ i: first, t: arrival, d: data });
  return `~${crcHex(json)} ${json}\n`;
}

interface Decoded {
  /** Index of the first record, or undefined for a version-1 line (the next index). */
  readonly first: number | undefined;
  readonly arrival: number;
  readonly data: readonly string[];
}

/** A frame without its leading `~` and trailing newline, or undefined when it is not intact. */
function decodeFrame(text: string): Decoded | undefined {
  if (text.length < 10 || text[8] !== ' ') return undefined;
  const json = text.slice(9);
  if (crcHex(json) !== text.slice(0, 8)) return undefined;
  try {
    const f = JSON.parse(json) as { i?: unknown; t?: unknown; d?: unknown };
    if (!Number.isSafeInteger(f.i) || (f.i as number) < 0 || typeof f.t !== 'number') return undefined;
    if (!Array.isArray(f.d) || !f.d.every((d) => typeof d === 'string')) return undefined;
    return { first: f.i as number, arrival: f.t, data: f.d as string[] };
  } catch {
    return undefined;
  }
}

/** A version-1 line, `{"t":<ms>,"d":"<base64>"}`. */
function decodeV1(text: string): Decoded | undefined {
  try {
    const r = JSON.parse(text) as { t?: unknown; d?: unknown };
    if (typeof r.t !== 'number' || typeof r.d !== 'string') return undefined;
    return { first: undefined, arrival: r.t, data: [r.d] };
  } catch {
    return undefined;
  }
}

/**
 * The intact frame of a line, if any, and how many bytes before it were skipped: the whole line, or else
 * the frame that starts after torn bytes (a write cut short, with the next append going on after it).
 */
function decodeLine(line: string): { frame: Decoded | undefined; skipped: number } {
  const whole = line.startsWith('~') ? decodeFrame(line.slice(1)) : decodeV1(line);
  if (whole) return { frame: whole, skipped: 0 };
  const v2 = line.lastIndexOf('~');
  if (v2 > 0) {
    const frame = decodeFrame(line.slice(v2 + 1));
    if (frame) return { frame, skipped: v2 };
  }
  const v1 = line.lastIndexOf('{"t":');
  if (v1 > 0) {
    const frame = decodeV1(line.slice(v1));
    if (frame) return { frame, skipped: v1 };
  }
  return { frame: undefined, skipped: line.length + 1 };
}

interface PendingAppend {
  readonly data: readonly string[];
  readonly bytes: number;
  readonly arrival: number;
  readonly resolve: (ids: string[]) => void;
  readonly reject: (error: unknown) => void;
}

/** The open segment of one stream: appends are durable when their promise resolves. */
export class SegmentWriter {
  readonly id: string;
  private filePath: string;
  private readonly records: SpooledRecord[] = [];
  private durableBytes = 0;
  private reservedBytes = 0;
  /** Length of the file up to the end of the last durable frame. */
  private offset = 0;
  private pending: PendingAppend[] = [];
  private committing: Promise<void> | undefined;
  private file: SpoolFile | undefined;
  private dirSynced = false;
  private sealed = false;
  /** Why this segment takes no more appends: a failed write could not be rolled back. */
  private failure: unknown;
  /** Bytes past `offset` that could neither be truncated nor excluded by the file name. */
  private unresolvedTail = false;
  /** Epoch ms of the first durable record, for the time-based flush. */
  firstArrival: number | undefined;

  constructor(
    readonly dir: string,
    private readonly io: SpoolIo = nodeSpoolIo,
    private readonly onWarning: (message: string) => void = () => undefined,
  ) {
    this.id = newSegmentId();
    this.filePath = join(dir, `${this.id}.seg`);
  }

  /** The segment file (renamed to `<id>@<bytes>.seg` after a failed rollback). */
  get path(): string {
    return this.filePath;
  }

  /** Decoded bytes of durable records and of appends waiting to commit (for the size-based flush). */
  get bytes(): number {
    return this.durableBytes + this.reservedBytes;
  }

  /** Durable records. */
  get count(): number {
    return this.records.length;
  }

  /** False once sealed, or after a failed write that could not be rolled back. */
  get writable(): boolean {
    return !this.sealed && this.failure === undefined;
  }

  /** True when there is nothing to seal: no file was created and nothing waits. */
  get untouched(): boolean {
    return this.file === undefined && this.pending.length === 0 && this.committing === undefined;
  }

  /**
   * Append one request's records; resolves with their ids once they are fdatasync'd, rejects with
   * {@link SpoolWriteError} when nothing of them was kept.
   */
  append(items: ReadonlyArray<{ data: string; bytes: number }>, arrival: number): Promise<string[]> {
    if (this.sealed) throw new Error(`segment ${this.id} is sealed`);
    const bytes = items.reduce((sum, r) => sum + r.bytes, 0);
    this.reservedBytes += bytes;
    return new Promise<string[]>((resolve, reject) => {
      this.pending.push({ data: items.map((r) => r.data), bytes, arrival, resolve, reject });
      this.startCommitting();
    });
  }

  private startCommitting(): void {
    // Cleared in a callback, which runs after this assignment even when the loop ends synchronously;
    // an append that came in between the loop's end and the callback starts the next loop.
    this.committing ??= this.commitLoop().finally(() => {
      this.committing = undefined;
      if (this.pending.length > 0) this.startCommitting();
    });
  }

  /** Stop accepting appends, wait until every append has committed or failed, close the file. */
  async seal(): Promise<Segment> {
    this.sealed = true;
    while (this.committing) await this.committing;
    if (this.unresolvedTail) await this.rollBack();
    if (this.file) {
      try {
        await this.file.close();
      } catch {
        // Everything kept was fdatasync'd already; a failing close loses nothing.
      }
    }
    return { id: this.id, path: this.filePath, records: this.records, bytes: this.durableBytes };
  }

  private async commitLoop(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      if (this.failure !== undefined) {
        // Never written: these are rejected for certain, whatever happened to the earlier group.
        this.fail(batch, this.failure, false);
        continue;
      }
      let index = this.records.length;
      let text = '';
      for (const p of batch) {
        text += encodeFrame(index, p.arrival, p.data);
        index += p.data.length;
      }
      const buffer = Buffer.from(text, 'utf8');
      try {
        const file = await this.openFile();
        await file.append(buffer);
        await file.datasync();
      } catch (error) {
        await this.rollBack();
        this.fail(batch, error, this.unresolvedTail);
        continue;
      }
      this.offset += buffer.length;
      for (const p of batch) {
        const ids = p.data.map((data) => {
          const id = `${this.id}-${this.records.length}`;
          this.records.push({ id, arrival: p.arrival, data, bytes: base64Bytes(data) });
          return id;
        });
        this.durableBytes += p.bytes;
        this.reservedBytes -= p.bytes;
        this.firstArrival ??= p.arrival;
        p.resolve(ids);
      }
    }
  }

  private fail(batch: readonly PendingAppend[], error: unknown, indeterminate: boolean): void {
    const reason = error instanceof Error ? error.message : String(error);
    const message = indeterminate
      ? `spool write failed and could not be undone, the request may or may not be kept: ${reason}`
      : `spool write failed, nothing of this request was kept: ${reason}`;
    for (const p of batch) {
      this.reservedBytes -= p.bytes;
      p.reject(new SpoolWriteError(message, indeterminate, { cause: error }));
    }
  }

  private async openFile(): Promise<SpoolFile> {
    this.file ??= await this.io.create(this.filePath);
    if (!this.dirSynced) {
      // The new file's directory entry must be durable too, or a crash could lose the whole segment.
      fsyncDir(this.dir);
      this.dirSynced = true;
    }
    return this.file;
  }

  /** Undo a failed group commit: cut the file back to its last durable frame (see the module comment). */
  private async rollBack(): Promise<void> {
    if (!this.file) return;
    try {
      await this.file.truncate(this.offset);
      await this.file.datasync();
      this.unresolvedTail = false;
      return;
    } catch (error) {
      this.failure ??= error;
    }
    const named = join(this.dir, `${this.id}@${this.offset}.seg`);
    if (named === this.filePath) {
      this.unresolvedTail = false;
      return;
    }
    try {
      await this.io.rename(this.filePath, named);
      fsyncDir(this.dir);
      this.filePath = named;
      this.unresolvedTail = false;
    } catch (error) {
      this.unresolvedTail = true;
      this.onWarning(
        `spool segment ${this.id}: a failed write could be neither truncated nor marked (${
          error instanceof Error ? error.message : String(error)
        }); its requests get no answer, as if the process had crashed`,
      );
    }
  }
}

/**
 * Segments left in `dir` by an earlier run, oldest first, with their records. Torn or damaged frames
 * are skipped and recovery goes on after them (they were never acknowledged, or the disk corrupted them;
 * either way nothing after them is lost); see `skippedFrames`.
 */
export function recoverSegments(dir: string): RecoveredSegment[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => SEGMENT_FILE.test(n));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names.sort().map((name) => {
    const [, id = name, validBytes] = SEGMENT_FILE.exec(name) ?? [];
    const path = join(dir, name);
    const content = readFileSync(path);
    const text = content
      .subarray(0, validBytes === undefined ? undefined : Number(validBytes))
      .toString('utf8');
    const lines = text.split('\n');
    // Everything after the last newline is an unfinished frame (a write the crash cut short).
    const tail = lines.pop() ?? '';
    const records: SpooledRecord[] = [];
    let bytes = 0;
    let skippedFrames = tail === '' ? 0 : 1;
    let skippedBytes = tail.length;
    for (const line of lines) {
      const { frame, skipped } = decodeLine(line);
      if (skipped > 0) {
        skippedFrames++;
        skippedBytes += skipped;
      }
      if (!frame) continue;
      let index = frame.first ?? records.length;
      for (const data of frame.data) {
        const size = base64Bytes(data);
        records.push({ id: `${id}-${index++}`, arrival: frame.arrival, data, bytes: size });
        bytes += size;
      }
    }
    return { id, path, records, bytes, skippedFrames, skippedBytes };
  });
}

/** Remove a delivered segment durably (the commit point of its delivery). */
export function removeSegment(segment: Pick<Segment, 'path'>, dir: string): void {
  try {
    unlinkSync(segment.path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  fsyncDir(dir);
}

/** fsync a written file (opened read-only: fsync flushes the file's data whatever the descriptor). */
export function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync a directory so renames and unlinks in it survive a power loss (opened the same way). */
export const fsyncDir: (dir: string) => void = fsyncFile;
