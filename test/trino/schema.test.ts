/**
 * One schema, three places: the Glue tables the stack deploys, the Parquet files the pipeline writes and
 * DuckDB reads, and Trino (Athena engine v3) reading those files through the Glue tables' definition,
 * partition projection included. A column added in one place and not the others fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duckdbType } from '../../src/query/columns';
import { lakeScan } from '../../src/query/duckdb';
import { PARTITION_COLUMNS, RECORD_COLUMNS } from '../../src/schema';
import { synthesizedGlueTables, trinoType } from '../helpers/trino-ddl';
import { HOUR } from './dataset';
import { openTierLake, type TierLake, tierData } from './lake';

let lake: TierLake;
const data = tierData();

beforeAll(async () => {
  lake = await openTierLake();
}, 600_000);

afterAll(async () => {
  await lake?.close();
});

describe('the Glue tables on Trino', () => {
  it('have the record columns then the partition keys, in schema order, with the mapped types and comments', async () => {
    for (const name of ['logs', 'audit']) {
      // Act
      const described = await lake.trino.rows(`DESCRIBE hive."${lake.schema}"."${name}"`);

      // Assess
      expect(described.map((c) => [c.Column, c.Type, c.Comment])).toEqual(
        [...RECORD_COLUMNS, ...PARTITION_COLUMNS].map((c) => [c.name, trinoType(c.type), c.comment]),
      );
      expect(described.filter((c) => c.Extra === 'partition key').map((c) => c.Column)).toEqual(
        PARTITION_COLUMNS.map((c) => c.name),
      );
    }
  });

  it('keep every projection parameter of the Glue table, which Trino reads back as Athena writes them', async () => {
    for (const [name, table] of Object.entries(lake.glue)) {
      // Act
      const [properties] = await lake.trino.rows(`SELECT * FROM hive."${lake.schema}"."${name}$properties"`);

      // Assess: the same keys and values (Trino lowercases enum-like values such as the interval unit).
      const projection = (p: Record<string, unknown>) =>
        Object.fromEntries(
          Object.entries(p)
            .filter(([k]) => k.startsWith('projection.'))
            .map(([k, v]) => [k, String(v).toLowerCase()]),
        );
      expect(projection(properties ?? {})).toEqual(projection(table.parameters));
      expect(Object.keys(projection(table.parameters)).length).toBeGreaterThan(5);
      expect(String(properties?.['storage.location.template'])).toBe(
        table.parameters['storage.location.template']?.replace(
          's3://{bucket}/',
          `local:///${lake.dataDir.split('/').pop()}/`,
        ),
      );
    }
  });

  it('project every category on the logs table and the locked ones on the audit table', () => {
    // On AWS the logs bucket holds locked records only when their forward failed; they are read there too.
    const synthesized = synthesizedGlueTables();
    expect(synthesized.logs?.parameters['projection.category.values']).toBe(
      'debug,runtime,framework,errors,api_access,security,audit',
    );
    expect(synthesized.audit?.parameters['projection.category.values']).toBe('security,audit');
    // The tier lake keeps both streams in one tree: its logs table reads the unlocked categories alone.
    expect(lake.glue.logs?.parameters['projection.category.values']).toBe(
      'debug,runtime,framework,errors,api_access',
    );
    expect(lake.glue.audit?.parameters['projection.category.values']).toBe('security,audit');
  });
});

describe('the Parquet files the local pipeline writes', () => {
  it('hold exactly the Glue columns, with the DuckDB types derived from the same schema', async () => {
    // Act
    const reader = lake.reader.connection;
    const result = await reader.runAndReadAll(`DESCRIBE SELECT * FROM ${lakeScan(lake.dataDir)}`);
    const described = result.getRowObjectsJS().map((r) => [r.column_name, r.column_type]);

    // Assess
    const glue = lake.glue.logs;
    expect(glue).toBeDefined();
    expect(described).toEqual(
      [...(glue?.columns ?? []), ...(glue?.partitionKeys ?? [])].map((c) => [c.Name, duckdbType(c.Type)]),
    );
  });

  it('are read by Trino through partition projection alone: no partition is registered in the metastore', async () => {
    // Act
    const [listed] = await lake.trino.rows(
      `SELECT count(*) AS n FROM hive."${lake.schema}"."logs$partitions"`,
    );
    const dt = new Date(data.start + 2 * HOUR).toISOString().slice(0, 10);
    const [trino] = await lake.trino.rows(
      `SELECT count(*) AS n FROM hive."${lake.schema}"."logs" WHERE dt >= '${dt}'`,
    );
    const duck = await lake.reader.connection.runAndReadAll(
      `SELECT count(*) AS n FROM ${lakeScan(lake.dataDir)} WHERE dt >= '${dt}' AND category NOT IN ('security', 'audit')`,
    );

    // Assess: the partitions are the projected ones (every category, hour and day of the range
    // NOW-<retention>DAYS..NOW+1DAYS), not the few written; and every row is found through them.
    const retention = Number(
      /^NOW-(\d+)DAYS,NOW\+1DAYS$/.exec(lake.glue.logs?.parameters['projection.dt.range'] ?? '')?.[1],
    );
    const categories = lake.glue.logs?.parameters['projection.category.values']?.split(',').length ?? 0;
    expect(Number(listed?.n)).toBe((retention + 2) * 24 * categories);
    expect(Number(trino?.n)).toBeGreaterThan(50);
    expect(Number(trino?.n)).toBe(Number(duck.getRowObjectsJS()[0]?.n));
  });
});
