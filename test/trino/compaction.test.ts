/**
 * The S3 compaction's SQL (`src/compaction/sql.ts`) on a real Trino (Athena engine v3), over Parquet the
 * local pipeline wrote: the CTAS rewrites exactly the listed objects of one category-hour into one file,
 * the count query compares both sides, and the DROP leaves the files.
 */
import { copyFileSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactionCountSql, compactionCtas, dropTableSql } from '../../src/compaction/sql';
import { listPartitions } from '../../src/local/lake-files';
import { duckdbFileList } from '../../src/query/duckdb';
import { trinoCreateTable } from '../helpers/trino-ddl';
import { openTierLake, type TierLake } from './lake';

let lake: TierLake;
/** A directory of its own under Trino's `local.location`, so the shared lake stays untouched. */
let dir: string;
let root: string;
let schema: string;
const partition = { category: '', dt: '', hour: '' };
let files: string[] = [];

/** `local:///<dir>/<rel>`: a file as the Hive connector names it in `"$path"`. */
const uri = (rel: string) => `local:///${dir}/${rel}`;

/** Rows of Parquet files as DuckDB reads them, in file order. */
async function parquetRows(paths: readonly string[], columns: string): Promise<unknown[][]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    const r = await c.runAndReadAll(
      `SELECT ${columns} FROM read_parquet(${duckdbFileList(paths)}, hive_partitioning = false)`,
    );
    return r.getRows().map((row) => row.map((v) => (typeof v === 'bigint' ? Number(v) : v)));
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

beforeAll(async () => {
  lake = await openTierLake();
  // The largest object of the shared lake's logs table (the most rows: the delivery batches are small),
  // copied three times into its category-hour: three source objects.
  const [largest] = listPartitions(lake.dataDir)
    .filter((p) => p.rel.startsWith('logs/category='))
    .flatMap((p) =>
      p.visible.map((f) => ({ rel: p.rel, file: f, size: statSync(join(lake.dataDir, p.rel, f)).size })),
    )
    .sort((a, b) => b.size - a.size);
  if (!largest) throw new Error('the tier lake has no logs partition');
  const busiest = { rel: largest.rel, visible: [largest.file] };
  const [, c, d, h] = /category=([^/]+)\/dt=([^/]+)\/hour=([^/]+)/.exec(busiest.rel) ?? [];
  Object.assign(partition, { category: c, dt: d, hour: h });
  dir = `${lake.dataDir.split('/').pop()}-compaction`;
  root = join(lake.dataDir, '..', dir);
  const target = join(root, busiest.rel);
  mkdirSync(target, { recursive: true });
  const source = join(lake.dataDir, busiest.rel, busiest.visible[0] ?? '');
  files = ['a.parquet', 'b.parquet', 'c.parquet'];
  for (const f of files) copyFileSync(source, join(target, f));
  files = files.map((f) => `${busiest.rel}/${f}`);
  schema = `${lake.schema}_compaction`;
  await lake.trino.query(`CREATE SCHEMA hive."${schema}"`);
  const logs = lake.glue.logs;
  if (!logs) throw new Error('no logs table');
  await lake.trino.query(trinoCreateTable(logs, schema, dir));
}, 600_000);

afterAll(async () => {
  if (lake && schema) {
    await lake.trino.query(`DROP TABLE IF EXISTS hive."${schema}"."logs"`);
    await lake.trino.query(`DROP SCHEMA IF EXISTS hive."${schema}"`);
  }
  if (root) rmSync(root, { recursive: true, force: true });
  await lake?.close();
});

describe('the compaction SQL on Trino', () => {
  it('rewrites exactly the listed objects of an hour into one file, and counts both sides', async () => {
    // Arrange: two of the three objects are listed; the third arrived after the listing.
    const listed = files.slice(0, 2);
    const target = {
      database: schema,
      table: 'logs',
      tempTable: 'compaction_t1',
      partition,
      sources: listed.map(uri),
    };
    const staging = `staging/t1/`;

    // Act
    await lake.trino.query(compactionCtas(target, uri(staging)));
    const [counts] = await lake.trino.rows(compactionCountSql(target));
    await lake.trino.query(dropTableSql(schema, 'compaction_t1'));

    // Assess: the counts agree, and the one file written holds exactly the listed objects' rows (in no
    // particular order: Trino, like Athena, does not keep a CTAS's ORDER BY).
    const perFile = (await parquetRows([join(root, files[0] ?? '')], 'count(*)'))[0]?.[0] as number;
    expect(perFile).toBeGreaterThan(1);
    expect(Number(counts?.written)).toBe(2 * perFile);
    expect(Number(counts?.source)).toBe(2 * perFile);
    const written = readdirSync(join(root, staging)).filter((f) => !f.startsWith('.'));
    expect(written).toHaveLength(1);
    const out = join(root, staging, written[0] ?? '');
    const all = 'to_json(struct_pack(*COLUMNS(*)))::VARCHAR';
    const expected = (
      await parquetRows(
        listed.map((f) => join(root, f)),
        all,
      )
    )
      .map(String)
      .sort();
    expect((await parquetRows([out], all)).map(String).sort()).toEqual(expected);
    // DROP TABLE leaves an external table's files: the compaction copies them, then deletes them itself.
    expect(readdirSync(join(root, staging)).filter((f) => !f.startsWith('.'))).toEqual(written);
  });

  it('refuses a value that is not what its own listing produces, before any SQL runs', () => {
    const target = {
      database: schema,
      table: 'logs',
      tempTable: 'compaction_t2',
      partition: { ...partition, hour: "00' OR '1'='1" },
      sources: [uri(files[0] ?? '')],
    };

    expect(() => compactionCtas(target, uri('staging/t2/'))).toThrow(/refusing hour/);
    expect(() => compactionCountSql({ ...target, partition, sources: ["local:///x' OR 1=1"] })).toThrow(
      /refusing object URI/,
    );
    expect(() => dropTableSql(schema, 'compaction_t2; DROP TABLE logs')).toThrow(/refusing table name/);
  });
});
