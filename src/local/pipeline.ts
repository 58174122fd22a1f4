/**
 * The local delivery pipeline behind the Firehose-compatible endpoint, per stream:
 * spool (durable ack) → buffer by size and time → the transform (the Lambda's code) → Parquet in the lake.
 *
 * Deliveries run one at a time in arrival order. A failed delivery (disk full, DuckDB error) keeps the
 * segment and is retried with backoff: an acknowledged record is never dropped. When more than
 * `maxPendingBytes` wait for delivery, `put` refuses with {@link ThrottledError}, which the endpoint turns
 * into Firehose's `ServiceUnavailableException` ("Slow down.") so producers back off and retry.
 */
import { mkdirSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { IntegrityLog } from '../compliance/integrity';
import { LogLakeError } from '../errors';
import { STREAMS, type StreamName } from '../schema';
import { dataDirPaths, lockDataDir } from './datadir';
import { fsyncDir, recoverSegments, removeSegment, type Segment, SegmentWriter } from './spool';
import { type Compression, type DeliveryReport, LakeWriter, type TransformedRecord } from './writer';

/** One input record of the transform (Firehose's Lambda event record). */
export interface TransformInput {
  readonly recordId: string;
  readonly data: string;
  readonly approximateArrivalTimestamp: number;
}

/** Runs the transform for one stream's batch; the pipeline calls exactly the Lambda's code through this. */
export type TransformFn = (records: TransformInput[], stream: StreamName) => readonly TransformedRecord[];

export interface PipelineOptions {
  readonly dataDir: string;
  readonly transform: TransformFn;
  /** Deliver a stream's buffer after this long. @default 60 s (Firehose's default buffer interval) */
  readonly flushIntervalMs?: number;
  /** Deliver a stream's buffer once it holds this many bytes. @default 3 MiB (the Lambda processor buffer) */
  readonly bufferBytes?: number;
  /** Refuse new records while this many bytes wait for delivery. @default 256 MiB */
  readonly maxPendingBytes?: number;
  /** Parquet compression. @default 'SNAPPY' */
  readonly compression?: Compression;
  /** Called after every delivery. */
  readonly onDelivery?: (stream: StreamName, segment: string, report: DeliveryReport) => void;
  /** Called with problems the pipeline recovers from (a failed delivery it will retry). @default stderr */
  readonly onWarning?: (message: string) => void;
}

/** Too much data waits for delivery; the producer should retry later. */
export class ThrottledError extends LogLakeError {
  constructor(message: string) {
    super(message);
    this.name = 'ThrottledError';
  }
}

/** Running totals since the pipeline opened. */
export interface PipelineStats {
  recordsAccepted: number;
  bytesAccepted: number;
  deliveries: number;
  events: number;
  processingFailed: number;
  conversionFailed: number;
  dropped: number;
  recoveredSegments: number;
  pendingBytes: number;
}

const MiB = 1024 * 1024;

export class LocalPipeline {
  readonly stats: PipelineStats = {
    recordsAccepted: 0,
    bytesAccepted: 0,
    deliveries: 0,
    events: 0,
    processingFailed: 0,
    conversionFailed: 0,
    dropped: 0,
    recoveredSegments: 0,
    pendingBytes: 0,
  };
  private readonly open = new Map<StreamName, SegmentWriter>();
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly flushIntervalMs: number;
  private readonly bufferBytes: number;
  private readonly maxPendingBytes: number;
  private readonly integrity: IntegrityLog;

  private constructor(
    private readonly options: PipelineOptions,
    private readonly writer: LakeWriter,
    private readonly release: () => void,
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 60_000;
    this.bufferBytes = options.bufferBytes ?? 3 * MiB;
    this.maxPendingBytes = options.maxPendingBytes ?? 256 * MiB;
    this.integrity = new IntegrityLog(dataDirPaths(options.dataDir).root);
    for (const s of STREAMS) this.open.set(s, new SegmentWriter(dataDirPaths(options.dataDir).spool(s)));
  }

  /**
   * Lock the data directory, deliver whatever an earlier run left in the spool, and start the buffer
   * timer.
   * @throws DataDirLockedError when another live process holds the directory.
   */
  static async open(options: PipelineOptions): Promise<LocalPipeline> {
    const paths = dataDirPaths(options.dataDir);
    const release = lockDataDir(options.dataDir);
    try {
      for (const s of STREAMS) mkdirSync(paths.spool(s), { recursive: true });
      rmSync(paths.staging, { recursive: true, force: true });
      mkdirSync(paths.staging, { recursive: true });
      const writer = await LakeWriter.open(paths.root, paths.staging, options.compression);
      const pipeline = new LocalPipeline(options, writer, release);
      // A lake without an integrity log gets one, starting with a baseline of what it already holds.
      pipeline.integrity.ensureStarted();
      await pipeline.recover();
      pipeline.startTimer();
      return pipeline;
    } catch (error) {
      release();
      throw error;
    }
  }

  /**
   * Accept records for `stream`; resolves with their record ids once they are durably spooled. Records
   * are `{ data: base64, bytes: decoded size }`.
   * @throws ThrottledError when too much waits for delivery.
   */
  async put(stream: StreamName, records: ReadonlyArray<{ data: string; bytes: number }>): Promise<string[]> {
    if (this.closed) throw new ThrottledError('the local pipeline is shutting down');
    if (this.stats.pendingBytes > this.maxPendingBytes) {
      throw new ThrottledError(
        `more than ${Math.round(this.maxPendingBytes / MiB)} MiB wait for delivery; slow down and retry`,
      );
    }
    const writer = this.open.get(stream);
    if (!writer) throw new Error(`unknown stream ${stream}`);
    const bytes = records.reduce((sum, r) => sum + r.bytes, 0);
    const ids = writer.append(records, Date.now());
    this.stats.pendingBytes += bytes;
    if (writer.bytes >= this.bufferBytes) this.rotate(stream);
    const acknowledged = await ids;
    this.stats.recordsAccepted += records.length;
    this.stats.bytesAccepted += bytes;
    return acknowledged;
  }

  /** Deliver everything buffered now, and wait until all deliveries are done. */
  async flush(): Promise<void> {
    for (const s of STREAMS) if (this.open.get(s)?.count) this.rotate(s);
    await this.idle();
  }

  /** Wait until queued deliveries are done (without sealing open buffers). */
  async idle(): Promise<void> {
    let last: Promise<void> | undefined;
    while (last !== this.queue) {
      last = this.queue;
      await last;
    }
  }

  /** Stop the timer, deliver everything buffered, release the data directory. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    try {
      for (const s of STREAMS) this.rotate(s);
      await this.idle();
    } finally {
      this.writer.close();
      this.release();
    }
  }

  private startTimer(): void {
    const tick = Math.max(50, Math.min(1_000, Math.floor(this.flushIntervalMs / 4)));
    this.timer = setInterval(() => {
      const now = Date.now();
      for (const s of STREAMS) {
        const w = this.open.get(s);
        if (w?.firstArrival !== undefined && now - w.firstArrival >= this.flushIntervalMs) this.rotate(s);
      }
    }, tick);
    this.timer.unref();
  }

  /** Seal the stream's open segment and queue its delivery; new records go to a fresh segment. */
  private rotate(stream: StreamName): void {
    const current = this.open.get(stream);
    if (!current) return;
    this.open.set(stream, new SegmentWriter(current.dir));
    if (current.count === 0) return;
    const sealed = current.seal();
    this.enqueue(async () => this.deliver(stream, await sealed, current.dir));
  }

  private enqueue(job: () => Promise<void>): void {
    this.queue = this.queue.then(job);
  }

  private async recover(): Promise<void> {
    const paths = dataDirPaths(this.options.dataDir);
    for (const stream of STREAMS) {
      const dir = paths.spool(stream);
      const segments = recoverSegments(dir);
      const live = new Set(segments.map((s) => s.id));
      // A manifest without its segment belongs to a delivery that committed; only the cleanup was cut short.
      for (const m of manifestsIn(dir)) if (!live.has(m.id)) unlinkSync(m.path);
      for (const segment of segments) {
        this.stats.recoveredSegments++;
        this.stats.pendingBytes += segment.bytes;
        if (segment.records.length === 0) {
          removeSegment(segment, dir);
          continue;
        }
        this.enqueue(() => this.deliver(stream, segment, dir));
      }
    }
    await this.idle();
  }

  /** Deliver one segment, retrying until it is in the lake; then remove it from the spool. */
  private async deliver(stream: StreamName, segment: Segment, dir: string): Promise<void> {
    if (segment.records.length === 0) return;
    const manifest = join(dir, `${segment.id}.manifest`);
    for (let attempt = 1; ; attempt++) {
      try {
        const undone = this.writer.undoPartialDelivery(manifest);
        const results = this.runTransform(stream, segment);
        const report = await this.writer.deliver(segment, results, manifest);
        // Recorded before the commit: a crash in between replays the delivery, and its new entry
        // supersedes this one (the integrity log keys deliveries by segment).
        if (report.objects.length > 0 || undone.length > 0) {
          this.integrity.recordDelivery(stream, segment.id, report.objects);
        }
        // Removing the segment commits the delivery; the manifest goes after it (see recover()).
        removeSegment(segment, dir);
        unlinkIfExists(manifest);
        fsyncDir(dir);
        this.stats.deliveries++;
        this.stats.events += report.events;
        this.stats.processingFailed += report.processingFailed;
        this.stats.conversionFailed += report.conversionFailed;
        this.stats.dropped += report.dropped;
        this.stats.pendingBytes -= segment.bytes;
        this.options.onDelivery?.(stream, segment.id, report);
        return;
      } catch (error) {
        const wait = Math.min(30_000, 200 * 2 ** Math.min(attempt, 8));
        this.warn(
          `delivery of ${stream} segment ${segment.id} failed (attempt ${attempt}), retrying in ${wait} ms: ${
            error instanceof Error ? error.message : String(error)
          }`,
        );
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  /**
   * The transform over the segment in Lambda-sized invocations. If the transform itself throws, every
   * record of that invocation goes to the error output, as Firehose does when the Lambda fails.
   */
  private runTransform(stream: StreamName, segment: Segment): TransformedRecord[] {
    const out: TransformedRecord[] = [];
    let batch: TransformInput[] = [];
    let batchBytes = 0;
    const run = () => {
      if (batch.length === 0) return;
      try {
        out.push(...this.options.transform(batch, stream));
      } catch (error) {
        this.warn(
          `transform failed for ${batch.length} ${stream} records; they go to errors/processing-failed: ${String(error)}`,
        );
        for (const r of batch) out.push({ recordId: r.recordId, result: 'ProcessingFailed', data: r.data });
      }
      batch = [];
      batchBytes = 0;
    };
    for (const r of segment.records) {
      if (batchBytes + r.bytes > this.bufferBytes && batch.length > 0) run();
      batch.push({ recordId: r.id, data: r.data, approximateArrivalTimestamp: r.arrival });
      batchBytes += r.bytes;
    }
    run();
    return out;
  }

  private warn(message: string): void {
    (this.options.onWarning ?? ((m: string) => process.stderr.write(`loglake local: ${m}\n`)))(message);
  }
}

function manifestsIn(dir: string): Array<{ id: string; path: string }> {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.manifest'))
    .map((n) => ({ id: n.slice(0, -'.manifest'.length), path: join(dir, n) }));
}

function unlinkIfExists(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
