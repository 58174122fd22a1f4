import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildQuery,
  decodeAggregateRow,
  decodeSearchRow,
  type LogFilter,
  type SearchRecord,
} from '../../src/query';
import {
  checkLakePath,
  duckdbGlobLiteral,
  LOCAL_TABLE,
  LocalLakeReader,
  runDuckDb,
} from '../../src/query/duckdb';
import { CATEGORIES, LEVELS } from '../../src/schema';
import { memoryLake, record, writeParquetLake } from '../helpers/records';

// Values drawn from a small alphabet rich in SQL metacharacters, so filters and records collide often.
const piece = fc.constantFrom('a', 'B', "'", '%', '_', '\\', '"', ';', '--', '?', ' ', 'é', 'OR 1=1');
const text = fc.array(piece, { minLength: 1, maxLength: 4 }).map((p) => p.join(''));
const base = Date.parse('2026-11-22T00:00:00Z');

const recordArb = fc
  .record({
    // Six hours across midnight: filters cut through hours and days often.
    minute: fc.integer({ min: -3 * 60, max: 3 * 60 - 1 }),
    level: fc.constantFrom(...LEVELS),
    category: fc.constantFrom(...CATEGORIES),
    service: text,
    message: text,
    correlation: text,
    user: fc.option(text, { nil: null }),
  })
  .map((g) =>
    record({
      timestamp: new Date(base + g.minute * 60_000).toISOString(),
      level: g.level,
      category: g.category,
      service: g.service,
      message: g.message,
      correlation_id: `${g.correlation}`,
      user_id: g.user,
    }),
  );

/** What the filter means, written plainly in JS: the reference the SQL must agree with. */
function matches(r: SearchRecord, f: LogFilter): boolean {
  const t = Date.parse(r.timestamp);
  return (
    t >= f.since.getTime() &&
    t < f.until.getTime() &&
    (f.text === undefined || r.message.toLowerCase().includes(f.text.toLowerCase())) &&
    (f.correlationId === undefined || r.correlation_id === f.correlationId) &&
    (f.levels === undefined || f.levels.includes(r.level)) &&
    (f.services === undefined || f.services.includes(r.service)) &&
    (f.categories === undefined || f.categories.includes(r.category)) &&
    (f.userIds === undefined || (r.user_id !== null && f.userIds.includes(r.user_id)))
  );
}

/**
 * Filters over `records`: each condition is absent most of the time, and otherwise takes a value from the
 * records (so results are not always empty) or a fresh hostile one.
 */
function filterArb(records: readonly SearchRecord[]): fc.Arbitrary<LogFilter> {
  const pick = <T>(values: readonly T[], fresh: fc.Arbitrary<T>) =>
    values.length > 0
      ? fc.oneof({ arbitrary: fc.constantFrom(...values), weight: 3 }, { arbitrary: fresh, weight: 1 })
      : fresh;
  const maybe = <T>(arb: fc.Arbitrary<T>) =>
    fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: arb, weight: 1 });
  return fc
    .record({
      from: fc.integer({ min: -4 * 60, max: 3 * 60 }),
      span: fc.integer({ min: 1, max: 6 * 60 }),
      text: maybe(
        pick(
          records.map((r) => r.message.slice(1, 3)),
          text,
        ),
      ),
      correlationId: maybe(
        pick(
          records.map((r) => r.correlation_id ?? ''),
          text,
        ),
      ),
      levels: maybe(fc.uniqueArray(fc.constantFrom(...LEVELS), { minLength: 1 })),
      services: maybe(
        fc.array(
          pick(
            records.map((r) => r.service),
            text,
          ),
          { minLength: 1, maxLength: 3 },
        ),
      ),
      categories: maybe(fc.uniqueArray(fc.constantFrom(...CATEGORIES), { minLength: 1 })),
      userIds: maybe(
        fc.array(
          pick(
            records.flatMap((r) => (r.user_id ? [r.user_id] : [])),
            text,
          ),
          { minLength: 1, maxLength: 2 },
        ),
      ),
    })
    .map(({ from, span, ...rest }) => {
      const filter: Record<string, unknown> = {
        since: new Date(base + from * 60_000 + 17_000),
        until: new Date(base + (from + span) * 60_000),
      };
      for (const [k, v] of Object.entries(rest)) if (v !== undefined) filter[k] = v;
      return filter as unknown as LogFilter;
    });
}

