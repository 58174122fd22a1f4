/**
 * Compaction of the local lake: each closed hour of each category is rewritten from the many small files
 * the pipeline delivered (one per buffer flush) into one file, or a few of bounded size, sorted by
 * service and then time. The current hour is compacted as it fills (`openMinFiles`): each pass rewrites
 * the delivered files that arrived since the last one, with earlier passes' outputs whose grace period
 * is over, so a dashboard over the last hour reads tens of files rather than thousands.
 *
 * Why that order: every query has a time range, but the files of a closed hour are read whole whenever
 * the range covers the hour (the usual case), so sorting by time alone prunes little inside a file.
 * Service is the filter people add most (`--service`, `stats --group-by service`, the error-rate rule);
 * sorted by it, each row group holds few services and its min/max statistics let DuckDB and Athena skip
 * the rest. Time second keeps each service's events in order, so an hour cut by `--since`/`--until` still
 * prunes within a service's run of row groups. Neighbouring rows of one service also compress better.
 *
 * Exactly once, whatever is interrupted (see `lake-files.ts` for what readers do with the marker):
 * 1. the sources are chosen from one listing of the partition, inside the pipeline's delivery queue, so
 *    no delivery is half-published at that moment; files arriving later are not touched;
 * 2. the outputs are written to `<data-dir>/.loglake/compaction/staging/<run>/`, their row count checked
 *    against the sources', and fsync'd;
 * 3. the marker (sources, outputs, rows) is written durably;
 * 4. the outputs are renamed into the partition; the last rename commits the compaction, which is then
 *    recorded in the lake's integrity log (or, after a crash, when a compactor next opens the lake);
 * 5. after the grace period (queries that listed the sources before the commit have finished), the
 *    sources are deleted, then the marker.
 * On start, a marker whose outputs are not all in place is rolled back (its outputs deleted); one whose
 * outputs are all there is kept until its grace period is over. Markers never chain: while a partition
 * has a marker, a compaction there takes only files no marker names (`chooseOpenSources`), so each file
 * is in at most one marker and each marker's commit state depends on its own files alone; the closed
 * hour's final compaction into one file waits until its markers are gone.
 */
import { existsSync, mkdirSync, renameSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  chooseOpenSources,
  chooseSources,
  compactedName,
  isClosed,
  type PartitionFile,
} from '../compaction/plan';
import { IntegrityLog, objectOf } from '../compliance/integrity';
import { LogLakeError } from '../errors';
import { duckdbFileList, duckdbString } from '../query/duckdb';
import { type Engine, type EngineOptions, openEngine, spillRoot } from '../query/engine';
import {
  type CompactionMarker,
  isCommitted,
  listPartitions,
  markerDir,
  type PartitionDir,
  type PartitionListing,
  parquetNames,
} from './lake-files';
import { fsyncDir, fsyncFile, newSegmentId } from './spool';
import { type Compression, writeDurably } from './writer';

const MiB = 1024 ** 2;
const MINUTE = 60_000;
/** {@link CompactionSettings.openMinFiles}'s default. */
export const DEFAULT_OPEN_MIN_FILES = 10;

/** When and how the local lake is compacted. */
export interface CompactionSettings {
  /**
   * An hour is compacted once it ended this long ago: the flush interval (its last events are still in a
   * buffer until then) plus a margin for late producers, so a busy hour is rarely rewritten twice.
   * @default the flush interval + 10 minutes
   */
  readonly closedAfterMs: number;
  /**
   * Size of a compacted file: an hour larger than this is written as several files of about this size
   * (DuckDB checks the size after each row group). Compacted files this size or larger are never
   * rewritten again. @default 128 MiB
   */
  readonly targetFileBytes: number;
  /**
   * Replaced files are deleted this long after the compaction committed, so a query that listed them a
   * moment before can still read them. @default 10 minutes
   */
  readonly graceMs: number;
  /** Parquet codec of compacted files. @default the config's `output.compression` (SNAPPY) */
  readonly compression: Compression;
  /** Rows per row group (the unit of min/max pruning). @default 122,880 (DuckDB's) */
  readonly rowGroupRows: number;
  /**
   * An hour not yet closed (or with a compaction still in its grace period) is compacted once it holds
   * this many delivered files no pending compaction names: the current hour of a busy lake holds one
   * file per flush and stream (~720 an hour per category at the 5 s default), and a query opens each
   * of them. `Infinity` leaves such hours to the closed-hour compaction. @default 10
   */
  readonly openMinFiles: number;
}

