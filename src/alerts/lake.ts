/**
 * The observation source of both places: rule → query (builder) → engine (DuckDB or Athena, injected)
 * → observations; `error_output` rules read error-object arrivals instead (S3 events on AWS, files
 * under `errors/` locally).
 */
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
import { groupKey, type Observation, observeAggregates, observeAnomaly } from './observe';
import { aggregateArrivals, type ErrorArrival } from './pipeline';
import { aggregateRows, bucketRows, type RuleQueryOptions, rowGroup, ruleQuery } from './query';
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
    const { query, streams } = ruleQuery(rule, window, o);
    const built = buildQuery(query, { dialect: o.dialect, tables: o.tables(streams) });
    const rows = (await o.run(built, rule)).map((r) => decodeAggregateRow(built.columns, r));
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
