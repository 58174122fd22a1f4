/**
 * The alert rules' queries on Athena (Trino), exactly as the alarm Lambda builds and runs them (LakeSource
 * with the Athena dialect, one table per stream, idempotency tokens), against the same rules on DuckDB
 * over the same files: every rule kind that queries the lake, several evaluation times (a burst, the
 * window after it, across midnight, on an hour boundary, before any data), and the default rules firing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AlertWindow, evaluationSlot, ruleWindow } from '../../src/alerts/alert';
import {
  type AlertRule,
  type AlertRuleSettings,
  alertRuleSchema,
  DEFAULT_ALERTS,
  enabledRules,
  RULE_KINDS,
} from '../../src/alerts/config';
import { LakeSource } from '../../src/alerts/lake';
import { groupKey, type Observation } from '../../src/alerts/observe';
import { percentileLabel, rowGroup, ruleQuery } from '../../src/alerts/query';
import { MemoryStateStore, runEvaluation } from '../../src/alerts/run';
import { DEFAULT_CONFIG, lockedCategories } from '../../src/config';
import { buildQuery, decodeAggregateRow } from '../../src/query';
import { athenaRequestToken, athenaRows } from '../../src/query/athena';
import { LOCAL_TABLE } from '../../src/query/duckdb';
import { percentileValueRows, percentileWindow, sampleUniverse } from './compare';
import { HOUR, MINUTE } from './dataset';
import { openTierLake, searchRecords, type TierLake, tierData } from './lake';

const data = tierData();
const DELAY = DEFAULT_ALERTS.delayMinutes;
const options = { maxSamples: 3, maxGroups: 50, lockedCategories: lockedCategories(DEFAULT_CONFIG) };

/** A rule with the schema's defaults (as a config override gets them). */
const base = (r: Partial<AlertRuleSettings> & Pick<AlertRule, 'name' | 'kind'>): AlertRule => {
  const { name, ...settings } = r;
  return {
    ...alertRuleSchema.parse({
      description: name,
      severity: 'low',
      windowMinutes: 5,
      threshold: 0,
      ...settings,
    }),
    name,
  };
};

/** The default rules that query the lake, and one of each kind with other filters and groupings. */
const RULES: AlertRule[] = [
  ...enabledRules(DEFAULT_ALERTS).filter((r) => r.kind !== 'error_output'),
  base({
    name: 'count-text',
    kind: 'count',
    filter: { text: "it's a 'quoted'" },
    groupBy: ['service', 'level'],
    windowMinutes: 60,
  }),
  base({
    name: 'count-services',
    kind: 'count',
    filter: { services: ["o'brien", 'pay%ments', '日本-svc'], levels: ['INFO', 'ERROR'] },
    windowMinutes: 120,
  }),
  base({
    name: 'rate-http',
    kind: 'error_rate',
    groupBy: ['category', 'http_status', 'http_method'],
    threshold: 0.2,
    windowMinutes: 180,
  }),
  base({
    name: 'rate-logger',
    kind: 'error_rate',
    groupBy: ['logger', 'error_type'],
    threshold: 0.5,
    minEvents: 2,
    windowMinutes: 240,
  }),
  base({
    name: 'anomaly-error-rate',
    kind: 'anomaly',
    groupBy: ['service'],
    threshold: 1,
    windowMinutes: 15,
    anomaly: { metric: 'error_rate', trailingWindows: 4, direction: 'both', minBaseline: 1 },
  }),
  base({
    name: 'anomaly-locked',
    kind: 'anomaly',
    filter: { categories: ['security', 'audit', 'runtime'] },
    threshold: 1,
    windowMinutes: 60,
    anomaly: { metric: 'volume', trailingWindows: 6, direction: 'up', minBaseline: 0 },
  }),
  base({
    name: 'absence-service-category',
    kind: 'absence',
    groupBy: ['service', 'category'],
    absence: { baselineMinutes: 90 },
  }),
  base({
    name: 'absence-locked',
    kind: 'absence',
    filter: { categories: ['security', 'runtime'], services: ['auth', 'worker', "o'brien"] },
    groupBy: ['service'],
    minEvents: 2,
    windowMinutes: 10,
    absence: { baselineMinutes: 24 * 60 },
  }),
  base({
    name: 'percentile-duration',
    kind: 'percentile',
    groupBy: ['category'],
    percentile: { fn: 'p95', field: 'duration_ms' },
    threshold: 500,
    minEvents: 10,
    windowMinutes: 180,
  }),
  base({
    name: 'ratio-tenant',
    kind: 'ratio',
    groupBy: ['service'],
    filter: { levels: ['INFO', 'ERROR', 'CRITICAL'] },
    ratio: { match: { where: ['attributes.tenant=ünïcode'], levels: ['ERROR', 'CRITICAL', 'WARN'] } },
    threshold: 0.1,
    minEvents: 2,
    windowMinutes: 240,
  }),
  base({
    name: 'ratio-text',
    kind: 'ratio',
    filter: { text: 'a' },
    ratio: { match: { text: "it's a 'quoted'" } },
    threshold: 0.01,
    windowMinutes: 24 * 60,
  }),
];

