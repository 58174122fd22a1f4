/**
 * Turns result rows from either engine into plain values. DuckDB returns native values (bigint, numbers);
 * Athena returns every cell as text. Both are accepted, so callers see one shape.
 */
import type { Category, Level, LogRecord } from '../schema';
import type { ResultColumn } from './columns';
import type { GroupColumn } from './model';

/** A row as an engine returned it, keyed by column name. */
export type RawRow = Readonly<Record<string, unknown>>;

/** A normalized record as search returns it: the record plus its `category` partition. */
export interface SearchRecord extends LogRecord {
  category: Category;
}

/** One row of an aggregate query. Group columns are present only when grouped by. */
export interface AggregateRow {
  /** Group values by group label (`service`, `attributes.model`); empty when not grouped. */
  readonly group: Partial<Record<GroupColumn, string | number | null>> &
    Readonly<Record<string, string | number | null | undefined>>;
  /** Start of the time bucket, ISO-8601 UTC; present only when bucketed. */
  readonly bucketStart?: string;
  readonly count: number;
  readonly errors: number;
  readonly errorRate: number;
  readonly firstSeen: string | null;
  readonly lastSeen: string | null;
  /** Up to `samples` distinct correlation ids; empty when not requested or none. */
  readonly sampleCorrelationIds: string[];
  /** The query's `aggregates` by label (`p95(duration_ms)`), in order; empty when it had none. */
  readonly values: Readonly<Record<string, number | string | null>>;
}

/** Decode one cell by its column kind. */
export function decodeCell(column: ResultColumn, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (column.kind) {
    case 'string':
      return String(value);
    case 'number': {
      if (value === '') return null;
      const n = typeof value === 'bigint' ? Number(value) : Number(value);
      return Number.isFinite(n) ? n : null;
    }
    case 'timestamp':
      return isoTimestamp(value);
    case 'json':
      return typeof value === 'string' ? (value === '' ? null : JSON.parse(value)) : value;
    case 'boolean':
      return typeof value === 'boolean' ? value : String(value).toLowerCase() === 'true';
  }
}

/**
 * ISO-8601 UTC with milliseconds and `Z`, from the forms the engines return: text with or without a zone
 * (`to_iso8601` of a Trino `timestamp` has none and means UTC), a space instead of `T`, or epoch ms.
 */
export function isoTimestamp(value: unknown): string | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value === 'number' || typeof value === 'bigint') return new Date(Number(value)).toISOString();
  const text = String(value).trim().replace(' ', 'T');
  if (/^-?\d+$/.test(text)) return new Date(Number(text)).toISOString();
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(text) ? text : `${text}Z`;
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) ? String(value) : new Date(ms).toISOString();
}

/** Decode a row into named values, by the query's result columns. */
export function decodeRow(columns: readonly ResultColumn[], row: RawRow): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) out[c.name] = decodeCell(c, row[c.name]);
  return out;
}

/** A search result row as a normalized record. */
export function decodeSearchRow(columns: readonly ResultColumn[], row: RawRow): SearchRecord {
  const v = decodeRow(columns, row);
  return {
    timestamp: (v.timestamp as string | null) ?? '',
    level: v.level as Level,
    service: (v.service as string | null) ?? '',
    logger: v.logger as string | null,
    message: (v.message as string | null) ?? '',
    correlation_id: v.correlation_id as string | null,
    trace_id: v.trace_id as string | null,
    span_id: v.span_id as string | null,
    user_id: v.user_id as string | null,
    error_type: v.error_type as string | null,
    stack_trace: v.stack_trace as string | null,
    duration_ms: v.duration_ms as number | null,
    http_method: v.http_method as string | null,
    http_path: v.http_path as string | null,
    http_status: v.http_status as number | null,
    attributes: (v.attributes as Record<string, string> | null) ?? {},
    redactions: (v.redactions as Record<string, number> | null) ?? {},
    ingest_time: (v.ingest_time as string | null) ?? '',
    schema_errors: (v.schema_errors as string[] | null) ?? [],
    message_template: (v.message_template as string | null | undefined) ?? null,
    category: v.category as Category,
  };
}

