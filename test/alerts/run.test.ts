import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert';
import { type AlertRule, DEFAULT_RULES } from '../../src/alerts/config';
import type { Observation } from '../../src/alerts/observe';
import {
  EvaluationError,
  MAX_CATCH_UP_WINDOWS,
  MemoryStateStore,
  type ObservationSource,
  runEvaluation,
} from '../../src/alerts/run';

const rule: AlertRule = { ...(DEFAULT_RULES['error-rate'] as Omit<AlertRule, 'name'>), name: 'error-rate' };
const at = (minute: number) => new Date(Date.UTC(2025, 0, 6, 12, minute, 17));

function obs(service: string, value: number, breaching = value > 0.05): Observation {
  return {
    group: { service },
    groupKey: `service=${service}`,
    value,
    breaching,
    judged: true,
    details: {},
    samples: ['corr-1'],
  };
}

/** A source returning scripted observations per evaluation, and a notifier that records or fails. */
function harness(script: Observation[][]) {
  let call = 0;
  const source: ObservationSource = {
    async observe() {
      return script[Math.min(call++, script.length - 1)] ?? [];
    },
  };
  const sent: Alert[] = [];
  let failNext = 0;
  const notifier = {
    async send(alerts: readonly Alert[]) {
      if (failNext > 0) {
        failNext--;
        throw new Error('SNS unavailable');
      }
      sent.push(...alerts);
    },
  };
  const store = new MemoryStateStore();
  return {
    ports: { source, store, notifier },
    sent,
    store,
    failOnce: () => {
      failNext = 1;
    },
    calls: () => call,
  };
}

describe('runEvaluation', () => {
  it('sends a firing alert with the message fields, then a resolve', async () => {
    // Prepare
    const h = harness([[obs('api', 0.2)], [obs('api', 0.01)]]);
    // Act
    await runEvaluation([rule], at(0), h.ports, { delayMinutes: 2, searchTarget: '--data-dir /tmp/lake' });
    await runEvaluation([rule], at(5), h.ports, { delayMinutes: 2 });
    // Assess
    expect(h.sent.map((a) => a.status)).toEqual(['firing', 'resolved']);
    expect(h.sent[0]).toMatchObject({
      rule: 'error-rate',
      severity: 'high',
      value: 0.2,
      threshold: 0.05,
      group: { service: 'api' },
      firedAt: '2025-01-06T12:00:00.000Z',
      window: { start: '2025-01-06T11:53:00.000Z', end: '2025-01-06T11:58:00.000Z', minutes: 5 },
      samples: ['corr-1'],
      search:
        'loglake search --since 2025-01-06T11:53:00.000Z --until 2025-01-06T11:58:00.000Z --category runtime,framework,errors,api_access --level ERROR,CRITICAL --service api --data-dir /tmp/lake',
    });
  });

  it('does not evaluate or send again when the same slot is retried', async () => {
    const h = harness([[obs('api', 0.2)]]);
    await runEvaluation([rule], at(0), h.ports, { delayMinutes: 0 });
    const retry = await runEvaluation([rule], new Date(at(0).getTime() + 20_000), h.ports, {
      delayMinutes: 0,
    });
    expect(h.sent).toHaveLength(1);
    expect(h.calls()).toBe(1);
    expect(retry.outcomes[0]).toMatchObject({ outcome: 'skipped' });
  });

  it('re-sends the alerts of a slot whose notification failed when the slot is retried', async () => {
    const h = harness([[obs('api', 0.2)]]);
    h.failOnce();
    await expect(runEvaluation([rule], at(0), h.ports, { delayMinutes: 0 })).rejects.toBeInstanceOf(
      EvaluationError,
    );
    const retry = await runEvaluation([rule], at(0), h.ports, { delayMinutes: 0 });
    expect(retry.outcomes[0]).toMatchObject({ outcome: 'replayed', sent: 1 });
    expect(h.sent.map((a) => a.id)).toEqual(['error-rate|service=api|firing|2025-01-06T12:00:00.000Z']);
    expect(h.calls()).toBe(1);
    expect((await h.store.get('error-rate'))?.outbox).toEqual([]);
  });

  it('sends an unsent outbox of an earlier slot, first, at the next one', async () => {
    const h = harness([[obs('api', 0.2)], [obs('api', 0.2)]]);
    h.failOnce();
    await expect(runEvaluation([rule], at(0), h.ports, { delayMinutes: 0 })).rejects.toThrow(
      'SNS unavailable',
    );
    await runEvaluation([rule], at(5), h.ports, { delayMinutes: 0 });
    expect(h.sent.map((a) => a.firedAt)).toEqual(['2025-01-06T12:00:00.000Z']);
  });

  it('keeps evaluating the other rules when one rule fails, and reports the failure', async () => {
    const h = harness([[obs('api', 0.2)]]);
    const broken = { ...rule, name: 'broken' };
    const source: ObservationSource = {
      observe: (r, w, t) =>
        r.name === 'broken' ? Promise.reject(new Error('query failed')) : h.ports.source.observe(r, w, t),
    };
    const error = await runEvaluation(
      [broken, rule],
      at(0),
      { ...h.ports, source },
      { delayMinutes: 0 },
    ).catch((e) => e);
    expect(error).toBeInstanceOf(EvaluationError);
    expect(error.message).toContain('broken: query failed');
    expect(h.sent.map((a) => a.rule)).toEqual(['error-rate']);
  });

  it('stops without sending when another evaluation of the same rule won the conditional write', async () => {
    const h = harness([[obs('api', 0.2)]]);
    const store = h.store;
    const racing = {
      get: store.get.bind(store),
      async put(name: string, value: Parameters<MemoryStateStore['put']>[1], expected: number) {
        await store.put(
          name,
          { state: { groups: {} }, lastSlot: '2025-01-06T11:00:00.000Z', outbox: [] },
          expected,
        );
        return store.put(name, value, expected);
      },
    };
    const report = await runEvaluation([rule], at(0), { ...h.ports, store: racing }, { delayMinutes: 0 });
    expect(report.outcomes[0]).toMatchObject({ outcome: 'skipped', reason: 'concurrent evaluation' });
    expect(h.sent).toEqual([]);
  });

  it('suppresses a breach inside a global maintenance window', async () => {
    const h = harness([[obs('api', 0.2)]]);
    const report = await runEvaluation([rule], at(0), h.ports, {
      delayMinutes: 0,
      globalSuppress: [{ start: '2025-01-06T11:00:00Z', end: '2025-01-06T13:00:00Z', reason: 'release' }],
    });
    expect(h.sent).toEqual([]);
    expect(report.outcomes[0]).toMatchObject({ decisions: [{ action: 'suppress' }] });
  });
});

