/**
 * The observation source of both places: rule → query (builder) → engine (DuckDB or Athena, injected)
 * → observations; `error_output` rules read error-object arrivals instead (S3 events on AWS, files
 * under `errors/` locally).
 */
import { forRule } from '../audit/access';
import {
  type BuiltQuery,
  buildQuery,
  type Dialect,
  decodeAggregateRow,
  type RawRow,
  type TableRef,
} from '../query';
import { type Condition, typedCondition } from '../query/fields';
import type { StreamName } from '../schema';
import type { AlertWindow } from './alert';
import type { AlertRule } from './config';
import {
  type Group,
  groupKey,
  type Observation,
  observeAbsence,
  observeAggregates,
  observeAnomaly,
  observePercentile,
  observeRatio,
} from './observe';
import { aggregateArrivals, type ErrorArrival } from './pipeline';
import {
  aggregateRows,
  bucketRows,
  NONE_GROUP_VALUE,
  percentileLabel,
  type RuleQueryOptions,
  rowGroup,
  ruleQuery,
} from './query';
import type { ObservationSource } from './run';

export interface LakeSourceOptions extends RuleQueryOptions {
  readonly dialect: Dialect;
  /** The table(s) to read for the given streams (Athena: one per stream; locally one view for both). */
  readonly tables: (streams: readonly StreamName[]) => TableRef[];
  /** Runs a built query and returns its raw rows. */
  readonly run: (query: BuiltQuery, rule: AlertRule) => Promise<RawRow[]>;
  /** Error-object arrivals with `start <= at < end`. */
  readonly arrivals: (window: AlertWindow) => Promise<readonly ErrorArrival[]>;
}

/**
 * The conditions selecting one group of a rule's `groupBy`; undefined for an ungrouped rule and for a
 * group with a missing value (`(none)`, NULL in SQL), which an equality cannot select: such a group
 * pushed out of a full result is held as not judged (error_rate, percentile, ratio) or resolves (count).
 */
export function groupConditions(rule: Pick<AlertRule, 'groupBy'>, group: Group): Condition[] | undefined {
  const out: Condition[] = [];
  for (const column of rule.groupBy) {
    const value = group[column];
    if (value === undefined || value === NONE_GROUP_VALUE) return undefined;
    out.push(typedCondition({ field: { column }, op: '=', value }));
  }
  return out.length > 0 ? out : undefined;
}

export class LakeSource implements ObservationSource {
  constructor(private readonly options: LakeSourceOptions) {}

  async observe(
    rule: AlertRule,
    window: AlertWindow,
    _at?: Date,
    keep: readonly Group[] = [],
  ): Promise<Observation[]> {
    const o = this.options;
    if (rule.kind === 'error_output') {
      return observeAggregates(rule, aggregateArrivals(await o.arrivals(window), window, o.maxSamples));
    }
    const { query, numerator, streams } = ruleQuery(rule, window, o);
    const tables = o.tables(streams);
    const rowsOf = async (q: typeof query) => {
      const built = buildQuery(q, { dialect: o.dialect, tables });
      // Inside an access scope, the query's access event names the rule it evaluates.
      const raw = await forRule(rule.name, () => o.run(built, rule));
      return raw.map((r) => decodeAggregateRow(built.columns, r));
    };
    const rows = await rowsOf(query);
    // A result cut at `maxGroups` may have left out groups that are pending or firing: one more query
    // asks for those, so each is judged on its own figures instead of resolving for want of a row.
    if (query.limit !== undefined && rows.length >= query.limit) {
      const present = new Set(rows.map((r) => groupKey(rowGroup(rule, r))));
      const missing = keep
        .filter((g) => !present.has(groupKey(g)))
        .flatMap((g) => {
          const conditions = groupConditions(rule, g);
          return conditions ? [conditions] : [];
        })
        .slice(0, o.maxGroups);
      if (missing.length > 0) {
        const { limit: _all, ...unlimited } = query;
        rows.push(...(await rowsOf({ ...unlimited, filter: { ...query.filter, anyOf: missing } })));
      }
    }
    switch (rule.kind) {
      case 'absence':
        return observeAbsence(
          rule,
          window,
          rows.map((r) => ({ group: rowGroup(rule, r), total: r.count, lastSeen: r.lastSeen })),
        );
      case 'percentile': {
        const label = percentileLabel(rule);
        return observePercentile(
          rule,
          rows.map((r) => {
            const v = r.values[label];
            return {
              group: rowGroup(rule, r),
              total: r.count,
              value: typeof v === 'number' && Number.isFinite(v) ? v : null,
              samples: r.sampleCorrelationIds,
            };
          }),
        );
      }
      case 'ratio': {
        // Only when the denominator has groups to judge: the numerator's scan is skipped otherwise.
        const hits = numerator && rows.length > 0 ? await rowsOf(numerator) : [];
        return observeRatio(rule, aggregateRows(rule, rows), aggregateRows(rule, hits));
      }
    }
    if (rule.kind !== 'anomaly' || !rule.anomaly) return observeAggregates(rule, aggregateRows(rule, rows));
    const current = Date.parse(window.start);
    const samples = new Map<string, readonly string[]>();
    for (const r of rows) {
      if (r.bucketStart && Date.parse(r.bucketStart) === current)
        samples.set(groupKey(rowGroup(rule, r)), r.sampleCorrelationIds);
    }
    return observeAnomaly(
      { threshold: rule.threshold, anomaly: rule.anomaly },
      bucketRows(rule, window, rows),
      samples,
    );
  }
}