describe('runDuckDb', () => {
  it('returns exactly the records the filter describes, whatever characters the values hold', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .array(recordArb, { maxLength: 40 })
          // A unique `n` per record tells the results apart.
          .map((rs) => rs.map((r, i) => ({ ...r, attributes: { n: String(i) } })))
          .chain((records) => fc.tuple(fc.constant(records), filterArb(records))),
        async ([records, filter]) => {
          // Prepare
          const lake = await memoryLake(records);
          try {
            const built = buildQuery(
              { kind: 'search', filter },
              { dialect: 'duckdb', tables: [{ table: 'logs' }] },
            );

            // Act
            const rows = await runDuckDb(lake.connection, built);

            // Assess
            const got = rows.map((r) => decodeSearchRow(built.columns, r).attributes.n).sort();
            const want = records
              .filter((r) => matches(r, filter))
              .map((r) => r.attributes.n)
              .sort();
            expect(got).toEqual(want);
          } finally {
            lake.close();
          }
        },
      ),
      { numRuns: 80 },
    );
  });
});

describe('search and aggregate on DuckDB', () => {
  const records = [
    record({
      timestamp: '2026-11-22T10:00:01.000Z',
      level: 'INFO',
      service: 'api',
      correlation_id: 'c1',
      message: '50% done',
    }),
    record({
      timestamp: '2026-11-22T10:00:02.000Z',
      level: 'ERROR',
      service: 'api',
      correlation_id: 'c2',
      message: '50 done',
    }),
    record({
      timestamp: '2026-11-22T10:07:00.000Z',
      level: 'CRITICAL',
      service: 'api',
      correlation_id: 'c3',
      message: 'it_is',
    }),
    record({
      timestamp: '2026-11-22T10:08:00.000Z',
      level: 'INFO',
      service: 'web',
      correlation_id: 'c4',
      message: 'itxis',
    }),
    record({
      timestamp: '2026-11-22T11:30:00.000Z',
      level: 'WARN',
      service: 'web',
      correlation_id: 'c5',
      attributes: { 'a.b': "x'y" },
      redactions: { email: 2 },
      schema_errors: ['timestamp: unparseable'],
      category: 'errors',
    }),
  ];
  let lake: Awaited<ReturnType<typeof memoryLake>>;
  const tables = [{ table: 'logs' }];
  const filter = { since: new Date('2026-11-22T00:00:00Z'), until: new Date('2026-11-23T00:00:00Z') };

  beforeAll(async () => {
    lake = await memoryLake(records);
  });
  afterAll(() => lake.close());

  it('matches % and _ literally in the search text', async () => {
    // Prepare
    const percent = buildQuery(
      { kind: 'search', filter: { ...filter, text: '50%' } },
      { dialect: 'duckdb', tables },
    );
    const underscore = buildQuery(
      { kind: 'search', filter: { ...filter, text: 'IT_' } },
      { dialect: 'duckdb', tables },
    );

    // Act
    const p = await runDuckDb(lake.connection, percent);
    const u = await runDuckDb(lake.connection, underscore);

    // Assess
    expect(p.map((r) => r.correlation_id)).toEqual(['c1']);
    expect(u.map((r) => r.correlation_id)).toEqual(['c3']);
  });

  it('decodes every column of a record back to the normalized shape', async () => {
    // Prepare
    const built = buildQuery(
      { kind: 'search', filter: { ...filter, correlationId: 'c5' } },
      { dialect: 'duckdb', tables },
    );

    // Act
    const [row] = await runDuckDb(lake.connection, built);

    // Assess
    expect(row).toBeDefined();
    expect(decodeSearchRow(built.columns, row ?? {})).toEqual(records[4]);
  });

  it('counts events and errors per service and bucket, with sample correlation ids of errors', async () => {
    // Prepare
    const built = buildQuery(
      {
        kind: 'aggregate',
        filter,
        groupBy: ['service'],
        bucketMs: 600_000,
        samples: 5,
        sampleLevels: ['ERROR', 'CRITICAL'],
      },
      { dialect: 'duckdb', tables },
    );

    // Act
    const rows = (await runDuckDb(lake.connection, built)).map((r) => decodeAggregateRow(built.columns, r));

    // Assess
    expect(rows).toEqual([
      {
        group: { service: 'api' },
        bucketStart: '2026-11-22T10:00:00.000Z',
        count: 3,
        errors: 2,
        errorRate: 2 / 3,
        firstSeen: '2026-11-22T10:00:01.000Z',
        lastSeen: '2026-11-22T10:07:00.000Z',
        sampleCorrelationIds: expect.arrayContaining(['c2', 'c3']),
        values: {},
      },
      {
        group: { service: 'web' },
        bucketStart: '2026-11-22T10:00:00.000Z',
        count: 1,
        errors: 0,
        errorRate: 0,
        firstSeen: '2026-11-22T10:08:00.000Z',
        lastSeen: '2026-11-22T10:08:00.000Z',
        sampleCorrelationIds: [],
        values: {},
      },
      {
        group: { service: 'web' },
        bucketStart: '2026-11-22T11:30:00.000Z',
        count: 1,
        errors: 0,
        errorRate: 0,
        firstSeen: '2026-11-22T11:30:00.000Z',
        lastSeen: '2026-11-22T11:30:00.000Z',
        sampleCorrelationIds: [],
        values: {},
      },
    ]);
  });

  it('keeps only groups over the error-rate threshold, highest rate first', async () => {
    // Prepare
    const built = buildQuery(
      { kind: 'aggregate', filter, groupBy: ['service'], minErrorRate: 0.5, orderBy: 'error_rate' },
      { dialect: 'duckdb', tables },
    );

    // Act
    const rows = (await runDuckDb(lake.connection, built)).map((r) => decodeAggregateRow(built.columns, r));

    // Assess
    expect(rows.map((r) => [r.group.service, r.count, r.errors])).toEqual([['api', 3, 2]]);
  });
});