/** A source answering by window end (ISO), so what a window holds does not depend on call order. */
function windowSource(byWindowEnd: Record<string, Observation[]>) {
  const windows: string[] = [];
  const source: ObservationSource = {
    async observe(_rule, window) {
      windows.push(window.end);
      return byWindowEnd[window.end] ?? [];
    },
  };
  return { source, windows };
}

describe('runEvaluation: slots evaluated side by side', () => {
  it('evaluates its own slot when the retry of the previous slot won the conditional write', async () => {
    // Prepare: the retry of slot 12:00 (after a timeout) applies while slot 12:05 is evaluating; only
    // the 12:05 window holds a breach.
    const { source } = windowSource({ '2025-01-06T12:05:00.000Z': [obs('auth', 0.5)] });
    const store = new MemoryStateStore();
    const sent: Alert[] = [];
    const notifier = { send: async (alerts: readonly Alert[]) => void sent.push(...alerts) };
    let raced = false;
    const racing = {
      get: store.get.bind(store),
      async put(name: string, value: Parameters<MemoryStateStore['put']>[1], expected: number) {
        if (!raced) {
          raced = true;
          await runEvaluation([rule], at(0), { source, store, notifier }, { delayMinutes: 0 });
        }
        return store.put(name, value, expected);
      },
    };

    // Act
    const report = await runEvaluation(
      [rule],
      at(5),
      { source, store: racing, notifier },
      { delayMinutes: 0 },
    );

    // Assess: the 12:05 window was not dropped.
    expect(report.outcomes[0]).toMatchObject({ outcome: 'evaluated', sent: 1 });
    expect(sent.map((a) => a.id)).toEqual(['error-rate|service=auth|firing|2025-01-06T12:05:00.000Z']);
    expect((await store.get('error-rate'))?.lastSlot).toBe('2025-01-06T12:05:00.000Z');
  });
});

