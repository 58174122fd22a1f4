/**
 * The shipper: a producer-side buffer that makes Firehose cheap (records packed to ~1,000 KiB, so the
 * 5 KB billing increment costs ~nothing) and safe (every failure retried with backoff, bounded memory).
 *
 * - Lines are packed per pack key into records up to 1,000 KiB, and records into PutRecordBatch calls
 *   within 500 records and 4 MiB.
 * - Entries reported failed in a 200 response (`FailedPutCount`) are retried, and so are whole calls
 *   failing with throttling, 5xx, timeouts or dropped connections: exponential backoff with full jitter.
 *   Errors that retrying cannot fix (unknown stream, access denied, validation) drop the batch, counted
 *   and reported through `onDrop`.
 * - The queue is bounded in bytes. Overflow policy: `push` drops the new line (`dropped.overflow`);
 *   `write` waits for room instead. Nothing is dropped without being counted and reported.
 * - Records are sent on the flush interval, as soon as full, on `flush()` and on `close()`.
 */
import {
  FirehoseClient,
  type FirehoseClientConfig,
  PutRecordBatchCommand,
  type PutRecordBatchCommandOutput,
} from '@aws-sdk/client-firehose';
import { backoffDelay } from '../backoff';
import { InputError } from '../errors';
import { firehoseClientConfig } from './client-config';
import { type BatchLimits, billedBytes, FIREHOSE_PUT_LIMITS, fillBatch, RecordPacker } from './pack';
import { categoryHourKey, type PackKeyConfig } from './pack-key';
import { entryErrors, isRetryable } from './put-batch';

export { isRetryable } from './put-batch';

const NEWLINE = Buffer.from('\n');

/** Why lines were dropped. */
export type DropReason = 'overflow' | 'oversize' | 'rejected' | 'retries-exhausted' | 'shutdown';

/** Running totals; `billedBytes / bytesSent` is the billing overhead. */
export interface ShipperCounters {
  /** Lines taken into the queue. */
  linesAccepted: number;
  /** Lines in records Firehose acknowledged. */
  linesSent: number;
  /** Records Firehose acknowledged. */
  recordsSent: number;
  /** Successful PutRecordBatch calls (including partially failed ones). */
  calls: number;
  /** Data bytes of acknowledged records. */
  bytesSent: number;
  /** What Firehose bills for the acknowledged records (each rounded up to 5 KB). */
  billedBytes: number;
  /** Record sends that were retries. */
  retried: number;
  /** Calls that failed as a whole (network, throttling, 5xx, timeout, rejection). */
  failedCalls: number;
  /** Lines dropped, by reason. */
  dropped: Record<DropReason, number>;
  /** Bytes queued now (packing, waiting, in flight). */
  queuedBytes: number;
  /** Largest `queuedBytes` seen. */
  peakQueuedBytes: number;
}

