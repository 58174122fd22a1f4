import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AggregateQuery, buildQuery, decodeAggregateRow } from '../../src/query';
import { runDuckDb } from '../../src/query/duckdb';
import { parseAggregate, parseField } from '../../src/query/fields';
import { memoryLake, record } from '../helpers/records';

const tables = [{ table: 'logs' }];
const filter = { since: new Date('2026-11-22T00:00:00Z'), until: new Date('2026-11-23T00:00:00Z') };

/** Linear interpolation between the two nearest ranks: what quantile_cont computes. */
function quantile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return (sorted[lo] ?? 0) + (h - lo) * ((sorted[hi] ?? 0) - (sorted[lo] ?? 0));
}

async function stats(
  lake: Awaited<ReturnType<typeof memoryLake>>,
  query: Omit<AggregateQuery, 'kind' | 'filter'>,
) {
  const built = buildQuery({ kind: 'aggregate', filter, ...query }, { dialect: 'duckdb', tables });
  return (await runDuckDb(lake.connection, built)).map((r) => decodeAggregateRow(built.columns, r));
}

describe('stats aggregates on DuckDB', () => {
  const call = (i: number, model: string | undefined, duration: number | null, tokens: string) =>
    record({
      timestamp: new Date(Date.parse('2026-11-22T10:00:00Z') + i * 60_000).toISOString(),
      correlation_id: `c${i}`,
      service: i % 2 === 0 ? 'agents' : 'router',
      user_id: `u${i % 3}`,
      duration_ms: duration,
      attributes: { ...(model ? { model } : {}), tokens, 'context.agent_id': `agent_${i % 2}` },
      redactions: i === 0 ? { email: 3 } : {},
    });
  const records = [
    call(0, 'gpt-4o', 100, '1000'),
    call(1, 'gpt-4o', 300, '3000'),
    call(2, 'gpt-4o', 200, 'n/a'),
    call(3, 'gpt-4o-mini', 50, '10'),
    call(4, 'gpt-4o-mini', null, '30'),
    call(5, undefined, 999, '5'),
  ];
  let lake: Awaited<ReturnType<typeof memoryLake>>;
  beforeAll(async () => {
    lake = await memoryLake(records);
  });
  afterAll(() => lake.close());

  it('groups by an attribute and names each aggregate FN(FIELD)', async () => {
    // Act
    const rows = await stats(lake, {
      groupBy: [parseField('attributes.model')],
      aggregates: [
        'count:duration_ms',
        'sum:duration_ms',
        'avg:duration_ms',
        'min:duration_ms',
        'max:duration_ms',
        'p50:duration_ms',
        'p95:duration_ms',
        'sum:attributes.tokens',
        'distinct:user_id',
        'max:timestamp',
        'min:service',
      ].map(parseAggregate),
      orderBy: 'group',
    });

    // Assess
    expect(rows.map((r) => ({ group: r.group, count: r.count, ...r.values }))).toEqual([
      {
        group: { 'attributes.model': 'gpt-4o' },
        count: 3,
        'count(duration_ms)': 3,
        'sum(duration_ms)': 600,
        'avg(duration_ms)': 200,
        'min(duration_ms)': 100,
        'max(duration_ms)': 300,
        'p50(duration_ms)': 200,
        'p95(duration_ms)': quantile([100, 200, 300], 0.95),
        // 'n/a' is not a number: left out of the sum.
        'sum(attributes.tokens)': 4000,
        'distinct(user_id)': 3,
        'max(timestamp)': '2026-11-22T10:02:00.000Z',
        'min(service)': 'agents',
      },
      {
        group: { 'attributes.model': 'gpt-4o-mini' },
        count: 2,
        'count(duration_ms)': 1,
        'sum(duration_ms)': 50,
        'avg(duration_ms)': 50,
        'min(duration_ms)': 50,
        'max(duration_ms)': 50,
        'p50(duration_ms)': 50,
        'p95(duration_ms)': 50,
        'sum(attributes.tokens)': 40,
        'distinct(user_id)': 2,
        'max(timestamp)': '2026-11-22T10:04:00.000Z',
        'min(service)': 'agents',
      },
      // Events without the key form their own group, last (NULLS LAST in both engines).
      {
        group: { 'attributes.model': null },
        count: 1,
        'count(duration_ms)': 1,
        'sum(duration_ms)': 999,
        'avg(duration_ms)': 999,
        'min(duration_ms)': 999,
        'max(duration_ms)': 999,
        'p50(duration_ms)': 999,
        'p95(duration_ms)': 999,
        'sum(attributes.tokens)': 5,
        'distinct(user_id)': 1,
        'max(timestamp)': '2026-11-22T10:05:00.000Z',
        'min(service)': 'router',
      },
    ]);
  });

  it('groups by a column and two keys of one map, with time buckets', async () => {
    // Act
    const rows = await stats(lake, {
      groupBy: ['service', parseField('attributes.context.agent_id'), parseField('redactions.email')],
      bucketMs: 180_000,
      aggregates: [parseAggregate('p99:duration_ms')],
    });

    // Assess
    expect(
      rows.map((r) => [
        r.bucketStart,
        r.group.service,
        r.group['attributes.context.agent_id'],
        r.group['redactions.email'],
        r.count,
        r.values['p99(duration_ms)'],
      ]),
    ).toEqual([
      ['2026-11-22T10:00:00.000Z', 'agents', 'agent_0', 3, 1, 100],
      ['2026-11-22T10:00:00.000Z', 'agents', 'agent_0', null, 1, 200],
      ['2026-11-22T10:00:00.000Z', 'router', 'agent_1', null, 1, 300],
      ['2026-11-22T10:03:00.000Z', 'agents', 'agent_0', null, 1, null],
      ['2026-11-22T10:03:00.000Z', 'router', 'agent_1', null, 2, quantile([50, 999], 0.99)],
    ]);
  });

  it('counts events alone when asked for no aggregate', async () => {
    // Act
    const [row] = await stats(lake, {});

    // Assess
    expect(row?.count).toBe(6);
    expect(row?.values).toEqual({});
  });
});

describe('percentiles on DuckDB, against their definition', () => {
  it('interpolate between the nearest ranks for any values', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: -1_000_000, max: 1_000_000 }), { minLength: 1, maxLength: 50 }),
        async (values) => {
          // Prepare
          const lake = await memoryLake(
            values.map((v, i) => record({ duration_ms: v, correlation_id: `p${i}` })),
          );
          try {
            // Act
            const [row] = await stats(lake, {
              aggregates: ['p50', 'p90', 'p95', 'p99'].map((p) => parseAggregate(`${p}:duration_ms`)),
            });

            // Assess
            for (const p of [0.5, 0.9, 0.95, 0.99]) {
              expect(row?.values[`p${Math.round(p * 100)}(duration_ms)`]).toBeCloseTo(
                quantile(values, p) ?? Number.NaN,
                6,
              );
            }
          } finally {
            lake.close();
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