/** Settings for a flush interval, with the documented defaults. */
export function compactionSettings(
  flushIntervalMs: number,
  overrides: Partial<CompactionSettings> = {},
): CompactionSettings {
  return {
    closedAfterMs: flushIntervalMs + 10 * MINUTE,
    targetFileBytes: 128 * MiB,
    graceMs: 10 * MINUTE,
    compression: 'SNAPPY',
    rowGroupRows: 122_880,
    openMinFiles: DEFAULT_OPEN_MIN_FILES,
    ...overrides,
  };
}

/** A file a compaction would replace. */
export type SourceFile = PartitionFile;

/** What compacting one partition means: its visible small files, as listed once. */
export interface PartitionPlan {
  readonly partition: PartitionDir;
  readonly sources: readonly SourceFile[];
}

/**
 * The partitions to compact now. A closed hour without a pending marker: the files {@link chooseSources}
 * picks (a delivered file, or at least two compacted files smaller than the target), which makes it one
 * file. Any other hour (still open, or with a compaction in its grace period): the files
 * {@link chooseOpenSources} picks once `openMinFiles` delivered files wait, none named by a marker.
 */
export function planCompaction(
  dataDir: string,
  settings: Pick<CompactionSettings, 'closedAfterMs' | 'targetFileBytes' | 'openMinFiles'>,
  now: Date,
  partitions: readonly PartitionListing[] = listPartitions(dataDir),
): PartitionPlan[] {
  const plans: PartitionPlan[] = [];
  for (const p of partitions) {
    const files: SourceFile[] = [];
    for (const name of p.visible) {
      const bytes = sizeOf(join(p.abs, name));
      if (bytes !== undefined) files.push({ name, bytes });
    }
    const sources =
      p.markers.length === 0 && isClosed(p, now, settings.closedAfterMs)
        ? chooseSources(files, settings.targetFileBytes)
        : chooseOpenSources(
            files,
            new Set(p.markers.flatMap((m) => [...m.sources, ...m.outputs])),
            settings.targetFileBytes,
            settings.openMinFiles,
          );
    if (sources.length === 0) continue;
    const { category, dt, hour, rel, abs } = p;
    plans.push({ partition: { category, dt, hour, rel, abs }, sources });
  }
  return plans;
}

