/**
 * Query results → observations: the value a rule measured for each group, and whether it breaches.
 * Pure; the rows come from DuckDB locally, Athena on AWS, or the arrival log of error objects.
 */
import type { AlertWindow } from './alert';
import type { AlertRule, AnomalySettings } from './config';

/** A group's dimension values, e.g. `{ service: 'checkout' }`; `{}` for an ungrouped rule. */
export type Group = Readonly<Record<string, string>>;

/** One group's aggregate over the evaluated window (`count`, `error_rate`, `error_output`). */
export interface AggregateRow {
  readonly group: Group;
  /** Events matching the rule's filter (objects, for `error_output`). */
  readonly total: number;
  /** Of those, events at ERROR or CRITICAL. */
  readonly errors: number;
  /** A few correlation ids of matching events (errors first for `error_rate`). */
  readonly samples: readonly string[];
}

/** One group's aggregate in one window-sized bucket (`anomaly`): bucket 0 is the evaluated window, k is k windows before it. */
export interface BucketRow {
  readonly group: Group;
  readonly bucket: number;
  readonly total: number;
  readonly errors: number;
}

export interface Observation {
  readonly group: Group;
  /** Stable key of the group: `service=checkout`, `category=errors,service=api`, or `*` when ungrouped. */
  readonly groupKey: string;
  /** The measured value the threshold is compared with (fraction, events, σ or objects). */
  readonly value: number;
  readonly breaching: boolean;
  /** False when there was too little data to judge (below `minEvents` / `minBaseline`). */
  readonly judged: boolean;
  /** Figures behind the value (errors and total; current, mean and standard deviation of the baseline). */
  readonly details: Readonly<Record<string, number>>;
  readonly samples: readonly string[];
}

/** `*` for an ungrouped rule; otherwise `k=v` pairs sorted by key, joined by commas. */
export function groupKey(group: Group): string {
  const keys = Object.keys(group).sort();
  return keys.length === 0 ? '*' : keys.map((k) => `${k}=${group[k]}`).join(',');
}

