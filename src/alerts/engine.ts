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
 * Kinds whose query leaves out groups under `minEvents` (and whose value means nothing without
 * events): a group missing from their results had too little traffic to judge, not a value of 0.
 */
const JUDGED_FROM_MIN_EVENTS: ReadonlySet<AlertRule['kind']> = new Set(['error_rate', 'percentile', 'ratio']);

/** The shortest hold of a group that cannot be judged, in minutes. */
export const UNJUDGED_HOLD_MINUTES = 60;

/**
 * How long a pending or firing group that cannot be judged (too little traffic, or none) keeps its
 * state: an hour, or two of the rule's windows when that is longer. After that it is treated as no
 * longer breaching (a notified incident resolves), so a service that went silent does not keep an
 * incident open for ever; absence rules are the ones that page on silence (their incidents are held
 * without this limit).
 */
export function unjudgedHoldMinutes(rule: Pick<AlertRule, 'windowMinutes'>): number {
  return Math.max(UNJUDGED_HOLD_MINUTES, 2 * rule.windowMinutes);
}

/**
 * Apply one evaluation. Groups in the prior state that the query no longer returns had no matching
 * events in the window: for `count`, `anomaly` and `error_output` rules they count as value 0 (not
 * breaching), so they resolve; for `error_rate`, `percentile` and `ratio` rules they had fewer than
 * `minEvents` events, so they are not judged and keep their state (see {@link unjudgedHoldMinutes});
 * for `absence` rules such a group has been silent for longer than the baseline and is still absent.
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
        judged: !JUDGED_FROM_MIN_EVENTS.has(rule.kind),
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
  for (const observed of [...observations, ...quiet]) {
    let o = observed;
    const previous = prior.groups[o.groupKey];
    // An unjudged group (too little traffic) neither starts nor ends an incident: its state stays as it
    // was (`lastEvaluatedAt` included, so it tells how long it has gone unjudged) up to the hold limit.
    if (!o.judged && previous) {
      const unjudgedMinutes = Math.floor((at.getTime() - Date.parse(previous.lastEvaluatedAt)) / 60_000);
      // An absence incident is about silence: a baseline thinning out under minEvents is its silence
      // going on, held until the group sends again.
      if (rule.kind === 'absence' || unjudgedMinutes < unjudgedHoldMinutes(rule)) {
        groups[o.groupKey] = previous;
        decisions.push({
          groupKey: o.groupKey,
          value: o.value,
          action: 'hold',
          reason: 'too little data to judge',
        });
        continue;
      }
      o = { ...o, breaching: false, details: { ...o.details, unjudgedMinutes } };
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
