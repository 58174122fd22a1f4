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
 */
import { LogLakeError } from '../errors';
import { type Alert, type AlertWindow, evaluationSlot, ruleWindow, ruleWindowEndingAt } from './alert';
import type { AlertRule, SuppressionWindow } from './config';
import { EMPTY_RULE_STATE, evaluateRule, type GroupDecision, type RuleState } from './engine';
import type { Observation } from './observe';

/** Where observations come from (DuckDB, Athena, the error-object log). */
export interface ObservationSource {
  observe(rule: AlertRule, window: AlertWindow, at: Date): Promise<Observation[]>;
}

export interface StoredRuleState {
  readonly state: RuleState;
  /** Last applied evaluation slot, ISO-8601. */
  readonly lastSlot?: string;
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
      readonly sent: number;
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
  { source, store, notifier }: RunPorts,
  options: RunOptions,
  sent: Alert[],
): Promise<RuleOutcome> {
  const slot = evaluationSlot(at);
  const slotIso = slot.toISOString();
  const delay =
    typeof options.delayMinutes === 'function' ? options.delayMinutes(rule) : options.delayMinutes;
  const window =
    options.latencyMs !== undefined
      ? ruleWindowEndingAt(rule, at.getTime() - options.latencyMs)
      : ruleWindow(rule, slot, delay);
  let observations: Observation[] | undefined;
  // A lost conditional write means another evaluation moved the state on. When that was an earlier
  // slot (the retry of a timed-out run), this slot's window is still unevaluated: decide again on the
  // state it left, or the window is never evaluated at all.
  for (let attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
    const stored = await store.get(rule.name);
    if (stored?.lastSlot && Date.parse(stored.lastSlot) >= slot.getTime()) {
      if (stored.lastSlot !== slotIso || stored.outbox.length === 0) {
        return { rule: rule.name, outcome: 'skipped', reason: `slot ${stored.lastSlot} already applied` };
      }
      await flushOutbox(rule.name, stored, store, notifier, sent);
      return { rule: rule.name, outcome: 'replayed', sent: stored.outbox.length };
    }
    observations ??= await source.observe(rule, window, slot);
    const evaluation = evaluateRule(rule, slot, window, observations, stored?.state ?? EMPTY_RULE_STATE, {
      ...(options.globalSuppress ? { globalSuppress: options.globalSuppress } : {}),
      ...(options.searchTarget ? { searchTarget: options.searchTarget } : {}),
    });
    const version = stored?.version ?? 0;
    // Alerts of an earlier slot not confirmed sent go out first, with this slot's: sending them before
    // evaluating would stop the rule at every slot while delivery keeps failing, and its windows would
    // then never be evaluated.
    const outbox = [...(stored?.outbox ?? []), ...evaluation.alerts];
    const next = { state: evaluation.state, lastSlot: slotIso, outbox };
    if (!(await store.put(rule.name, next, version))) continue;
    if (outbox.length > 0) {
      await flushOutbox(rule.name, { ...next, version: version + 1 }, store, notifier, sent);
    }
    return {
      rule: rule.name,
      outcome: 'evaluated',
      decisions: evaluation.decisions,
      sent: evaluation.alerts.length,
    };
  }
  return { rule: rule.name, outcome: 'skipped', reason: 'concurrent evaluation' };
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