export interface ShipperOptions {
  /** Delivery stream name. */
  readonly streamName: string;
  /**
   * Firehose client. When not given one is created from `clientConfig` with the SDK's own retries off
   * (`maxAttempts: 1`), so this shipper's backoff is the only retry policy and its counters are exact.
   */
  readonly client?: FirehoseClient;
  /**
   * Config of the client created when `client` is not given (e.g. `{ endpoint, region }`). A loopback
   * `endpoint` (the local pipeline) gets a region and placeholder credentials when none are given, as
   * `loglake send` and the pino transport do.
   */
  readonly clientConfig?: FirehoseClientConfig;
  /**
   * Pack key of a line: lines with different keys never share a record.
   * @default the category and hour the transform will give the line (see `categoryHourKey`)
   */
  readonly packKey?: (line: string) => string;
  /** Categorization rules for the default pack key (the deployment's `transform` config). @default DEFAULT_CONFIG */
  readonly config?: PackKeyConfig;
  /** @default 1,024,000 (Firehose's record limit) */
  readonly maxRecordBytes?: number;
  /** @default 500 */
  readonly maxBatchRecords?: number;
  /** @default 4 MiB */
  readonly maxBatchBytes?: number;
  /** Send partially filled records this often. @default 1000 ms */
  readonly flushIntervalMs?: number;
  /** Bound of the queue (lines packing, records waiting and in flight). @default 32 MiB */
  readonly maxQueueBytes?: number;
  /** Attempts per record before it is dropped as `retries-exhausted`. @default Infinity (retry until close) */
  readonly maxAttempts?: number;
  /** First backoff delay; doubles per attempt, full jitter. @default 100 ms */
  readonly baseDelayMs?: number;
  /** Backoff cap. @default 10 s */
  readonly maxDelayMs?: number;
  /** A call taking longer is abandoned and retried. @default 15 s */
  readonly requestTimeoutMs?: number;
  /** Calls in flight at once. @default 2 */
  readonly concurrency?: number;
  /**
   * Told about every drop: how many lines, why, the error when there is one, and the lines themselves
   * (each newline-terminated, as they would have been sent), so that they can be kept and sent again
   * (`loglake send --dropped-file`).
   */
  readonly onDrop?: (lines: number, reason: DropReason, error: unknown, data: readonly Buffer[]) => void;
  /**
   * Told about every failed send that will be retried, when it fails (a dead endpoint shows at once,
   * not when `close` gives up).
   */
  readonly onRetry?: (retry: RetryEvent) => void;
}

/** A send that failed and is scheduled again. */
export interface RetryEvent {
  /** Records and lines in the failed send. */
  readonly records: number;
  readonly lines: number;
  /** Highest attempt count among them (1 after the first failure). */
  readonly attempt: number;
  /** Until the earliest of them is sent again, in ms. */
  readonly delayMs: number;
  readonly error: unknown;
}

interface Pending {
  readonly data: Buffer;
  readonly lines: number;
  attempts: number;
  notBefore: number;
}

export class Shipper {
  readonly counters: ShipperCounters = {
    linesAccepted: 0,
    linesSent: 0,
    recordsSent: 0,
    calls: 0,
    bytesSent: 0,
    billedBytes: 0,
    retried: 0,
    failedCalls: 0,
    dropped: { overflow: 0, oversize: 0, rejected: 0, 'retries-exhausted': 0, shutdown: 0 },
    queuedBytes: 0,
    peakQueuedBytes: 0,
  };
  private readonly client: FirehoseClient;
  private readonly packer: RecordPacker;
  private readonly packKey: (line: string) => string;
  private readonly limits: BatchLimits;
  private readonly maxQueueBytes: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly requestTimeoutMs: number;
  private readonly concurrency: number;
  private readonly fresh: Pending[] = [];
  private readonly retries: Pending[] = [];
  private readonly inFlight = new Set<AbortController>();
  private readonly roomWaiters: Array<() => void> = [];
  private readonly idleWaiters: Array<() => void> = [];
  private readonly timer: NodeJS.Timeout;
  private readonly sends = new Set<Promise<void>>();
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private closing: Promise<ShipperCounters> | undefined;
  private abandoned = false;

  constructor(private readonly options: ShipperOptions) {
    if (!options.streamName) throw new InputError('shipper: streamName is required');
    this.client =
      options.client ?? new FirehoseClient({ maxAttempts: 1, ...clientDefaults(options.clientConfig) });
    this.packer = new RecordPacker(options.maxRecordBytes ?? FIREHOSE_PUT_LIMITS.maxRecordBytes);
    this.packKey = options.packKey ?? categoryHourKey(options.config);
    this.limits = {
      maxBatchRecords: options.maxBatchRecords ?? FIREHOSE_PUT_LIMITS.maxBatchRecords,
      maxBatchBytes: options.maxBatchBytes ?? FIREHOSE_PUT_LIMITS.maxBatchBytes,
    };
    this.maxQueueBytes = options.maxQueueBytes ?? 32 * 1024 * 1024;
    this.maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 10_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
    this.concurrency = options.concurrency ?? 2;
    if (this.maxQueueBytes < this.packer.maxRecordBytes) {
      throw new InputError(
        `shipper: maxQueueBytes (${this.maxQueueBytes}) must hold at least one record (${this.packer.maxRecordBytes})`,
      );
    }
    // A record no call can carry would stay at the head of the queue, holding every line behind it.
    if (this.limits.maxBatchBytes < this.packer.maxRecordBytes || this.limits.maxBatchRecords < 1) {
      throw new InputError(
        `shipper: maxBatchBytes (${this.limits.maxBatchBytes}) must hold at least one record (${this.packer.maxRecordBytes}), and maxBatchRecords (${this.limits.maxBatchRecords}) be at least 1`,
      );
    }
    this.timer = setInterval(() => this.sealOpenRecords(), options.flushIntervalMs ?? 1_000);
    // The interval must not keep a process alive on its own; close() delivers what is left.
    this.timer.unref();
  }

