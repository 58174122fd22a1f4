/**
 * Every query the Athena dialect builds, run on a real Trino over a lake written by the local pipeline:
 * search with each filter and stats with each grouping (each compared row by row with DuckDB over the same
 * files), and the saved queries of the workgroups, bound as Athena binds `ExecutionParameters`.
 */
import { GetQueryExecutionCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NAMED_QUERIES } from '../../lib/query';
import { athenaExecutionParameters, type BuiltQuery, type SearchRecord } from '../../src/query';
import { athenaRows } from '../../src/query/athena';
import { type CaseContext, CONTEXT_CASES, PATTERNS_CASES, SEARCH_CASES, STATS_CASES } from './cases';
import { expectSameResults, sampleUniverse } from './compare';
import { HOUR } from './dataset';
import { openTierLake, searchRecords, type TierLake, tierData, tierPseudonyms } from './lake';

let lake: TierLake;
let context: CaseContext;
let universe: Set<string>;
let records: SearchRecord[];
const data = tierData();

beforeAll(async () => {
  lake = await openTierLake();
  const pseudonyms = await tierPseudonyms(lake, ['user-0', 'user-1', 'user-2', 'user-3', 'user-4']);
  context = {
    data,
    pseudonym: (id) => {
      const p = pseudonyms.get(id);
      if (p === undefined) throw new Error(`the cases may name user-0 … user-4, not ${id}`);
      return p;
    },
  };
  records = searchRecords(
    await lake.duckdb({
      kind: 'search',
      filter: { since: new Date(data.start - 24 * HOUR), until: new Date(Date.now() + HOUR) },
    }),
  );
  universe = sampleUniverse(records);
}, 600_000);

afterAll(async () => {
  await lake?.close();
});

describe('the lake the tier queries', () => {
  it('holds every event sent, across at least two days and every category', () => {
    expect(records).toHaveLength(data.events.length);
    expect(new Set(records.map((r) => r.timestamp.slice(0, 10))).size).toBeGreaterThanOrEqual(2);
    expect(new Set(records.map((r) => r.category)).size).toBe(7);
  });
});

describe.each([
  ['search', SEARCH_CASES],
  ['stats', STATS_CASES],
  ['context', CONTEXT_CASES],
  ['patterns', PATTERNS_CASES],
] as const)('%s on Athena (Trino) and DuckDB', (_, cases) => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    // Act
    const result = await expectSameResults(lake, c.query(context), {
      ...(c.streams ? { streams: c.streams } : {}),
      universe,
    });

    // Assess: equal, and about rows (or about none, when the case says so).
    if (c.empty) expect(result.rows).toBe(0);
    else expect(result.rows).toBeGreaterThan(0);
  });
});

/** A saved query with its `?` bound to `params`, run through the production Athena runner. */
async function savedQuery(name: string, params: string[]): Promise<Record<string, unknown>[]> {
  const spec = NAMED_QUERIES.find((q) => q.name === name);
  if (!spec) throw new Error(`no saved query ${name}`);
  const built: BuiltQuery = { dialect: 'athena', sql: spec.sql(lake.schema), params, columns: [] };
  return [
    ...(await athenaRows(lake.athena.client, built, {
      workGroup: 'primary',
      database: lake.schema,
      pollMs: 20,
    })),
  ] as Record<string, unknown>[];
}

