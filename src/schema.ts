/**
 * The normalized log record: the one contract shared by the transform, the Glue table, the Parquet
 * files and the local lake. The contract is docs/design.md, "The normalized record" and "Layout"; this
 * module is its code, and the Glue schema, Parquet conversion and DuckDB schema are derived from it.
 * Pure data, no dependencies.
 */

export const LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'CRITICAL'] as const;
export type Level = (typeof LEVELS)[number];

export const CATEGORIES = [
  'debug',
  'runtime',
  'framework',
  'errors',
  'api_access',
  'security',
  'audit',
] as const;
export type Category = (typeof CATEGORIES)[number];

export const PERSONAS = ['developer', 'ops', 'security', 'auditor', 'privacy-officer'] as const;
export type Persona = (typeof PERSONAS)[number];

/** The two Firehose delivery streams, and the bucket/table each one feeds. */
export const STREAMS = ['logs', 'audit'] as const;
export type StreamName = (typeof STREAMS)[number];

/**
 * One normalized log event, as the transform emits it (one JSON document per event).
 * Timestamps are ISO-8601 UTC strings ending in `Z` with milliseconds: the OpenX JSON SerDe used by
 * Firehose's Parquet conversion reads them as `timestamp`, and DuckDB does too.
 */
export interface LogRecord {
  timestamp: string;
  level: Level;
  service: string;
  logger: string | null;
  message: string;
  correlation_id: string | null;
  trace_id: string | null;
  span_id: string | null;
  user_id: string | null;
  error_type: string | null;
  stack_trace: string | null;
  duration_ms: number | null;
  http_method: string | null;
  http_path: string | null;
  http_status: number | null;
  attributes: Record<string, string>;
  metrics: Record<string, number>;
  redactions: Record<string, number>;
  ingest_time: string;
  schema_errors: string[];
  /**
   * `message` with its variable parts masked (`src/patterns/mask.ts`), computed at ingest so that
   * `loglake patterns` groups by a column; null for an empty message.
   */
  message_template: string | null;
}

/**
 * Partition keys returned to Firehose in `metadata.partitionKeys` and used by the local lake. A type
 * alias (not an interface) so it is assignable to Firehose's `{ [name: string]: string }` as it is.
 */
export type PartitionKeys = {
  category: Category;
  /** YYYY-MM-DD, UTC */
  dt: string;
  /** 00-23, UTC */
  hour: string;
};

/**
 * Column types in Glue/Hive notation. The Glue table, the Parquet conversion and the DuckDB schema are
 * all derived from this list, so they cannot drift apart.
 */
export const RECORD_COLUMNS = [
  { name: 'timestamp', type: 'timestamp', comment: 'event time, UTC' },
  { name: 'level', type: 'string', comment: 'DEBUG, INFO, WARN, ERROR, CRITICAL' },
  { name: 'service', type: 'string', comment: 'emitting service' },
  { name: 'logger', type: 'string', comment: 'logger name' },
  { name: 'message', type: 'string', comment: 'human text, redacted' },
  { name: 'correlation_id', type: 'string', comment: 'request/correlation id, verbatim' },
  { name: 'trace_id', type: 'string', comment: 'trace id, verbatim' },
  { name: 'span_id', type: 'string', comment: 'span id, verbatim' },
  { name: 'user_id', type: 'string', comment: 'keyed pseudonym (HMAC-SHA256), never the raw id' },
  { name: 'error_type', type: 'string', comment: 'exception class' },
  { name: 'stack_trace', type: 'string', comment: 'redacted stack trace' },
  { name: 'duration_ms', type: 'double', comment: 'duration in milliseconds' },
  { name: 'http_method', type: 'string', comment: 'HTTP method' },
  { name: 'http_path', type: 'string', comment: 'HTTP path, redacted' },
  { name: 'http_status', type: 'int', comment: 'HTTP status code' },
  { name: 'attributes', type: 'map<string,string>', comment: 'every other field, flattened with dots' },
  { name: 'metrics', type: 'map<string,double>', comment: 'every other numeric field, flattened with dots' },
  { name: 'redactions', type: 'map<string,int>', comment: 'detector kind -> count' },
  { name: 'ingest_time', type: 'timestamp', comment: 'arrival time, UTC' },
  { name: 'schema_errors', type: 'array<string>', comment: 'why the record is not fully valid' },
  // Appended, not placed next to `message`: Parquet and Glue read columns by name, and a new column at the
  // end is the schema change every reader of older files takes as it is.
  { name: 'message_template', type: 'string', comment: 'message with numbers, ids and quoted text masked' },
] as const satisfies ReadonlyArray<{ name: keyof LogRecord; type: string; comment: string }>;

export const PARTITION_COLUMNS = [
  { name: 'category', type: 'string', comment: 'log category (policy unit)' },
  { name: 'dt', type: 'string', comment: 'event date, YYYY-MM-DD UTC' },
  { name: 'hour', type: 'string', comment: 'event hour, 00-23 UTC' },
] as const;

/** Key prefix of delivered data, relative to the bucket (or the local data directory). */
export const DATA_PREFIX = 'logs';
/** Key prefix of Firehose error output (raw bytes; security persona only). */
export const ERROR_PREFIX = 'errors';

/** `logs/category=<c>/dt=<YYYY-MM-DD>/hour=<HH>/` */
export function partitionPrefix(keys: PartitionKeys): string {
  return `${DATA_PREFIX}/category=${keys.category}/dt=${keys.dt}/hour=${keys.hour}/`;
}

/** `logs/category=<c>/` — the unit of lifecycle rules and persona grants. */
export function categoryPrefix(category: Category): string {
  return `${DATA_PREFIX}/category=${category}/`;
}
