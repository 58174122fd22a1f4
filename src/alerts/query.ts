/**
 * Rule → query, on the one query builder (`src/query`): the rule's filter over its window, grouped,
 * with samples; anomaly rules add window-sized time buckets reaching back over the baseline. The
 * builder keeps values parameterized and prunes `dt`/`hour` (and `category`) partitions.
 */

import type { AggregateRow as QueryRow } from '../query/decode';
import { type AggregateQuery, ERROR_LEVELS, type LogFilter } from '../query/model';
import type { Category, StreamName } from '../schema';
import type { AlertWindow } from './alert';
import type { AlertRule } from './config';
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
  /** The streams (tables) holding the rule's categories. */
  readonly streams: readonly StreamName[];
}

/** Streams whose tables hold `categories` (all categories: both). */
export function streamsFor(
  categories: readonly Category[] | undefined,
  locked: readonly Category[],
): StreamName[] {
  if (!categories || categories.length === 0) return locked.length > 0 ? ['logs', 'audit'] : ['logs'];
  const streams: StreamName[] = [];
  if (categories.some((c) => !locked.includes(c))) streams.push('logs');
  if (categories.some((c) => locked.includes(c))) streams.push('audit');
  return streams;
}

/**
 * The aggregate query of a `count`, `error_rate` or `anomaly` rule evaluated over `window`.
 * @throws Error for `error_output` rules: they count objects, not events.
 */
export function ruleQuery(rule: AlertRule, window: AlertWindow, options: RuleQueryOptions): RuleQuery {
  if (rule.kind === 'error_output')
    throw new Error(`rule ${rule.name}: error_output rules do not query the lake`);
  const windowMs = window.minutes * 60_000;
  const back = rule.kind === 'anomaly' ? (rule.anomaly?.trailingWindows ?? 0) : 0;
  const f = rule.filter;
  const filter: LogFilter = {
    since: new Date(Date.parse(window.start) - back * windowMs),
    until: new Date(window.end),
    ...(f.text ? { text: f.text } : {}),
    ...(f.levels?.length ? { levels: f.levels } : {}),
    ...(f.services?.length ? { services: f.services } : {}),
    ...(f.categories?.length ? { categories: f.categories } : {}),
  };
  const errorsFirst = rule.kind === 'error_rate' || rule.anomaly?.metric === 'error_rate';
  const samples = {
    ...(options.maxSamples > 0 ? { samples: options.maxSamples } : {}),
    ...(errorsFirst && options.maxSamples > 0 ? { sampleLevels: ERROR_LEVELS } : {}),
  };
  const query: AggregateQuery =
    rule.kind === 'anomaly'
      ? {
          kind: 'aggregate',
          filter,
          groupBy: rule.groupBy,
          bucketMs: windowMs,
          orderBy: 'bucket',
          ...samples,
        }
      : {
          kind: 'aggregate',
          filter,
          groupBy: rule.groupBy,
          ...samples,
          // Groups under minEvents are not judged; leaving them out keeps the worst-first limit meaningful.
          ...(rule.kind === 'error_rate' ? { orderBy: 'error_rate' as const, minCount: rule.minEvents } : {}),
          ...(rule.kind === 'count' ? { orderBy: 'count' as const } : {}),
          limit: options.maxGroups,
        };
  return { query, streams: streamsFor(f.categories, options.lockedCategories) };
}

/** A query row's group as strings (`(none)` for a missing value) in the rule's group-by order. */
export function rowGroup(rule: Pick<AlertRule, 'groupBy'>, row: QueryRow): Group {
  return Object.fromEntries(
    rule.groupBy.map((c) => [c, row.group[c] == null ? '(none)' : String(row.group[c])]),
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