/** Evaluation times: the burst, the window after it, across midnight, on an hour boundary, before the data. */
const TIMES: Array<[string, Date]> = [
  ['the burst', data.alertAt],
  ['the window after the burst', new Date(data.alertAt.getTime() + 5 * MINUTE)],
  ['across midnight', new Date(data.midnight + (DELAY + 2) * MINUTE)],
  ['on an hour boundary', new Date(data.alertHour - 2 * HOUR + DELAY * MINUTE)],
  ['before any data', new Date(data.start - 3 * HOUR)],
];

let lake: TierLake;
let duck: LakeSource;
let athena: LakeSource;
let universe: Set<string>;

beforeAll(async () => {
  lake = await openTierLake();
  universe = sampleUniverse(
    searchRecords(
      await lake.duckdb({
        kind: 'search',
        filter: { since: new Date(data.start - HOUR), until: new Date(Date.now() + HOUR) },
      }),
    ),
  );
  const arrivals = async () => [];
  duck = new LakeSource({
    ...options,
    dialect: 'duckdb',
    tables: () => [{ table: LOCAL_TABLE }],
    // As src/alerts/local.ts wires it: each query reads its own partitions.
    run: (built) => lake.reader.query(built),
    arrivals,
  });
  // As lambdas/alarm/index.ts wires it.
  athena = new LakeSource({
    ...options,
    dialect: 'athena',
    tables: (streams) => lake.tables(streams),
    run: (built, rule) =>
      athenaRows(lake.athena.client, built, {
        workGroup: 'primary',
        database: lake.schema,
        clientRequestToken: athenaRequestToken(rule.name, built),
        pollMs: 20,
        maxPollMs: 100,
      }),
    arrivals,
  });
}, 600_000);

/** Per group key: the sorted values a percentile rule's percentile is taken of, on DuckDB. */
async function percentileValuesByGroup(
  rule: AlertRule,
  window: AlertWindow,
): Promise<Map<string, readonly number[]>> {
  const built = buildQuery(ruleQuery(rule, window, options).query, {
    dialect: 'duckdb',
    tables: [{ table: LOCAL_TABLE }],
  });
  const label = percentileLabel(rule);
  const rows = await percentileValueRows(await lake.reader.connectionOver(built.scope), built);
  return new Map(
    rows.map((r) => [
      groupKey(rowGroup(rule, decodeAggregateRow(built.columns, r.row))),
      r.values[label] ?? [],
    ]),
  );
}

afterAll(async () => {
  await lake?.close();
});

/**
 * Observations without their samples, and the samples checked apart (which few ids is arbitrary).
 * Percentiles are approximate on Athena (a digest) and exact on DuckDB: Athena's value must lie within
 * the rank window of the group's values ({@link percentileWindow}), and the decisions agree wherever
 * the threshold is outside that window.
 */
