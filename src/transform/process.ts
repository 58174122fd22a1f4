/**
 * One Firehose invocation, end to end: transform the batch, send the records that leave this stream
 * (locked categories forwarded to the audit stream, records deferred to keep the response under 6 MB
 * re-ingested into this stream), and transform again whatever could not leave, within the same response
 * budget. The shape of Powertools' `processPartialResponse`: the core decides, a port does the I/O. The
 * Lambda handler passes a {@link RecordSink} over the real Firehose client; tests pass an in-memory one.
 */
import { DEFAULT_MAX_RESPONSE_BYTES, responseBytes } from './response';
import { type TransformOptions, transformRecords } from './transform';
import type {
  TransformInputRecord,
  TransformMetrics,
  TransformOutputRecord,
  TransformSettings,
} from './types';

/** Schema error on a locked-category record that stays in the logs bucket (nothing is lost). */
export const FORWARD_FAILED_ERROR = 'locked category could not be forwarded to audit stream';

/**
 * Schema error on the events of a record that mixed partitions and could not be split (putting its
 * parts failed): they are delivered in the first event's partition (nothing is lost, nothing doubled).
 */
export const SPLIT_FAILED_ERROR = 'record mixing partitions could not be split (re-ingestion failed)';

/** What a {@link RecordSink} reports for one `put`. */
export interface SinkResult {
  /** Per input index: whether the stream acknowledged the record (after the sink's own retries). */
  readonly delivered: readonly boolean[];
  /** Whether the sink met an error retrying cannot fix (e.g. AccessDeniedException). */
  readonly permanent: boolean;
  /** Attempts the sink made (for the failure report). */
  readonly attempts: number;
  /** Distinct error codes of the records that were not delivered. */
  readonly errorCodes: readonly string[];
}

/** The port through which records leave this stream (PutRecordBatch into another delivery stream). */
export interface RecordSink {
  /** Puts `records` (original bytes) into `stream`. Never rejects for a delivery failure. */
  put(stream: string, records: readonly Uint8Array[]): Promise<SinkResult>;
}

/** Why some records could not leave this stream; they are delivered here instead. */
export interface SendFailure {
  readonly purpose:
    | 'forward to the audit stream'
    | 're-ingest oversized records'
    | 're-ingest the parts of records mixing partitions';
  readonly stream: string;
  readonly records: number;
  readonly attempts: number;
  readonly errorCodes: readonly string[];
  readonly permanent: boolean;
}

export interface ProcessorOptions {
  /** Where forwarded and re-ingested records go. */
  readonly sink: RecordSink;
  /**
   * The audit delivery stream; on the `logs` stream, records in a locked category are forwarded there.
   * @default none (locked records stay in this stream)
   */
  readonly auditStream?: string;
  /** Passed to every {@link transformRecords} call (sampling randomness, clock). */
  readonly transform?: Pick<TransformOptions, 'random' | 'now'>;
  /**
   * Resolves the subject keys the transform found missing (`SubjectKeyring.resolvePending`: one batched
   * read, create-if-absent, retries); the records that needed them are then transformed again. When it
   * throws, those records stay `ProcessingFailed` (Firehose keeps their raw bytes under the error prefix).
   * @default none (records needing a missing key stay `ProcessingFailed`)
   */
  readonly resolveKeys?: () => Promise<void>;
}

export interface ProcessResult {
  /** One output per input `recordId`, in input order. */
  readonly records: TransformOutputRecord[];
  /** Counters of the invocation, send failures included. */
  readonly metrics: TransformMetrics;
  /** One entry per send that left records behind (for the handler's log). */
  readonly failures: SendFailure[];
  /** Why subject keys could not be resolved, and how many records went to the error prefix for it. */
  readonly keyFailure?: { readonly error: Error; readonly records: number };
}

/** `arn:aws:firehose:<region>:<account>:deliverystream/<name>` → `<name>`. */
export function streamNameFromArn(arn: string | undefined): string | undefined {
  const m = /:deliverystream\/([A-Za-z0-9_.-]+)$/.exec(arn ?? '');
  return m?.[1];
}

/**
 * Processes Firehose transformation batches for one settings object. Keeps one piece of state across
 * invocations: once re-ingestion failed with a permanent error (the function may not write to its own
 * stream), it stops trying and falls back to the compact form at once.
 */
export class FirehoseProcessor {
  private reingestAllowed = true;

  constructor(
    private readonly settings: TransformSettings,
    private readonly options: ProcessorOptions,
  ) {}

  /** The delivery stream this processor transforms for. */
  get stream(): TransformSettings['stream'] {
    return this.settings.stream;
  }

