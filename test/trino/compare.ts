/**
 * Running one query model on both engines and comparing what the CLI would show: rows decoded by the
 * production decoders, in order. The one thing the engines may legitimately differ in is which of more
 * than `samples` distinct correlation ids a group samples (`slice(array_agg(DISTINCT …))` and
 * `list_slice(list(DISTINCT …))` keep an arbitrary few); those are compared by count and by membership.
 */
import { expect } from 'vitest';
import type { AggregateRow, LogQuery, SearchRecord } from '../../src/query';
import type { StreamName } from '../../src/schema';
import { aggregateRows, searchRecords, type TierLake } from './lake';

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
  const d = aggregateRows(duck);
  const a = aggregateRows(athena);
  const strip = (rows: AggregateRow[]) => rows.map(({ sampleCorrelationIds: _, ...rest }) => rest);
  expect(strip(a)).toEqual(strip(d));
  const n = query.kind === 'aggregate' ? (query.samples ?? 0) : 0;
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
