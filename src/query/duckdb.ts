/**
 * Runs built queries on DuckDB: over the local lake's Parquet files, or over any connection that has a
 * `logs` table or view with the lake's columns (tests, benchmarks).
 */
import { join, resolve, sep } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { auditedPages } from '../audit/access';
import { InputError } from '../errors';
import { visibleFiles } from '../local/lake-files';
import { DATA_PREFIX, PARTITION_COLUMNS, RECORD_COLUMNS } from '../schema';
import type { BuiltQuery, PartitionScope } from './build';
import { duckdbHiveTypes, duckdbType } from './columns';
import type { RawRow } from './decode';
import { type Engine, type EngineOptions, openEngine, spillRoot } from './engine';

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

/**
 * `read_parquet(…)` over the given Parquet files, with hive partitions as strings. DuckDB expands each
 * entry of the list as a glob, so each path is made a literal one.
 */
export function lakeScanFiles(files: readonly string[]): string {
  return `read_parquet(${duckdbFileList(files)}, hive_partitioning = true, hive_types = ${duckdbHiveTypes()}, union_by_name = true)`;
}

/** A DuckDB list literal of file paths, each one matching only itself. */
export function duckdbFileList(files: readonly string[]): string {
  return `[${files.map((f) => duckdbString(duckdbGlobLiteral(f))).join(', ')}]`;
}

/** DuckDB's error for a file that went away between the listing and the read (see `lake-files.ts`). */
function isMissingFile(error: unknown): boolean {
  return (
    error instanceof Error &&
    /No files found that match the pattern|No such file or directory|Cannot open file/i.test(error.message)
  );
}

/** How {@link LocalLakeReader.open} opens a lake. */
export interface ReaderOptions extends EngineOptions {
  /**
   * The partitions the `logs` view covers when the reader opens: pass the scope of the query about to
   * run (`BuiltQuery.scope`) so the lake's other hours are neither listed nor opened. DuckDB reads the
   * footer of every file a view names when the view is created, so a view over an hour that is not
   * compacted yet (thousands of small files) costs seconds even when the query's time range excludes it.
   * Each query still points the view at its own scope first.
   *
   * `'per-query'`: the view starts empty (nothing is listed or opened) and each query points it at its
   * own scope, for a reader that serves many queries over different ranges (the explorer, alert
   * evaluation, the compliance report). Until then `connection` reads no rows: SQL of the caller's own
   * goes through {@link LocalLakeReader.connectionOver}.
   * @default every partition
   */
  readonly scope?: PartitionScope | 'per-query';
}

/**
 * A read-only view of a local lake directory. Each query reads the files visible at that moment in the
 * partitions its time range and categories can match (`lake-files.ts`: what a compaction replaced or has
 * not finished publishing is left out), so a query never sees a record twice or half an hour. A lake
 * with no files yet (a fresh data directory, or one whose files all expired) is empty, not broken.
 * DuckDB runs with a memory limit and spills to `<dataDir>/.loglake/tmp` (`engine.ts`).
 */
export class LocalLakeReader {
  /** The files the `logs` view names now (`undefined` before the first view). */
  private viewFiles: readonly string[] | undefined;

  private constructor(
    private readonly engine: Engine,
    readonly connection: DuckDBConnection,
    private readonly dataDir: string,
  ) {}

  /** Open the lake under `dataDir` (`<dataDir>/logs/category=…/dt=…/hour=…/*.parquet`). */
  static async open(dataDir: string, options: ReaderOptions = {}): Promise<LocalLakeReader> {
    checkLakePath(dataDir);
    const engine = await openEngine(spillRoot(dataDir), options);
    try {
      const connection = await engine.instance.connect();
      const reader = new LocalLakeReader(engine, connection, dataDir);
      if (options.scope === 'per-query') await reader.showFiles([]);
      else await reader.refresh(options.scope);
      return reader;
    } catch (error) {
      engine.close();
      throw error;
    }
  }