/** An aggregate result row. */
export function decodeAggregateRow(columns: readonly ResultColumn[], row: RawRow): AggregateRow {
  const v = decodeRow(columns, row);
  const group: Record<string, string | number | null> = {};
  const values: Record<string, number | string | null> = {};
  for (const c of columns) {
    if (c.aggregate) values[c.label ?? c.name] = v[c.name] as number | string | null;
    else if (!AGGREGATE_VALUE_COLUMNS.has(c.name))
      group[c.label ?? c.name] = v[c.name] as string | number | null;
  }
  return {
    group,
    ...(v.bucket_start === undefined ? {} : { bucketStart: v.bucket_start as string }),
    count: (v.count as number | null) ?? 0,
    errors: (v.errors as number | null) ?? 0,
    errorRate: (v.error_rate as number | null) ?? 0,
    firstSeen: v.first_seen as string | null,
    lastSeen: v.last_seen as string | null,
    sampleCorrelationIds: ((v.sample_correlation_ids as string[] | null) ?? []).filter(
      (s): s is string => typeof s === 'string',
    ),
    values,
  };
}

const AGGREGATE_VALUE_COLUMNS = new Set([
  'bucket_start',
  'count',
  'errors',
  'error_rate',
  'first_seen',
  'last_seen',
  'sample_correlation_ids',
]);

/**
 * Counts per bucket with the empty buckets filled in with zeros, from `since` to `until`, for one
 * ungrouped bucketed aggregate (e.g. a volume anomaly rule: the mean and deviation of the trailing
 * buckets need the zeros).
 */
export function fillBuckets(
  rows: readonly AggregateRow[],
  since: Date,
  until: Date,
  bucketMs: number,
): Array<{ bucketStart: string; count: number; errors: number }> {
  const byStart = new Map<number, AggregateRow>();
  for (const r of rows) if (r.bucketStart) byStart.set(Date.parse(r.bucketStart), r);
  const out: Array<{ bucketStart: string; count: number; errors: number }> = [];
  const first = Math.floor(since.getTime() / bucketMs) * bucketMs;
  for (let t = first; t < until.getTime(); t += bucketMs) {
    const r = byStart.get(t);
    out.push({ bucketStart: new Date(t).toISOString(), count: r?.count ?? 0, errors: r?.errors ?? 0 });
  }
  return out;
}

/** A record of a context query: a hit or one of its neighbours. */
export interface ContextRecord extends SearchRecord {
  /** The record matched the search itself (the others are its neighbours). */
  readonly context_hit: boolean;
}

/** Hits and their neighbours, in time order: one block per run of adjacent events of one key. */
export interface ContextBlock {
  /** The service (or correlation id) the block shares; null for a hit without one. */
  readonly key: string | null;
  readonly records: ContextRecord[];
}

/**
 * The rows of a context query as blocks: neighbours of several hits that touch or overlap merge into
 * one block (as `grep -C` does), each event once. Blocks come newest hit first (`order: 'asc'`: oldest
 * first), records inside a block oldest first.
 */
export function contextBlocks(
  columns: readonly ResultColumn[],
  rows: readonly RawRow[],
  order: 'asc' | 'desc' = 'desc',
): ContextBlock[] {
  const decoded = rows.map((row) => {
    const v = decodeRow(columns, row);
    return {
      record: { ...decodeSearchRow(columns, row), context_hit: v.context_hit === true },
      key: v.context_key as string | null,
      rank: v.context_rank as number | null,
    };
  });
  const byKey = new Map<string, typeof decoded>();
  const blocks: ContextBlock[] = [];
  for (const d of decoded) {
    if (d.key === null || d.rank === null) {
      blocks.push({ key: null, records: [d.record] });
      continue;
    }
    const list = byKey.get(d.key) ?? [];
    list.push(d);
    byKey.set(d.key, list);
  }
  for (const [key, list] of byKey) {
    list.sort((a, b) => (a.rank ?? 0) - (b.rank ?? 0));
    let current: ContextRecord[] = [];
    let last = Number.NaN;
    for (const d of list) {
      if (current.length > 0 && d.rank !== last + 1) {
        blocks.push({ key, records: current });
        current = [];
      }
      current.push(d.record);
      last = d.rank ?? Number.NaN;
    }
    if (current.length > 0) blocks.push({ key, records: current });
  }
  const hitTime = (b: ContextBlock) =>
    b.records.reduce((t, r) => (r.context_hit && r.timestamp > t ? r.timestamp : t), '');
  return blocks.sort((a, b) => {
    const [x, y] = order === 'desc' ? [hitTime(b), hitTime(a)] : [hitTime(a), hitTime(b)];
    if (x !== y) return x < y ? -1 : 1;
    return String(a.key) < String(b.key) ? -1 : String(a.key) > String(b.key) ? 1 : 0;
  });
}
