/**
 * Differential, property-based: any query model, rendered for DuckDB and for Athena, returns the same rows
 * over the same files. Random filters (texts with quotes, `%`, `_`, backslashes and non-ASCII, in any case;
 * ids, levels, services, categories, user pseudonyms), time ranges anywhere around the data and across hour
 * and day boundaries down to the millisecond (empty results included), any grouping, bucket width, sample
 * count, threshold, order and limit.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AggregateQuery,
  GROUP_COLUMNS,
  type LogFilter,
  type LogQuery,
  MIN_BUCKET_MS,
  type SearchQuery,
} from '../../src/query';
import { CATEGORIES, LEVELS } from '../../src/schema';
import { expectSameResults, sampleUniverse } from './compare';
import { HOUR, MESSAGES, MINUTE, SERVICES } from './dataset';
import { openTierLake, searchRecords, type TierLake, tierData, tierPseudonyms } from './lake';

const data = tierData();
const DAY = 24 * HOUR;
/** Runs per property: each is one query on each engine. */
const RUNS = 30;
/** Each run is two queries of a second or so on a busy 2-core machine. */
const TIMEOUT = 20 * 60_000;

let lake: TierLake;
let universe: Set<string>;
let users: string[];
let emptyResults = 0;
let nonEmptyResults = 0;

beforeAll(async () => {
  lake = await openTierLake();
  const ids = ['user-0', 'user-1', 'user-2', 'user-3', 'user-4'];
  const pseudonyms = await tierPseudonyms(lake, ids);
  users = ids.map((u) => pseudonyms.get(u) as string);
  universe = sampleUniverse(
    searchRecords(
      await lake.duckdb({
        kind: 'search',
        filter: { since: new Date(data.start - HOUR), until: new Date(Date.now() + HOUR) },
      }),
    ),
  );
}, 600_000);

afterAll(async () => {
  await lake?.close();
});

/** Characters SQL engines and their string functions disagree about when they are careless. */
const TRICKY = [
  "'",
  "''",
  '"',
  '%',
  '_',
  '\\',
  '`',
  ' ',
  'a',
  'A',
  'é',
  'É',
  'ß',
  'Σ',
  'ς',
  'İ',
  '日',
  '🚀',
  '\t',
  '#',
];

const text = fc.oneof(
  // A piece of a real message, in its case, lower or upper case: matches something.
  fc
    .tuple(
      fc.constantFrom(...MESSAGES),
      fc.nat(),
      fc.integer({ min: 1, max: 8 }),
      fc.constantFrom('same', 'lower', 'upper'),
    )
    .map(([m, start, len, c]) => {
      const chars = [...m];
      const s = chars.slice(start % chars.length, (start % chars.length) + len).join('');
      return c === 'lower' ? s.toLowerCase() : c === 'upper' ? s.toUpperCase() : s;
    })
    .filter((s) => s.trim() !== ''),
  // Made of tricky characters: mostly matches nothing.
  fc.array(fc.constantFrom(...TRICKY), { minLength: 1, maxLength: 6 }).map((a) => a.join('')),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 5 }),
);

/** Hour and day boundaries around the data, and the data's own edges. */
const boundaries = (() => {
  const out: number[] = [];
  for (let t = data.start - 2 * HOUR; t <= data.end + 2 * HOUR; t += HOUR) out.push(t);
  out.push(data.midnight - DAY, data.midnight + DAY, data.end, data.alertAt.getTime());
  return out;
})();

const instant = fc.oneof(
  fc.integer({ min: data.start - 3 * HOUR, max: data.end + 3 * HOUR }),
  fc.tuple(fc.constantFrom(...boundaries), fc.constantFrom(-1, 0, 1, -MINUTE, MINUTE)).map(([b, d]) => b + d),
);

const range = fc
  .tuple(
    instant,
    fc.oneof(
      fc.integer({ min: 1, max: 36 * HOUR }),
      fc.constantFrom(1, 2, MINUTE, HOUR, HOUR + 1, DAY, DAY - 1, 2 * DAY),
      fc.tuple(fc.constantFrom(...boundaries), fc.constantFrom(-1, 0, 1)).map(([b, d]) => b + d),
    ),
  )
  .map(([since, x]) => {
    // x is either a duration or an absolute instant (a boundary); either way until > since.
    const until = x > data.start - 10 * DAY ? Math.max(since + 1, x) : since + x;
    return { since: new Date(since), until: new Date(until) };
  });

const some = <T>(values: readonly T[]) => fc.subarray([...values], { minLength: 1 });