describe('the saved queries on Athena (Trino)', () => {
  it('covers every saved query of lib/query.ts', () => {
    expect(NAMED_QUERIES.map((q) => q.name).sort()).toEqual([
      'error-rate-by-service',
      'errors-last-hour',
      'search-by-correlation-id',
    ]);
  });

  it('search-by-correlation-id finds every event of a correlation id with a quote in it, in time order', async () => {
    // Prepare
    const id = "c'quote";
    const expected = records
      .filter((r) => r.correlation_id === id && r.category !== 'security' && r.category !== 'audit')
      .sort((a, b) => a.timestamp.localeCompare(b.timestamp));
    const days = [new Date(data.start).toISOString().slice(0, 10), new Date().toISOString().slice(0, 10)];

    // Act
    const rows = await savedQuery('search-by-correlation-id', [id, ...days]);

    // Assess
    expect(expected.length).toBeGreaterThan(0);
    expect(rows.map((r) => [r.correlation_id, r.service, r.message, r.category])).toEqual(
      expected.map((r) => [r.correlation_id, r.service, r.message, r.category]),
    );
    expect(rows.map((r) => `${String(r.timestamp).replace(' ', 'T')}Z`)).toEqual(
      expected.map((r) => r.timestamp),
    );
  });

  it('errors-last-hour lists the ERROR and CRITICAL events of the last hour, newest first', async () => {
    // Prepare: current_timestamp is taken while the query runs, somewhere between these two.
    const before = Date.now();
    const rows = await savedQuery('errors-last-hour', []);
    const after = Date.now();
    const errorsSince = (t: number) =>
      records
        .filter(
          (r) =>
            ['ERROR', 'CRITICAL'].includes(r.level) &&
            Date.parse(r.timestamp) >= t &&
            !['security', 'audit'].includes(r.category),
        )
        .map((r) => r.correlation_id);

    // Assess
    const ids = rows.map((r) => r.correlation_id);
    expect(ids).toEqual(expect.arrayContaining(errorsSince(after - HOUR)));
    expect(errorsSince(before - HOUR)).toEqual(expect.arrayContaining(ids));
    // The lake is written when the run starts and the tier runs after the main project: how many of its
    // recent errors are still inside the last hour depends on how long that took, so no minimum here.
    const times = rows.map((r) => String(r.timestamp));
    expect(times).toEqual([...times].sort().reverse());
  });

  it('error-rate-by-service counts events and errors per service over the last day, worst first', async () => {
    // Act
    const before = Date.now();
    const rows = await savedQuery('error-rate-by-service', []);
    const after = Date.now();

    // Assess: per service, between what the window holds at the start and at the end of the query.
    const counts = (t: number) => {
      const m = new Map<string, { events: number; errors: number }>();
      for (const r of records) {
        if (Date.parse(r.timestamp) < t || ['security', 'audit'].includes(r.category)) continue;
        const c = m.get(r.service) ?? { events: 0, errors: 0 };
        c.events++;
        if (r.level === 'ERROR' || r.level === 'CRITICAL') c.errors++;
        m.set(r.service, c);
      }
      return m;
    };
    const [wide, narrow] = [counts(before - 24 * HOUR), counts(after - 24 * HOUR)];
    expect(rows.length).toBeGreaterThanOrEqual(5);
    for (const r of rows) {
      const service = String(r.service);
      const events = Number(r.events);
      const errors = Number(r.errors);
      expect(events).toBeLessThanOrEqual(wide.get(service)?.events ?? 0);
      expect(events).toBeGreaterThanOrEqual(narrow.get(service)?.events ?? 0);
      expect(errors).toBeLessThanOrEqual(wide.get(service)?.errors ?? 0);
      // The query rounds to two decimals, half away from zero (40.625 → 40.63): at most 0.005 off.
      expect(Math.abs(Number(r.error_rate_pct) - (100 * errors) / events)).toBeLessThanOrEqual(0.005 + 1e-9);
    }
    const rates = rows.map((r) => Number(r.error_rate_pct));
    expect(rates).toEqual([...rates].sort((a, b) => b - a));
  });
});

describe('parameter binding', () => {
  it('refuses a value bound raw (the way DuckDB takes it), as Athena does: the literal quoting matters', async () => {
    // Prepare
    const sql = `SELECT count(*) AS n FROM "${lake.schema}"."logs" WHERE "correlation_id" = ?`;
    const client = lake.athena.client;
    const stateOf = async (params: string[]) => {
      const { QueryExecutionId } = await client.send(
        new StartQueryExecutionCommand({
          QueryString: sql,
          ExecutionParameters: params,
          QueryExecutionContext: { Database: lake.schema },
        }),
      );
      for (;;) {
        const { QueryExecution: q } = await client.send(new GetQueryExecutionCommand({ QueryExecutionId }));
        if (q?.Status?.State !== 'RUNNING') return q?.Status;
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    // Act
    const raw = await stateOf(['c-1']);
    const quoted = await stateOf(athenaExecutionParameters(['c-1']));

    // Assess
    expect(raw?.State).toBe('FAILED');
    // `USING c-1` is the expression c minus 1: Trino (like Athena) refuses it.
    expect(raw?.StateChangeReason).toMatch(/cannot contain column references|'c' cannot be resolved/);
    expect(quoted?.State).toBe('SUCCEEDED');
  });
});
