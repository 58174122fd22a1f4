/**
 * One way to open DuckDB for the local lake: a memory limit and a spill directory inside the data
 * directory, instead of DuckDB's defaults (80% of the machine's RAM, and `.tmp` in whatever directory the
 * process happens to run in). A sort or join larger than the limit spills to disk rather than growing
 * the process until the machine swaps or the OOM killer picks it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { InputError } from '../errors';
import { isAlive } from '../process';

const GiB = 1024 ** 3;

/** How DuckDB may use this machine. */
export interface EngineOptions {
  /**
   * Memory DuckDB may hold before it spills (bytes). @default min(2 GiB, 25% of RAM)
   * ({@link defaultMemoryLimit}); `LOGLAKE_DUCKDB_MEMORY_LIMIT` or `--memory-limit` override it in the CLI.
   */
  readonly memoryLimitBytes?: number;
  /**
   * Directory for spilled data. Each instance gets a private subdirectory, removed on close.
   * @default `<dataDir>/.loglake/tmp` when a data directory is given, otherwise the OS temp directory
   */
  readonly spillDir?: string;
  /** Worker threads. @default DuckDB's (one per core) */
  readonly threads?: number;
}

/** min(2 GiB, 25% of RAM): a query may use a fair share of a shared machine, never most of it. */
export function defaultMemoryLimit(total = totalmem()): number {
  return Math.min(2 * GiB, Math.floor(total / 4));
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib|tb|tib)?$/i;
const UNIT: Record<string, number> = {
  b: 1,
  kb: 1e3,
  kib: 1024,
  mb: 1e6,
  mib: 1024 ** 2,
  gb: 1e9,
  gib: GiB,
  tb: 1e12,
  tib: 1024 ** 4,
};

/**
 * A byte size such as `512MiB`, `2GB`, `1.5GiB` or `1073741824`.
 * @throws InputError naming `what` and the value when it is not a size of at least 64 MiB.
 */
export function parseByteSize(text: string, what = 'size'): number {
  const m = SIZE.exec(text.trim());
  const bytes = m ? Math.floor(Number(m[1]) * (UNIT[(m[2] ?? 'b').toLowerCase()] ?? Number.NaN)) : Number.NaN;
  if (!Number.isFinite(bytes) || bytes < 64 * 1024 ** 2) {
    throw new InputError(
      `${what}: expected a size of at least 64MiB such as 512MiB, 2GiB or 1073741824 (received ${JSON.stringify(text)})`,
    );
  }
  return bytes;
}

/** Largest LIMIT DuckDB answers by late materialization (see {@link openEngine}). */
export const LATE_MATERIALIZATION_ROWS = 10_000;

/** Spill directory of a data directory (per-process subdirectories live under it). */
export function spillRoot(dataDir: string): string {
  return join(dataDir, '.loglake', 'tmp');
}

/** A DuckDB instance with its limits, and the private spill directory to remove when it closes. */
export interface Engine {
  readonly instance: DuckDBInstance;
  readonly spillDir: string;
  readonly memoryLimitBytes: number;
  close(): void;
}

/**
 * Open an in-memory DuckDB with a memory limit and a private spill directory under `root` (`root` is
 * created now, the private directory lazily by DuckDB when it first spills). Spill directories of processes that died are removed first:
 * they are garbage nothing will read.
 */
export async function openEngine(root: string, options: EngineOptions = {}): Promise<Engine> {
  const memoryLimitBytes = options.memoryLimitBytes ?? defaultMemoryLimit();
  const base = options.spillDir ?? root;
  // DuckDB creates the spill directory itself, but not its parents: without them the first query that
  // must spill fails ("Failed to create directory"), a compaction of a large hour included.
  ensureDir(base);
  removeDeadSpillDirs(base);
  const spillDir = join(base, `${process.pid}-${randomBytes(4).toString('hex')}`);
  const config: Record<string, string> = {
    memory_limit: `${Math.floor(memoryLimitBytes / 1024 ** 2)}MiB`,
    temp_directory: spillDir,
    // A search is ORDER BY timestamp … LIMIT n over every column. Late materialization reads only the
    // filter and sort columns of every row, then the other columns of the n rows kept; DuckDB does it
    // for n ≤ 50 by default, so a search's page (100 by default, 1,000 in the lake bench) read all
    // ~20 columns of every row: free text over a day's compacted lake took 30-40% more CPU that way.
    late_materialization_max_rows: String(LATE_MATERIALIZATION_ROWS),
  };
  if (options.threads !== undefined) config.threads = String(options.threads);
  const instance = await DuckDBInstance.create(':memory:', config);
  const setup = await instance.connect();
  try {
    // Footers of files a process reads again (a view bound, then the query over it; a rule per window)
    // come from memory; entries are keyed by path and modification time. The setting belongs to the
    // Parquet extension, so it cannot go into the instance config above.
    await setup.run('SET GLOBAL parquet_metadata_cache = true');
  } finally {
    setup.closeSync();
  }
  return {
    instance,
    spillDir,
    memoryLimitBytes,
    close: () => {
      instance.closeSync();
      rmSync(spillDir, { recursive: true, force: true });
    },
  };
}

function removeDeadSpillDirs(base: string): void {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(/^(\d+)-[0-9a-f]+$/.exec(name)?.[1]);
    if (pid && pid !== process.pid && !isAlive(pid))
      rmSync(join(base, name), { recursive: true, force: true });
  }
}

/** Make sure a directory exists (a read-only lake simply cannot spill; DuckDB says so if it must). */
export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch {
    // Read-only data directory: queries that fit in memory still run.
  }
}
