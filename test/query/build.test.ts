import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors';
import {
  type AggregateRow,
  athenaExecutionParameters,
  buildQuery,
  type Dialect,
  fillBuckets,
  type LogFilter,
  type LogQuery,
} from '../../src/query';

const since = new Date('2026-11-21T22:30:00.000Z');
const until = new Date('2026-11-22T03:15:00.000Z');
const logs = [{ table: 'logs' }];

/** Strings an attacker or an unlucky user might type into any flag. */
const hostile = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    "'",
    "''",
    "' OR '1'='1",
    "x'; DROP TABLE logs; --",
    '%',
    '_',
    '100%_done',
    '\\',
    '\\x27',
    '"',
    '") OR ("a"="a',
    '?',
    '$1',
    '/* comment */',
    '-- tail',
    ';',
    'é🙂',
    '\n',
    'UNION SELECT * FROM audit',
  ),
);

function filterWith(
  field: 'text' | 'correlationId' | 'traceId' | 'services' | 'userIds',
  value: string,
): LogFilter {
  return field === 'services' || field === 'userIds'
    ? { since, until, [field]: [value] }
    : { since, until, [field]: value };
}

describe('buildQuery', () => {
  it('prunes dt and hour partitions and bounds the timestamp from the time range', () => {
    // Prepare
    const query: LogQuery = { kind: 'search', filter: { since, until }, limit: 10 };

    // Act
    const built = buildQuery(query, { dialect: 'duckdb', tables: logs });

    // Assess
    expect(built.sql).toContain(
      '"dt" BETWEEN ? AND ? AND ("dt" > ? OR "hour" >= ?) AND ("dt" < ? OR "hour" <= ?)',
    );
    expect(built.sql).toContain('"timestamp" >= CAST(? AS TIMESTAMP) AND "timestamp" < CAST(? AS TIMESTAMP)');
    expect(built.params).toEqual([
      '2026-11-21',
      '2026-11-22',
      '2026-11-21',
      '22',
      '2026-11-22',
      '03',
      '2026-11-21 22:30:00.000',
      '2026-11-22 03:15:00.000',
    ]);
  });

  it('ends the partition range at the hour of the last millisecond when until is on an hour boundary', () => {
    // Prepare
    const query: LogQuery = {
      kind: 'search',
      filter: { since: new Date('2026-11-22T00:00:00Z'), until: new Date('2026-11-23T00:00:00Z') },
    };

    // Act
    const built = buildQuery(query, { dialect: 'athena', tables: logs });

    // Assess
    expect(built.params.slice(0, 6)).toEqual([
      '2026-11-22',
      '2026-11-22',
      '2026-11-22',
      '00',
      '2026-11-22',
      '23',
    ]);
  });

  it('adds the category partition predicate when categories are given', () => {
    // Prepare
    const query: LogQuery = { kind: 'search', filter: { since, until, categories: ['security', 'audit'] } };

    // Act
    const built = buildQuery(query, { dialect: 'athena', tables: logs });

    // Assess
    expect(built.sql).toContain('"category" IN (?, ?)');
    expect(built.params).toContain('security');
    expect(built.params).toContain('audit');
  });

  it.each(['text', 'correlationId', 'traceId', 'services', 'userIds'] as const)(
    'keeps hostile %s values out of the SQL text in both dialects',
    (field) => {
      fc.assert(
        fc.property(hostile, hostile, fc.constantFrom<Dialect>('duckdb', 'athena'), (a, b, dialect) => {
          fc.pre(a !== '' && b !== '');
          // Prepare
          const options = { dialect, tables: logs };

          // Act
          const first = buildQuery({ kind: 'search', filter: filterWith(field, a), limit: 5 }, options);
          const second = buildQuery({ kind: 'search', filter: filterWith(field, b), limit: 5 }, options);

          // Assess: the SQL does not depend on the value; the value travels verbatim as a parameter.
          expect(first.sql).toBe(second.sql);
          expect(first.params).toContain(a);
          expect(first.sql.split('?').length - 1).toBe(first.params.length);
        }),
      );
    },
  );

  it.each(['duckdb', 'athena'] as const)(
    'matches userIds in every text, map and array column when userIdsAnywhere (%s), bound each time',
    (dialect) => {
      // Prepare
      const pseudonym = 'u_0123456789abcdef0123456789abcdef';
      const query: LogQuery = {
        kind: 'search',
        filter: { since, until, userIds: [pseudonym], userIdsAnywhere: true },
      };

      // Act
      const built = buildQuery(query, { dialect, tables: logs });

      // Assess
      expect(built.sql).not.toContain(pseudonym);
      expect(built.sql).toContain('"user_id" = ?');
      expect(built.sql).toContain('strpos("message", ?) > 0');
      expect(built.sql).toContain('strpos("stack_trace", ?) > 0');
      expect(built.sql).toContain(
        dialect === 'athena'
          ? 'strpos(json_format(CAST("attributes" AS JSON)), ?) > 0'
          : 'strpos(CAST(to_json("attributes") AS VARCHAR), ?) > 0',
      );
      expect(built.sql).not.toContain('"user_id" IN');
      expect(built.sql.split('?').length - 1).toBe(built.params.length);
      expect(built.params.filter((p) => p === pseudonym).length).toBeGreaterThan(10);
    },
  );

  it('reads several tables through a UNION ALL with the filter and its parameters in each branch', () => {
    // Prepare
    const query: LogQuery = { kind: 'search', filter: { since, until, correlationId: 'abc' }, limit: 3 };

    // Act
    const built = buildQuery(query, {
      dialect: 'athena',
      tables: [
        { database: 'loglake_db', table: 'logs' },
        { database: 'loglake_db', table: 'audit' },
      ],
    });

    // Assess
    expect(built.sql).toContain('SELECT * FROM "loglake_db"."logs" WHERE');
    expect(built.sql).toContain('UNION ALL');
    expect(built.sql).toContain('SELECT * FROM "loglake_db"."audit" WHERE');
    expect(built.params.filter((p) => p === 'abc')).toHaveLength(2);
    expect(built.sql.split('?').length - 1).toBe(built.params.length);
  });

  it('renders timestamps and maps as text in each dialect', () => {
    // Prepare
    const query: LogQuery = { kind: 'search', filter: { since, until }, limit: 1 };

    // Act
    const duck = buildQuery(query, { dialect: 'duckdb', tables: logs });
    const athena = buildQuery(query, { dialect: 'athena', tables: logs });

    // Assess
    expect(duck.sql).toContain(`strftime("timestamp", '%Y-%m-%dT%H:%M:%S.%gZ') AS "timestamp"`);
    expect(duck.sql).toContain('CAST(to_json("attributes") AS VARCHAR) AS "attributes"');
    expect(athena.sql).toContain('to_iso8601("timestamp") AS "timestamp"');
    expect(athena.sql).toContain('json_format(CAST("attributes" AS JSON)) AS "attributes"');
  });

  it('puts the aggregate thresholds, bucket width and sample count in the SQL as checked numbers', () => {
    // Prepare
    const query: LogQuery = {
      kind: 'aggregate',
      filter: { since, until },
      groupBy: ['service'],
      bucketMs: 300_000,
      samples: 3,
      sampleLevels: ['ERROR', 'CRITICAL'],
      minCount: 10,
      minErrorRate: 0.05,
      limit: 50,
    };

    // Act
    const built = buildQuery(query, { dialect: 'athena', tables: logs });

    // Assess
    expect(built.sql).toContain('CAST(floor(to_unixtime("timestamp") * 1000 / 300000) AS BIGINT) * 300000');
    expect(built.sql).toContain(
      'slice(array_agg(DISTINCT "correlation_id") FILTER (WHERE "correlation_id" IS NOT NULL AND "level" IN (\'ERROR\', \'CRITICAL\')), 1, 3)',
    );
    expect(built.sql).toContain(
      "HAVING count(*) >= 10 AND CAST(count_if(\"level\" IN ('ERROR', 'CRITICAL')) AS DOUBLE) / count(*) >= 0.05",
    );
    expect(built.sql).toContain('GROUP BY 1, 2');
    expect(built.sql).toContain('LIMIT 50');
    expect(built.columns.map((c) => c.name)).toEqual([
      'service',
      'bucket_start',
      'count',
      'errors',
      'error_rate',
      'first_seen',
      'last_seen',
      'sample_correlation_ids',
    ]);
  });

  it.each<[string, LogQuery]>([
    ['limit', { kind: 'search', filter: { since, until }, limit: 0 }],
    ['limit', { kind: 'search', filter: { since, until }, limit: 1.5 }],
    ['since', { kind: 'search', filter: { since: until, until: since } }],
    ['since', { kind: 'search', filter: { since: new Date('nope'), until } }],
    ['level', { kind: 'search', filter: { since, until, levels: ['LOUD' as never] } }],
    ['category', { kind: 'search', filter: { since, until, categories: ["x' OR 1=1" as never] } }],
    ['services', { kind: 'search', filter: { since, until, services: [] } }],
    ['bucketMs', { kind: 'aggregate', filter: { since, until }, bucketMs: 10 }],
    ['samples', { kind: 'aggregate', filter: { since, until }, samples: 1000 }],
    ['minErrorRate', { kind: 'aggregate', filter: { since, until }, minErrorRate: Number.NaN }],
    ['group-by', { kind: 'aggregate', filter: { since, until }, groupBy: ['message; --' as never] }],
  ])('rejects an invalid %s with an InputError naming it', (field, query) => {
    // Act
    const act = () => buildQuery(query, { dialect: 'duckdb', tables: logs });

    // Assess
    expect(act).toThrow(InputError);
    expect(act).toThrow(field);
  });

  it('rejects a table or database name that could break out of its quotes', () => {
    // Prepare
    const query: LogQuery = { kind: 'search', filter: { since, until } };

    // Act
    const act = () =>
      buildQuery(query, { dialect: 'athena', tables: [{ database: 'db"; DROP', table: 'logs' }] });

    // Assess
    expect(act).toThrow(/not a valid table or database name/);
  });
});