  /**
   * Queue one log line (or several, separated by newlines). Never blocks: when the queue is full the
   * line is dropped and counted (`dropped.overflow`).
   * @returns false when (part of) the input was dropped.
   */
  push(text: string): boolean {
    let kept = true;
    for (const line of splitLines(text)) kept = this.enqueue(line) && kept;
    return kept;
  }

  /** Queue lines, waiting for room when the queue is full (back-pressure instead of dropping). */
  async write(text: string): Promise<void> {
    for (const line of splitLines(text)) {
      const buf = Buffer.from(line, 'utf8');
      // An oversize line is dropped whatever the room: waiting for it could last forever (a line over
      // maxQueueBytes never fits) or end in a misnamed `shutdown` drop.
      while (
        !this.closed &&
        this.packer.fits(buf.length) &&
        this.counters.queuedBytes + buf.length + 1 > this.maxQueueBytes
      ) {
        // Room held by open records comes only when they are sent, and the flush timer may be far off
        // (or, unref'd, let the process exit with them): send them now.
        if (this.packer.bytes > 0) this.sealOpenRecords();
        await new Promise<void>((resolve) => this.roomWaiters.push(resolve));
      }
      this.enqueue(line, buf);
    }
  }

  /** Send everything queued now; resolves when nothing is left queued or in flight. */
  async flush(): Promise<void> {
    this.sealOpenRecords();
    if (this.counters.queuedBytes === 0 && this.inFlight.size === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stop accepting lines, send what is queued, and stop. Lines still undelivered after `timeoutMs`, or
   * when `signal` aborts (a second Ctrl-C), are dropped as `shutdown` (counted and reported). A later
   * call resolves with the first, whose deadline and signal hold.
   * @param timeoutMs - `Infinity` for no deadline. @default 30 s
   * @param signal - give up at once when it aborts. @default none
   */
  close(timeoutMs = 30_000, signal?: AbortSignal): Promise<ShipperCounters> {
    // A second caller (a signal handler beside the main path) must not return while lines are in flight.
    this.closing ??= this.shutDown(timeoutMs, signal);
    return this.closing;
  }

  private async shutDown(timeoutMs: number, signal: AbortSignal | undefined): Promise<ShipperCounters> {
    this.closed = true;
    clearInterval(this.timer);
    let timeout: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const expired = await Promise.race([
      this.flush().then(() => false),
      new Promise<boolean>((resolve) => {
        // setTimeout fires at once for delays past 2^31-1 ms; Infinity means no deadline at all.
        if (Number.isFinite(timeoutMs))
          timeout = setTimeout(() => resolve(true), Math.min(timeoutMs, 2 ** 31 - 1));
        onAbort = () => resolve(true);
        if (signal?.aborted) resolve(true);
        else signal?.addEventListener('abort', onAbort, { once: true });
      }),
    ]);
    clearTimeout(timeout);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    if (expired) {
      this.abandon();
      await Promise.allSettled([...this.sends]);
    }
    if (this.retryTimer) clearTimeout(this.retryTimer);
    for (const w of this.roomWaiters.splice(0)) w();
    if (!this.options.client) this.client.destroy();
    return this.counters;
  }

  private enqueue(line: string, buffer?: Buffer): boolean {
    const buf = buffer ?? Buffer.from(line, 'utf8');
    if (this.closed) {
      this.drop(1, 'shutdown', undefined, [Buffer.concat([buf, NEWLINE])]);
      return false;
    }
    if (!this.packer.fits(buf.length)) {
      this.drop(
        1,
        'oversize',
        new RangeError(`line of ${buf.length} bytes exceeds the ${this.packer.maxRecordBytes}-byte record`),
        [Buffer.concat([buf, NEWLINE])],
      );
      return false;
    }
    if (this.counters.queuedBytes + buf.length + 1 > this.maxQueueBytes) {
      this.drop(1, 'overflow', undefined, [Buffer.concat([buf, NEWLINE])]);
      return false;
    }
    this.counters.linesAccepted++;
    this.addQueued(buf.length + 1);
    const full = this.packer.add(this.keyOf(line), buf);
    if (full) {
      this.fresh.push({ data: full.data, lines: full.lines, attempts: 0, notBefore: 0 });
      this.pump();
    }
    return true;
  }

  private keyOf(line: string): string {
    try {
      return this.packKey(line);
    } catch {
      // A key function must not lose a line; an unclassifiable line still ships, packed with its kind.
      return '';
    }
  }

  private sealOpenRecords(): void {
    for (const r of this.packer.drain())
      this.fresh.push({ data: r.data, lines: r.lines, attempts: 0, notBefore: 0 });
    this.pump();
  }

  /** Start calls while there is capacity and something due to send. */
  private pump(): void {
    while (this.inFlight.size < this.concurrency) {
      const now = Date.now();
      const batch: Pending[] = [];
      const bytes = fillBatch(batch, 0, this.retries, this.limits, (p) => p.notBefore <= now);
      fillBatch(batch, bytes, this.fresh, this.limits);
      if (batch.length === 0) break;
      const sending = this.send(batch).finally(() => this.sends.delete(sending));
      this.sends.add(sending);
    }
    this.scheduleRetry();
    this.checkIdle();
  }

  private scheduleRetry(): void {
    // With every slot busy a due retry could not start anyway: the call that ends next pumps again,
    // where a timer would fire at once and re-arm itself until then (a busy loop).
    if (this.retryTimer || this.retries.length === 0 || this.inFlight.size >= this.concurrency) return;
    const next = Math.min(...this.retries.map((p) => p.notBefore));
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        this.pump();
      },
      Math.max(0, next - Date.now()),
    );
  }