/** Inverse of {@link groupKey}. */
export function parseGroupKey(key: string): Group {
  if (key === '*') return {};
  const out: Record<string, string> = {};
  for (const pair of key.split(',')) {
    const i = pair.indexOf('=');
    out[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return out;
}

/** Unit of a rule's value, for messages: the percentile's is the field's own (ms for duration_ms). */
export function valueUnit(rule: Pick<AlertRule, 'kind' | 'percentile'>): string {
  switch (rule.kind) {
    case 'error_rate':
    case 'ratio':
      return 'ratio';
    case 'absence':
      return 'minutes';
    case 'percentile':
      return rule.percentile?.field === 'duration_ms' ? 'ms' : '';
    case 'count':
      return 'events';
    case 'anomaly':
      return 'sigma';
    case 'error_output':
      return 'objects';
  }
}

/** Observations of a `count`, `error_rate` or `error_output` rule from its window aggregates. */
export function observeAggregates(
  rule: Pick<AlertRule, 'kind' | 'threshold' | 'minEvents'>,
  rows: readonly AggregateRow[],
): Observation[] {
  return rows.map((row): Observation => {
    const base = { group: row.group, groupKey: groupKey(row.group), samples: row.samples };
    if (rule.kind === 'error_rate') {
      const judged = row.total >= rule.minEvents;
      const value = row.total > 0 ? row.errors / row.total : 0;
      return {
        ...base,
        value,
        judged,
        breaching: judged && value > rule.threshold,
        details: { errors: row.errors, total: row.total },
      };
    }
    return {
      ...base,
      value: row.total,
      judged: true,
      breaching: row.total > rule.threshold,
      details: { total: row.total },
    };
  });
}

/** Mean and sample standard deviation. */
function meanStd(xs: readonly number[]): { mean: number; std: number } {
  const n = xs.length;
  if (n === 0) return { mean: 0, std: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { mean, std: 0 };
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1);
  return { mean, std: Math.sqrt(variance) };
}

/**
 * z-score of the current window against the trailing windows, per group.
 *
 * Missing buckets are windows without events (0). The standard deviation is floored at the sampling
 * noise of the metric (√mean for a count, √(p(1-p)/n) for a rate): a perfectly steady baseline would
 * otherwise turn any change of one event into an infinite z-score.
 */
export function observeAnomaly(
  rule: Pick<AlertRule, 'threshold'> & { anomaly: AnomalySettings },
  rows: readonly BucketRow[],
  samples: ReadonlyMap<string, readonly string[]> = new Map(),
): Observation[] {
  const { metric, trailingWindows, direction, minBaseline } = rule.anomaly;
  const byGroup = new Map<string, { group: Group; totals: number[]; errors: number[] }>();
  for (const row of rows) {
    if (row.bucket < 0 || row.bucket > trailingWindows) continue;
    const key = groupKey(row.group);
    let g = byGroup.get(key);
    if (!g) {
      g = {
        group: row.group,
        totals: new Array(trailingWindows + 1).fill(0),
        errors: new Array(trailingWindows + 1).fill(0),
      };
      byGroup.set(key, g);
    }
    g.totals[row.bucket] = (g.totals[row.bucket] ?? 0) + row.total;
    g.errors[row.bucket] = (g.errors[row.bucket] ?? 0) + row.errors;
  }
  const out: Observation[] = [];
  for (const [key, g] of byGroup) {
    const currentTotal = g.totals[0] ?? 0;
    const trailingTotals = g.totals.slice(1);
    const { mean: meanTotal } = meanStd(trailingTotals);
    let current: number;
    let mean: number;
    let std: number;
    if (metric === 'volume') {
      current = currentTotal;
      ({ mean, std } = meanStd(trailingTotals));
      std = Math.max(std, Math.sqrt(Math.max(mean, 1)));
    } else {
      const rate = (i: number) => (g.errors[i] ?? 0) / (g.totals[i] ?? 1);
      current = currentTotal > 0 ? rate(0) : 0;
      const rates = trailingTotals.flatMap((t, i) => (t > 0 ? [rate(i + 1)] : []));
      ({ mean, std } = meanStd(rates));
      const n = Math.max(meanTotal, 1);
      std = Math.max(std, Math.sqrt(Math.max(mean * (1 - mean), 1 / n) / n));
    }
    const z = (current - mean) / std;
    const judged = meanTotal >= minBaseline;
    const beyond =
      direction === 'up'
        ? z > rule.threshold
        : direction === 'down'
          ? -z > rule.threshold
          : Math.abs(z) > rule.threshold;
    out.push({
      group: g.group,
      groupKey: key,
      value: round(z, 3),
      judged,
      breaching: judged && beyond,
      details: {
        current: round(current, 6),
        mean: round(mean, 6),
        stddev: round(std, 6),
        baselineEvents: meanTotal,
      },
      samples: samples.get(key) ?? [],
    });
  }
  return out;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** One group of an absence rule over its baseline and window: how many events, and the newest one's time. */
export interface PresenceRow {
  readonly group: Group;
  readonly total: number;
  readonly lastSeen: string | null;
}

/**
 * Observations of an `absence` rule: a group that sent at least `minEvents` events in the baseline and
 * none in the window breaches; its value is the minutes of silence at the window's end.
 */
export function observeAbsence(
  rule: Pick<AlertRule, 'minEvents'>,
  window: Pick<AlertWindow, 'start' | 'end'>,
  rows: readonly PresenceRow[],
): Observation[] {
  const start = Date.parse(window.start);
  const end = Date.parse(window.end);
  return rows.map((row): Observation => {
    const last = row.lastSeen ? Date.parse(row.lastSeen) : Number.NaN;
    const silent = Number.isNaN(last) || last < start;
    // A group with events in the window has them counted in `total` too; the baseline alone is judged.
    const judged = row.total >= rule.minEvents;
    return {
      group: row.group,
      groupKey: groupKey(row.group),
      value: Number.isNaN(last) ? 0 : Math.max(0, Math.floor((end - last) / 60_000)),
      judged,
      breaching: judged && silent,
      details: { events: row.total },
      samples: [],
    };
  });
}

/** One group of a percentile rule: its events and the percentile of its field (null: no numeric value). */
export interface PercentileRow {
  readonly group: Group;
  readonly total: number;
  readonly value: number | null;
  readonly samples: readonly string[];
}

/** Observations of a `percentile` rule: judged from `minEvents` events with a value. */
export function observePercentile(
  rule: Pick<AlertRule, 'minEvents' | 'threshold'>,
  rows: readonly PercentileRow[],
): Observation[] {
  return rows.map((row): Observation => {
    const judged = row.total >= rule.minEvents && row.value !== null;
    const value = row.value ?? 0;
    return {
      group: row.group,
      groupKey: groupKey(row.group),
      value: round(value, 3),
      judged,
      breaching: judged && value > rule.threshold,
      details: { total: row.total },
      samples: row.samples,
    };
  });
}

/**
 * Observations of a `ratio` rule: per denominator group, the matching numerator events over its events.
 * Numerator groups without a denominator row were cut by `minEvents` or the group limit: not judged.
 */
export function observeRatio(
  rule: Pick<AlertRule, 'minEvents' | 'threshold'>,
  denominators: readonly AggregateRow[],
  numerators: readonly AggregateRow[],
): Observation[] {
  const matched = new Map(numerators.map((n) => [groupKey(n.group), n]));
  return denominators.map((d): Observation => {
    const key = groupKey(d.group);
    const n = matched.get(key);
    const hits = n?.total ?? 0;
    const judged = d.total >= rule.minEvents;
    const value = d.total > 0 ? hits / d.total : 0;
    return {
      group: d.group,
      groupKey: key,
      value: round(value, 6),
      judged,
      breaching: judged && value > rule.threshold,
      details: { matched: hits, total: d.total },
      samples: n?.samples ?? [],
    };
  });
}