describe('athenaExecutionParameters', () => {
  it('quotes every value as a string literal whose doubled quotes read back to the value', () => {
    fc.assert(
      fc.property(hostile, (value) => {
        // Act
        const [literal] = athenaExecutionParameters([value]);

        // Assess
        expect(literal?.startsWith("'")).toBe(true);
        expect(literal?.endsWith("'")).toBe(true);
        const inner = literal?.slice(1, -1) ?? '';
        expect(inner.replaceAll("''", '')).not.toContain("'");
        expect(inner.replaceAll("''", "'")).toBe(value);
      }),
    );
  });
});

describe('fillBuckets', () => {
  it('fills the buckets a count query returned no row for with zeros', () => {
    // Prepare
    const row = (bucketStart: string, count: number): AggregateRow => ({
      group: {},
      bucketStart,
      count,
      errors: 1,
      errorRate: 1 / count,
      firstSeen: null,
      lastSeen: null,
      sampleCorrelationIds: [],
      values: {},
    });

    // Act
    const filled = fillBuckets(
      [row('2026-11-22T10:05:00.000Z', 4), row('2026-11-22T10:15:00.000Z', 2)],
      new Date('2026-11-22T10:02:00Z'),
      new Date('2026-11-22T10:20:00Z'),
      300_000,
    );

    // Assess
    expect(filled.map((b) => [b.bucketStart.slice(11, 16), b.count])).toEqual([
      ['10:00', 0],
      ['10:05', 4],
      ['10:10', 0],
      ['10:15', 2],
    ]);
  });
});
