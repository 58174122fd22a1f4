/**
 * Too little traffic neither starts nor ends an incident: a group under `minEvents` (left out of the
 * query's results, or returned and not judged) keeps the state it had, until it has gone unjudged for
 * the hold limit; then it resolves like any group that stopped breaching.
 */
import { describe, expect, it } from 'vitest';
import { ruleWindow } from '../../src/alerts/alert';
import { type AlertRule, DEFAULT_RULES } from '../../src/alerts/config';
import {
  EMPTY_RULE_STATE,
  evaluateRule,
  type RuleEvaluation,
  unjudgedHoldMinutes,
} from '../../src/alerts/engine';
import {
  type AggregateRow,
  type Observation,
  observeAbsence,
  observeAggregates,
  observePercentile,
  observeRatio,
} from '../../src/alerts/observe';

const errorRate: AlertRule = {
  ...(DEFAULT_RULES['error-rate'] as Omit<AlertRule, 'name'>),
  name: 'error-rate',
  minEvents: 20,
};
const t = (minute: number) => new Date(Date.UTC(2025, 0, 6, 12, minute));

/** One service's window as the query reports it: `total` events, `errors` of them errors. */
const row = (total: number, errors: number): AggregateRow => ({
  group: { service: 'checkout' },
  total,
  errors,
  samples: [],
});

/**
 * The rows the error-rate query returns: groups under `minEvents` are left out by its HAVING clause
 * (`query.ts`), so a window of 5 events has no row at all.
 */
const queried = (rule: AlertRule, rows: AggregateRow[]): Observation[] =>
  observeAggregates(
    rule,
    rows.filter((r) => r.total >= rule.minEvents),
  );

/** Evaluate one observation list per 5-minute slot, in order, returning each evaluation. */
function sequence(rule: AlertRule, steps: Observation[][], startMinute = 5): RuleEvaluation[] {
  let state = EMPTY_RULE_STATE;
  return steps.map((observations, i) => {
    const at = t(startMinute + 5 * i);
    const evaluation = evaluateRule(rule, at, ruleWindow(rule, at, 2), observations, state);
    state = evaluation.state;
    return evaluation;
  });
}

