/**
 * Rule → query, on the one query builder (`src/query`): the rule's filter over its window, grouped,
 * with samples; anomaly rules add window-sized time buckets reaching back over the baseline, absence
 * rules reach back over theirs, percentile rules add the percentile aggregate, ratio rules add a
 * second query for the numerator. The builder keeps values parameterized (a `where` condition's field
 * key and value included) and prunes `dt`/`hour` (and `category`) partitions.
 */

import type { AggregateRow as QueryRow } from '../query/decode';
import { aggregateLabel, parseCondition, parseField } from '../query/fields';
import { type AggregateQuery, ERROR_LEVELS, type LogFilter } from '../query/model';
import type { Category, Level, StreamName } from '../schema';
import type { AlertWindow } from './alert';
import type { AlertRule, RuleFilter } from './config';
import type { AggregateRow, BucketRow, Group } from './observe';

export interface RuleQueryOptions {
  /** Sample correlation ids per group. */
  readonly maxSamples: number;
  /** Groups per evaluation, worst first. */
  readonly maxGroups: number;
  /** Categories stored in the `audit` stream's bucket and table. */
  readonly lockedCategories: readonly Category[];
}

export interface RuleQuery {
  readonly query: AggregateQuery;
  /** `ratio` rules: the numerator's query (the filter narrowed by `ratio.match`), grouped alike. */
  readonly numerator?: AggregateQuery;
  /** The streams (tables) holding the rule's categories. */
  readonly streams: readonly StreamName[];
}

/**
 * Streams a rule reads: those whose tables hold its categories (all categories: both). A locked category
 * is read from both: the transform keeps in the logs bucket what it could not forward to the audit stream.
 * An `error_output` rule reads none (it counts objects under the error prefix as S3 reports them).
 */
export function streamsFor(
  rule: Pick<AlertRule, 'filter' | 'kind'>,
  locked: readonly Category[],
): StreamName[] {
  if (rule.kind === 'error_output') return [];
  const categories = rule.filter.categories;
  if (!categories || categories.length === 0) return locked.length > 0 ? ['logs', 'audit'] : ['logs'];
  return categories.some((c) => locked.includes(c)) ? ['logs', 'audit'] : ['logs'];
}

/** A rule's filter as the builder's, over `[since, until)`; `undefined` when it can match nothing. */
export function logFilter(f: RuleFilter, since: Date, until: Date): LogFilter {
  return {
    since,
    until,
    ...(f.text ? { text: f.text } : {}),
    ...(f.levels?.length ? { levels: f.levels } : {}),
    ...(f.services?.length ? { services: f.services } : {}),
    ...(f.categories?.length ? { categories: f.categories } : {}),
    // Rules refuse time fields, so the reference time of parseCondition plays no part.
    ...(f.where?.length ? { where: f.where.map((w) => parseCondition(w)) } : {}),
  };
}

/** Both lists, or their intersection when both are given (undefined = no restriction). */
function both<T>(a: readonly T[] | undefined, b: readonly T[] | undefined): readonly T[] | undefined {
  if (!a?.length) return b;
  if (!b?.length) return a;
  return a.filter((x) => b.includes(x));
}

/** The numerator filter of a ratio rule, or `undefined` when the two filters exclude each other. */
export function ratioFilter(rule: Pick<AlertRule, 'filter' | 'ratio'>): RuleFilter | undefined {
  const f = rule.filter;
  const m = rule.ratio?.match ?? {};
  const levels = both<Level>(f.levels, m.levels);
  const services = both(f.services, m.services);
  if (levels?.length === 0 || services?.length === 0) return undefined;
  const where = [...(f.where ?? []), ...(m.where ?? [])];
  return {
    ...(f.categories ? { categories: f.categories } : {}),
    ...(levels ? { levels: [...levels] } : {}),
    ...(services ? { services: [...services] } : {}),
    ...(f.text || m.text ? { text: f.text ?? m.text } : {}),
    // A second text (filter and match both have one) must hold too: as a substring condition.
    where: f.text && m.text ? [...where, `message~${JSON.stringify(m.text)}`] : where,
  };
}

/** Start of the time an absence rule reads: its baseline before the window. */
export function absenceSince(rule: Pick<AlertRule, 'absence'>, window: AlertWindow): Date {
  return new Date(Date.parse(window.start) - (rule.absence?.baselineMinutes ?? 0) * 60_000);
}

/** The result label of a percentile rule's value (`p95(duration_ms)`). */
export function percentileLabel(rule: Pick<AlertRule, 'percentile'>): string {
  const p = rule.percentile;
  if (!p) throw new Error('not a percentile rule');
  return aggregateLabel({ fn: p.fn, field: parseField(p.field) });
}

