import type { LogLakeConfig } from '../config';
import type { Category, PartitionKeys, StreamName } from '../schema';

/** Everything the transform needs: the config slices plus the pseudonym key and the stream. */
export interface TransformSettings {
  /** Per-category policy (`sampleRate`, `locked`). */
  categories: LogLakeConfig['categories'];
  /** Categorization rules, default category, time window. */
  transform: LogLakeConfig['transform'];
  /** IP prefix lengths, extra sensitive keys. */
  redaction: LogLakeConfig['redaction'];
  /** HMAC key for user-id pseudonyms (see `src/redact/pseudonym.ts`). */
  pseudonymKey: string | Uint8Array;
  /** Which delivery stream these records came from: on `audit`, only locked categories are valid. */
  stream: StreamName;
}

/** One Firehose input record (the fields of `FirehoseTransformationEventRecord` the core reads). */
export interface TransformInputRecord {
  recordId: string;
  /** Base64 of the record bytes. */
  data: string;
  /** Epoch ms when Firehose received the record. */
  approximateArrivalTimestamp: number;
}

export type TransformResult = 'Ok' | 'Dropped' | 'ProcessingFailed';

/** One Firehose output record. `data` is base64 of UTF-8 NDJSON (one `LogRecord` per line) for `Ok`. */
export interface TransformOutputRecord {
  recordId: string;
  result: TransformResult;
  data: string;
  metadata?: { partitionKeys: PartitionKeys };
}

/** Counters of one `transformRecords` call, published as CloudWatch metrics by the handler. */
export interface TransformMetrics {
  /** Records by result. */
  records: Record<TransformResult, number>;
  /** `Ok` records by category (their partition). */
  recordsByCategory: Partial<Record<Category, number>>;
  /** Events delivered (lines of `Ok` data), by category. */
  eventsByCategory: Partial<Record<Category, number>>;
  /** Detector kind → replacements, over all delivered events. */
  redactions: Record<string, number>;
  /** Delivered events with at least one schema error. */
  eventsWithSchemaErrors: number;
  /** Delivered events kept as flagged records because their content could not be parsed. */
  unparseableEvents: number;
  /** DEBUG events removed by sampling. */
  sampledOutEvents: number;
  /** CloudWatch Logs CONTROL_MESSAGE records (Dropped). */
  controlMessages: number;
  /** Records whose output was reduced to the compact form or failed to keep the response under 6 MB. */
  oversizedRecords: number;
  /** Records set aside for the audit stream (`forwardLocked`). */
  forwardedRecords: number;
  /** Records set aside for re-ingestion to keep the response under the limit (`deferOversized`). */
  deferredRecords: number;
  /** Decoded input bytes. */
  bytesIn: number;
  /** Decoded output bytes of `Ok` records. */
  bytesOut: number;
}

export function emptyMetrics(): TransformMetrics {
  return {
    records: { Ok: 0, Dropped: 0, ProcessingFailed: 0 },
    recordsByCategory: {},
    eventsByCategory: {},
    redactions: {},
    eventsWithSchemaErrors: 0,
    unparseableEvents: 0,
    sampledOutEvents: 0,
    controlMessages: 0,
    oversizedRecords: 0,
    forwardedRecords: 0,
    deferredRecords: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
}

/** Adds `b` into `a` (for metrics of several `transformRecords` calls in one invocation). */
export function mergeMetrics(a: TransformMetrics, b: TransformMetrics): TransformMetrics {
  const sum = <K extends string>(x: Partial<Record<K, number>>, y: Partial<Record<K, number>>) => {
    for (const k of Object.keys(y) as K[]) x[k] = (x[k] ?? 0) + (y[k] ?? 0);
  };
  sum(a.records, b.records);
  sum(a.recordsByCategory, b.recordsByCategory);
  sum(a.eventsByCategory, b.eventsByCategory);
  sum(a.redactions, b.redactions);
  a.eventsWithSchemaErrors += b.eventsWithSchemaErrors;
  a.unparseableEvents += b.unparseableEvents;
  a.sampledOutEvents += b.sampledOutEvents;
  a.controlMessages += b.controlMessages;
  a.oversizedRecords += b.oversizedRecords;
  a.forwardedRecords += b.forwardedRecords;
  a.deferredRecords += b.deferredRecords;
  a.bytesIn += b.bytesIn;
  a.bytesOut += b.bytesOut;
  return a;
}