function expectSameObservations(
  a: readonly Observation[],
  d: readonly Observation[],
  maxSamples: number,
  rule?: AlertRule,
  values?: ReadonlyMap<string, readonly number[]>,
) {
  const approximate = rule?.kind === 'percentile';
  const strip = (o: readonly Observation[]) =>
    o.map(({ samples: _, value, breaching, ...rest }) =>
      approximate ? rest : { ...rest, value, breaching },
    );
  expect(strip(a)).toEqual(strip(d));
  if (approximate && rule?.percentile) {
    const fraction = Number(rule.percentile.fn.slice(1)) / 100;
    for (const o of a) {
      const [lo, hi] = percentileWindow(values?.get(o.groupKey) ?? [], fraction);
      expect(o.value, o.groupKey).toBeGreaterThanOrEqual(lo - 1e-9);
      expect(o.value, o.groupKey).toBeLessThanOrEqual(hi + 1e-9);
      if (rule.threshold < lo || rule.threshold > hi) {
        expect(o.breaching, o.groupKey).toBe(d.find((x) => x.groupKey === o.groupKey)?.breaching);
      }
    }
  }
  a.forEach((o, i) => {
    expect(o.samples.length).toBe(d[i]?.samples.length);
    expect(o.samples.length).toBeLessThanOrEqual(maxSamples);
    for (const s of o.samples) expect(universe.has(s)).toBe(true);
  });
}

describe('alert rule queries on Athena (Trino) and DuckDB', () => {
  it('covers every rule kind that queries the lake', () => {
    // `error_output` watches S3 objects under the error prefix, not the table.
    expect(new Set(RULES.map((r) => r.kind))).toEqual(
      new Set(RULE_KINDS.filter((k) => k !== 'error_output')),
    );
  });

  describe.each(TIMES)('evaluated at %s', (_, at) => {
    it.each(RULES.map((r) => [r.name, r] as const))(
      '%s observes the same groups and values',
      async (_name, rule) => {
        // Prepare
        const slot = evaluationSlot(at);
        const window: AlertWindow = ruleWindow(rule, slot, DELAY);

        // Act
        const [a, d] = [await athena.observe(rule, window), await duck.observe(rule, window)];

        // Assess
        const values = rule.kind === 'percentile' ? await percentileValuesByGroup(rule, window) : undefined;
        expectSameObservations(a, d, options.maxSamples, rule, values);
      },
    );
  });

  it('has observations to compare: the burst breaches each default rule on both engines', async () => {
    for (const rule of enabledRules(DEFAULT_ALERTS).filter((r) => r.kind !== 'error_output')) {
      const window = ruleWindow(rule, evaluationSlot(data.alertAt), DELAY);
      const observed = await athena.observe(rule, window);
      expect(
        observed.some((o) => o.breaching),
        rule.name,
      ).toBe(true);
    }
  });
});

describe('the absence, percentile and ratio kinds on Athena (Trino)', () => {
  it('each breaches for some group at one of the evaluation times, on both engines', async () => {
    for (const rule of RULES.filter((r) => ['absence', 'percentile', 'ratio'].includes(r.kind))) {
      let athenaBreaches = 0;
      let duckBreaches = 0;
      for (const [, at] of TIMES) {
        const window = ruleWindow(rule, evaluationSlot(at), DELAY);
        athenaBreaches += (await athena.observe(rule, window)).filter((o) => o.breaching).length;
        duckBreaches += (await duck.observe(rule, window)).filter((o) => o.breaching).length;
      }
      expect(athenaBreaches, rule.name).toBeGreaterThan(0);
      expect(duckBreaches, rule.name).toBeGreaterThan(0);
    }
  });
});

describe('the alarm Lambda’s evaluation on Athena (Trino)', () => {
  it('sends the alerts DuckDB sends for the default rules at the burst, with the same groups and values', async () => {
    // Prepare
    const rules = enabledRules(DEFAULT_ALERTS).filter((r) => r.kind !== 'error_output');
    const evaluate = async (source: LakeSource) => {
      const sent: Array<{ rule: string; groupKey: string; value: number; status: string; samples: number }> =
        [];
      await runEvaluation(
        rules,
        data.alertAt,
        {
          source,
          store: new MemoryStateStore(),
          notifier: {
            send: async (alerts) =>
              void sent.push(
                ...alerts.map((x) => ({
                  rule: x.rule,
                  groupKey: x.groupKey,
                  value: x.value,
                  status: x.status,
                  samples: x.samples.length,
                })),
              ),
          },
        },
        { delayMinutes: DELAY },
      );
      return sent;
    };

    // Act
    const [a, d] = [await evaluate(athena), await evaluate(duck)];

    // Assess
    expect(a).toEqual(d);
    expect(a.map((x) => `${x.rule} ${x.groupKey}`)).toEqual(
      expect.arrayContaining([
        'error-rate service=checkout',
        'security-critical service=auth',
        'volume-anomaly category=runtime',
      ]),
    );
  });
});
