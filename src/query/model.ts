/**
 * The one query model behind `loglake search`, `stats`, `export` and the alarm rules. It is rendered to
 * SQL for DuckDB (the local lake) or Athena/Trino by `buildQuery`; values a user typed are never part of
 * the SQL text, they travel as bound parameters.
 */
import { InputError } from '../errors';
import { CATEGORIES, type Category, LEVELS, type Level } from '../schema';

export const DIALECTS = ['duckdb', 'athena'] as const;
export type Dialect = (typeof DIALECTS)[number];

/** Which events a query looks at. Every query has a time range: it drives partition pruning. */
export interface LogFilter {
  /** Inclusive lower bound of the event time. */
  readonly since: Date;
  /** Exclusive upper bound of the event time. */
  readonly until: Date;
  /** Case-insensitive substring of `message`. Matched literally: `%`, `_` and quotes have no meaning. */
  readonly text?: string;
  /** Exact `correlation_id`. */
  readonly correlationId?: string;
  /** Exact `trace_id`. */
  readonly traceId?: string;
  /** Any of these levels. @default all levels */
  readonly levels?: readonly Level[];
  /** Any of these services (exact names). @default all services */
  readonly services?: readonly string[];
  /** Any of these categories (also prunes the `category` partition). @default all categories */
  readonly categories?: readonly Category[];
  /** Any of these `user_id` values: pseudonyms, never raw ids (see `pseudonymizeUserId`). */
  readonly userIds?: readonly string[];
}

/** Normalized records, newest first unless `order` says otherwise. */
export interface SearchQuery {
  readonly kind: 'search';
  readonly filter: LogFilter;
  /** Maximum rows; `undefined` means no limit (export). @default undefined */
  readonly limit?: number;
  /** Sort by event time. @default 'desc' */
  readonly order?: 'asc' | 'desc';
}

/** Columns an aggregate may group by. */
export const GROUP_COLUMNS = [
  'service',
  'level',
  'category',
  'logger',
  'error_type',
  'http_method',
  'http_status',
] as const;
export type GroupColumn = (typeof GROUP_COLUMNS)[number];

/** Levels counted as errors by `errors` and `error_rate`. */
export const ERROR_LEVELS: readonly Level[] = ['ERROR', 'CRITICAL'];

/**
 * Counts per group and/or time bucket. Every row carries `count`, `errors` (ERROR+CRITICAL),
 * `error_rate` (errors / count), `first_seen` and `last_seen`; `samples` adds a few correlation ids.
 */
export interface AggregateQuery {
  readonly kind: 'aggregate';
  readonly filter: LogFilter;
  /** Group by these columns. @default [] (one row per bucket, or one row in all) */
  readonly groupBy?: readonly GroupColumn[];
  /** Time bucket width in ms (buckets start at multiples of it since the epoch). @default undefined (no buckets) */
  readonly bucketMs?: number;
  /** Up to this many distinct correlation ids per row in `sample_correlation_ids`. @default 0 (none) */
  readonly samples?: number;
  /** Sample correlation ids only from events at these levels (e.g. `ERROR_LEVELS`). @default all levels */
  readonly sampleLevels?: readonly Level[];
  /** Keep only rows with at least this many events. @default undefined */
  readonly minCount?: number;
  /** Keep only rows whose error rate is at least this (0-1). @default undefined */
  readonly minErrorRate?: number;
  /** Row order. @default 'bucket' when `bucketMs` is set, otherwise 'count' */
  readonly orderBy?: 'count' | 'errors' | 'error_rate' | 'bucket' | 'group';
  /** Maximum rows. @default undefined (all) */
  readonly limit?: number;
}

export type LogQuery = SearchQuery | AggregateQuery;

/** Largest value accepted for `limit` (far above what a terminal shows; export passes no limit). */
export const MAX_LIMIT = 1_000_000;
/** Largest number of sample correlation ids per row. */
export const MAX_SAMPLES = 100;
/** Smallest time bucket. */
export const MIN_BUCKET_MS = 1_000;

/**
 * Check a query before rendering it. Everything that is inlined into SQL (limit, bucket width, sample
 * count, thresholds) must be a finite number in range; everything else is bound as a parameter.
 * @throws InputError naming the field and the value received.
 */
export function validateQuery(query: LogQuery): void {
  const f = query.filter;
  for (const [name, d] of [
    ['since', f.since],
    ['until', f.until],
  ] as const) {
    if (!(d instanceof Date) || Number.isNaN(d.getTime())) {
      throw new InputError(`${name}: not a valid time (received ${String(d)})`);
    }
  }
  if (f.since.getTime() >= f.until.getTime()) {
    throw new InputError(`since (${f.since.toISOString()}) must be before until (${f.until.toISOString()})`);
  }
  for (const level of f.levels ?? []) {
    if (!(LEVELS as readonly string[]).includes(level)) {
      throw new InputError(
        `level: unknown level ${JSON.stringify(level)}; expected one of ${LEVELS.join(', ')}`,
      );
    }
  }
  for (const category of f.categories ?? []) {
    if (!(CATEGORIES as readonly string[]).includes(category)) {
      throw new InputError(
        `category: unknown category ${JSON.stringify(category)}; expected one of ${CATEGORIES.join(', ')}`,
      );
    }
  }
  for (const [name, list] of [
    ['levels', f.levels],
    ['services', f.services],
    ['categories', f.categories],
    ['userIds', f.userIds],
  ] as const) {
    if (list !== undefined && list.length === 0) {
      throw new InputError(`${name}: an empty list matches nothing; leave it out to match everything`);
    }
  }
  if (query.limit !== undefined) checkInt('limit', query.limit, 1, MAX_LIMIT);
  if (query.kind === 'aggregate') {
    if (query.bucketMs !== undefined) checkInt('bucketMs', query.bucketMs, MIN_BUCKET_MS, 366 * 86_400_000);
    if (query.samples !== undefined) checkInt('samples', query.samples, 0, MAX_SAMPLES);
    if (query.minCount !== undefined) checkInt('minCount', query.minCount, 0, Number.MAX_SAFE_INTEGER);
    if (query.minErrorRate !== undefined) {
      const r = query.minErrorRate;
      if (!(typeof r === 'number' && Number.isFinite(r) && r >= 0 && r <= 1)) {
        throw new InputError(`minErrorRate: expected a number from 0 to 1 (received ${String(r)})`);
      }
    }
    for (const column of query.groupBy ?? []) {
      if (!(GROUP_COLUMNS as readonly string[]).includes(column)) {
        throw new InputError(
          `group-by: cannot group by ${JSON.stringify(column)}; expected one of ${GROUP_COLUMNS.join(', ')}`,
        );
      }
    }
    if (query.orderBy === 'bucket' && query.bucketMs === undefined) {
      throw new InputError('orderBy: "bucket" needs bucketMs');
    }
  }
}

function checkInt(name: string, value: number, min: number, max: number): void {
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max)) {
    throw new InputError(
      `${name}: expected a whole number from ${min} to ${max} (received ${String(value)})`,
    );
  }
}
