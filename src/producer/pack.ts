/**
 * Packing log lines into Firehose records. Firehose bills every record rounded up to 5 KB, so one small
 * line per record is billed ~10x its size; records packed to ~1,000 KiB are billed at ~1.0x.
 *
 * Lines of one record share the record's partition in the lake (the transform returns one partition per
 * record), so lines are packed per pack key (category and hour).
 */

/** Firehose limits a producer must respect (fixed by AWS). */
export const FIREHOSE_PUT_LIMITS = {
  /** Bytes of data in one record (1,000 KiB). */
  maxRecordBytes: 1_024_000,
  /** Records in one PutRecordBatch. */
  maxBatchRecords: 500,
  /** Bytes of data in one PutRecordBatch (4 MiB). */
  maxBatchBytes: 4 * 1024 * 1024,
} as const;

/** Firehose bills ingestion per record in 5 KB increments. */
export const BILLING_INCREMENT_BYTES = 5 * 1024;

/** Bytes Firehose bills for a record of `bytes` bytes. */
export function billedBytes(bytes: number): number {
  return Math.ceil(Math.max(bytes, 1) / BILLING_INCREMENT_BYTES) * BILLING_INCREMENT_BYTES;
}

/** A record ready to send: newline-terminated lines sharing one pack key. */
export interface PackedRecord {
  readonly key: string;
  readonly data: Buffer;
  readonly lines: number;
}

/**
 * Accumulates lines per key into records of at most `maxRecordBytes`. A record is emitted when the next
 * line would not fit, or when `drain()` is called (the flush interval, shutdown).
 */
export class RecordPacker {
  private readonly open = new Map<string, { chunks: Buffer[]; bytes: number }>();
  private openBytes = 0;

  /** @param maxRecordBytes - record size cap. @default 1,024,000 (Firehose's limit) */
  constructor(readonly maxRecordBytes: number = FIREHOSE_PUT_LIMITS.maxRecordBytes) {}

  /** Bytes held in records not yet emitted. */
  get bytes(): number {
    return this.openBytes;
  }

  /** True when a line of this many bytes (without its newline) can ever be shipped. */
  fits(lineBytes: number): boolean {
    return lineBytes + 1 <= this.maxRecordBytes;
  }

  /**
   * Add one line (no newline inside) under `key`. Returns the record that became full, if any.
   * @throws RangeError when the line can never fit a record (check `fits` first).
   */
  add(key: string, line: Buffer): PackedRecord | undefined {
    const size = line.length + 1;
    if (size > this.maxRecordBytes)
      throw new RangeError(`line of ${line.length} bytes exceeds the record limit`);
    let emitted: PackedRecord | undefined;
    let current = this.open.get(key);
    if (current && current.bytes + size > this.maxRecordBytes) {
      emitted = this.seal(key, current);
      current = undefined;
    }
    if (!current) {
      current = { chunks: [], bytes: 0 };
      this.open.set(key, current);
    }
    current.chunks.push(line, NEWLINE);
    current.bytes += size;
    this.openBytes += size;
    return emitted;
  }

  /** Emit every partially filled record. */
  drain(): PackedRecord[] {
    return [...this.open.entries()].map(([key, current]) => this.seal(key, current));
  }

  private seal(key: string, current: { chunks: Buffer[]; bytes: number }): PackedRecord {
    this.open.delete(key);
    this.openBytes -= current.bytes;
    return { key, data: Buffer.concat(current.chunks, current.bytes), lines: current.chunks.length / 2 };
  }
}

const NEWLINE = Buffer.from('\n');

/** Limits of one PutRecordBatch call. */
export interface BatchLimits {
  readonly maxBatchRecords: number;
  readonly maxBatchBytes: number;
}

/**
 * Move records from the front of `queue` into `batch` while they are due and fit the call's limits
 * (record count and bytes, counting what `batch` already holds). Keeps order.
 * @returns the batch's byte total.
 */
export function fillBatch<T extends { readonly data: { readonly length: number } }>(
  batch: T[],
  batchBytes: number,
  queue: T[],
  limits: BatchLimits,
  isDue: (item: T) => boolean = () => true,
): number {
  let bytes = batchBytes;
  while (batch.length < limits.maxBatchRecords) {
    const item = queue[0];
    if (!item || !isDue(item) || bytes + item.data.length > limits.maxBatchBytes) break;
    queue.shift();
    batch.push(item);
    bytes += item.data.length;
  }
  return bytes;
}
