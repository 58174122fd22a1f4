/**
 * Runs built queries on DuckDB: over the local lake's Parquet files, or over any connection that has a
 * `logs` table or view with the lake's columns (tests, benchmarks).
 */
import { join, resolve, sep } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { auditedPages } from '../audit/access';
import { InputError } from '../errors';
import { DATA_PREFIX, PARTITION_COLUMNS, RECORD_COLUMNS } from '../schema';
import type { BuiltQuery } from './build';
import { duckdbHiveTypes, duckdbType } from './columns';
import type { RawRow } from './decode';

/** Name of the view over the local lake (both streams share one tree: their categories are disjoint). */
export const LOCAL_TABLE = 'logs';

/** DuckDB string literal. Used only for paths the CLI itself resolved, never for query values. */
export function duckdbString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * `path` as a literal part of a DuckDB glob: `[`, `]`, `*`, `?`, `{` and `}` each become a one-character
 * class (`[[]`), so a directory named `logs [old]` matches itself rather than `logs o` or `logs d`.
 */
export function duckdbGlobLiteral(path: string): string {
  return path.replace(/[[\]*?{}]/g, (c) => `[${c}]`);
}

/**
 * Paths DuckDB cannot read a lake from correctly, refused with the reason: on POSIX a backslash (DuckDB
 * reads it as a separator, so no file matches), and a `name=value` directory whose name is a column
 * (hive partitioning reads every such directory of the path, and the outer one wins: a lake under
 * `/data/category=old/` would report every record as category `old`).
 * @throws InputError naming the path.
 */
export function checkLakePath(dataDir: string): void {
  const path = resolve(dataDir);
  if (sep === '/' && path.includes('\\')) {
    throw new InputError(
      `data directory ${dataDir}: DuckDB cannot read a path containing a backslash; move the lake`,
    );
  }
  const columns = new Set([...RECORD_COLUMNS, ...PARTITION_COLUMNS].map((c) => c.name.toLowerCase()));
  const clash = path
    .split(sep)
    .find((segment) => columns.has(segment.split('=')[0]?.toLowerCase() ?? '') && segment.includes('='));
  if (clash !== undefined) {
    throw new InputError(
      `data directory ${dataDir}: its path holds ${JSON.stringify(clash)}, which DuckDB's hive partitioning would read as the ${clash.split('=')[0]} of every record; move the lake`,
    );
  }
}

/** `read_parquet(…)` over every Parquet file of a lake directory, with hive partitions as strings. */
export function lakeScan(dataDir: string): string {
  checkLakePath(dataDir);
  const glob = `${duckdbGlobLiteral(join(dataDir, DATA_PREFIX))}/**/*.parquet`;
  return `read_parquet(${duckdbString(glob)}, hive_partitioning = true, hive_types = ${duckdbHiveTypes()}, union_by_name = true)`;
}

/**
 * No rows, with the lake's columns and types: what the lake view is while no file has been delivered
 * (`read_parquet` refuses a glob that matches nothing, and a view is bound when it is created).
 */
export function emptyLakeScan(): string {
  const columns = [...RECORD_COLUMNS, ...PARTITION_COLUMNS].map(
    (c) => `CAST(NULL AS ${duckdbType(c.type)}) AS "${c.name}"`,
  );
  return `(SELECT ${columns.join(', ')} WHERE false)`;
}

/** DuckDB's error for a `read_parquet` glob that matches no file. */
function isNoFiles(error: unknown): boolean {
  return error instanceof Error && /No files found that match the pattern/i.test(error.message);
}

/**
 * A read-only view of a local lake directory. A lake with no files yet (a fresh data directory, or one
 * whose files all expired) is empty, not broken: searches and stats return no rows.
 */
export class LocalLakeReader {
  private constructor(
    private readonly instance: DuckDBInstance,
    readonly connection: DuckDBConnection,
    private readonly dataDir: string,
    /** The view reads no files yet; each query tries the files again. */
    private empty: boolean,
  ) {}

  /**
   * Open the lake under `dataDir` (`<dataDir>/logs/category=…/dt=…/hour=…/*.parquet`). Files delivered
   * later are seen by later queries, also when there were none at open.
   */
  static async open(dataDir: string): Promise<LocalLakeReader> {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const reader = new LocalLakeReader(instance, connection, dataDir, true);
    try {
      await reader.refresh();
    } catch (error) {
      reader.close();
      throw error;
    }
    return reader;
  }

  /** Point the view at the files, or at no rows while there are none. */
  private async refresh(): Promise<void> {
    try {
      await this.connection.run(
        `CREATE OR REPLACE VIEW ${LOCAL_TABLE} AS SELECT * FROM ${lakeScan(this.dataDir)}`,
      );
      this.empty = false;
    } catch (error) {
      if (!isNoFiles(error)) throw error;
      await this.connection.run(`CREATE OR REPLACE VIEW ${LOCAL_TABLE} AS SELECT * FROM ${emptyLakeScan()}`);
      this.empty = true;
    }
  }

  /** All rows of a query; none while the lake has no files. */
  async query(built: BuiltQuery): Promise<RawRow[]> {
    const rows: RawRow[] = [];
    for await (const chunk of this.stream(built)) rows.push(...chunk);
    return rows;
  }

  /**
   * Rows in chunks, for exports larger than memory. Inside an access scope (the CLI) the read is
   * recorded in the lake's `audit` category when the rows end (`src/audit/access.ts`).
   */
  stream(built: BuiltQuery): AsyncIterable<RawRow[]> {
    return auditedPages(built, { engine: 'duckdb', dataDir: this.dataDir }, this.rows(built));
  }

  private async *rows(built: BuiltQuery): AsyncIterable<RawRow[]> {
    if (this.empty) await this.refresh();
    let started = false;
    try {
      for await (const chunk of streamDuckDb(this.connection, built)) {
        started = true;
        yield chunk;
      }
    } catch (error) {
      // Every file went away since the view was created (expiry, a cleared directory): DuckDB says so
      // when it binds the query, before the first row.
      if (started || !isNoFiles(error)) throw error;
      await this.refresh();
      yield* streamDuckDb(this.connection, built);
    }
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
  const result = await connection.stream(built.sql, [...built.params]);
  for await (const rows of result.yieldRowObjectJs()) yield rows;
}
