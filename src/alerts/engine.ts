/**
 * One rule, one evaluation: observations + the rule's prior state → the next state and the alerts to
 * send. Pure; shared by the alarm Lambda and the local pipeline (`run.ts` drives both).
 */
import { type Alert, type AlertWindow, alertId, searchCommand } from './alert';
import type { AlertRule, SuppressionWindow } from './config';
import { type Action, decide, escalationSeverity, type GroupState } from './decide';
import { type Observation, parseGroupKey, valueUnit } from './observe';
import { activeSuppression, describeWindow } from './suppression';

/** Everything kept about a rule between evaluations. */
export interface RuleState {
  /** Groups currently pending or firing, by group key. */
  readonly groups: Readonly<Record<string, GroupState>>;
  /** The last evaluation at which a group started firing (the compliance report's alert coverage). */
  readonly lastFired?: RuleTransition;
  /** The last evaluation at which a firing group stopped firing, notified or not. */
  readonly lastResolved?: RuleTransition;
}

/** A group's change between quiet and firing: when (evaluation time, ISO-8601) and which group. */
export interface RuleTransition {
  readonly at: string;
  readonly groupKey: string;
}

export const EMPTY_RULE_STATE: RuleState = { groups: {} };

export interface GroupDecision {
  readonly groupKey: string;
  readonly value: number;
  readonly action: Action;
  readonly reason: string;
}

export interface RuleEvaluation {
  readonly rule: string;
  readonly at: string;
  readonly window: AlertWindow;
  readonly state: RuleState;
  readonly alerts: Alert[];
  readonly decisions: GroupDecision[];
}

export interface EvaluateOptions {
  /** Maintenance windows applied to every rule, besides the rule's own. */
  readonly globalSuppress?: readonly SuppressionWindow[];
  /** Appended to the `loglake search` command (`--data-dir …`, `--athena …`). */
  readonly searchTarget?: string;
}

/**
 * Apply one evaluation. Groups in the prior state that the query no longer returns had no matching
 * events in the window: they count as value 0 (not breaching), so they resolve; except for `absence`
 * rules, where such a group has been silent for longer than the baseline and is still absent.
 */
export function evaluateRule(
  rule: AlertRule,
  at: Date,
  window: AlertWindow,
  observations: readonly Observation[],
  prior: RuleState,
  options: EvaluateOptions = {},
): RuleEvaluation {
  const suppression = activeSuppression([...rule.suppress, ...(options.globalSuppress ?? [])], at);
  const suppressedBy = suppression ? describeWindow(suppression) : undefined;
  const seen = new Set(observations.map((o) => o.groupKey));
  const quiet: Observation[] = Object.keys(prior.groups)
    .filter((k) => !seen.has(k))
    .map((k): Observation => {
      const previous = prior.groups[k];
      if (rule.kind === 'absence' && previous) {
        const elapsed = Math.max(0, at.getTime() - Date.parse(previous.lastEvaluatedAt)) / 60_000;
        return {
          group: parseGroupKey(k),
          groupKey: k,
          value: Math.floor(previous.lastValue + elapsed),
          breaching: true,
          judged: true,
          details: { events: 0 },
          samples: [],
        };
      }
      return {
        group: parseGroupKey(k),
        groupKey: k,
        value: 0,
        breaching: false,
        judged: true,
        details: {},
        samples: [],
      };
    });
  const groups: Record<string, GroupState> = {};
  const alerts: Alert[] = [];
  const decisions: GroupDecision[] = [];
  const firedAt = at.toISOString();
  let lastFired = prior.lastFired;
  let lastResolved = prior.lastResolved;
  for (const o of [...observations, ...quiet]) {
    const previous = prior.groups[o.groupKey];
    // An unjudged group (too little traffic) neither starts nor ends an incident.
    if (!o.judged && previous) {
      groups[o.groupKey] = previous;
      decisions.push({
        groupKey: o.groupKey,
        value: o.value,
        action: 'hold',
        reason: 'too little data to judge',
      });
      continue;
    }
    const d = decide({ rule, breaching: o.breaching, value: o.value, at, prior: previous, suppressedBy });
    if (d.next) groups[o.groupKey] = d.next;
    // From the state, not the notification: a resolve with notifyResolved off, or one inside a
    // maintenance window, still ends the incident.
    const wasFiring = previous?.status === 'firing';
    const isFiring = d.next?.status === 'firing';
    if (isFiring && !wasFiring) lastFired = { at: firedAt, groupKey: o.groupKey };
    if (wasFiring && !isFiring) lastResolved = { at: firedAt, groupKey: o.groupKey };
    if (d.action !== 'none' || o.breaching) {
      decisions.push({ groupKey: o.groupKey, value: o.value, action: d.action, reason: d.reason });
    }
    if (d.action !== 'fire' && d.action !== 'resolve') continue;
    const status = d.action === 'fire' ? 'firing' : 'resolved';
    const search = searchCommand(rule, o.group, window, options.searchTarget);
    const severity = d.escalated ? escalationSeverity(rule) : rule.severity;
    alerts.push({
      version: 1,
      id: alertId(rule.name, o.groupKey, status, firedAt),
      source: 'rule',
      status,
      rule: rule.name,
      description: rule.description,
      severity,
      ...(severity !== rule.severity ? { escalatedFrom: rule.severity } : {}),
      ...(rule.channels?.length ? { channels: rule.channels } : {}),
      kind: rule.kind,
      value: o.value,
      threshold: rule.threshold,
      unit: valueUnit(rule),
      window,
      group: o.group,
      groupKey: o.groupKey,
      firedAt,
      since: previous?.since ?? d.next?.since ?? firedAt,
      repeat: d.repeat,
      samples: o.samples,
      details: o.details,
      ...(search ? { search } : {}),
    });
  }
  const state: RuleState = {
    groups,
    ...(lastFired ? { lastFired } : {}),
    ...(lastResolved ? { lastResolved } : {}),
  };
  return { rule: rule.name, at: firedAt, window, state, alerts, decisions };
}