describe('runEvaluation: notifications that keep failing', () => {
  it('still evaluates the next slots while an earlier alert cannot be sent, and sends all once it can', async () => {
    // Prepare: api breaches in the 12:00 window, auth only in the 12:05 window; publishing fails for
    // the first two slots.
    const { source, windows } = windowSource({
      '2025-01-06T12:00:00.000Z': [obs('api', 0.2)],
      '2025-01-06T12:05:00.000Z': [obs('api', 0.2), obs('auth', 0.5)],
      '2025-01-06T12:10:00.000Z': [obs('api', 0.2), obs('auth', 0.5)],
    });
    const store = new MemoryStateStore();
    const sent: Alert[] = [];
    let failures = 2;
    const notifier = {
      async send(alerts: readonly Alert[]) {
        if (failures > 0) {
          failures--;
          throw new Error('SNS unavailable');
        }
        sent.push(...alerts);
      },
    };
    const ports = { source, store, notifier };

    // Act
    await expect(runEvaluation([rule], at(0), ports, { delayMinutes: 0 })).rejects.toThrow('SNS unavailable');
    await expect(runEvaluation([rule], at(5), ports, { delayMinutes: 0 })).rejects.toThrow('SNS unavailable');
    await runEvaluation([rule], at(10), ports, { delayMinutes: 0 });

    // Assess: the 12:05 window was evaluated despite the failure; auth's breach there is not lost.
    expect(windows).toEqual([
      '2025-01-06T12:00:00.000Z',
      '2025-01-06T12:05:00.000Z',
      '2025-01-06T12:10:00.000Z',
    ]);
    expect(sent.map((a) => a.id)).toEqual([
      'error-rate|service=api|firing|2025-01-06T12:00:00.000Z',
      'error-rate|service=auth|firing|2025-01-06T12:05:00.000Z',
    ]);
    expect((await store.get('error-rate'))?.outbox).toEqual([]);
  });
});

