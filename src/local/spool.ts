/**
 * The local endpoint's write-ahead spool: a record acknowledged to a producer is on disk (fsync'd) before
 * the response leaves, and is replayed after a crash until its delivery has committed.
 *
 * Format: one directory per stream, one append-only segment file per buffer
 * (`<dir>/<segmentId>.seg`). Each line is one record, `{"t":<arrival ms>,"d":"<base64 data>"}\n`.
 * Appends from concurrent requests are group-committed (one write + one fdatasync for all of them).
 * A crash can leave a torn last line; it was never acknowledged (the ack follows the fsync), so recovery
 * drops it. A segment is deleted only after everything made from it is durably in the lake.
 *
 * Segment ids sort by creation time (`<ms, base36, padded>-<random>`), are unique without any counter
 * kept on disk, and name the files delivered from the segment, so a replay overwrites instead of
 * duplicating.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';

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

const SEGMENT_SUFFIX = '.seg';

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

interface PendingAppend {
  readonly text: string;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** The open segment of one stream: appends are durable when their promise resolves. */
export class SegmentWriter {
  readonly id: string;
  readonly path: string;
  private readonly records: SpooledRecord[] = [];
  private bytesInSegment = 0;
  private pending: PendingAppend[] = [];
  private committing: Promise<void> | undefined;
  private handle: Promise<FileHandle> | undefined;
  private sealed = false;
  /** Epoch ms of the first record, for the time-based flush. */
  firstArrival: number | undefined;

  constructor(readonly dir: string) {
    this.id = newSegmentId();
    this.path = join(dir, `${this.id}${SEGMENT_SUFFIX}`);
  }

  get bytes(): number {
    return this.bytesInSegment;
  }

  get count(): number {
    return this.records.length;
  }

  /**
   * Append records; resolves with their ids once they are fsync'd. Records are visible to `seal` as soon
   * as this is called (a seal waits for pending appends to commit).
   */
  append(items: ReadonlyArray<{ data: string; bytes: number }>, arrival: number): Promise<string[]> {
    if (this.sealed) throw new Error(`segment ${this.id} is sealed`);
    this.firstArrival ??= arrival;
    const ids: string[] = [];
    let text = '';
    for (const item of items) {
      const id = `${this.id}-${this.records.length}`;
      this.records.push({ id, arrival, data: item.data, bytes: item.bytes });
      this.bytesInSegment += item.bytes;
      ids.push(id);
      text += `${JSON.stringify({ t: arrival, d: item.data })}\n`;
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ text, resolve, reject });
      this.committing ??= this.commitLoop();
    }).then(() => ids);
  }

  /** Stop accepting appends, wait until every append is durable, close the file. */
  async seal(): Promise<Segment> {
    this.sealed = true;
    while (this.committing) await this.committing;
    if (this.handle) await (await this.handle).close();
    return { id: this.id, path: this.path, records: this.records, bytes: this.bytesInSegment };
  }

  private async commitLoop(): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        try {
          if (!this.handle) {
            this.handle = open(this.path, 'a', 0o600);
            await this.handle;
            // The new file's directory entry must be durable too, or a crash could lose the whole segment.
            fsyncDir(this.dir);
          }
          const fh = await this.handle;
          await fh.appendFile(batch.map((p) => p.text).join(''));
          await fh.datasync();
          for (const p of batch) p.resolve();
        } catch (error) {
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      this.committing = undefined;
    }
  }
}

/**
 * Segments left in `dir` by an earlier run, oldest first, with their records. A torn last line (a write
 * the crash interrupted, never acknowledged) is dropped.
 */
export function recoverSegments(dir: string): Segment[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(SEGMENT_SUFFIX));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names.sort().map((name) => {
    const id = name.slice(0, -SEGMENT_SUFFIX.length);
    const path = join(dir, name);
    const text = readFileSync(path, 'utf8');
    const lines = text.split('\n');
    // Everything after the last newline is an unfinished line.
    lines.pop();
    const records: SpooledRecord[] = [];
    let bytes = 0;
    for (const line of lines) {
      let parsed: { t?: unknown; d?: unknown };
      try {
        parsed = JSON.parse(line) as { t?: unknown; d?: unknown };
      } catch {
        // Only a torn write produces this, and only at the end; stop there.
        break;
      }
      if (typeof parsed.t !== 'number' || typeof parsed.d !== 'string') break;
      const size = base64Bytes(parsed.d);
      records.push({ id: `${id}-${records.length}`, arrival: parsed.t, data: parsed.d, bytes: size });
      bytes += size;
    }
    return { id, path, records, bytes };
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

/** fsync a directory so renames and unlinks in it survive a power loss. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