  /**
   * Transforms `records` (Firehose event records, read as they are) arriving on the stream named
   * `ownStream` (from the event's `deliveryStreamArn`; without it nothing is re-ingested).
   */
  async process(
    records: readonly TransformInputRecord[],
    ownStream: string | undefined,
  ): Promise<ProcessResult> {
    const { settings, options } = this;
    const audit = settings.stream === 'logs' ? options.auditStream : undefined;
    const firstOptions: TransformOptions = {
      ...options.transform,
      forwardLocked: audit !== undefined,
      deferOversized: ownStream !== undefined && this.reingestAllowed,
      splitPacked: ownStream !== undefined && this.reingestAllowed,
    };
    let first = transformRecords(records, settings, firstOptions);
    let keyFailure: ProcessResult['keyFailure'];
    if (first.pendingKeys.length > 0 && options.resolveKeys) {
      try {
        await options.resolveKeys();
        // Cold subjects are rare on a warm container: transforming the whole batch again keeps the
        // response budget, forwarding and deferral decisions in one place.
        first = transformRecords(records, settings, firstOptions);
      } catch (error) {
        keyFailure = { error: error as Error, records: first.pendingKeys.length };
      }
    }
    if (keyFailure === undefined && first.pendingKeys.length > 0) {
      keyFailure = {
        error: new Error('subject keys still missing after resolution'),
        records: first.pendingKeys.length,
      };
    }
    const failures: SendFailure[] = [];
    const stayErrors = new Map<string, string>();
    let deferFailed = 0;
    let forwardFailed = 0;
    let splitFailed = 0;

    if (audit !== undefined && first.forward.length > 0) {
      const failed = await this.send(audit, first.forward, 'forward to the audit stream', failures);
      for (const r of failed) stayErrors.set(r.recordId, FORWARD_FAILED_ERROR);
      forwardFailed = failed.length;
    }
    const stay = new Set(stayErrors.keys());
    if (ownStream !== undefined && first.deferred.length > 0) {
      const failed = await this.send(ownStream, first.deferred, 're-ingest oversized records', failures);
      for (const r of failed) stay.add(r.recordId);
      deferFailed = failed.length;
    }
    // A split record's parts all go back into this stream. If a part fails, the record is delivered here
    // after all, without the log events of its parts that were delivered: none lost, none twice.
    const omitPieces = new Map<string, Set<number>>();
    if (ownStream !== undefined && first.split.length > 0) {
      const parts = first.split.flatMap((r) => r.parts.map((part) => ({ id: r.input.recordId, part })));
      const result = await this.put(
        ownStream,
        parts.map((p) => p.part.data),
        're-ingest the parts of records mixing partitions',
        failures,
      );
      const failed = new Set<string>();
      parts.forEach(({ id }, i) => {
        if (!result.delivered[i]) failed.add(id);
      });
      parts.forEach(({ id, part }, i) => {
        if (!failed.has(id) || !result.delivered[i]) return;
        const omit = omitPieces.get(id) ?? new Set<number>();
        for (const k of part.pieces) omit.add(k);
        omitPieces.set(id, omit);
      });
      for (const id of failed) {
        stay.add(id);
        stayErrors.set(id, SPLIT_FAILED_ERROR);
      }
      splitFailed = failed.size;
    }
    if (stay.size === 0) {
      return {
        records: first.records,
        metrics: first.metrics,
        failures,
        ...(keyFailure ? { keyFailure } : {}),
      };
    }

    // Records that could not leave this stream are delivered here after all. Everything not sent away
    // is transformed again in one call, so the response limit is shared (largest compacted first).
    const sent = new Set<string>();
    for (const r of [...first.forward, ...first.deferred, ...first.split.map((s) => s.input)]) {
      if (!stay.has(r.recordId)) sent.add(r.recordId);
    }
    const kept = first.records.filter((r) => sent.has(r.recordId));
    const again = transformRecords(
      records.filter((r) => !sent.has(r.recordId)),
      settings,
      {
        ...options.transform,
        recordErrors: stayErrors,
        omitPieces,
        maxResponseBytes: DEFAULT_MAX_RESPONSE_BYTES - responseBytes(kept),
      },
    );
    const replaced = new Map(again.records.map((r) => [r.recordId, r]));
    const metrics = again.metrics;
    metrics.forwardedRecords = first.metrics.forwardedRecords - forwardFailed;
    metrics.deferredRecords = first.metrics.deferredRecords - deferFailed;
    metrics.splitRecords = first.metrics.splitRecords - splitFailed;
    metrics.auditForwardFailed = forwardFailed;
    metrics.reingestFailed = deferFailed + splitFailed;
    metrics.records.Dropped += metrics.forwardedRecords + metrics.deferredRecords + metrics.splitRecords;
    return {
      records: first.records.map((r) => replaced.get(r.recordId) ?? r),
      metrics,
      failures,
      ...(keyFailure ? { keyFailure } : {}),
    };
  }

  /** Puts the original bytes of `inputs` into `stream`; returns the inputs that could not be delivered. */
  private async send(
    stream: string,
    inputs: readonly TransformInputRecord[],
    purpose: SendFailure['purpose'],
    failures: SendFailure[],
  ): Promise<TransformInputRecord[]> {
    const result = await this.put(
      stream,
      inputs.map((r) => Buffer.from(r.data, 'base64')),
      purpose,
      failures,
    );
    return inputs.filter((_, i) => !result.delivered[i]);
  }

  /**
   * Puts `records` into `stream` through the sink; records a {@link SendFailure} for what was left
   * behind. A permanent error on this stream (the function may not write to it) stops re-ingestion for
   * the life of the processor.
   */
  private async put(
    stream: string,
    records: readonly Uint8Array[],
    purpose: SendFailure['purpose'],
    failures: SendFailure[],
  ): Promise<SinkResult> {
    const result = await this.options.sink.put(stream, records);
    if (result.permanent && purpose !== 'forward to the audit stream') this.reingestAllowed = false;
    const failed = result.delivered.filter((d) => !d).length;
    if (failed > 0) {
      failures.push({
        purpose,
        stream,
        records: failed,
        attempts: result.attempts,
        errorCodes: result.errorCodes,
        permanent: result.permanent,
      });
    }
    return result;
  }
}
