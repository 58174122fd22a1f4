/**
 * The local delivery pipeline behind the Firehose-compatible endpoint, per stream:
 * spool (durable ack) → buffer by size and time → the transform (the Lambda's code) → Parquet in the lake.
 *
 * `put` resolves once the request's records are durable in the spool and only then are they part of a
 * buffer; a spool write that fails rejects with {@link SpoolWriteError} and keeps nothing (see `spool.ts`
 * for the format and for what happens to a group commit that fails).
 *
 * Deliveries run one at a time in arrival order. A failed delivery (disk full, DuckDB error) keeps the
 * segment and is retried with backoff: an acknowledged record is never dropped. When more than
 * `maxPendingBytes` wait for delivery, `put` refuses with {@link ThrottledError}, which the endpoint turns
 * into Firehose's `ServiceUnavailableException` ("Slow down.") so producers back off and retry.
 */
import { mkdirSync, readdirSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { type BackoffPolicy, backoffDelay, sleep } from '../backoff';
import { IntegrityLog } from '../compliance/integrity';
import { LogLakeError } from '../errors';
import type { EngineOptions } from '../query/engine';
import { STREAMS, type StreamName } from '../schema';
import {
  type CompactionReport,
  type CompactionSettings,
  type CompactionStep,
  Compactor,
  compactionSettings,
} from './compact';
import { dataDirPaths, lockDataDir } from './datadir';
import {
  fsyncDir,
  nodeSpoolIo,
  recoverSegments,
  removeSegment,
  type Segment,
  SegmentWriter,
  type SpoolIo,
  SpoolWriteError,
} from './spool';
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
  /**
   * Called with problems the pipeline recovers from (a failed delivery it will retry, a failed spool
   * write, damaged spool frames skipped on recovery). @default stderr
   */
  readonly onWarning?: (message: string) => void;
  /** Backoff between delivery attempts (full jitter). @default 400 ms doubling to 30 s */
  readonly deliveryBackoff?: Pick<BackoffPolicy, 'baseMs' | 'capMs'>;
  /** File operations of the spool; a seam for fault-injection tests. @default the real file system */
  readonly spoolIo?: SpoolIo;
  /**
   * Compaction of closed hours and of the current hour as it fills (`compact.ts`), a pass every
   * `intervalMs`; `false` turns it off.
   * @default on: every minute, with {@link compactionSettings} for the flush interval
   */
  readonly compaction?: false | LocalCompactionOptions;
}

/** Compaction as the pipeline runs it. */
export interface LocalCompactionOptions extends Partial<CompactionSettings> {
  /**
   * Time between passes. A pass over a lake with nothing to do lists its partitions and stats their
   * files; one with work compacts what the current hour received since the last pass (about 12 files
   * per category at the 5 s flush interval). @default 1 minute
   */
  readonly intervalMs?: number;
  /** DuckDB memory limit and spill directory of the compaction. @default see `openEngine` */
  readonly engine?: EngineOptions;
  /** Called after every pass that did something. */
  readonly onReport?: (report: CompactionReport) => void;
  /** Called at each step of a compaction (fault-injection tests stop the process there). */
  readonly onStep?: (step: CompactionStep, partition: string) => void;
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
  /** Records of requests not acknowledged because their spool write failed (none of them kept). */
  recordsRejected: number;
  /** Group commits of the spool that failed (ENOSPC, EIO); every request in them was rejected. */
  spoolWriteFailures: number;
  /** Torn or damaged spool frames recovery skipped (and went on reading after). */
  spoolFramesSkipped: number;
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
    recordsRejected: 0,
    spoolWriteFailures: 0,
    spoolFramesSkipped: 0,
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
  private readonly deliveryBackoff: Pick<BackoffPolicy, 'baseMs' | 'capMs'>;
  private readonly spoolIo: SpoolIo;
  private lastWriteWarning = 0;
  private unreportedWriteFailures = 0;
  private compactor: Compactor | undefined;
  private compactionTimer: NodeJS.Timeout | undefined;
  private compacting: Promise<CompactionReport> | undefined;
  private onCompactionReport: ((report: CompactionReport) => void) | undefined;
  private readonly stopCompaction = new AbortController();

