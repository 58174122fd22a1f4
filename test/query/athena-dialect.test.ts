import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildQuery, type LogFilter, type LogQuery } from '../../src/query';
import { parseAggregate, parseCondition, parseField } from '../../src/query/fields';

const since = new Date('2026-11-22T00:00:00.000Z');
const until = new Date('2026-11-22T06:00:00.000Z');
const now = new Date('2026-11-22T06:00:00.000Z');
const athena = { dialect: 'athena' as const, tables: [{ database: 'lake', table: 'logs' }] };
const both = {
  dialect: 'athena' as const,
  tables: [
    { database: 'lake', table: 'logs' },
    { database: 'lake', table: 'audit' },
  ],
};

/**
 * The SQL clause each `?` stands in: Athena takes execution parameters only in WHERE clauses (its
 * documented limit), so every one must be inside a WHERE, at any depth of subqueries.
 */
function clausesOfParameters(sql: string): string[] {
  const keywords = /^(SELECT|FROM|WHERE|GROUP BY|HAVING|ORDER BY|LIMIT|ON|JOIN|UNION ALL|WITH)\b/i;
  const stack: Array<string | undefined> = [undefined];
  const found: string[] = [];
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i] as string;
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      i = end < 0 ? sql.length : end;
      continue;
    }
    if (c === '(') stack.push(undefined);
    else if (c === ')') stack.pop();
    else if (c === '?') found.push([...stack].reverse().find((k) => k !== undefined) ?? 'none');
    else if (/[A-Za-z]/.test(c) && !/[A-Za-z0-9_]/.test(sql[i - 1] ?? ' ')) {
      const m = keywords.exec(sql.slice(i));
      // `IS DISTINCT FROM` is an operator, not a FROM clause.
      const operator = m?.[1]?.toUpperCase() === 'FROM' && /DISTINCT\s+$/i.test(sql.slice(0, i));
      if (m?.[1] && !operator) stack[stack.length - 1] = m[1].toUpperCase().replace(/\s+/g, ' ');
    }
  }
  return found;
}

const where = (...exprs: string[]) => exprs.map((e) => parseCondition(e, now));
const everything: LogFilter = {
  since,
  until,
  text: "o'brien",
  regex: 'time(d|out) after \\d+',
  where: where(
    'attributes.context.agent_id=agent_coder',
    'redactions.email>0',
    'duration_ms>=100',
    'level>=WARN',
    'error_type!=Timeout',
    'attributes.tokens>1000',
    'timestamp<1h',
    'message~payment',
  ),
  levels: ['ERROR'],
  services: ['api'],
  categories: ['runtime', 'security'],
};

const queries: Array<[string, LogQuery]> = [
  ['search', { kind: 'search', filter: everything, limit: 10 }],
  [
    'stats with map groups and aggregates',
    {
      kind: 'aggregate',
      filter: everything,
      groupBy: ['service', parseField('attributes.model'), parseField('redactions.email')],
      bucketMs: 300_000,
      samples: 2,
      aggregates: [
        'p95:duration_ms',
        'sum:attributes.tokens',
        'distinct:attributes.user',
        'max:timestamp',
      ].map(parseAggregate),
    },
  ],
  ['context', { kind: 'context', filter: everything, before: 2, after: 3, by: 'correlation_id' }],
  ['patterns', { kind: 'patterns', filter: everything, limit: 50 }],
];

