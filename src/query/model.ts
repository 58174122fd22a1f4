/**
 * The one query model behind `loglake search`, `stats`, `export` and the alarm rules. It is rendered to
 * SQL for DuckDB (the local lake) or Athena/Trino by `buildQuery`; values a user typed are never part of
 * the SQL text, they travel as bound parameters.
 */
import { InputError } from '../errors';
import { CATEGORIES, type Category, LEVELS, type Level } from '../schema';
import {
  type Aggregate,
  type Condition,
  checkAggregate,
  type FieldRef,
  fieldLabel,
  fieldType,
  typedCondition,
} from './fields';
import { checkCaseInsensitiveRegex, checkPortableRegex } from './regex';

export const DIALECTS = ['duckdb', 'athena'] as const;
export type Dialect = (typeof DIALECTS)[number];

/** Which events a query looks at. Every query has a time range: it drives partition pruning. */
export interface LogFilter {
  /** Inclusive lower bound of the event time. */
  readonly since: Date;
  /** Exclusive upper bound of the event time. */
  readonly until: Date;
  /**
   * Substring of `message` or `stack_trace`, case-insensitive unless `caseSensitive`. Matched
   * literally: `%`, `_` and quotes have no meaning.
   */
  readonly text?: string;
  /**
   * A regular expression `message` or `stack_trace` must match, in the syntax both engines read alike
   * (see `regex.ts`); case-insensitive unless `caseSensitive`. @default none
   */
  readonly regex?: string;
  /** `text`, `regex` and `~` conditions respect case. @default false */
  readonly caseSensitive?: boolean;
  /** Conditions on any field (`--where`), all of which must hold. @default none */
  readonly where?: readonly Condition[];
  /**
   * Alternatives: at least one group must hold in full (an OR of ANDs), besides every other condition.
   * A dashboard panel's way to say "an auth failure is an HTTP 401, a 403, or a failed login"; the CLI
   * has no flag for it. @default none
   */
  readonly anyOf?: readonly (readonly Condition[])[];
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
  /**
   * `userIds` match wherever the transform writes a pseudonym, not only in `user_id` (which holds one
   * id: a second one named in the text, or one in a nested field, is only in the text or `attributes`):
   * any text column, map or array, as the purge finds a person's rows. The right of access needs every
   * record of the person. @default false
   */
  readonly userIdsAnywhere?: boolean;
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

/** What an aggregate may group by: one of the classic group columns, or any field (`attributes.model`). */
export type GroupKey = GroupColumn | FieldRef;

/** The field a group key stands for. */
export function groupField(key: GroupKey): FieldRef {
  return typeof key === 'string' ? { column: key } : key;
}

/** The name of a group key in results: `service`, `attributes.model`. */
export function groupLabel(key: GroupKey): string {
  return typeof key === 'string' ? key : fieldLabel(key);
}

/** Levels counted as errors by `errors` and `error_rate`. */
export const ERROR_LEVELS: readonly Level[] = ['ERROR', 'CRITICAL'];

/**
 * Counts per group and/or time bucket. Every row carries `count`, `errors` (ERROR+CRITICAL),
 * `error_rate` (errors / count), `first_seen` and `last_seen`; `samples` adds a few correlation ids.
 */
export interface AggregateQuery {
  readonly kind: 'aggregate';
  readonly filter: LogFilter;
  /** Group by these columns or fields. @default [] (one row per bucket, or one row in all) */
  readonly groupBy?: readonly GroupKey[];
  /**
   * More aggregates per row, each in `values` under its label (`p95(duration_ms)`). Percentiles are
   * approximate on Athena (`approx_percentile`) and exact on DuckDB (`quantile_cont`). @default none
   */
  readonly aggregates?: readonly Aggregate[];
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

/** What `--context` groups neighbours by. */
export const CONTEXT_KEYS = ['service', 'correlation_id'] as const;
export type ContextKey = (typeof CONTEXT_KEYS)[number];

/**
 * The hits of a search (newest first, up to `limit`) with up to `before`/`after` events around each one
 * that share its `by` value (same service, or same correlation id), looked for in the search's time
 * range widened by {@link CONTEXT_PAD_MS} on each side and within its categories. Each result row carries
 * `context_key`, `context_rank` (its place in the key's timeline) and `context_hit`.
 */
export interface ContextQuery {
  readonly kind: 'context';
  readonly filter: LogFilter;
  /** Hits. @default 100 */
  readonly limit?: number;
  readonly before: number;
  readonly after: number;
  /** @default 'service' */
  readonly by?: ContextKey;
}

/** How far outside the search's time range context events are looked for. */
export const CONTEXT_PAD_MS = 3_600_000;
/** Most context events on either side of a hit. */
export const MAX_CONTEXT = 100;

/**
 * Matching events grouped by `message_template` (the ingest-time template of the message): count,
 * first and last seen, and one example message each, most frequent first. Events written before the
 * column existed group by their message (the caller masks those).
 */
export interface PatternsQuery {
  readonly kind: 'patterns';
  readonly filter: LogFilter;
  /** Most templates returned. @default 10000 */
  readonly limit?: number;
  /** Add `min(message)` as an example per template (reads the message column). @default true */
  readonly examples?: boolean;
}

export type LogQuery = SearchQuery | AggregateQuery | ContextQuery | PatternsQuery;

/** Largest value accepted for `limit` (far above what a terminal shows; export passes no limit). */
export const MAX_LIMIT = 1_000_000;
/** Largest number of sample correlation ids per row. */
export const MAX_SAMPLES = 100;
/** Smallest time bucket. */
export const MIN_BUCKET_MS = 1_000;
/** Most aggregates (`--agg`) per query. */
export const MAX_AGGREGATES = 32;

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
  if (f.regex !== undefined) {
    checkPortableRegex(f.regex);
    if (f.caseSensitive !== true) checkCaseInsensitiveRegex(f.regex);
  }
  // Typing a condition checks its value against its field (an API caller may not have used the parser).
  for (const c of f.where ?? []) typedCondition(c);
  if (f.anyOf !== undefined) {
    if (f.anyOf.length === 0 || f.anyOf.some((g) => g.length === 0)) {
      throw new InputError('anyOf: an empty list of alternatives, or an empty alternative; leave it out');
    }
    for (const c of f.anyOf.flat()) typedCondition(c);
  }
  if (query.limit !== undefined) checkInt('limit', query.limit, 1, MAX_LIMIT);
  if (query.kind === 'context') {
    checkInt('before', query.before, 0, MAX_CONTEXT);
    checkInt('after', query.after, 0, MAX_CONTEXT);
    if (query.by !== undefined && !(CONTEXT_KEYS as readonly string[]).includes(query.by)) {
      throw new InputError(
        `context-by: expected one of ${CONTEXT_KEYS.join(', ')} (received ${JSON.stringify(query.by)})`,
      );
    }
  }
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
    for (const key of query.groupBy ?? []) {
      if (typeof key === 'string') {
        if (!(GROUP_COLUMNS as readonly string[]).includes(key)) {
          throw new InputError(
            `group-by: cannot group by ${JSON.stringify(key)}; expected one of ${GROUP_COLUMNS.join(', ')}, or a field such as attributes.<key>`,
          );
        }
      } else if (fieldType(key) === 'string' && key.key === undefined && key.column === 'message') {
        // Grouping by free text makes one group per event: patterns does that properly.
        throw new InputError('group-by: cannot group by "message"; use `loglake patterns` for messages');
      }
    }
    const labels = (query.groupBy ?? []).map(groupLabel);
    const duplicate = labels.find((l, i) => labels.indexOf(l) !== i);
    if (duplicate !== undefined) throw new InputError(`group-by: ${duplicate} is named twice`);
    for (const a of query.aggregates ?? []) checkAggregate(a);
    if ((query.aggregates?.length ?? 0) > MAX_AGGREGATES) {
      throw new InputError(`agg: at most ${MAX_AGGREGATES} aggregates per query`);
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
