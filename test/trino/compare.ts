/**
 * Running one query model on both engines and comparing what the CLI would show: rows decoded by the
 * production decoders, in order. The one thing the engines may legitimately differ in is which of more
 * than `samples` distinct correlation ids a group samples (`slice(array_agg(DISTINCT …))` and
 * `list_slice(list(DISTINCT …))` keep an arbitrary few); those are compared by count and by membership.
 * And percentiles (`--agg p95:…`): approximate on Athena (`approx_percentile`, a t-digest), exact on
 * DuckDB, so they are compared within {@link PERCENTILE_TOLERANCE} of the group's value range; sums and
 * averages of doubles within rounding (the engines add in different orders).
 */
import { expect } from 'vitest';
import { type AggregateRow, contextBlocks, type LogQuery, type SearchRecord } from '../../src/query';
import { decodeRow } from '../../src/query/decode';
import { aggregateLabel, fieldLabel, parseAggregate } from '../../src/query/fields';
import type { StreamName } from '../../src/schema';
import { aggregateRows, searchRecords, type TierLake } from './lake';

/** Share of a group's value range an approximate percentile may be off by. */
export const PERCENTILE_TOLERANCE = 0.05;

/** Aggregates whose two engines' values may differ a little: percentiles, sums and averages of doubles. */
function approximate(label: string): boolean {
  return /^(p\d\d|sum|avg)\(/.test(label);
}

/** Per DuckDB row: max − min of each aggregated field in its group (the scale of a percentile's error). */
async function valueRanges(
  lake: TierLake,
  query: LogQuery & { kind: 'aggregate' },
): Promise<Array<Record<string, number>>> {
  const fields = [
    ...new Set((query.aggregates ?? []).flatMap((a) => (a.field ? [fieldLabel(a.field)] : []))),
  ];
  const extra = fields.flatMap((f) => [parseAggregate(`max:${f}`), parseAggregate(`min:${f}`)]);
  const rows = aggregateRows(await lake.duckdb({ ...query, aggregates: extra }));
  return rows.map((row) =>
    Object.fromEntries(
      (query.aggregates ?? []).flatMap((a) => {
        if (a.field === undefined) return [];
        const f = fieldLabel(a.field);
        const spread = Number(row.values[`max(${f})`] ?? 0) - Number(row.values[`min(${f})`] ?? 0);
        return [[aggregateLabel(a), Math.max(spread, 1e-9)]];
      }),
    ),
  );
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
  const ranges = query.aggregates?.length ? await valueRanges(lake, query) : undefined;
  d.forEach((row, i) => {
    for (const [label, expected] of Object.entries(row.values)) {
      if (!approximate(label)) continue;
      const actual = a[i]?.values[label];
      if (expected === null || typeof expected !== 'number') {
        expect(actual).toBe(expected);
        continue;
      }
      expect(typeof actual).toBe('number');
      const spread = ranges?.[i]?.[label] ?? Math.abs(expected);
      const slack = label.startsWith('p')
        ? PERCENTILE_TOLERANCE * spread
        : 1e-9 * Math.max(1, Math.abs(expected));
      expect(Math.abs(Number(actual) - expected), `${label} of row ${i}`).toBeLessThanOrEqual(slack);
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
