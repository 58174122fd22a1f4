import type { LogLakeConfig } from '../config';
import type { Pseudonymizer } from '../redact/pseudonym';
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
  /**
   * Per-subject pseudonyms (crypto-shredding, `src/privacy/keyring.ts`). A record needing a subject key
   * that is not at hand is returned `ProcessingFailed` and listed in `pendingKeys`: the caller resolves
   * the keys and transforms it again, or Firehose keeps its raw bytes under the error prefix.
   * @default none: pseudonyms are the HMAC under `pseudonymKey` (nobody can be erased)
   */
  pseudonyms?: Pseudonymizer;
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
  /** Locked-category records that could not be forwarded to the audit stream (delivered here). */
  auditForwardFailed: number;
  /** Deferred records that could not be re-ingested (delivered here, compacted if need be). */
  reingestFailed: number;
  /**
   * Records whose events belonged to different partitions (a CloudWatch Logs payload mixing
   * categories or hours), split into parts re-ingested into this stream (`splitPacked`).
   */
  splitRecords: number;
  /** Decoded input bytes. */
  bytesIn: number;
  /** Decoded output bytes of `Ok` records. */
  bytesOut: number;
}