  private constructor(
    private readonly options: PipelineOptions,
    private readonly writer: LakeWriter,
    private readonly release: () => void,
  ) {
    this.flushIntervalMs = options.flushIntervalMs ?? 60_000;
    this.bufferBytes = options.bufferBytes ?? 3 * MiB;
    this.maxPendingBytes = options.maxPendingBytes ?? 256 * MiB;
    this.integrity = new IntegrityLog(dataDirPaths(options.dataDir).root);
    this.deliveryBackoff = options.deliveryBackoff ?? { baseMs: 400, capMs: 30_000 };
    this.spoolIo = options.spoolIo ?? nodeSpoolIo;
    for (const s of STREAMS) this.open.set(s, this.newWriter(dataDirPaths(options.dataDir).spool(s)));
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
      try {
        // A lake without an integrity log gets one, starting with a baseline of what it already holds.
        pipeline.integrity.ensureStarted();
        await pipeline.recover();
        await pipeline.startCompaction();
      } catch (error) {
        pipeline.compactor?.close();
        writer.close();
        throw error;
      }
      pipeline.startTimer();
      return pipeline;
    } catch (error) {
      release();
      throw error;
    }
  }

  /**
   * Accept records for `stream`; resolves with their record ids once they are durably spooled, and only
   * then are they part of a buffer. Records are `{ data: base64, bytes: decoded size }`.
   * @throws ThrottledError when too much waits for delivery.
   * @throws SpoolWriteError when the spool write failed; nothing of the request was kept.
   */
  async put(stream: StreamName, records: ReadonlyArray<{ data: string; bytes: number }>): Promise<string[]> {
    if (this.closed) throw new ThrottledError('the local pipeline is shutting down');
    if (this.stats.pendingBytes > this.maxPendingBytes) {
      throw new ThrottledError(
        `more than ${Math.round(this.maxPendingBytes / MiB)} MiB wait for delivery; slow down and retry`,
      );
    }
    // A segment whose failed write could not be rolled back takes no more appends.
    if (this.open.get(stream)?.writable === false) this.rotate(stream);
    const writer = this.open.get(stream);
    if (!writer) throw new Error(`unknown stream ${stream}`);
    const bytes = records.reduce((sum, r) => sum + r.bytes, 0);
    this.stats.pendingBytes += bytes;
    const ids = writer.append(records, Date.now());
    if (writer.bytes >= this.bufferBytes) this.rotate(stream);
    let acknowledged: string[];
    try {
      acknowledged = await ids;
    } catch (error) {
      this.stats.pendingBytes -= bytes;
      this.stats.recordsRejected += records.length;
      if (error instanceof SpoolWriteError) this.spoolWriteFailed(stream, error);
      throw error;
    }
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
    if (this.compactionTimer) clearInterval(this.compactionTimer);
    this.stopCompaction.abort();
    try {
      for (const s of STREAMS) this.rotate(s);
      await this.idle();
      // A pass stops between partitions; the one in progress finishes (or is rolled back on next start).
      await this.compacting?.catch(() => undefined);
    } finally {
      this.compactor?.close();
      this.writer.close();
      this.release();
    }
  }

  /**
   * Run `fn` where no delivery is in progress: every file in the lake then belongs to a delivery that
   * has committed (deliveries run one at a time in this queue).
   */
  exclusive<T>(fn: () => T | Promise<T>): Promise<T> {
    const result = this.queue.then(fn);
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /**
   * Run a compaction pass now (after the one in progress, if any) and wait for it.
   * @throws Error when compaction is turned off for this pipeline.
   */
  compactNow(): Promise<CompactionReport> {
    return this.compactionPass();
  }

  private async startCompaction(): Promise<void> {
    const c = this.options.compaction;
    if (c === false) return;
    const { intervalMs = 60_000, engine, onReport, onStep, ...overrides } = c ?? {};
    this.onCompactionReport = onReport;
    this.compactor = await Compactor.open({
      dataDir: this.options.dataDir,
      settings: compactionSettings(this.flushIntervalMs, {
        compression: this.options.compression ?? 'SNAPPY',
        ...overrides,
      }),
      engine,
      ...(onStep ? { onStep } : {}),
    });
    // Undo what a crash interrupted before anything reads or delivers.
    this.compactor.tidy(new Date());
    this.compactionTimer = setInterval(() => {
      if (!this.compacting) void this.compactionPass().catch(() => undefined);
    }, intervalMs);
    this.compactionTimer.unref();
  }

  /** Passes run one after another: two at once could compact the same files twice. */
  private compactionPass(): Promise<CompactionReport> {
    const compactor = this.compactor;
    if (!compactor) return Promise.reject(new Error('compaction is turned off for this pipeline'));
    const previous = this.compacting ?? Promise.resolve(undefined);
    const pass: Promise<CompactionReport> = previous
      .catch(() => undefined)
      .then(() =>
        compactor.run({ exclusive: (fn) => this.exclusive(fn), signal: this.stopCompaction.signal }),
      )
      .then(
        (report) => {
          for (const f of report.failed) {
            this.warn(`compaction of ${f.partition} failed, it is retried in the next pass: ${f.error}`);
          }
          if (report.compacted.length || report.deletedFiles || report.rolledBack) {
            this.onCompactionReport?.(report);
          }
          return report;
        },
        (error: unknown) => {
          this.warn(`compaction pass failed: ${error instanceof Error ? error.message : String(error)}`);
          throw error;
        },
      )
      .finally(() => {
        if (this.compacting === pass) this.compacting = undefined;
      });
    this.compacting = pass;
    return pass;
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

  private newWriter(dir: string): SegmentWriter {
    return new SegmentWriter(dir, this.spoolIo, (m) => this.warn(m));
  }

  /** Seal the stream's open segment and queue its delivery; new records go to a fresh segment. */
  private rotate(stream: StreamName): void {
    const current = this.open.get(stream);
    if (!current || current.untouched) return;
    this.open.set(stream, this.newWriter(current.dir));
    const sealed = current.seal();
    this.enqueue(async () => {
      const segment = await sealed;
      if (segment.records.length > 0) return this.deliver(stream, segment, current.dir);
      try {
        // Every append to it failed: nothing to deliver, and nothing that may ever be.
        removeSegment(segment, current.dir);
      } catch (error) {
        this.warn(`could not remove the empty spool segment ${segment.path}: ${String(error)}`);
      }
    });
  }

  /** A failed group commit: say so on the console, at most every 5 s (a full disk fails every request). */
  private spoolWriteFailed(stream: StreamName, error: SpoolWriteError): void {
    if (this.open.get(stream)?.writable === false) this.rotate(stream);
    this.stats.spoolWriteFailures++;
    this.unreportedWriteFailures++;
    const now = Date.now();
    if (now - this.lastWriteWarning < 5_000) return;
    this.lastWriteWarning = now;
    const cause = error.cause instanceof Error ? error.cause.message : error.message;
    this.warn(
      `${stream}: ${this.unreportedWriteFailures} request(s) answered with an error because the spool write failed ` +
        `(${cause}); nothing of them was kept, producers retry`,
    );
    this.unreportedWriteFailures = 0;
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
        if (segment.skippedFrames > 0) {
          this.stats.spoolFramesSkipped += segment.skippedFrames;
          this.warn(
            `${stream} spool segment ${segment.id}: skipped ${segment.skippedFrames} torn or damaged frame(s) ` +
              `(${segment.skippedBytes} bytes, never acknowledged or corrupted on disk) and recovered ` +
              `${segment.records.length} record(s) around them`,
          );
        }
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
    // Set once the segment is removed: a retry then only finishes the cleanup, because undoing the
    // delivery would remove records that no spool holds any more.
    let committed: DeliveryReport | undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        if (committed === undefined) {
          const undone = this.writer.undoPartialDelivery(manifest);
          const results = this.runTransform(stream, segment);
          const delivered = await this.writer.deliver(segment, results, manifest);
          // Recorded before the commit: a crash in between replays the delivery, and its new entry
          // supersedes this one (the integrity log keys deliveries by segment).
          if (delivered.objects.length > 0 || undone.length > 0) {
            this.integrity.recordDelivery(stream, segment.id, delivered.objects);
          }
          // Removing the segment commits the delivery; the manifest goes after it (see recover()).
          unlinkIfExists(segment.path);
          committed = delivered;
        }
        const report = committed;
        // The segment's removal durable before its manifest's: a segment back after a power loss must
        // find the manifest, to undo its files before delivering them again.
        fsyncDir(dir);
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
        const wait = backoffDelay(attempt, this.deliveryBackoff);
        this.warn(
          `delivery of ${stream} segment ${segment.id} failed (attempt ${attempt}), retrying in ${wait} ms: ${
            error instanceof Error ? error.message : String(error)
          }`,
        );
        await sleep(wait);
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