/**
 * The aggregate query (queries, for `ratio`) of a rule that reads the lake, evaluated over `window`.
 * @throws Error for `error_output` rules: they count objects, not events.
 */
export function ruleQuery(rule: AlertRule, window: AlertWindow, options: RuleQueryOptions): RuleQuery {
  if (rule.kind === 'error_output')
    throw new Error(`rule ${rule.name}: error_output rules do not query the lake`);
  const windowMs = window.minutes * 60_000;
  const back = rule.kind === 'anomaly' ? (rule.anomaly?.trailingWindows ?? 0) : 0;
  const since =
    rule.kind === 'absence'
      ? absenceSince(rule, window)
      : new Date(Date.parse(window.start) - back * windowMs);
  const filter = logFilter(rule.filter, since, new Date(window.end));
  const streams = streamsFor(rule, options.lockedCategories);
  const errorsFirst = rule.kind === 'error_rate' || rule.anomaly?.metric === 'error_rate';
  const samples = {
    ...(options.maxSamples > 0 ? { samples: options.maxSamples } : {}),
    ...(errorsFirst && options.maxSamples > 0 ? { sampleLevels: ERROR_LEVELS } : {}),
  };
  const base = { kind: 'aggregate' as const, filter, groupBy: rule.groupBy };
  switch (rule.kind) {
    case 'anomaly':
      return { query: { ...base, bucketMs: windowMs, orderBy: 'bucket', ...samples }, streams };
    case 'absence':
      // Every group of the baseline, however quiet: a limit by volume would cut the silent ones first.
      // No samples: an absent group has no events in the window to show.
      return { query: { ...base, orderBy: 'group' }, streams };
    case 'percentile': {
      const p = rule.percentile;
      if (!p) throw new Error(`rule ${rule.name}: percentile settings missing`);
      const query: AggregateQuery = {
        ...base,
        ...samples,
        aggregates: [{ fn: p.fn, field: parseField(p.field) }],
        orderBy: 'count',
        minCount: rule.minEvents,
        limit: options.maxGroups,
      };
      return { query, streams };
    }
    case 'ratio': {
      const narrowed = ratioFilter(rule);
      const query: AggregateQuery = {
        ...base,
        orderBy: 'count',
        minCount: rule.minEvents,
        limit: options.maxGroups,
      };
      if (!narrowed) return { query, streams };
      const numerator: AggregateQuery = {
        ...base,
        ...samples,
        filter: logFilter(narrowed, since, new Date(window.end)),
        orderBy: 'group',
      };
      return { query, numerator, streams };
    }
    default:
      return {
        query: {
          ...base,
          ...samples,
          // Groups under minEvents are not judged; leaving them out keeps the worst-first limit meaningful.
          ...(rule.kind === 'error_rate' ? { orderBy: 'error_rate' as const, minCount: rule.minEvents } : {}),
          ...(rule.kind === 'count' ? { orderBy: 'count' as const } : {}),
          limit: options.maxGroups,
        },
        streams,
      };
  }
}

/** A group's value when the row has none (NULL). */
export const NONE_GROUP_VALUE = '(none)';

/** A query row's group as strings (`(none)` for a missing value) in the rule's group-by order. */
export function rowGroup(rule: Pick<AlertRule, 'groupBy'>, row: QueryRow): Group {
  return Object.fromEntries(
    rule.groupBy.map((c) => [c, row.group[c] == null ? NONE_GROUP_VALUE : String(row.group[c])]),
  );
}

/** Query rows of a `count` / `error_rate` rule as the engine's window aggregates. */
export function aggregateRows(rule: Pick<AlertRule, 'groupBy'>, rows: readonly QueryRow[]): AggregateRow[] {
  return rows.map((r) => ({
    group: rowGroup(rule, r),
    total: r.count,
    errors: r.errors,
    samples: r.sampleCorrelationIds,
  }));
}

/** Query rows of an `anomaly` rule as buckets: 0 = the evaluated window, k = k windows before it. */
export function bucketRows(
  rule: Pick<AlertRule, 'groupBy'>,
  window: AlertWindow,
  rows: readonly QueryRow[],
): BucketRow[] {
  const windowMs = window.minutes * 60_000;
  const start = Date.parse(window.start);
  return rows.flatMap((r) => {
    if (!r.bucketStart) return [];
    const bucket = Math.round((start - Date.parse(r.bucketStart)) / windowMs);
    return [{ group: rowGroup(rule, r), bucket, total: r.count, errors: r.errors }];
  });
}