describe('LocalLakeReader', () => {
  const window = { since: new Date('2026-11-22T00:00:00Z'), until: new Date('2026-11-23T00:00:00Z') };
  const tables = [{ table: LOCAL_TABLE }];
  const search = buildQuery({ kind: 'search', filter: window }, { dialect: 'duckdb', tables });
  const stats = buildQuery(
    { kind: 'aggregate', filter: window, groupBy: ['service'] },
    { dialect: 'duckdb', tables },
  );
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'loglake-reader-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('opens a lake with no files yet as empty, then sees files delivered later, then none again', async () => {
    // Prepare
    const reader = await LocalLakeReader.open(join(dataDir, 'fresh'));
    try {
      // Act
      const before = { search: await reader.query(search), stats: await reader.query(stats) };
      await writeParquetLake(join(dataDir, 'fresh'), [
        record({ correlation_id: 'late-1' }),
        record({ correlation_id: 'late-2', service: 'search', category: 'errors', level: 'ERROR' }),
      ]);
      const after = await reader.query(search);
      const grouped = (await reader.query(stats)).map((r) => decodeAggregateRow(stats.columns, r));
      rmSync(join(dataDir, 'fresh', 'logs'), { recursive: true });
      const cleared = await reader.query(search);

      // Assess
      expect(before).toEqual({ search: [], stats: [] });
      expect(after.map((r) => decodeSearchRow(search.columns, r).correlation_id).sort()).toEqual([
        'late-1',
        'late-2',
      ]);
      expect(grouped.map((r) => [r.group.service, r.count, r.errors])).toEqual([
        ['checkout', 1, 0],
        ['search', 1, 1],
      ]);
      expect(cleared).toEqual([]);
    } finally {
      reader.close();
    }
  });

  it('gives the empty lake the columns of the full one, so any query binds', async () => {
    // Prepare
    const reader = await LocalLakeReader.open(join(dataDir, 'never'));
    try {
      // Act
      const columns = await reader.connection.runAndReadAll(`SELECT * FROM ${LOCAL_TABLE}`);

      // Assess
      expect(columns.columnNames()).toEqual(search.columns.map((c) => c.name).concat(['dt', 'hour']));
      expect(columns.getRows()).toEqual([]);
    } finally {
      reader.close();
    }
  });

  it.each(['lake [x]', 'st*ar', 'q?mark', 'cu{rl}y', 'a]b'])(
    'reads a lake under a directory named %j, and not its look-alike neighbour',
    async (name) => {
      // Prepare: the neighbour is what the unescaped glob would match instead of (or besides) the lake.
      const root = mkdtempSync(join(tmpdir(), 'loglake-glob-'));
      const lake = join(root, name);
      await writeParquetLake(lake, [record({ correlation_id: 'mine' })]);
      await writeParquetLake(join(root, name.replace(/[[\]*?{}]/g, 'x')), [
        record({ correlation_id: 'other' }),
      ]);
      const reader = await LocalLakeReader.open(lake);
      try {
        // Act
        const rows = await reader.query(search);

        // Assess
        expect(rows.map((r) => decodeSearchRow(search.columns, r).correlation_id)).toEqual(['mine']);
      } finally {
        reader.close();
        rmSync(root, { recursive: true, force: true });
      }
    },
  );

  it('refuses a path DuckDB would misread, naming it', () => {
    // Act
    const partition = () => checkLakePath('/srv/category=old/lake');
    const fine = () => checkLakePath('/srv/release=7/lake');

    // Assess
    expect(partition).toThrow(
      'data directory /srv/category=old/lake: its path holds "category=old", which DuckDB\'s hive partitioning would read as the category of every record; move the lake',
    );
    expect(fine).not.toThrow();
    expect(duckdbGlobLiteral('/a [b]/*?{c}')).toBe('/a [[]b[]]/[*][?][{]c[}]');
  });
});
