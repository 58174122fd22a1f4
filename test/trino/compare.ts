/**
 * Running one query model on both engines and comparing what the CLI would show: rows decoded by the
 * production decoders, in order. The one thing the engines may legitimately differ in is which of more
 * than `samples` distinct correlation ids a group samples (`slice(array_agg(DISTINCT …))` and
 * `list_slice(list(DISTINCT …))` keep an arbitrary few); those are compared by count and by membership.
 * And percentiles (`--agg p95:…`): approximate on Athena (`approx_percentile`, a t-digest), exact on
 * DuckDB, so Athena's must lie within {@link percentileWindow} of the group's values; sums and averages
 * of doubles within rounding (the engines add in different orders).
 */

import type { DuckDBConnection } from '@duckdb/node-api';
import { expect } from 'vitest';
import {
  type AggregateRow,
  type BuiltQuery,
  contextBlocks,
  type LogQuery,
  type SearchRecord,
} from '../../src/query';
import type { RawRow } from '../../src/query/decode';
import { decodeRow } from '../../src/query/decode';
import { runDuckDb } from '../../src/query/duckdb';
import type { StreamName } from '../../src/schema';
import { aggregateRows, searchRecords, type TierLake } from './lake';

/** Aggregates whose two engines' values may differ a little: percentiles, sums and averages of doubles. */
function approximate(label: string): boolean {
  return /^(p\d\d|sum|avg)\(/.test(label);
}

/**
 * The values an approximate percentile of `sorted` may take: between the values a few ranks either side
 * of the exact, interpolated rank. Athena's approx_percentile is Trino's t-digest: a small group's values
 * stay single points, interpolated between neighbours as the digest sees fit (one rank either way); a
 * large group's merge into centroids of up to about n/100 values near the median (so 2% of n more).
 * DuckDB's quantile_cont interpolates between the two nearest. A tolerance as a share of the group's range
 * fails on a sparse tail (two values far apart around the 90th rank); a window of ranks holds on any
 * distribution and still fails for a value from another group or another window.
 */
export function percentileWindow(sorted: readonly number[], fraction: number): readonly [number, number] {
  const rank = (sorted.length - 1) * fraction;
  const slack = 1 + Math.ceil(0.02 * sorted.length);
  const at = (i: number) => sorted[Math.min(sorted.length - 1, Math.max(0, i))] as number;
  return [at(Math.floor(rank) - slack), at(Math.ceil(rank) + slack)];
}

/** The fraction a percentile label asks for: `p95(duration_ms)` → 0.95. */
export function percentileFraction(label: string): number | undefined {
  const m = /^p(\d\d)\(/.exec(label);
  return m ? Number(m[1]) / 100 : undefined;
}

/**
 * The rows of a DuckDB aggregate query with each percentile collecting its values instead (each
 * `quantile_cont(e, f)` becomes the sorted list of the non-null `e`): per row, the row with those
 * columns null (decodable as usual) and the sorted values by the percentile's label.
 */
export async function percentileValueRows(
  connection: DuckDBConnection,
  built: BuiltQuery,
): Promise<Array<{ row: RawRow; values: Record<string, readonly number[]> }>> {
  const sql = built.sql.replace(
    /quantile_cont\((.+?), 0\.\d+\)/g,
    (_, e: string) => `list(${e} ORDER BY ${e}) FILTER (WHERE ${e} IS NOT NULL)`,
  );
  const rows = await runDuckDb(connection, { ...built, sql });
  const lists = built.columns.filter(
    (c) => c.label !== undefined && percentileFraction(c.label) !== undefined,
  );
  return rows.map((row) => ({
    row: { ...row, ...Object.fromEntries(lists.map((c) => [c.name, null])) },
    values: Object.fromEntries(lists.map((c) => [c.label, ((row[c.name] ?? []) as unknown[]).map(Number)])),
  }));
}

export interface Compared {
  readonly kind: LogQuery['kind'];
  /** Rows DuckDB returned (decoded). */
  readonly rows: number;
}

/** Correlation ids a group's samples may come from: every id in the lake. */
export function sampleUniverse(records: readonly SearchRecord[]): Set<string> {
  return new Set(records.flatMap((r) => (r.correlation_id === null ? [] : [r.correlation_id])));
}

/**
 * Run `query` on DuckDB and on Trino (Athena dialect, `streams`' tables) and expect the same decoded rows.
 * @returns how many rows there were, so callers can insist on non-empty results.
 */
export async function expectSameResults(
  lake: TierLake,
  query: LogQuery,
  options: { streams?: readonly StreamName[]; universe?: ReadonlySet<string> } = {},
): Promise<Compared> {
  const [duck, athena] = [await lake.duckdb(query), await lake.athenaRun(query, options.streams)];
  if (query.kind === 'search') {
    const d = searchRecords(duck);
    expect(searchRecords(athena)).toEqual(d);
    return { kind: query.kind, rows: d.length };
  }
  if (query.kind === 'context') {
    const blocks = (r: typeof duck) => contextBlocks(r.built.columns, r.rows);
    expect(blocks(athena)).toEqual(blocks(duck));
    return { kind: query.kind, rows: duck.rows.length };
  }
  if (query.kind === 'patterns') {
    const decode = (r: typeof duck) => r.rows.map((row) => decodeRow(r.built.columns, row));
    expect(decode(athena)).toEqual(decode(duck));
    return { kind: query.kind, rows: duck.rows.length };
  }
  const d = aggregateRows(duck);
  const a = aggregateRows(athena);
  const strip = (rows: AggregateRow[]) =>
    rows.map(({ sampleCorrelationIds: _, values, ...rest }) => ({
      ...rest,
      values: Object.fromEntries(Object.entries(values).filter(([k]) => !approximate(k))),
    }));
  expect(strip(a)).toEqual(strip(d));
  const values = query.aggregates?.length
    ? (await percentileValueRows(await lake.reader.connectionOver(duck.built.scope), duck.built)).map(
        (r) => r.values,
      )
    : undefined;
  expect(values?.length ?? d.length).toBe(d.length);
  d.forEach((row, i) => {
    for (const [label, expected] of Object.entries(row.values)) {
      if (!approximate(label)) continue;
      const actual = a[i]?.values[label];
      if (expected === null || typeof expected !== 'number') {
        expect(actual).toBe(expected);
        continue;
      }
      expect(typeof actual).toBe('number');
      const fraction = percentileFraction(label);
      if (fraction === undefined) {
        const slack = 1e-9 * Math.max(1, Math.abs(expected));
        expect(Math.abs(Number(actual) - expected), `${label} of row ${i}`).toBeLessThanOrEqual(slack);
        continue;
      }
      const [lo, hi] = percentileWindow(values?.[i]?.[label] ?? [], fraction);
      expect(Number(actual), `${label} of row ${i}`).toBeGreaterThanOrEqual(lo - 1e-9);
      expect(Number(actual), `${label} of row ${i}`).toBeLessThanOrEqual(hi + 1e-9);
    }
  });
  const n = query.samples ?? 0;
  d.forEach((row, i) => {
    const samples = a[i]?.sampleCorrelationIds ?? [];
    expect(samples.length).toBe(row.sampleCorrelationIds.length);
    expect(new Set(samples).size).toBe(samples.length);
    expect(samples.length).toBeLessThanOrEqual(n);
    // Fewer than asked for means all of them: then both engines hold the same set.
    if (samples.length < n) expect([...samples].sort()).toEqual([...row.sampleCorrelationIds].sort());
    for (const s of samples) if (options.universe) expect(options.universe.has(s)).toBe(true);
  });
  return { kind: query.kind, rows: d.length };
}