describe('evaluateRule with too little traffic', () => {
  it('keeps an error-rate incident firing through a window under minEvents, and resolves it on real traffic', () => {
    // Prepare: 100 events at 10% errors, then 5 events (all errors), then 100 events without errors.
    const steps = [
      queried(errorRate, [row(100, 10)]),
      queried(errorRate, [row(5, 5)]),
      queried(errorRate, [row(100, 0)]),
    ];
    // Act
    const [fired, thin, recovered] = sequence(errorRate, steps);
    // Assess
    expect(fired?.alerts.map((a) => a.status)).toEqual(['firing']);
    expect(thin?.alerts).toEqual([]);
    expect(thin?.state.groups['service=checkout']?.status).toBe('firing');
    expect(thin?.state.lastResolved).toBeUndefined();
    expect(recovered?.alerts.map((a) => a.status)).toEqual(['resolved']);
    expect(recovered?.state.groups).toEqual({});
  });

  it('does not page twice when traffic dips under minEvents and comes back still breaching', () => {
    const steps = [
      queried(errorRate, [row(100, 10)]),
      queried(errorRate, [row(3, 0)]),
      queried(errorRate, [row(100, 12)]),
    ];
    const evaluations = sequence({ ...errorRate, renotifyMinutes: 0 }, steps);
    expect(evaluations.flatMap((e) => e.alerts.map((a) => a.status))).toEqual(['firing']);
    expect(evaluations[2]?.state.groups['service=checkout']?.since).toBe(t(5).toISOString());
  });

  it('holds a group returned with too few events (judged false) the same way', () => {
    const steps = [observeAggregates(errorRate, [row(100, 10)]), observeAggregates(errorRate, [row(5, 0)])];
    const [, thin] = sequence(errorRate, steps);
    expect(thin?.alerts).toEqual([]);
    expect(thin?.state.groups['service=checkout']?.status).toBe('firing');
    expect(thin?.decisions).toContainEqual(expect.objectContaining({ action: 'hold' }));
  });

  it('never starts an incident from a window under minEvents', () => {
    const [first] = sequence(errorRate, [observeAggregates(errorRate, [row(5, 5)])]);
    expect(first?.alerts).toEqual([]);
    expect(first?.state.groups).toEqual({});
  });

  it('holds a pending group under minEvents without counting it towards forEvaluations', () => {
    const rule = { ...errorRate, forEvaluations: 2 };
    const evaluations = sequence(rule, [
      queried(rule, [row(100, 10)]),
      queried(rule, [row(5, 5)]),
      queried(rule, [row(100, 10)]),
    ]);
    expect(evaluations[1]?.state.groups['service=checkout']).toMatchObject({
      status: 'pending',
      consecutive: 1,
    });
    expect(evaluations[2]?.alerts.map((a) => a.status)).toEqual(['firing']);
  });

  it('resolves an incident whose service has sent too little to judge for the hold limit', () => {
    // Prepare: fired at minute 5, then silent.
    const hold = unjudgedHoldMinutes(errorRate);
    const silentSlots = hold / 5;
    const steps = [queried(errorRate, [row(100, 10)]), ...Array.from({ length: silentSlots }, () => [])];
    // Act
    const evaluations = sequence(errorRate, steps);
    // Assess: held until `hold` minutes after the last judged evaluation, resolved at that slot.
    expect(hold).toBe(60);
    expect(evaluations.slice(1, -1).every((e) => e.alerts.length === 0)).toBe(true);
    const last = evaluations.at(-1);
    expect(last?.at).toBe(t(5 + hold).toISOString());
    expect(last?.alerts).toMatchObject([
      { status: 'resolved', groupKey: 'service=checkout', details: { unjudgedMinutes: 60 } },
    ]);
    expect(last?.state.groups).toEqual({});
    expect(last?.state.lastResolved).toEqual({ at: t(65).toISOString(), groupKey: 'service=checkout' });
  });

  it('holds a long-window rule for two of its windows', () => {
    expect(unjudgedHoldMinutes({ windowMinutes: 60 })).toBe(120);
    expect(unjudgedHoldMinutes({ windowMinutes: 5 })).toBe(60);
  });

  it('keeps a percentile incident firing while its group is missing from the results', () => {
    const rule: AlertRule = {
      ...errorRate,
      name: 'latency',
      kind: 'percentile',
      threshold: 500,
      percentile: { fn: 'p95', field: 'duration_ms' },
    };
    const group = { service: 'checkout' };
    const evaluations = sequence(rule, [
      observePercentile(rule, [{ group, total: 100, value: 900, samples: [] }]),
      [],
      observePercentile(rule, [{ group, total: 100, value: 100, samples: [] }]),
    ]);
    expect(evaluations.map((e) => e.alerts.map((a) => a.status))).toEqual([['firing'], [], ['resolved']]);
  });

  it('keeps a ratio incident firing while its denominator is missing from the results', () => {
    const rule: AlertRule = {
      ...errorRate,
      name: 'declines',
      kind: 'ratio',
      threshold: 0.2,
      ratio: { match: { text: 'declined' } },
    };
    const group = { service: 'checkout' };
    const evaluations = sequence(rule, [
      observeRatio(
        rule,
        [{ group, total: 100, errors: 0, samples: [] }],
        [{ group, total: 50, errors: 0, samples: [] }],
      ),
      [],
      observeRatio(rule, [{ group, total: 100, errors: 0, samples: [] }], []),
    ]);
    expect(evaluations.map((e) => e.alerts.map((a) => a.status))).toEqual([['firing'], [], ['resolved']]);
  });

  it('keeps an absence incident firing while its baseline thins out under minEvents, however long', () => {
    // Prepare: a worker expected from a 24-hour baseline goes silent; as the silence grows, fewer than
    // minEvents events remain in the baseline (not judged) until it leaves the baseline altogether.
    const rule: AlertRule = {
      ...errorRate,
      name: 'worker-silent',
      kind: 'absence',
      threshold: 0,
      minEvents: 10,
      absence: { baselineMinutes: 24 * 60 },
    };
    const group = { service: 'worker' };
    const window = { start: t(0).toISOString(), end: t(5).toISOString() };
    const silent = (events: number) =>
      observeAbsence(rule, window, [{ group, total: events, lastSeen: '2025-01-06T11:00:00.000Z' }]);
    // Act: fired on a judged baseline, then 2 hours of a baseline too thin to judge.
    const evaluations = sequence(rule, [silent(20), ...Array.from({ length: 24 }, () => silent(5))]);
    // Assess
    expect(evaluations[0]?.alerts.map((a) => a.status)).toEqual(['firing']);
    expect(evaluations.slice(1).flatMap((e) => e.alerts)).toEqual([]);
    expect(evaluations.at(-1)?.state.groups['service=worker']?.status).toBe('firing');
  });

  it('still resolves a count incident whose group had no events (zero is a judged count)', () => {
    const rule: AlertRule = {
      ...(DEFAULT_RULES['security-critical'] as Omit<AlertRule, 'name'>),
      name: 'sc',
    };
    const evaluations = sequence(rule, [observeAggregates(rule, [row(3, 3)]), []]);
    expect(evaluations.map((e) => e.alerts.map((a) => a.status))).toEqual([['firing'], ['resolved']]);
  });
});
