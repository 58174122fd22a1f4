/**
 * Runs built queries on DuckDB: over the local lake's Parquet files, or over any connection that has a
 * `logs` table or view with the lake's columns (tests, benchmarks).
 */
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { DATA_PREFIX } from '../schema';
import type { BuiltQuery } from './build';
import { duckdbHiveTypes } from './columns';
import type { RawRow } from './decode';

/** Name of the view over the local lake (both streams share one tree: their categories are disjoint). */
export const LOCAL_TABLE = 'logs';

/** DuckDB string literal. Used only for paths the CLI itself resolved, never for query values. */
export function duckdbString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** `read_parquet(…)` over every Parquet file of a lake directory, with hive partitions as strings. */
export function lakeScan(dataDir: string): string {
  const glob = join(dataDir, DATA_PREFIX, '**', '*.parquet');
  return `read_parquet(${duckdbString(glob)}, hive_partitioning = true, hive_types = ${duckdbHiveTypes()}, union_by_name = true)`;
}

/** A read-only view of a local lake directory. */
export class LocalLakeReader {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
  ) {}

  /**
   * Open the lake under `dataDir` (`<dataDir>/logs/category=…/dt=…/hour=…/*.parquet`). Files delivered
   * later are seen by later queries.
   */
  static async open(dataDir: string): Promise<LocalLakeReader> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    await connection.run(`CREATE VIEW ${LOCAL_TABLE} AS SELECT * FROM ${lakeScan(dataDir)}`);
    return new LocalLakeReader(instance, connection);
  }

  /** All rows of a query. An empty lake (no files yet) gives no rows. */
  async query(built: BuiltQuery): Promise<RawRow[]> {
    return runDuckDb(this.connection, built);
  }

  /** Rows in chunks, for exports larger than memory. */
  stream(built: BuiltQuery): AsyncIterable<RawRow[]> {
    return streamDuckDb(this.connection, built);
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** Run a DuckDB-dialect query on a connection, binding its parameters. */
export async function runDuckDb(connection: DuckDBConnection, built: BuiltQuery): Promise<RawRow[]> {
  const rows: RawRow[] = [];
  for await (const chunk of streamDuckDb(connection, built)) rows.push(...chunk);
  return rows;
}

/** Stream a DuckDB-dialect query's rows chunk by chunk. */
export async function* streamDuckDb(
  connection: DuckDBConnection,
  built: BuiltQuery,
): AsyncIterable<RawRow[]> {
  if (built.dialect !== 'duckdb') throw new Error(`runDuckDb: query was built for ${built.dialect}`);
  let result: Awaited<ReturnType<DuckDBConnection['stream']>>;
  try {
    result = await connection.stream(built.sql, [...built.params]);
  } catch (error) {
    // read_parquet fails on a glob that matches nothing: a lake with no deliveries yet is empty, not broken.
    if (error instanceof Error && /No files found that match the pattern/i.test(error.message)) return;
    throw error;
  }
  for await (const rows of result.yieldRowObjectJs()) yield rows;
}