describe('Athena dialect', () => {
  it.each(queries)(
    'binds every value of a %s query inside a WHERE clause, on one table or two',
    (_, query) => {
      for (const options of [athena, both]) {
        // Act
        const built = buildQuery(query, options);

        // Assess
        const clauses = clausesOfParameters(built.sql);
        expect(clauses.length).toBe(built.params.length);
        expect(new Set(clauses)).toEqual(new Set(['WHERE']));
      }
    },
  );

  it('finds the checker able to fail: a parameter in a SELECT list is reported', () => {
    expect(clausesOfParameters('SELECT element_at("attributes", ?) FROM t WHERE x = ?')).toEqual([
      'SELECT',
      'WHERE',
    ]);
  });

  it('reads a map key in a SELECT list as a quoted literal, since Athena binds only in WHERE', () => {
    // Act
    const built = buildQuery(
      {
        kind: 'aggregate',
        filter: { since, until },
        groupBy: [parseField('attributes.model')],
        aggregates: [parseAggregate('sum:redactions.email'), parseAggregate('p95:duration_ms')],
      },
      athena,
    );

    // Assess
    expect(built.sql).toContain(
      `SELECT *, element_at("attributes", 'model') AS "f0", element_at("redactions", 'email') AS "f1"`,
    );
    expect(built.sql).toContain('sum(CAST("f1" AS DOUBLE)) AS "a0"');
    expect(built.sql).toContain('approx_percentile(CAST("duration_ms" AS DOUBLE), 0.95) AS "a1"');
    expect(built.params).not.toContain('model');
    expect(built.columns.map((c) => c.label ?? c.name)).toEqual([
      'attributes.model',
      'count',
      'errors',
      'error_rate',
      'first_seen',
      'last_seen',
      'sum(redactions.email)',
      'p95(duration_ms)',
    ]);
  });

  it('quotes a map key holding quotes so it cannot end the literal', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), (key) => {
        // Act
        const built = buildQuery(
          { kind: 'aggregate', filter: { since, until }, groupBy: [{ column: 'attributes', key }] },
          athena,
        );

        // Assess: the literal is the key with its quotes doubled, and nothing follows it but `)`.
        const literal = `'${key.replaceAll("'", "''")}'`;
        expect(built.sql).toContain(`element_at("attributes", ${literal}) AS "f0"`);
        const body = /element_at\("attributes", '((?:[^']|'')*)'\)/.exec(built.sql)?.[1];
        expect(body?.replaceAll("''", "'")).toBe(key);
      }),
    );
  });

  it('renders conditions with element_at, casts and regexp_like, the values bound', () => {
    // Act
    const built = buildQuery(
      {
        kind: 'search',
        filter: {
          since,
          until,
          text: 'Boom',
          regex: 'a+b',
          where: where('attributes.k=v', 'redactions.email>=0.5', 'attributes.n<10', 'level>ERROR'),
        },
      },
      athena,
    );

    // Assess
    expect(built.sql).toContain(
      '(strpos(lower("message"), lower(?)) > 0 OR strpos(lower("stack_trace"), lower(?)) > 0)',
    );
    expect(built.sql).toContain('(regexp_like("message", ?) OR regexp_like("stack_trace", ?))');
    expect(built.sql).toContain('element_at("attributes", ?) = ?');
    expect(built.sql).toContain('element_at("redactions", ?) >= CAST(? AS DOUBLE)');
    expect(built.sql).toContain(
      String.raw`try_cast(trim(regexp_extract(element_at("attributes", ?), '^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$')) AS DOUBLE) < CAST(? AS DOUBLE)`,
    );
    expect(built.sql).toContain('"level" IN (?)');
    expect(built.params.slice(8)).toEqual([
      'Boom',
      'Boom',
      '(?i)a+b',
      '(?i)a+b',
      'k',
      'v',
      'email',
      '0.5',
      'n',
      '10',
      'CRITICAL',
    ]);
  });

  it('keeps hostile filter keys and values out of the SQL text of every query kind', () => {
    const hostile = fc.constantFrom(
      "'",
      "x'); DROP TABLE logs; --",
      '"',
      '?',
      '\\',
      '%_',
      'é🙂',
      '") OR 1=1 --',
    );
    fc.assert(
      fc.property(hostile, hostile, (a, b) => {
        // Prepare: the same query with different keys and values.
        const filter = (v: string): LogFilter => ({
          since,
          until,
          text: v,
          where: [
            { field: { column: 'attributes', key: v }, op: '=', value: v },
            { field: { column: 'service' }, op: '~', value: v },
          ],
        });
        const variants = (v: string): LogQuery[] => [
          { kind: 'search', filter: filter(v) },
          {
            kind: 'aggregate',
            filter: filter(v),
            // Keys read in a SELECT list are quoted literals on Athena (the test above).
            groupBy: [{ column: 'attributes', key: 'model' }],
            aggregates: [{ fn: 'sum', field: { column: 'attributes', key: 'tokens' } }],
          },
          { kind: 'context', filter: filter(v), before: 1, after: 1 },
          { kind: 'patterns', filter: filter(v) },
        ];

        // Act
        const first = variants(a).map((q) => buildQuery(q, athena));
        const second = variants(b).map((q) => buildQuery(q, athena));

        // Assess
        first.forEach((f, i) => {
          expect(f.sql).toBe(second[i]?.sql);
          expect(f.params).toContain(a);
        });
      }),
    );
  });

  it("prunes a tail's poll to the partitions of its window and binds its arrival cursor", () => {
    // Prepare: a poll at 10:07 with a 15-minute window, the tail started at 10:00.
    const at = new Date('2026-11-22T10:07:00.000Z');
    const started = new Date('2026-11-22T10:00:00.000Z');

    // Act
    const built = buildQuery(
      {
        kind: 'search',
        order: 'asc',
        filter: {
          since: new Date(at.getTime() - 15 * 60_000),
          until: new Date(at.getTime() + 15 * 60_000),
          where: [{ field: { column: 'ingest_time' }, op: '>=', value: started }],
        },
      },
      athena,
    );

    // Assess: one day, hours 09 to 10, and the cursor a bound timestamp.
    expect(built.sql).toContain('"dt" BETWEEN ? AND ?');
    expect(built.sql).toContain('"ingest_time" >= CAST(? AS TIMESTAMP)');
    expect(built.params.slice(0, 6)).toEqual([
      '2026-11-22',
      '2026-11-22',
      '2026-11-22',
      '09',
      '2026-11-22',
      '10',
    ]);
    expect(built.params.at(-1)).toBe('2026-11-22 10:00:00.000');
  });

  it('leaves the example message out of a patterns query that asks for none', () => {
    // Act
    const built = buildQuery({ kind: 'patterns', filter: { since, until }, examples: false }, athena);

    // Assess: Athena reads the columns a query names; the message is named only for old rows' grouping.
    expect(built.sql).toContain('GROUP BY 1, 2');
    expect(built.sql).not.toContain('min("message")');
    expect(built.sql).toContain('CASE WHEN "message_template" IS NULL THEN "message" END');
  });
});
