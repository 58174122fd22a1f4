/** The S3 purge's planner and SQL guards (`src/compaction/purge.ts`, `sql.ts`): pure functions. */
import { describe, expect, it } from 'vitest';
import { planPurge } from '../../src/compaction/purge';
import { compactionCtas, purgeFindSql, subjectRowSql } from '../../src/compaction/sql';

const P = `u_${'ab'.repeat(16)}`;
const uri = 's3://lake/';
const row = (key: string, rows: number | string = 1) => {
  const [, category, dt, hour] = /category=([^/]+)\/dt=([^/]+)\/hour=([^/]+)/.exec(key) ?? [];
  return { path: `${uri}${key}`, category, dt, hour, rows: String(rows) };
};

describe('planPurge', () => {
  it('groups the objects found by hour, each once, in key order, and sums the rows', () => {
    const a = 'logs/category=debug/dt=2026-11-30/hour=10/a.parquet';
    const b = 'logs/category=debug/dt=2026-11-30/hour=10/b.parquet';
    const c = 'logs/category=runtime/dt=2026-11-29/hour=23/c.parquet';
    const { plans, personRows } = planPurge([row(c, 2), row(b, 3), row(a, 1), row(a, 4)], uri);
    expect(personRows).toBe(10);
    expect(plans.map((p) => [p.prefix, p.sources.map((s) => s.key)])).toEqual([
      ['logs/category=debug/dt=2026-11-30/hour=10/', [b, a]],
      ['logs/category=runtime/dt=2026-11-29/hour=23/', [c]],
    ]);
    expect(plans[0]).toMatchObject({ category: 'debug', dt: '2026-11-30', hour: '10' });
  });

  it('plans nothing when nothing was found', () => {
    expect(planPurge([], uri)).toEqual({ plans: [], personRows: 0 });
  });

  it('refuses a path outside its partition, another bucket, or a nested key: nothing is rewritten', () => {
    const ok = row('logs/category=debug/dt=2026-11-30/hour=10/a.parquet');
    expect(() =>
      planPurge([{ ...ok, path: 's3://other/logs/category=debug/dt=2026-11-30/hour=10/a.parquet' }], uri),
    ).toThrow(/is not an object of/);
    expect(() => planPurge([{ ...ok, hour: '11' }], uri)).toThrow(/is not an object of/);
    expect(() => planPurge([row('logs/category=debug/dt=2026-11-30/hour=10/x/a.parquet')], uri)).toThrow(
      /is not an object of/,
    );
    expect(() => planPurge([{ ...ok, category: "debug' OR 1=1" }], uri)).toThrow(/unexpected row/);
    expect(() => planPurge([{ ...ok, rows: '0' }], uri)).toThrow(/unexpected row/);
  });
});

describe('purge SQL', () => {
  it('looks for the pseudonym in every text, map and array column, never NULL', () => {
    const sql = subjectRowSql(P);
    for (const term of [
      `"user_id" = '${P}'`,
      `strpos("message", '${P}')`,
      'map_values("attributes")',
      'any_match("schema_errors"',
    ])
      expect(sql).toContain(term);
    expect(sql.split('coalesce(').length - 1).toBe(sql.split(' OR ').length);
  });

  it('refuses anything but a stored pseudonym, a category or a day', () => {
    expect(() => subjectRowSql("u_1' OR '1'='1")).toThrow(/refusing pseudonym/);
    const find = {
      database: 'db',
      table: 'logs',
      categories: ['debug'],
      since: '2026-01-01',
      pseudonym: P,
      limit: 10,
    };
    expect(purgeFindSql(find)).toContain('LIMIT 10');
    expect(() => purgeFindSql({ ...find, categories: ["debug'"] })).toThrow(/refusing category/);
    expect(() => purgeFindSql({ ...find, since: '2026-01-01; DROP' })).toThrow(/refusing dt/);
    expect(() => purgeFindSql({ ...find, categories: [] })).toThrow(/no category/);
  });

  it("leaves the person's rows out of the rewrite only when asked", () => {
    const target = {
      database: 'db',
      table: 'logs',
      tempTable: 'compaction_x',
      partition: { category: 'debug', dt: '2026-11-30', hour: '10' },
      sources: ['s3://lake/logs/category=debug/dt=2026-11-30/hour=10/a.parquet'],
    };
    const staging = 's3://lake/compaction/staging/x/';
    expect(compactionCtas(target, staging)).not.toContain('AND NOT');
    const purge = compactionCtas({ ...target, without: P }, staging);
    expect(purge).toContain(`AND NOT ${subjectRowSql(P)}`);
  });
});
