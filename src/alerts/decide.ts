/**
 * The decision engine: an observation plus the group's prior state → fire, resolve, suppress or hold.
 * Pure and deterministic; the caller persists `next` and sends the notification the decision asks for.
 */
import { type AlertRule, SEVERITIES, type Severity, severityRank } from './config';

/**
 * Per (rule, group) state between evaluations. A group with nothing going on has no state at all, so
 * the stored state stays as small as the set of groups currently breaching.
 */
export interface GroupState {
  /** `pending`: breaching, but fewer consecutive evaluations than `forEvaluations`. */
  readonly status: 'pending' | 'firing';
  /** Consecutive breaching evaluations, this one included. */
  readonly consecutive: number;
  /** Evaluation time of the first breach of this incident. */
  readonly since: string;
  /** Evaluation time of the last observation applied; a replayed evaluation is recognised by it. */
  readonly lastEvaluatedAt: string;
  readonly lastValue: number;
  /** When a `firing` notification was last sent; absent while pending or while suppressed throughout. */
  readonly notifiedAt?: string;
  /** The incident was escalated: its notifications (re-notify, resolve) go to the escalation severity. */
  readonly escalated?: boolean;
}

export type Action = 'fire' | 'resolve' | 'suppress' | 'hold' | 'none';

export interface Decision {
  readonly action: Action;
  /** Why, in words, for logs and the CLI's verbose output. */
  readonly reason: string;
  /** State to store for the group; undefined = delete it (the group is quiet). */
  readonly next: GroupState | undefined;
  /** A `fire` that repeats an earlier notification of the same incident (re-notify interval). */
  readonly repeat: boolean;
  /** The notification goes to the rule's escalation severity (this fire escalates, or it was escalated). */
  readonly escalated?: boolean;
}

export interface DecideInput {
  readonly rule: Pick<AlertRule, 'forEvaluations' | 'renotifyMinutes' | 'notifyResolved'> &
    Partial<Pick<AlertRule, 'escalation'>>;
  readonly breaching: boolean;
  readonly value: number;
  /** Evaluation time (the schedule slot). */
  readonly at: Date;
  readonly prior: GroupState | undefined;
  /** Description of the active maintenance window, if one applies now. */
  readonly suppressedBy?: string;
}

/**
 * Decide what one evaluation of one group means.
 *
 * - A breach counts towards `forEvaluations`; once reached the group fires, unless a maintenance window
 *   suppresses it (it then fires when the window ends, if still breaching).
 * - While firing, it is notified again every `renotifyMinutes` (0 = once per incident).
 * - When the breach ends, a group that was notified resolves (even inside a maintenance window: the
 *   people who were told it broke should hear that it recovered); one that never was is dropped silently.
 * - An evaluation at or before the last applied one changes nothing (EventBridge retries, replays).
 */
export function decide(input: DecideInput): Decision {
  const { rule, breaching, value, at, prior, suppressedBy } = input;
  const now = at.toISOString();
  if (prior && Date.parse(prior.lastEvaluatedAt) >= at.getTime()) {
    return {
      action: 'none',
      reason: `already evaluated at ${prior.lastEvaluatedAt}`,
      next: prior,
      repeat: false,
    };
  }
  if (!breaching) {
    if (!prior) return { action: 'none', reason: 'not breaching', next: undefined, repeat: false };
    if (prior.status === 'firing' && prior.notifiedAt && rule.notifyResolved) {
      return {
        action: 'resolve',
        reason: 'no longer breaching',
        next: undefined,
        repeat: false,
        ...(prior.escalated ? { escalated: true } : {}),
      };
    }
    return {
      action: 'none',
      reason:
        prior.status === 'pending' ? 'breach ended before forEvaluations' : 'resolved without notification',
      next: undefined,
      repeat: false,
    };
  }
  const consecutive = (prior?.consecutive ?? 0) + 1;
  const since = prior?.since ?? now;
  if (consecutive < rule.forEvaluations) {
    return {
      action: 'hold',
      reason: `breaching ${consecutive}/${rule.forEvaluations} consecutive evaluations`,
      next: { status: 'pending', consecutive, since, lastEvaluatedAt: now, lastValue: value },
      repeat: false,
    };
  }
  const escalated = prior?.escalated === true;
  const firing = {
    status: 'firing' as const,
    consecutive,
    since,
    lastEvaluatedAt: now,
    lastValue: value,
    ...(escalated ? { escalated } : {}),
  };
  if (suppressedBy) {
    return {
      action: 'suppress',
      reason: `suppressed by maintenance window ${suppressedBy}`,
      next: prior?.notifiedAt ? { ...firing, notifiedAt: prior.notifiedAt } : firing,
      repeat: false,
    };
  }
  // Escalation: the incident has lasted `afterMinutes` and was not escalated yet.
  const escalateNow =
    rule.escalation !== undefined &&
    !escalated &&
    at.getTime() - Date.parse(since) >= rule.escalation.afterMinutes * 60_000;
  if (!prior?.notifiedAt) {
    return {
      action: 'fire',
      reason: escalateNow ? `breaching for ${rule.escalation?.afterMinutes} min: escalated` : 'breaching',
      next: { ...firing, notifiedAt: now, ...(escalateNow ? { escalated: true } : {}) },
      repeat: false,
      ...(escalateNow || escalated ? { escalated: true } : {}),
    };
  }
  if (escalateNow) {
    return {
      action: 'fire',
      reason: `still firing after ${rule.escalation?.afterMinutes} min: escalated`,
      next: { ...firing, notifiedAt: now, escalated: true },
      repeat: true,
      escalated: true,
    };
  }
  const due =
    rule.renotifyMinutes > 0 && at.getTime() - Date.parse(prior.notifiedAt) >= rule.renotifyMinutes * 60_000;
  if (due) {
    return {
      action: 'fire',
      reason: `still breaching after ${rule.renotifyMinutes} min`,
      next: { ...firing, notifiedAt: now },
      repeat: true,
      ...(escalated ? { escalated: true } : {}),
    };
  }
  return {
    action: 'hold',
    reason: `firing, notified at ${prior.notifiedAt}`,
    next: { ...firing, notifiedAt: prior.notifiedAt },
    repeat: false,
  };
}

/** The severity an escalated alert of `rule` goes to: `escalation.to`, or the next more urgent one. */
export function escalationSeverity(rule: Pick<AlertRule, 'severity' | 'escalation'>): Severity {
  if (rule.escalation?.to) return rule.escalation.to;
  return SEVERITIES[Math.max(0, severityRank(rule.severity) - 1)] ?? rule.severity;
}
