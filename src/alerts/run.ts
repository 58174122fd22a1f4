/**
 * Evaluates every rule for one schedule slot: query → decide → store → notify. The same code runs in
 * the alarm Lambda (Athena, DynamoDB, SNS) and in the local pipeline (DuckDB, a JSON file, stdout and a
 * webhook); only the ports differ.
 *
 * Exactly-once per slot and nothing lost: the new state and the alerts it produced are written together
 * (an outbox) with a conditional write, then sent, then the outbox is cleared. A retry of the same slot
 * finds the slot already applied and only re-sends an outbox that is still there (at-least-once
 * delivery, deduplicable by `Alert.id`). An evaluation that loses the conditional write reads the state
 * again: it stops when the winner applied this slot or a later one, and decides again otherwise.
 *
 * Nothing skipped: each rule remembers the end of the last window it evaluated. When a slot never ran
 * (an invocation that failed beyond its retries, a local timer gap, a laptop asleep), the next one
 * first evaluates the time its own window does not reach back to, in windows of the rule's length,
 * oldest first, each under the slot that missed it, then its own; bounded by
 * {@link MAX_CATCH_UP_WINDOWS} and {@link MAX_CATCH_UP_MINUTES}.
 */
import { LogLakeError } from '../errors';
import { type Alert, type AlertWindow, evaluationSlot, ruleWindow, ruleWindowEndingAt } from './alert';
import type { AlertRule, SuppressionWindow } from './config';
import {
  EMPTY_RULE_STATE,
  evaluateRule,
  type GroupDecision,
  type RuleEvaluation,
  type RuleState,
} from './engine';
import { type Group, type Observation, parseGroupKey } from './observe';

/** Where observations come from (DuckDB, Athena, the error-object log). */
export interface ObservationSource {
  /**
   * @param keep groups pending or firing before this evaluation: a source that limits its groups
   * (`maxGroups`) still reports these, so an incident is never resolved for being pushed out.
   */
  observe(rule: AlertRule, window: AlertWindow, at: Date, keep?: readonly Group[]): Promise<Observation[]>;
}

export interface StoredRuleState {
  readonly state: RuleState;
  /** Last applied evaluation slot, ISO-8601. */
  readonly lastSlot?: string;
  /** End of the window evaluated at `lastSlot`, ISO-8601: where the next evaluation has to start. */
  readonly lastWindowEnd?: string;
  /** Alerts of `lastSlot` not yet confirmed sent. */
  readonly outbox: readonly Alert[];
  /** Optimistic-lock version; 0 = never stored. */
  readonly version: number;
}

export interface StateStore {
  get(rule: string): Promise<StoredRuleState | undefined>;
  /**
   * Write `value` (with `version` = `expectedVersion + 1`) only if the stored version is still
   * `expectedVersion` (0: no item yet). Resolves false when another writer got there first.
   */
  put(rule: string, value: Omit<StoredRuleState, 'version'>, expectedVersion: number): Promise<boolean>;
}

export interface Notifier {
  /** Sends every alert or throws; alerts may be sent again after a failure (ids are stable). */
  send(alerts: readonly Alert[]): Promise<void>;
}

export interface RunOptions {
  /**
   * Minutes between a rule's window end and the slot (Firehose's delivery delay on AWS): one for all
   * rules, or per rule (per stream buffer).
   */
  readonly delayMinutes: number | ((rule: AlertRule) => number);
  /**
   * Instead of `delayMinutes`: windows end this many ms before the evaluation time itself (not its
   * minute slot), to the second. The local pipeline's delivery latency (its flush interval), so what it
   * delivered a moment ago is evaluated. @default undefined (use `delayMinutes`)
   */
  readonly latencyMs?: number;
  readonly globalSuppress?: readonly SuppressionWindow[];
  readonly searchTarget?: string;
}

export type RuleOutcome =
  | {
      readonly rule: string;
      readonly outcome: 'evaluated';
      readonly decisions: GroupDecision[];
      /** Alerts of this slot and of the windows it caught up. */
      readonly sent: number;
      /** Windows of skipped slots evaluated before this slot's own. */
      readonly caughtUp?: number;
    }
  | { readonly rule: string; readonly outcome: 'replayed'; readonly sent: number }
  | { readonly rule: string; readonly outcome: 'skipped'; readonly reason: string }
  | { readonly rule: string; readonly outcome: 'failed'; readonly error: Error };

export interface RunReport {
  readonly slot: string;
  readonly outcomes: RuleOutcome[];
  /** Every alert sent in this run (including re-sent outboxes). */
  readonly alerts: Alert[];
}

/** Some rules failed; the others were applied. Thrown so a Lambda invocation fails and is retried. */
export class EvaluationError extends LogLakeError {
  constructor(
    message: string,
    readonly report: RunReport,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EvaluationError';
  }
}

/** Conditional writes one rule's evaluation tries before leaving the slot to the evaluations that won. */
const WRITE_ATTEMPTS = 3;

