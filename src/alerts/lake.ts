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
import type { StreamName } from '../schema';
import type { AlertWindow } from './alert';
import type { AlertRule } from './config';
import {
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

export class LakeSource implements ObservationSource {
  constructor(private readonly options: LakeSourceOptions) {}

  async observe(rule: AlertRule, window: AlertWindow): Promise<Observation[]> {
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
