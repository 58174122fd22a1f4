import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DecideInput, decide, type GroupState } from '../../src/alerts/decide';

const rule = { forEvaluations: 1, renotifyMinutes: 60, notifyResolved: true };
const t = (minute: number) => new Date(Date.UTC(2025, 0, 6, 12, minute));

/** Feed a sequence of breaching flags, one evaluation every 5 minutes, and collect the actions. */
function run(
  flags: boolean[],
  r: DecideInput['rule'] = rule,
  suppressed: (i: number) => boolean = () => false,
) {
  let prior: GroupState | undefined;
  return flags.map((breaching, i) => {
    const d = decide({
      rule: r,
      breaching,
      value: breaching ? 1 : 0,
      at: t(i * 5),
      prior,
      ...(suppressed(i) ? { suppressedBy: 'maintenance' } : {}),
    });
    prior = d.next;
    return d.action;
  });
}

describe('decide', () => {
  it('fires on the first breach when forEvaluations is 1', () => {
    // Prepare / Act
    const d = decide({ rule, breaching: true, value: 0.2, at: t(0), prior: undefined });
    // Assess
    expect(d.action).toBe('fire');
    expect(d.next).toMatchObject({ status: 'firing', consecutive: 1, notifiedAt: t(0).toISOString() });
  });

  it('does nothing and keeps no state when not breaching and nothing was going on', () => {
    const d = decide({ rule, breaching: false, value: 0, at: t(0), prior: undefined });
    expect(d).toEqual({ action: 'none', reason: 'not breaching', next: undefined, repeat: false });
  });

  it('holds until forEvaluations consecutive breaches, then fires', () => {
    expect(run([true, true, true, true], { ...rule, forEvaluations: 3 })).toEqual([
      'hold',
      'hold',
      'fire',
      'hold',
    ]);
  });

  it('starts counting again when a breach streak is interrupted before forEvaluations', () => {
    expect(run([true, true, false, true, true, true], { ...rule, forEvaluations: 3 })).toEqual([
      'hold',
      'hold',
      'none',
      'hold',
      'hold',
      'fire',
    ]);
  });

  it('resolves a notified incident when the breach ends', () => {
    expect(run([true, true, false, false])).toEqual(['fire', 'hold', 'resolve', 'none']);
  });

  it('does not send a resolve when notifyResolved is off', () => {
    expect(run([true, false], { ...rule, notifyResolved: false })).toEqual(['fire', 'none']);
  });

  it('re-notifies a still-firing incident once the renotify interval has passed', () => {
    // 5-minute evaluations, 15-minute interval: fire at 0, again at 15 and 30.
    const actions = run(Array(8).fill(true), { ...rule, renotifyMinutes: 15 });
    expect(actions).toEqual(['fire', 'hold', 'hold', 'fire', 'hold', 'hold', 'fire', 'hold']);
  });

  it('marks a re-notification as a repeat', () => {
    const first = decide({ rule, breaching: true, value: 1, at: t(0), prior: undefined });
    const again = decide({ rule, breaching: true, value: 1, at: t(60), prior: first.next });
    expect(again).toMatchObject({ action: 'fire', repeat: true });
  });

  it('notifies only once per incident when renotifyMinutes is 0', () => {
    const actions = run(Array(30).fill(true), { ...rule, renotifyMinutes: 0 });
    expect(actions.filter((a) => a === 'fire')).toHaveLength(1);
  });

  it('suppresses inside a maintenance window and fires when the window ends if still breaching', () => {
    const actions = run([true, true, true, true], rule, (i) => i < 2);
    expect(actions).toEqual(['suppress', 'suppress', 'fire', 'hold']);
  });

  it('drops an incident silently when it ends inside the maintenance window that hid it', () => {
    const actions = run([true, false, true], rule, (i) => i < 2);
    expect(actions).toEqual(['suppress', 'none', 'fire']);
  });

  it('still sends the resolve of an incident notified before a maintenance window began', () => {
    const actions = run([true, true, false], rule, (i) => i >= 1);
    expect(actions).toEqual(['fire', 'suppress', 'resolve']);
  });

  it('changes nothing when the same evaluation is applied twice (a retried schedule event)', () => {
    const first = decide({ rule, breaching: true, value: 1, at: t(0), prior: undefined });
    const replay = decide({ rule, breaching: true, value: 1, at: t(0), prior: first.next });
    expect(replay.action).toBe('none');
    expect(replay.next).toEqual(first.next);
  });

  it('never notifies twice within the renotify interval, whatever the sequence', () => {
    fc.assert(
      fc.property(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 120 }),
        (flags, forEvaluations, renotifyMinutes) => {
          const actions = run(flags, { forEvaluations, renotifyMinutes, notifyResolved: true });
          let lastFire = -Infinity;
          let firing = false;
          actions.forEach((a, i) => {
            if (a === 'fire') {
              if (firing) expect(renotifyMinutes > 0 && (i - lastFire) * 5 >= renotifyMinutes).toBe(true);
              expect(flags[i]).toBe(true);
              lastFire = i;
              firing = true;
            }
            if (a === 'resolve') {
              expect(firing).toBe(true);
              expect(flags[i]).toBe(false);
              firing = false;
            }
          });
        },
      ),
    );
  });

  it('fires only after forEvaluations consecutive breaches, whatever the sequence', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 60 }), fc.integer({ min: 1, max: 5 }), (flags, n) => {
        const actions = run(flags, { forEvaluations: n, renotifyMinutes: 0, notifyResolved: true });
        actions.forEach((a, i) => {
          if (a !== 'fire') return;
          const streak = flags.slice(0, i + 1).reverse();
          const k = streak.indexOf(false);
          expect(k === -1 ? streak.length : k).toBeGreaterThanOrEqual(n);
        });
      }),
    );
  });
});