/**
 * Most windows of skipped slots one evaluation catches up (the most recent ones): an hour of 5-minute
 * windows, so a rule that was stopped for a month neither pages for old history nor runs a month of
 * queries at once.
 */
export const MAX_CATCH_UP_WINDOWS = 12;
/** Missed windows ending longer than this before the slot's own window starts are not caught up. */
export const MAX_CATCH_UP_MINUTES = 24 * 60;
/** A gap shorter than this (the local pipeline's ticks drift by seconds) is not worth a window of its own. */
const CATCH_UP_MIN_GAP_MS = 60_000;

/** One evaluation of a rule: its slot (the evaluation time) and the window it reads. */
interface Step {
  readonly slot: Date;
  readonly window: AlertWindow;
}

/**
 * The windows left unread between the last evaluated window (ending `lastWindowEnd`) and `current`:
 * whole windows of the rule's length ending 1, 2, … lengths before `current` ends, enough to reach back
 * to `lastWindowEnd`, within the bounds, oldest first. Each is evaluated under the slot as far before
 * `slot` as its end is before `current`'s end, the slot that would have read it.
 */
export function missedSteps(
  rule: Pick<AlertRule, 'kind' | 'windowMinutes'>,
  slot: Date,
  current: AlertWindow,
  lastWindowEnd: string | undefined,
): Step[] {
  if (!lastWindowEnd) return [];
  const length = rule.windowMinutes * 60_000;
  const gap = Date.parse(current.start) - Date.parse(lastWindowEnd);
  if (!(gap >= CATCH_UP_MIN_GAP_MS)) return [];
  const count = Math.min(
    Math.ceil(gap / length),
    MAX_CATCH_UP_WINDOWS,
    Math.floor((MAX_CATCH_UP_MINUTES * 60_000) / length),
  );
  const end = Date.parse(current.end);
  const steps: Step[] = [];
  for (let k = count; k >= 1; k--) {
    steps.push({
      slot: new Date(slot.getTime() - k * length),
      window: ruleWindowEndingAt(rule, end - k * length),
    });
  }
  return steps;
}

export interface RunPorts {
  readonly source: ObservationSource;
  readonly store: StateStore;
  readonly notifier: Notifier;
}

/**
 * Evaluate `rules` at `at` (floored to the minute: the slot). Rules run one after another so a slow
 * query does not multiply load on the engine; a failing rule does not stop the others.
 * @throws EvaluationError when any rule failed, after all rules were tried.
 */
export async function runEvaluation(
  rules: readonly AlertRule[],
  at: Date,
  ports: RunPorts,
  options: RunOptions,
): Promise<RunReport> {
  const slot = evaluationSlot(at);
  const outcomes: RuleOutcome[] = [];
  const alerts: Alert[] = [];
  for (const rule of rules) {
    try {
      outcomes.push(await runRule(rule, at, ports, options, alerts));
    } catch (error) {
      outcomes.push({ rule: rule.name, outcome: 'failed', error: asError(error) });
    }
  }
  const report = { slot: slot.toISOString(), outcomes, alerts };
  const failed = outcomes.filter((o) => o.outcome === 'failed');
  if (failed.length > 0) {
    const first = failed[0]?.outcome === 'failed' ? failed[0].error : undefined;
    throw new EvaluationError(
      `${failed.length} of ${rules.length} rules failed at ${report.slot}: ${failed
        .map((o) => (o.outcome === 'failed' ? `${o.rule}: ${o.error.message}` : o.rule))
        .join('; ')}`,
      report,
      { cause: first },
    );
  }
  return report;
}

async function runRule(
  rule: AlertRule,
  at: Date,
  ports: RunPorts,
  options: RunOptions,
  sent: Alert[],
): Promise<RuleOutcome> {
  const { store, notifier } = ports;
  const slot = evaluationSlot(at);
  const delay =
    typeof options.delayMinutes === 'function' ? options.delayMinutes(rule) : options.delayMinutes;
  const window =
    options.latencyMs !== undefined
      ? ruleWindowEndingAt(rule, at.getTime() - options.latencyMs)
      : ruleWindow(rule, slot, delay);
  const before = await store.get(rule.name);
  const missed = missedSteps(rule, slot, window, before?.lastWindowEnd);
  let applied: StoredRuleState | undefined;
  let alerts = 0;
  let caughtUp = 0;
  try {
    for (const step of missed) {
      const result = await applyStep(rule, step, ports, options);
      // Applied already (a redriven slot), or by a concurrent evaluation: the next step reads its state.
      if (result.outcome !== 'applied') continue;
      applied = result.stored;
      alerts += result.evaluation.alerts.length;
      caughtUp++;
    }
  } catch (error) {
    // The windows caught up so far are stored; their alerts go out now, not with the next slot. A send
    // that fails too leaves them in the stored outbox for the next slot; the query's error is reported.
    if (applied && applied.outbox.length > 0) {
      await flushOutbox(rule.name, applied, store, notifier, sent).catch(() => undefined);
    }
    throw error;
  }
  const own = await applyStep(rule, { slot, window }, ports, options);
  if (own.outcome === 'applied') {
    const { stored, evaluation } = own;
    if (stored.outbox.length > 0) await flushOutbox(rule.name, stored, store, notifier, sent);
    return {
      rule: rule.name,
      outcome: 'evaluated',
      decisions: evaluation.decisions,
      sent: alerts + evaluation.alerts.length,
      ...(caughtUp > 0 ? { caughtUp } : {}),
    };
  }
  if (own.outcome === 'concurrent') {
    return { rule: rule.name, outcome: 'skipped', reason: 'concurrent evaluation' };
  }
  const stored = own.stored;
  if (stored.lastSlot === slot.toISOString() && stored.outbox.length > 0) {
    await flushOutbox(rule.name, stored, store, notifier, sent);
    return { rule: rule.name, outcome: 'replayed', sent: stored.outbox.length };
  }
  return { rule: rule.name, outcome: 'skipped', reason: `slot ${stored.lastSlot} already applied` };
}