function sizeOf(path: string): number | undefined {
  try {
    return statSync(path).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** A compaction's outputs did not hold the sources' rows; nothing was published. */
export class CompactionVerifyError extends LogLakeError {
  constructor(message: string) {
    super(message);
    this.name = 'CompactionVerifyError';
  }
}

/** Points a compaction passes, in order (fault-injection tests stop the process at each). */
export const COMPACTION_STEPS = [
  'staged',
  'marker-written',
  'output-renamed',
  'committed',
  'source-deleted',
  'marker-deleted',
] as const;
export type CompactionStep = (typeof COMPACTION_STEPS)[number];

/** What one partition's compaction did. */
export interface PartitionResult {
  readonly partition: string;
  readonly run: string;
  readonly sourceFiles: number;
  readonly sourceBytes: number;
  readonly outputFiles: number;
  readonly outputBytes: number;
  readonly rows: number;
  /** Rows left out on purpose (`rewriteWithout`); 0 for a compaction. */
  readonly removedRows: number;
  readonly ms: number;
}

/** What `rewriteWithout` did. */
export interface RewriteReport {
  readonly partitions: readonly PartitionResult[];
  /** Files replaced (deleted, with a grace period of zero). */
  readonly files: number;
  readonly removedRows: number;
}

/** What a pass did: compactions, failures (kept for the next pass), cleanup. */
export interface CompactionReport {
  readonly compacted: PartitionResult[];
  readonly failed: Array<{ readonly partition: string; readonly error: string }>;
  /** Replaced files deleted after their grace period. */
  readonly deletedFiles: number;
  /** Interrupted compactions undone. */
  readonly rolledBack: number;
  /** Compactions committed but still in their grace period (sources kept, hidden). */
  readonly pending: number;
}

export interface CompactorOptions {
  readonly dataDir: string;
  readonly settings: CompactionSettings;
  readonly engine?: EngineOptions;
  /** Called at each step of a compaction (tests kill the process here). */
  readonly onStep?: (step: CompactionStep, partition: string) => void;
}

/**
 * Compacts one data directory. Only the process holding the data directory's lock may open one: a
 * compactor rolls back whatever compaction it finds unfinished.
 */
export class Compactor {
  /** What `tidy` did since the last report (the pipeline tidies once on open, before any pass). */
  private tidied = { deletedFiles: 0, rolledBack: 0 };

  private readonly integrity: IntegrityLog;
  /**
   * Runs committed by this compactor whose integrity-log record failed (a full disk): recorded again at
   * every tidy until it succeeds, and their sources kept until then, whatever the grace period.
   */
  private readonly unrecorded = new Set<string>();

  private constructor(
    private readonly options: CompactorOptions,
    private readonly engine: Engine,
  ) {
    this.integrity = new IntegrityLog(options.dataDir);
  }

  static async open(options: CompactorOptions): Promise<Compactor> {
    const engine = await openEngine(spillRoot(options.dataDir), { threads: 1, ...options.engine });
    // The staging area belongs to runs that can no longer finish (one compactor per data directory).
    rmSync(join(markerDir(options.dataDir), 'staging'), { recursive: true, force: true });
    const compactor = new Compactor(options, engine);
    try {
      compactor.recordCommitted();
    } catch (error) {
      engine.close();
      throw error;
    }
    return compactor;
  }

  get settings(): CompactionSettings {
    return this.options.settings;
  }

  /**
   * One pass: finish or undo earlier compactions, then compact every partition `plan` returns.
   * `exclusive` runs the listing where no delivery is half-published (the pipeline's delivery queue).
   */
  async run(
    options: {
      now?: () => Date;
      exclusive?: <T>(fn: () => T | Promise<T>) => Promise<T>;
      signal?: AbortSignal;
    } = {},
  ): Promise<CompactionReport> {
    const now = options.now ?? (() => new Date());
    this.tidy(now());
    const exclusive = options.exclusive ?? (async <T>(fn: () => T | Promise<T>) => fn());
    const plans = await exclusive(() => planCompaction(this.options.dataDir, this.settings, now()));
    const compacted: PartitionResult[] = [];
    const failed: Array<{ partition: string; error: string }> = [];
    for (const plan of plans) {
      if (options.signal?.aborted) break;
      try {
        compacted.push(await this.compact(plan, now));
      } catch (error) {
        if (error instanceof SimulatedCrash) throw error;
        failed.push({
          partition: plan.partition.rel,
          error: error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error),
        });
      }
    }
    // With a grace period of zero (a one-off `loglake compact --grace 0s`) this finishes the pass's own
    // compactions; otherwise it finds nothing new to delete.
    const { pending } = this.tidy(now());
    const { deletedFiles, rolledBack } = this.tidied;
    this.tidied = { deletedFiles: 0, rolledBack: 0 };
    return { compacted, failed, deletedFiles, rolledBack, pending };
  }

  /** Record in the integrity log every committed compaction a crash left unrecorded. */
  private recordCommitted(): void {
    if (!this.integrity.exists()) return;
    let recorded: Set<string> | undefined;
    for (const p of listPartitions(this.options.dataDir)) {
      const present = new Set(p.names);
      for (const m of p.markers) {
        if (!isCommitted(m, present)) continue;
        // One scan of the log for all of them (a running lake has dozens of markers in their grace period).
        recorded ??= this.integrity.compactionRuns();
        if (!recorded.has(m.run)) this.recordInIntegrityLog(m);
      }
    }
  }

  /**
   * Undo compactions that did not commit (their outputs go; the marker stays for the grace period, so
   * a reader that listed an output before it went still knows to hide it), and delete the sources and
   * markers of committed ones whose grace period is over.
   */
  tidy(now: Date): { deletedFiles: number; rolledBack: number; pending: number } {
    let deletedFiles = 0;
    let rolledBack = 0;
    let pending = 0;
    if (this.unrecorded.size > 0) {
      try {
        this.recordCommitted();
        this.unrecorded.clear();
      } catch {
        // Still failing: their sources stay (below), and the next tidy tries again.
      }
    }
    for (const p of listPartitions(this.options.dataDir)) {
      if (p.markers.length === 0) continue;
      const present = new Set(p.names);
      for (const m of p.markers) {
        const expired = now.getTime() - m.created >= this.settings.graceMs;
        if (isCommitted(m, present)) {
          if (!expired || this.unrecorded.has(m.run)) {
            pending++;
            continue;
          }
          for (const s of m.sources) {
            if (unlinkIfExists(join(p.abs, s))) deletedFiles++;
            this.step('source-deleted', m.partition);
          }
          fsyncDir(p.abs);
          this.removeMarker(m);
        } else {
          const partial = m.outputs.filter((o) => present.has(o));
          for (const o of partial) unlinkIfExists(join(p.abs, o));
          if (partial.length > 0) {
            fsyncDir(p.abs);
            rolledBack++;
          }
          if (expired) this.removeMarker(m);
          else pending++;
        }
      }
    }
    this.tidied.deletedFiles += deletedFiles;
    this.tidied.rolledBack += rolledBack;
    return { deletedFiles, rolledBack, pending };
  }

  /**
   * Rewrite the files of `categories` that hold a row matching `remove` (a DuckDB predicate over the
   * row, aliased `t`) without those rows, each partition through the compaction steps, so a crash
   * leaves the old files or the new ones, never both and never half (`subject erase --purge`). With a
   * grace period of zero the replaced files are deleted before this returns.
   */
  async rewriteWithout(
    categories: readonly string[],
    remove: string,
    options: { now?: () => Date; exclusive?: <T>(fn: () => T | Promise<T>) => Promise<T> } = {},
  ): Promise<RewriteReport> {
    const now = options.now ?? (() => new Date());
    this.tidy(now());
    const exclusive = options.exclusive ?? (async <T>(fn: () => T | Promise<T>) => fn());
    const wanted = new Set(categories);
    const partitions = await exclusive(() =>
      listPartitions(this.options.dataDir).filter((p) => wanted.has(p.category)),
    );
    const rewritten: PartitionResult[] = [];
    for (const p of partitions) {
      const names = p.visible.filter((n) => sizeOf(join(p.abs, n)) !== undefined);
      if (names.length === 0) continue;
      const hits = await this.filesMatching(
        names.map((n) => join(p.abs, n)),
        remove,
      );
      const sources = names.filter((n) => hits.has(join(p.abs, n)));
      if (sources.length === 0) continue;
      const { category, dt, hour, rel, abs } = p;
      rewritten.push(
        await this.compact(
          {
            partition: { category, dt, hour, rel, abs },
            sources: sources.map((name) => ({ name, bytes: sizeOf(join(abs, name)) ?? 0 })),
          },
          now,
          remove,
        ),
      );
    }
    this.tidy(now());
    return {
      partitions: rewritten,
      files: rewritten.reduce((s, r) => s + r.sourceFiles, 0),
      removedRows: rewritten.reduce((s, r) => s + r.removedRows, 0),
    };
  }

  /** The files (of `paths`) holding at least one row matching `predicate`. */
  private async filesMatching(paths: readonly string[], predicate: string): Promise<Set<string>> {
    const connection = await this.engine.instance.connect();
    try {
      const result = await connection.runAndReadAll(
        `SELECT DISTINCT filename FROM read_parquet(${duckdbFileList(paths)}, union_by_name = true, hive_partitioning = false, filename = true) AS t
         WHERE ${predicate}`,
      );
      return new Set(result.getRows().map((r) => String(r[0])));
    } finally {
      connection.closeSync();
    }
  }

  /**
   * Compact one partition (see the module comment for the steps); with `remove` (a DuckDB predicate over
   * the row, aliased `t`), the matching rows are left out and the outputs are checked to hold exactly
   * the others.
   */
  async compact(
    plan: PartitionPlan,
    now: () => Date = () => new Date(),
    remove?: string,
  ): Promise<PartitionResult> {
    const started = performance.now();
    const { partition, sources } = plan;
    const run = newSegmentId(now().getTime());
    const staging = join(markerDir(this.options.dataDir), 'staging', run);
    mkdirSync(join(markerDir(this.options.dataDir), 'staging'), { recursive: true });
    try {
      const sourcePaths = sources.map((s) => join(partition.abs, s.name));
      const list = duckdbFileList(sourcePaths);
      const connection = await this.engine.instance.connect();
      let rows: number;
      let sourceRows: number;
      let staged: string[];
      try {
        // hive_partitioning off: the partition values stay in the path, not in the file.
        await connection.run(
          `COPY (SELECT * FROM read_parquet(${list}, union_by_name = true, hive_partitioning = false) AS t
                 ${remove === undefined ? '' : `WHERE NOT (${remove})`}
                 ORDER BY "service", "timestamp")
           TO ${duckdbString(staging)}
           (FORMAT parquet, COMPRESSION ${this.settings.compression.toLowerCase()},
            FILE_SIZE_BYTES ${Math.floor(this.settings.targetFileBytes)}, ROW_GROUP_SIZE ${Math.floor(this.settings.rowGroupRows)})`,
        );
        staged = parquetNames(staging).sort((a, b) => fileIndex(a) - fileIndex(b));
        sourceRows = await rowCount(connection, sourcePaths);
        rows = remove === undefined ? sourceRows : await keptRows(connection, sourcePaths, remove);
        const written = await rowCount(
          connection,
          staged.map((n) => join(staging, n)),
        );
        if (written !== rows) {
          throw new CompactionVerifyError(
            `compaction of ${partition.rel} wrote ${written} rows for ${rows} source rows${remove === undefined ? '' : ` kept (of ${sourceRows})`}; nothing was published`,
          );
        }
      } finally {
        connection.closeSync();
      }
      for (const n of staged) fsyncFile(join(staging, n));
      this.step('staged', partition.rel);

      const outputs = staged.map((_, i) => compactedName(run, i));
      const marker: CompactionMarker = {
        version: 1,
        run,
        partition: partition.rel,
        sources: sources.map((s) => s.name),
        outputs,
        rows,
        created: now().getTime(),
      };
      writeDurably(join(markerDir(this.options.dataDir), `${run}.json`), JSON.stringify(marker));
      this.step('marker-written', partition.rel);

      let outputBytes = 0;
      staged.forEach((n, i) => {
        const target = join(partition.abs, outputs[i] as string);
        renameSync(join(staging, n), target);
        outputBytes += sizeOf(target) ?? 0;
        if (i < staged.length - 1) this.step('output-renamed', partition.rel);
      });
      fsyncDir(partition.abs);
      this.step('committed', partition.rel);
      try {
        this.recordInIntegrityLog(marker);
      } catch (error) {
        this.unrecorded.add(run);
        throw error;
      }
      return {
        partition: partition.rel,
        run,
        sourceFiles: sources.length,
        sourceBytes: sources.reduce((s, f) => s + f.bytes, 0),
        outputFiles: outputs.length,
        outputBytes,
        rows,
        removedRows: sourceRows - rows,
        ms: performance.now() - started,
      };
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }

  close(): void {
    this.engine.close();
  }

  /**
   * A committed compaction in the lake's integrity log (when the lake keeps one): the files it replaces,
   * hashed as found now, and its outputs, so the compliance report's verification sees a replacement,
   * not files gone missing and files nobody delivered. Recorded right after the commit; one a crash left
   * unrecorded is recorded when a compactor next opens the data directory, before its first tidy can
   * delete the sources. An append that fails (a full disk) fails the partition's compaction, reported by
   * the pass; every later tidy of this compactor tries again and keeps the sources until it succeeds, and
   * a compactor opening the directory records it (or does not open).
   */
  private recordInIntegrityLog(m: CompactionMarker): void {
    if (!this.integrity.exists()) return;
    const { dataDir } = this.options;
    const key = (name: string) => `${m.partition}/${name}`;
    this.integrity.recordCompaction(
      {
        run: m.run,
        partition: m.partition,
        replaced: m.sources
          .filter((n) => existsSync(join(dataDir, key(n))))
          .map((n) => objectOf(dataDir, key(n))),
        outputs: m.outputs.map((n) => objectOf(dataDir, key(n))),
        rows: m.rows,
      },
      // Both callers know it is not in the log yet (just committed, or checked on open).
      'unrecorded',
    );
  }

  private removeMarker(m: CompactionMarker): void {
    const dir = markerDir(this.options.dataDir);
    unlinkIfExists(join(dir, `${m.run}.json`));
    fsyncDir(dir);
    this.step('marker-deleted', m.partition);
  }

  private step(step: CompactionStep, partition: string): void {
    this.options.onStep?.(step, partition);
  }
}

/**
 * Thrown by an `onStep` hook to stop a compaction as a crash would (tests): the compactor does not
 * treat it as a failed partition to report and go on from.
 */
export class SimulatedCrash extends Error {
  constructor(readonly step: CompactionStep) {
    super(`simulated crash at ${step}`);
    this.name = 'SimulatedCrash';
  }
}

function fileIndex(name: string): number {
  return Number(/(\d+)\.parquet$/.exec(name)?.[1] ?? Number.NaN);
}

async function rowCount(
  connection: { runAndReadAll(sql: string): Promise<{ getRows(): unknown[][] }> },
  paths: readonly string[],
): Promise<number> {
  if (paths.length === 0) return 0;
  const result = await connection.runAndReadAll(
    `SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata(${duckdbFileList(paths)})`,
  );
  return Number(result.getRows()[0]?.[0] ?? 0);
}

async function keptRows(
  connection: { runAndReadAll(sql: string): Promise<{ getRows(): unknown[][] }> },
  paths: readonly string[],
  remove: string,
): Promise<number> {
  const result = await connection.runAndReadAll(
    `SELECT count(*) FROM read_parquet(${duckdbFileList(paths)}, union_by_name = true, hive_partitioning = false) AS t
     WHERE NOT (${remove})`,
  );
  return Number(result.getRows()[0]?.[0] ?? 0);
}

function unlinkIfExists(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