  private async send(batch: Pending[]): Promise<void> {
    const controller = new AbortController();
    this.inFlight.add(controller);
    const timeout = setTimeout(() => controller.abort(), this.requestTimeoutMs);
    for (const p of batch) if (p.attempts > 0) this.counters.retried++;
    let output: PutRecordBatchCommandOutput | undefined;
    let failure: unknown;
    try {
      output = await this.client.send(
        new PutRecordBatchCommand({
          DeliveryStreamName: this.options.streamName,
          Records: batch.map((p) => ({ Data: p.data })),
        }),
        { abortSignal: controller.signal },
      );
    } catch (error) {
      failure = error;
    } finally {
      clearTimeout(timeout);
      this.inFlight.delete(controller);
    }
    if (output) {
      this.counters.calls++;
      const failed: Pending[] = [];
      const codes = new Set<string>();
      entryErrors(batch.length, output).forEach((code, i) => {
        const p = batch[i] as Pending;
        if (code === undefined) this.acknowledge(p);
        else {
          failed.push(p);
          codes.add(code);
        }
      });
      if (failed.length > 0)
        this.retryLater(failed, new Error(`FailedPutCount ${failed.length}: ${[...codes].join('; ')}`));
    } else {
      this.counters.failedCalls++;
      // An aborted call is our own request timeout (retry), unless close() gave up on it.
      // Aborted by close() giving up: the abort is ours, not the endpoint's failure.
      if (this.abandoned) this.give(batch, 'shutdown', controller.signal.aborted ? undefined : failure);
      else if (isRetryable(failure) || controller.signal.aborted) this.retryLater(batch, failure);
      else this.give(batch, 'rejected', failure);
    }
    this.pump();
  }