type StepResult =
  | { readonly outcome: 'applied'; readonly stored: StoredRuleState; readonly evaluation: RuleEvaluation }
  | { readonly outcome: 'already'; readonly stored: StoredRuleState }
  | { readonly outcome: 'concurrent' };

/**
 * Evaluate one step and store its state with the alerts it produced added to the outbox (not sent).
 * A lost conditional write means another evaluation moved the state on. When that was an earlier slot
 * (the retry of a timed-out run), this step's window is still unevaluated: decide again on the state it
 * left, or the window is never evaluated at all.
 */
async function applyStep(
  rule: AlertRule,
  { slot, window }: Step,
  { source, store }: RunPorts,
  options: RunOptions,
): Promise<StepResult> {
  let observations: Observation[] | undefined;
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const stored = await store.get(rule.name);
    if (stored?.lastSlot && Date.parse(stored.lastSlot) >= slot.getTime()) {
      return { outcome: 'already', stored };
    }
    observations ??= await source.observe(
      rule,
      window,
      slot,
      Object.keys(stored?.state.groups ?? {}).map(parseGroupKey),
    );
    const evaluation = evaluateRule(rule, slot, window, observations, stored?.state ?? EMPTY_RULE_STATE, {
      ...(options.globalSuppress ? { globalSuppress: options.globalSuppress } : {}),
      ...(options.searchTarget ? { searchTarget: options.searchTarget } : {}),
    });
    const version = stored?.version ?? 0;
    // Alerts of an earlier slot not confirmed sent go out first, with this slot's: sending them before
    // evaluating would stop the rule at every slot while delivery keeps failing, and its windows would
    // then never be evaluated.
    const outbox = [...(stored?.outbox ?? []), ...evaluation.alerts];
    const next = {
      state: evaluation.state,
      lastSlot: slot.toISOString(),
      lastWindowEnd: window.end,
      outbox,
    };
    if (await store.put(rule.name, next, version)) {
      return { outcome: 'applied', stored: { ...next, version: version + 1 }, evaluation };
    }
  }
  return { outcome: 'concurrent' };
}

/** Send an outbox and clear it; returns the stored state after clearing, or undefined on a lost race. */
async function flushOutbox(
  rule: string,
  stored: StoredRuleState,
  store: StateStore,
  notifier: Notifier,
  sent: Alert[],
): Promise<StoredRuleState | undefined> {
  await notifier.send(stored.outbox);
  sent.push(...stored.outbox);
  const cleared = {
    state: stored.state,
    ...(stored.lastSlot ? { lastSlot: stored.lastSlot } : {}),
    ...(stored.lastWindowEnd ? { lastWindowEnd: stored.lastWindowEnd } : {}),
    outbox: [],
  };
  if (!(await store.put(rule, cleared, stored.version))) return undefined;
  return { ...cleared, version: stored.version + 1 };
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** In-memory {@link StateStore}: for tests and one-shot CLI evaluations. */
export class MemoryStateStore implements StateStore {
  private readonly items = new Map<string, StoredRuleState>();

  async get(rule: string): Promise<StoredRuleState | undefined> {
    return this.items.get(rule);
  }

  async put(
    rule: string,
    value: Omit<StoredRuleState, 'version'>,
    expectedVersion: number,
  ): Promise<boolean> {
    const current = this.items.get(rule)?.version ?? 0;
    if (current !== expectedVersion) return false;
    this.items.set(rule, { ...value, version: expectedVersion + 1 });
    return true;
  }

  /** Snapshot of everything stored, by rule (for persistence by the local pipeline). */
  entries(): [string, StoredRuleState][] {
    return [...this.items.entries()];
  }

  /** Load a snapshot taken with {@link entries}. */
  static from(entries: Iterable<[string, StoredRuleState]>): MemoryStateStore {
    const store = new MemoryStateStore();
    for (const [k, v] of entries) store.items.set(k, v);
    return store;
  }
}