const filter: fc.Arbitrary<LogFilter> = fc
  .record(
    {
      range,
      text,
      correlationId: fc.oneof(
        fc.constantFrom("c'quote", 'c%1', 'c_1', 'c-ü', 'C-UPPER', 'c-5', 'c-600'),
        text,
      ),
      traceId: fc.constantFrom('t-0', 't-3', 't-16', "t'x"),
      levels: some(LEVELS),
      services: fc.tuple(some(SERVICES), fc.array(text, { maxLength: 1 })).map(([a, b]) => [...a, ...b]),
      categories: some(CATEGORIES),
      userIds: fc.oneof(
        fc.subarray(['user-0', 'user-1', 'user-2', 'user-3', 'user-4'], { minLength: 1 }),
        fc.array(text, { minLength: 1, maxLength: 2 }),
      ),
    },
    { requiredKeys: ['range'] },
  )
  .map(({ range: r, userIds, ...rest }) => ({
    ...r,
    ...rest,
    // Raw user names become the lake's pseudonyms, as `loglake search --user` does.
    ...(userIds
      ? {
          userIds: userIds.map((u) =>
            u.startsWith('user-') && u.length === 6 ? (users[Number(u.slice(5))] ?? u) : u,
          ),
        }
      : {}),
  }));

const search: fc.Arbitrary<SearchQuery> = fc.record(
  {
    kind: fc.constant('search' as const),
    filter,
    limit: fc.integer({ min: 1, max: 300 }),
    order: fc.constantFrom('asc' as const, 'desc' as const),
  },
  { requiredKeys: ['kind', 'filter'] },
);

const aggregate: fc.Arbitrary<AggregateQuery> = fc
  .record(
    {
      kind: fc.constant('aggregate' as const),
      filter,
      groupBy: fc
        .subarray([...GROUP_COLUMNS], { maxLength: 3 })
        .chain((g) => fc.shuffledSubarray(g, { minLength: g.length })),
      bucketMs: fc.oneof(
        fc.constantFrom(MIN_BUCKET_MS, 1_001, 1_500, 7_000, MINUTE, 5 * MINUTE, HOUR, 3 * HOUR, DAY),
        fc.integer({ min: MIN_BUCKET_MS, max: 2 * DAY }),
      ),
      samples: fc.integer({ min: 0, max: 6 }),
      sampleLevels: some(LEVELS),
      minCount: fc.integer({ min: 0, max: 30 }),
      minErrorRate: fc.oneof(fc.constantFrom(0, 0.05, 0.5, 1), fc.double({ min: 0, max: 1, noNaN: true })),
      orderBy: fc.constantFrom(
        'count' as const,
        'errors' as const,
        'error_rate' as const,
        'bucket' as const,
        'group' as const,
      ),
      limit: fc.integer({ min: 1, max: 200 }),
    },
    { requiredKeys: ['kind', 'filter'] },
  )
  .map((q) => (q.orderBy === 'bucket' && q.bucketMs === undefined ? { ...q, orderBy: 'count' as const } : q));

async function same(query: LogQuery): Promise<void> {
  const { rows } = await expectSameResults(lake, query, { universe });
  if (rows === 0) emptyResults++;
  else nonEmptyResults++;
}

describe('DuckDB and Athena (Trino) dialects over the same files', () => {
  it(
    'return the same search results for any filter, order and limit',
    async () => {
      await fc.assert(fc.asyncProperty(search, same), { numRuns: RUNS, endOnFailure: true });
    },
    TIMEOUT,
  );

  it(
    'return the same aggregates for any filter, grouping, bucket, samples, thresholds, order and limit',
    async () => {
      await fc.assert(fc.asyncProperty(aggregate, same), { numRuns: RUNS, endOnFailure: true });
    },
    TIMEOUT,
  );

  it(
    'return the same aggregates for bucket widths that do not divide a second, events on their edges',
    async () => {
      // Prepare: ranges that start on a bucket edge with events exactly there.
      const edges = fc
        .tuple(fc.constantFrom(1_001, 1_003, 1_500, 2_999, 60_001), fc.constantFrom(...boundaries))
        .map(
          ([bucketMs, b]): AggregateQuery => ({
            kind: 'aggregate',
            bucketMs,
            filter: { since: new Date(b - 3 * HOUR), until: new Date(b + 3 * HOUR) },
          }),
        );
      await fc.assert(fc.asyncProperty(edges, same), { numRuns: 10, endOnFailure: true });
    },
    TIMEOUT,
  );

  it('compared both empty and non-empty results', () => {
    expect(emptyResults).toBeGreaterThan(0);
    expect(nonEmptyResults).toBeGreaterThan(RUNS / 4);
  });
});
