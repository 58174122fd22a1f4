/**
 * The rule state remembers when a rule last fired and last resolved (the compliance report's alert
 * coverage), from the state of its groups: a resolve that sends no notification still counts.
 */
import { describe, expect, it } from 'vitest';
import { ruleWindow } from '../../src/alerts/alert';
import { type AlertRule, DEFAULT_RULES } from '../../src/alerts/config';
import { EMPTY_RULE_STATE, evaluateRule, type RuleState } from '../../src/alerts/engine';
import type { Observation } from '../../src/alerts/observe';

const base = { ...(DEFAULT_RULES['error-rate'] as Omit<AlertRule, 'name'>), name: 'error-rate' };
const t = (minute: number) => new Date(Date.UTC(2025, 0, 6, 12, minute));

const obs = (service: string, value: number): Observation => ({
  group: { service },
  groupKey: `service=${service}`,
  value,
  breaching: value > 0.05,
  judged: true,
  details: {},
  samples: [],
});

/** Evaluate `steps` in order (one per 5 minutes), returning the state after each. */
function run(rule: AlertRule, steps: Observation[][]): RuleState[] {
  let state = EMPTY_RULE_STATE;
  return steps.map((observations, i) => {
    const at = t(5 * (i + 1));
    state = evaluateRule(rule, at, ruleWindow(rule, at, 2), observations, state).state;
    return state;
  });
}

describe('rule transitions in the state', () => {
  it('records the evaluation and group that fired, then the one that resolved, and keeps both after', () => {
    const states = run(base, [
      [obs('checkout', 0.01)],
      [obs('checkout', 0.2)],
      [obs('checkout', 0.3)],
      [obs('checkout', 0.01)],
      [],
    ]);
    expect(states[0]).toEqual({ groups: {} });
    expect(states[1]?.lastFired).toEqual({ at: t(10).toISOString(), groupKey: 'service=checkout' });
    // Still firing: not a new start.
    expect(states[2]?.lastFired?.at).toBe(t(10).toISOString());
    expect(states[2]?.lastResolved).toBeUndefined();
    // Back under the threshold: resolved.
    expect(states[3]?.lastResolved).toEqual({ at: t(20).toISOString(), groupKey: 'service=checkout' });
    expect(states[4]).toEqual({
      groups: {},
      lastFired: { at: t(10).toISOString(), groupKey: 'service=checkout' },
      lastResolved: { at: t(20).toISOString(), groupKey: 'service=checkout' },
    });
  });

  it('records a resolve that sends no notification (notifyResolved off)', () => {
    const states = run({ ...base, notifyResolved: false }, [[obs('search', 0.5)], [obs('search', 0)]]);
    expect(states[1]?.lastResolved).toEqual({ at: t(10).toISOString(), groupKey: 'service=search' });
  });

  it('records nothing for a breach that never reached forEvaluations', () => {
    const states = run({ ...base, forEvaluations: 3 }, [[obs('search', 0.5)], [obs('search', 0)]]);
    expect(states[1]).toEqual({ groups: {} });
  });
});