  /** The memory limit DuckDB runs with, in bytes. */
  get memoryLimitBytes(): number {
    return this.engine.memoryLimitBytes;
  }

  /**
   * Point the view at the visible files in `scope`, or at no rows while there are none. The same files
   * as the view already names (the query of a reader opened with its scope) keep the view: creating it
   * again would read every footer again.
   */
  private async refresh(scope?: PartitionScope): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const files = visibleFiles(this.dataDir, scope);
      if (sameFiles(files, this.viewFiles)) return;
      try {
        await this.showFiles(files);
        return;
      } catch (error) {
        // A file went away between the listing and the view (see `rows`): list once more.
        if (attempt > 0 || !isMissingFile(error)) throw error;
      }
    }
  }

  /** Point the view at exactly `files`; {@link viewFiles} names them once the view stands. */
  private async showFiles(files: readonly string[]): Promise<void> {
    this.viewFiles = undefined;
    await this.createView(files);
    this.viewFiles = files;
  }

  private async createView(files: readonly string[]): Promise<void> {
    const source = files.length === 0 ? emptyLakeScan() : lakeScanFiles(files);
    await this.connection.run(`CREATE OR REPLACE TEMP VIEW ${LOCAL_TABLE} AS SELECT * FROM ${source}`);
    if (files.length === 0) return;
    // Files that all predate a column (message_template, say) are read with that column NULL, as Athena
    // reads such files through the Glue table.
    const present = new Set(
      (await this.connection.runAndReadAll(`DESCRIBE ${LOCAL_TABLE}`))
        .getRowObjectsJS()
        .map((r) => String(r.column_name)),
    );
    const missing = RECORD_COLUMNS.filter((c) => !present.has(c.name));
    if (missing.length === 0) return;
    const added = missing.map((c) => `CAST(NULL AS ${duckdbType(c.type)}) AS "${c.name}"`).join(', ');
    await this.connection.run(
      `CREATE OR REPLACE TEMP VIEW ${LOCAL_TABLE} AS SELECT *, ${added} FROM ${source}`,
    );
  }

  /**
   * The connection with the `logs` view over the visible files in `scope` (every partition without one),
   * for SQL of the caller's own: {@link query} points the view at each query's scope, so the view an
   * earlier query left may cover fewer partitions than the next statement needs.
   */
  async connectionOver(scope?: PartitionScope): Promise<DuckDBConnection> {
    await this.refresh(scope);
    return this.connection;
  }

  /** All rows of a query; none while the lake has no files. */
  async query(built: BuiltQuery): Promise<RawRow[]> {
    const rows: RawRow[] = [];
    for await (const chunk of this.stream(built)) rows.push(...chunk);
    return rows;
  }

  /**
   * Rows in chunks, as DuckDB produces them: nothing holds the whole result. Inside an access scope (the
   * CLI) the read is recorded in the lake's `audit` category when the rows end (`src/audit/access.ts`).
   */
  stream(built: BuiltQuery): AsyncIterable<RawRow[]> {
    return auditedPages(
      built,
      { engine: 'duckdb', dataDir: this.dataDir, instance: this.engine.instance },
      this.rows(built),
    );
  }

  private async *rows(built: BuiltQuery): AsyncIterable<RawRow[]> {
    await this.refresh(built.scope);
    let started = false;
    try {
      for await (const chunk of streamDuckDb(this.connection, built)) {
        started = true;
        yield chunk;
      }
    } catch (error) {
      // A file listed a moment ago went away (expired, cleared, or replaced by a compaction whose grace
      // period ended). Before the first row nothing was shown: list again and run again.
      if (started || !isMissingFile(error)) throw error;
      this.viewFiles = undefined;
      await this.refresh(built.scope);
      yield* streamDuckDb(this.connection, built);
    }
  }

  close(): void {
    this.connection.closeSync();
    this.engine.close();
  }
}

function sameFiles(a: readonly string[], b: readonly string[] | undefined): boolean {
  return b !== undefined && a.length === b.length && a.every((f, i) => f === b[i]);
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