describe('runEvaluation: windows missed by a skipped slot', () => {
  const notifierOf = (sent: Alert[]) => ({
    send: async (alerts: readonly Alert[]) => void sent.push(...alerts),
  });

  it('evaluates the window of a skipped slot late, in order, under that slot', async () => {
    // Prepare: slot 12:05 never ran (its invocation ended in the DLQ); only its window holds a breach.
    const { source, windows } = windowSource({
      '2025-01-06T12:05:00.000Z': [obs('auth', 0.5)],
      '2025-01-06T12:10:00.000Z': [obs('auth', 0.01)],
    });
    const store = new MemoryStateStore();
    const sent: Alert[] = [];
    const ports = { source, store, notifier: notifierOf(sent) };
    await runEvaluation([rule], at(0), ports, { delayMinutes: 0 });

    // Act
    const report = await runEvaluation([rule], at(10), ports, { delayMinutes: 0 });

    // Assess: the 12:05 window first, then 12:10's; the breach fired at the slot that missed it.
    expect(windows).toEqual([
      '2025-01-06T12:00:00.000Z',
      '2025-01-06T12:05:00.000Z',
      '2025-01-06T12:10:00.000Z',
    ]);
    expect(sent.map((a) => a.id)).toEqual([
      'error-rate|service=auth|firing|2025-01-06T12:05:00.000Z',
      'error-rate|service=auth|resolved|2025-01-06T12:10:00.000Z',
    ]);
    expect(report.outcomes[0]).toMatchObject({ outcome: 'evaluated', sent: 2, caughtUp: 1 });
    expect(await store.get('error-rate')).toMatchObject({
      lastSlot: '2025-01-06T12:10:00.000Z',
      lastWindowEnd: '2025-01-06T12:10:00.000Z',
      outbox: [],
    });
  });

  it('sends nothing twice when the skipped slot or the late one is delivered again', async () => {
    const { source, windows } = windowSource({
      '2025-01-06T12:05:00.000Z': [obs('auth', 0.5)],
      '2025-01-06T12:10:00.000Z': [obs('auth', 0.01)],
    });
    const store = new MemoryStateStore();
    const sent: Alert[] = [];
    const ports = { source, store, notifier: notifierOf(sent) };
    await runEvaluation([rule], at(0), ports, { delayMinutes: 0 });
    await runEvaluation([rule], at(10), ports, { delayMinutes: 0 });

    // Act: the DLQ redrives slot 12:05; EventBridge retries slot 12:10.
    const redriven = await runEvaluation([rule], at(5), ports, { delayMinutes: 0 });
    const retried = await runEvaluation([rule], at(10), ports, { delayMinutes: 0 });

    // Assess
    expect(redriven.outcomes[0]).toMatchObject({ outcome: 'skipped' });
    expect(retried.outcomes[0]).toMatchObject({ outcome: 'skipped' });
    expect(sent).toHaveLength(2);
    expect(windows).toHaveLength(3);
  });

  it('catches up a rule whose window is longer than the schedule only for the time its window missed', async () => {
    // Prepare: a 10-minute window, evaluated every 5 minutes; slots 12:05 and 12:10 skipped.
    const long = { ...rule, windowMinutes: 10 };
    const { source, windows } = windowSource({});
    const ports = { source, store: new MemoryStateStore(), notifier: notifierOf([]) };
    await runEvaluation([long], at(0), ports, { delayMinutes: 0 });

    // Act
    await runEvaluation([long], at(15), ports, { delayMinutes: 0 });

    // Assess: 12:00 → 12:15 left 12:00-12:05 unread; one 10-minute window ending 12:05 covers it.
    expect(windows).toEqual([
      '2025-01-06T12:00:00.000Z',
      '2025-01-06T12:05:00.000Z',
      '2025-01-06T12:15:00.000Z',
    ]);
  });

  it('evaluates at most the last 12 missed windows after a long gap', async () => {
    const { source, windows } = windowSource({});
    const ports = { source, store: new MemoryStateStore(), notifier: notifierOf([]) };
    await runEvaluation([rule], at(0), ports, { delayMinutes: 0 });

    // Act: a month later.
    const later = new Date(at(0).getTime() + 30 * 24 * 3_600_000);
    const report = await runEvaluation([rule], later, ports, { delayMinutes: 0 });

    // Assess: 12 windows before the current one, the oldest first, then the current one.
    expect(report.outcomes[0]).toMatchObject({ outcome: 'evaluated', caughtUp: MAX_CATCH_UP_WINDOWS });
    expect(MAX_CATCH_UP_WINDOWS).toBe(12);
    const ends = windows.slice(1).map((w) => Date.parse(w));
    const currentEnd = Date.parse(windows.at(-1) ?? '');
    expect(ends).toEqual(Array.from({ length: 13 }, (_, i) => currentEnd - (12 - i) * 5 * 60_000));
  });

  it('sends the alerts of windows already caught up when a later window fails, and goes on from there', async () => {
    // Prepare: slots 12:05 and 12:10 skipped; the 12:10 window's query fails once.
    const byEnd: Record<string, Observation[]> = {
      '2025-01-06T12:05:00.000Z': [obs('auth', 0.5)],
      '2025-01-06T12:10:00.000Z': [obs('auth', 0.01)],
    };
    const windows: string[] = [];
    let failures = 1;
    const source: ObservationSource = {
      async observe(_rule, window) {
        windows.push(window.end);
        if (window.end === '2025-01-06T12:10:00.000Z' && failures-- > 0) throw new Error('query failed');
        return byEnd[window.end] ?? [];
      },
    };
    const store = new MemoryStateStore();
    const sent: Alert[] = [];
    const ports = { source, store, notifier: notifierOf(sent) };
    await runEvaluation([rule], at(0), ports, { delayMinutes: 0 });

    // Act
    await expect(runEvaluation([rule], at(15), ports, { delayMinutes: 0 })).rejects.toThrow('query failed');
    const sentBeforeRetry = sent.map((a) => a.id);
    await runEvaluation([rule], at(20), ports, { delayMinutes: 0 });

    // Assess: 12:05 applied before the failure; the next run starts after it, at 12:10.
    expect(windows).toEqual([
      '2025-01-06T12:00:00.000Z',
      '2025-01-06T12:05:00.000Z',
      '2025-01-06T12:10:00.000Z',
      '2025-01-06T12:10:00.000Z',
      '2025-01-06T12:15:00.000Z',
      '2025-01-06T12:20:00.000Z',
    ]);
    expect(sentBeforeRetry).toEqual(['error-rate|service=auth|firing|2025-01-06T12:05:00.000Z']);
    expect(sent.map((a) => a.id)).toEqual([
      'error-rate|service=auth|firing|2025-01-06T12:05:00.000Z',
      'error-rate|service=auth|resolved|2025-01-06T12:10:00.000Z',
    ]);
  });
});
