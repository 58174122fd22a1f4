/**
 * The absence, percentile and ratio kinds on DuckDB, as the README writes them (its examples block is
 * parsed here, through the config schema), through the same LakeSource the Lambda uses on Athena: each
 * fires where it should, stays quiet where it should not, and keeps the for-duration, re-notify,
 * escalation and resolve behaviour of the other kinds over consecutive evaluations.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert';
import type { AlertRule } from '../../src/alerts/config';
import { LakeSource } from '../../src/alerts/lake';
import { MemoryStateStore, runEvaluation } from '../../src/alerts/run';
import { resolveConfig } from '../../src/config';
import type { SearchRecord } from '../../src/query';
import { LOCAL_TABLE, runDuckDb } from '../../src/query/duckdb';
import { memoryLake, record } from '../helpers/records';

/** The README's alerting examples, resolved as a config override is. */
function readmeRules(): Record<string, AlertRule> {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const block = /<!-- alerting-examples -->\s*```json\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README: no alerting examples block');
  const override = (JSON.parse(block) as { context: { loglake: unknown } }).context.loglake;
  const { rules } = resolveConfig(override).alerts;
  return Object.fromEntries(Object.entries(rules).map(([name, r]) => [name, { ...r, name }]));
}

const RULES = readmeRules();
const rule = (name: string): AlertRule => {
  const r = RULES[name];
  if (!r) throw new Error(`README has no rule ${name}`);
  return r;
};

const MIN = 60_000;
// Evaluated at 12:07 with a 2-minute delay: a 5-minute window is 12:00-12:05, an hour 11:05-12:05.
const at = new Date('2026-11-22T12:07:00Z');
const windowStart = Date.parse('2026-11-22T12:00:00Z');

let close: (() => void) | undefined;
afterEach(() => close?.());

/** `n` events spread over the minute starting `minute` minutes after 12:00. */
function events(n: number, minute: number, over: Partial<SearchRecord> = {}): SearchRecord[] {
  return Array.from({ length: n }, (_, i) =>
    record({
      timestamp: new Date(windowStart + minute * MIN + ((i * 997) % 60_000)).toISOString(),
      correlation_id: `c-${minute}-${i}-${over.service ?? 'checkout'}`,
      ...over,
    }),
  );
}

/** Evaluates `r` at each time in turn, state kept between them; the alerts sent at each. */
async function evaluate(r: AlertRule, records: SearchRecord[], times: Date[] = [at]): Promise<Alert[][]> {
  const lake = await memoryLake(records);
  close = lake.close;
  const source = new LakeSource({
    dialect: 'duckdb',
    maxSamples: 3,
    maxGroups: 50,
    lockedCategories: ['security', 'audit'],
    tables: () => [{ table: LOCAL_TABLE }],
    run: (built) => runDuckDb(lake.connection, built),
    arrivals: async () => [],
  });
  const store = new MemoryStateStore();
  const out: Alert[][] = [];
  for (const t of times) {
    const sent: Alert[] = [];
    await runEvaluation(
      [r],
      t,
      { source, store, notifier: { send: async (a) => void sent.push(...a) } },
      { delayMinutes: 2 },
    );
    out.push(sent);
  }
  return out;
}
const once = async (r: AlertRule, records: SearchRecord[]) => (await evaluate(r, records))[0] ?? [];
const later = (minutes: number) => new Date(at.getTime() + minutes * MIN);

describe('absence: no logs from the worker service in 5 minutes', () => {
  const worker = { service: 'worker' };

  it('fires when the worker, busy in the hour before, sends nothing in the window', async () => {
    // Prepare: a steady worker until 11:58, then silence; another service still talking.
    const records = [
      ...Array.from({ length: 12 }, (_, k) => events(5, -5 * (k + 1) + 3, worker)).flat(),
      ...events(30, 2, { service: 'api' }),
    ];

    // Act
    const alerts = await once(rule('worker-silent'), records);

    // Assess
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      rule: 'worker-silent',
      kind: 'absence',
      group: { service: 'worker' },
      unit: 'minutes',
      severity: 'high',
      channels: ['worker-oncall'],
    });
    // Last event in 11:58-11:59, window ends 12:05: six or seven minutes of silence.
    expect(alerts[0]?.value).toBeGreaterThanOrEqual(6);
    expect(alerts[0]?.search).toContain('--since 2026-11-22T11:00:00.000Z');
  });

  it('stays quiet while the worker sends, and for a service with no baseline', async () => {
    const records = [
      ...events(10, -30, worker),
      ...events(1, 4, worker),
      ...events(5, -90, { service: 'x' }),
    ];
    expect(await once(rule('worker-silent'), records)).toEqual([]);
    // Nothing at all in the baseline: nothing is expected of the worker.
    expect(await once(rule('worker-silent'), events(10, -90, worker))).toEqual([]);
  });

  it('keeps firing past its baseline, re-notifies, and resolves when the worker is back', async () => {
    // Prepare: worker seen until 11:30, then silent for 2 hours, back at 13:40.
    const records = [...events(10, -40, worker), ...events(10, -30, worker), ...events(3, 100, worker)];
    const r = { ...rule('worker-silent'), renotifyMinutes: 60 };
    // At 12:07 (silent since 11:31); 13:07, past the 60-minute baseline; 13:47 the worker is back.
    const times = [at, later(30), later(60), later(100)];

    // Act
    const [first, quiet, renotified, resolved] = await evaluate(r, records, times);

    // Assess
    expect(first?.map((a) => a.status)).toEqual(['firing']);
    expect(quiet).toEqual([]);
    expect(renotified).toMatchObject([{ status: 'firing', repeat: true, group: { service: 'worker' } }]);
    expect(renotified?.[0]?.value).toBeGreaterThan(90);
    expect(resolved).toMatchObject([{ status: 'resolved', group: { service: 'worker' } }]);
  });
});

describe('percentile: p95 latency above 60 s for 10 minutes', () => {
  /** `n` events in `minute` with durations evenly from `low` to `high` ms. */
  const latencies = (n: number, minute: number, low: number, high: number, service = 'api') =>
    events(n, minute, { service }).map((e, i) => ({
      ...e,
      duration_ms: low + ((high - low) * i) / Math.max(1, n - 1),
    }));

  it('fires on the second slow window in a row, not on the first (forEvaluations 2)', async () => {
    // Prepare: slow 11:55-12:05 (two windows), fast elsewhere.
    const records = [
      ...latencies(40, -4, 1_000, 90_000),
      ...latencies(40, 1, 1_000, 90_000),
      ...latencies(40, 2, 10, 200, 'search'),
    ];

    // Act: 12:02 evaluates 11:55-12:00, 12:07 evaluates 12:00-12:05.
    const [first, second] = await evaluate(rule('latency-p95'), records, [later(-5), at]);

    // Assess
    expect(first).toEqual([]);
    expect(second).toHaveLength(1);
    expect(second?.[0]).toMatchObject({
      kind: 'percentile',
      group: { service: 'api' },
      threshold: 60_000,
      unit: 'ms',
      details: { total: 40 },
    });
    // p95 of an even spread from 1 s to 90 s is about 85.5 s.
    expect(second?.[0]?.value).toBeGreaterThan(80_000);
    expect(second?.[0]?.value).toBeLessThan(90_000);
    expect(second?.[0]?.samples).toHaveLength(3);
  });

  it('stays quiet under the threshold, for too few events, and for a single slow window', async () => {
    const records = [
      ...latencies(40, -4, 100, 50_000),
      ...latencies(40, 1, 100, 50_000),
      ...latencies(5, -4, 90_000, 95_000, 'rare'),
      ...latencies(5, 1, 90_000, 95_000, 'rare'),
      ...latencies(40, 1, 90_000, 95_000, 'blip'),
    ];
    const [first, second] = await evaluate(rule('latency-p95'), records, [later(-5), at]);
    expect(first).toEqual([]);
    expect(second).toEqual([]);
  });

  it('escalates to the next severity when still firing 30 minutes after it started', async () => {
    // Prepare: slow for 50 minutes, 11:20-12:10.
    const records = Array.from({ length: 10 }, (_, k) => latencies(30, -40 + 5 * k, 70_000, 80_000)).flat();
    const times = [-35, -30, -25, -20, -15, -10, -5].map((m) => later(m));

    // Act
    const sent = (await evaluate({ ...rule('latency-p95'), renotifyMinutes: 0 }, records, times)).flat();

    // Assess: fired once at medium, then escalated once to high; renotify 0 sends nothing more.
    expect(sent.map((a) => [a.severity, a.escalatedFrom, a.repeat])).toEqual([
      ['medium', undefined, false],
      ['high', 'medium', true],
    ]);
    expect(Date.parse(sent[1]?.firedAt ?? '') - Date.parse(sent[1]?.since ?? '')).toBe(30 * MIN);
  });
});

describe('ratio: payment failure rate above 10% over 1 hour', () => {
  const payment = (status: string) => ({
    service: 'payments',
    attributes: { event: 'payment', payment_status: status },
  });

  it('fires at 15% failed payments over the hour, with failed samples', async () => {
    // Prepare: 85 ok and 15 failed payments in 11:05-12:05, plus unrelated payments-service events.
    const records = [
      ...events(85, -30, payment('ok')),
      ...events(15, -10, payment('failed')),
      ...events(200, -20, { service: 'payments', attributes: { event: 'health' } }),
    ];

    // Act
    const alerts = await once(rule('payment-failures'), records);

    // Assess
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      kind: 'ratio',
      value: 0.15,
      unit: 'ratio',
      details: { matched: 15, total: 100 },
      channels: ['payments-chat'],
    });
    expect(alerts[0]?.samples.every((s) => s.startsWith('c--10-'))).toBe(true);
    expect(alerts[0]?.search).toContain(
      '--where attributes.event=payment --where attributes.payment_status=failed',
    );
  });

  it('stays quiet at 8%, under minEvents, and for failures outside the hour', async () => {
    expect(
      await once(rule('payment-failures'), [
        ...events(92, -30, payment('ok')),
        ...events(8, -10, payment('failed')),
      ]),
    ).toEqual([]);
    expect(
      await once(rule('payment-failures'), [
        ...events(10, -30, payment('ok')),
        ...events(9, -10, payment('failed')),
      ]),
    ).toEqual([]);
    expect(
      await once(rule('payment-failures'), [
        ...events(90, -30, payment('ok')),
        ...events(50, -70, payment('failed')),
      ]),
    ).toEqual([]);
  });

  it('resolves once the failure rate falls back', async () => {
    const records = [...events(85, -30, payment('ok')), ...events(15, -50, payment('failed'))];
    // 12:07 sees 11:05-12:05 (15%); 12:22 sees 11:20-12:20, where the 11:10 failures are gone.
    const [fired, resolved] = await evaluate(rule('payment-failures'), records, [at, later(15)]);
    expect(fired?.map((a) => a.status)).toEqual(['firing']);
    expect(resolved?.map((a) => a.status)).toEqual(['resolved']);
  });
});