  private acknowledge(p: Pending): void {
    this.counters.recordsSent++;
    this.counters.linesSent += p.lines;
    this.counters.bytesSent += p.data.length;
    this.counters.billedBytes += billedBytes(p.data.length);
    this.release(p.data.length);
  }

  private retryLater(items: Pending[], error: unknown): void {
    if (this.abandoned) {
      this.give(items, 'shutdown', error);
      return;
    }
    const now = Date.now();
    const exhausted: Pending[] = [];
    const retried: Pending[] = [];
    for (const p of items) {
      p.attempts++;
      if (p.attempts >= this.maxAttempts) {
        exhausted.push(p);
        continue;
      }
      p.notBefore = now + backoffDelay(p.attempts, { baseMs: this.baseDelayMs, capMs: this.maxDelayMs });
      insertSorted(this.retries, p);
      retried.push(p);
    }
    if (retried.length > 0) {
      this.options.onRetry?.({
        records: retried.length,
        lines: retried.reduce((sum, p) => sum + p.lines, 0),
        attempt: Math.max(...retried.map((p) => p.attempts)),
        delayMs: Math.max(0, Math.min(...retried.map((p) => p.notBefore)) - now),
        error,
      });
    }
    if (exhausted.length > 0) this.give(exhausted, 'retries-exhausted', error);
  }

  private give(items: Pending[], reason: DropReason, error: unknown): void {
    let lines = 0;
    for (const p of items) {
      lines += p.lines;
      this.release(p.data.length);
    }
    this.drop(
      lines,
      reason,
      error,
      items.map((p) => p.data),
    );
  }

  /** Give up on everything still queued (close timed out). */
  private abandon(): void {
    this.abandoned = true;
    for (const c of this.inFlight) c.abort();
    const rest = [...this.retries.splice(0), ...this.fresh.splice(0)];
    for (const r of this.packer.drain())
      rest.push({ data: r.data, lines: r.lines, attempts: 0, notBefore: 0 });
    if (rest.length > 0) this.give(rest, 'shutdown', undefined);
    this.checkIdle();
  }

  private drop(lines: number, reason: DropReason, error: unknown, data: readonly Buffer[]): void {
    this.counters.dropped[reason] += lines;
    this.options.onDrop?.(lines, reason, error, data);
  }

  private addQueued(bytes: number): void {
    this.counters.queuedBytes += bytes;
    if (this.counters.queuedBytes > this.counters.peakQueuedBytes)
      this.counters.peakQueuedBytes = this.counters.queuedBytes;
  }

  private release(bytes: number): void {
    this.counters.queuedBytes -= bytes;
    for (const w of this.roomWaiters.splice(0)) w();
  }

  private checkIdle(): void {
    if (this.counters.queuedBytes <= 0 && this.inFlight.size === 0 && this.packer.bytes === 0) {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}

function splitLines(text: string): string[] {
  return text.split('\n').filter((l) => l.trim() !== '');
}

function insertSorted(queue: Pending[], p: Pending): void {
  let i = queue.length;
  while (i > 0 && (queue[i - 1] as Pending).notBefore > p.notBefore) i--;
  queue.splice(i, 0, p);
}

/** `config` over the defaults a string `endpoint` needs (a loopback one: region and placeholder credentials). */
function clientDefaults(config: FirehoseClientConfig | undefined): FirehoseClientConfig {
  if (config === undefined || typeof config.endpoint !== 'string') return config ?? {};
  const region = typeof config.region === 'string' ? config.region : undefined;
  return { ...firehoseClientConfig({ endpoint: config.endpoint, ...(region ? { region } : {}) }), ...config };
}
