/**
 * Compaction of the lake on S3 (the unlocked categories of the `logs` bucket), driven by the compaction
 * Lambda: for each closed hour with small objects, Athena rewrites exactly the listed objects into one
 * Parquet file (CTAS into a staging prefix; Athena ignores ORDER BY there, so it is not sorted), the row counts are compared, the file is copied into
 * the partition, and the listed objects are deleted.
 *
 * S3 has no atomic multi-object swap: between the copy and the delete an Athena query over that hour
 * counts its records twice. That is seconds when the run goes through: a delete S3 refuses is retried
 * within seconds ({@link SOURCE_DELETE_RETRY}). When the run dies there (the Lambda killed, or the
 * delete still refused after its retries), the hour counts twice until the next scheduled run finishes
 * it from the journal: up to the schedule interval, plus the dead run's lock TTL if the lock was left.
 * The hours compacted are closed (they ended at least `closedAfterMs` ago), so the alert rules, whose
 * windows end minutes before now, never read one; a person querying that hour can. Nothing is ever
 * lost: objects are deleted only after the copy of a verified rewrite holding their rows is in place.
 *
 * A journal object per compaction (`<prefix>journal/<run>.json`) makes every step recoverable: a run
 * first finishes or undoes what an interrupted run left (outputs all in place: delete the sources;
 * otherwise: delete the outputs), then compacts. A lock object written with `If-None-Match: *` keeps two
 * runs (a retried invocation, a duplicate delivery of the schedule event) from compacting at once.
 *
 * No SDK here: the Lambda brings an {@link ObjectStore} over S3 and a {@link SqlEngine} over Athena.
 */
import { randomBytes } from 'node:crypto';
import { backoffDelay, sleep } from '../backoff';
import { DATA_PREFIX } from '../schema';
import { utcDate, utcHour } from '../time';
import { chooseSources, compactedName, isClosed, type PartitionFile } from './plan';
import { compactionCountSql, compactionCtas, dropTableSql, type SqlPartition } from './sql';

export interface StoredObject {
  readonly key: string;
  readonly bytes: number;
  /** S3's storage class as listed (`STANDARD` when absent). */
  readonly storageClass?: string;
}

/**
 * Whether Athena (and Trino's Hive connector) reads an object: not one whose name starts with `_` or
 * `.` (hidden), nor one in S3 Glacier Flexible Retrieval or Deep Archive. Its rows would be in neither
 * the rewrite nor the count, which would still agree, and the object would be deleted with the sources.
 */
export function engineReads(o: StoredObject): boolean {
  const name = o.key.slice(o.key.lastIndexOf('/') + 1);
  if (name.startsWith('_') || name.startsWith('.')) return false;
  return o.storageClass !== 'GLACIER' && o.storageClass !== 'DEEP_ARCHIVE';
}

/** The bucket, as the compaction needs it. */
export interface ObjectStore {
  /** Every object under `prefix` (all pages), sorted by key. */
  list(prefix: string): Promise<StoredObject[]>;
  /** Server-side copy inside the bucket, encrypted as the bucket's default says. */
  copy(fromKey: string, toKey: string): Promise<void>;
  /** Delete every key or throw naming those that were not deleted. */
  delete(keys: readonly string[]): Promise<void>;
  get(key: string): Promise<string | undefined>;
  put(key: string, body: string): Promise<void>;
  /**
   * Create `key` only if it does not exist (`If-None-Match: *`), or replace it only if its ETag is still
   * `etag`. Resolves false when the condition failed.
   */
  putIf(
    key: string,
    body: string,
    condition: { readonly absent: true } | { readonly etag: string },
  ): Promise<boolean>;
  /** Body and ETag, or undefined. */
  getWithEtag(key: string): Promise<{ body: string; etag: string } | undefined>;
  /** The URI the query engine reports in `"$path"` and accepts as a location. */
  uri(key: string): string;
  /**
   * Delete every old version under `prefix` (the bucket is versioned: a deleted or replaced object stays
   * as a noncurrent version), then the delete markers, in that order so that an interrupted call never
   * makes an old version current again. Resolves how many were deleted.
   */
  deleteOldVersions(prefix: string): Promise<number>;
}

/** Athena (or Trino) as the compaction uses it. */
export interface SqlEngine {
  /** Run a statement (CTAS, DROP) to completion; bytes scanned. */
  execute(sql: string): Promise<number>;
  /** Run a query; its rows with every value as text, and bytes scanned. */
  query(sql: string): Promise<{ rows: Array<Record<string, unknown>>; scannedBytes: number }>;
}

/** Settings of every run that rewrites the bucket's objects: the compaction's and the purge's. */
export interface RewriteSettings {
  /** Glue database and the table over the bucket's `logs/` prefix. */
  readonly database: string;
  readonly table: string;
  /** The categories rewritten (the unlocked ones: Object Lock forbids deleting the others' objects). */
  readonly categories: readonly string[];
  /** Prefix of the journal, staging area and lock (the compaction's and the purge's). @default {@link COMPACTION_PREFIX} */
  readonly prefix?: string;
  /** A lock older than this belongs to a run that died. @default 15 minutes (Lambda's maximum) */
  readonly lockTtlMs?: number;
}

export interface ObjectCompactionSettings extends RewriteSettings {
  /** An hour is compacted once it ended this long ago (Firehose's buffer, plus late retries). */
  readonly closedAfterMs: number;
  /** Hours further back than this are not listed (late objects there stay as they are). */
  readonly lookbackHours: number;
  /** At most this many objects per compaction (the rest wait for the next run). @default 1,000 */
  readonly maxSourcesPerRun?: number;
  /**
   * A compacted object this size or larger is not rewritten again when late objects arrive.
   * @default 128 MiB
   */
  readonly targetFileBytes?: number;
}

interface Journal {
  readonly version: 1;
  readonly run: string;
  readonly partition: string;
  readonly tempTable: string;
  readonly staging: string;
  readonly sources: readonly string[];
  readonly state: 'started' | 'verified';
  /** Staged objects and where each is copied (state `verified`). */
  readonly copies?: ReadonlyArray<{ readonly from: string; readonly to: string }>;
  readonly rows?: number;
  /**
   * A purge (`subject erase --purge`): once the sources are deleted, so are the old versions under the
   * partition, which still hold the person's rows. The pseudonym itself is never written here.
   */
  readonly purge?: true;
}

export interface ObjectPartitionResult {
  readonly partition: string;
  readonly run: string;
  readonly sourceObjects: number;
  readonly sourceBytes: number;
  readonly outputObjects: number;
  readonly rows: number;
  readonly scannedBytes: number;
}

export interface ObjectCompactionReport {
  /** False when another run holds the lock (nothing was done). */
  readonly locked: boolean;
  readonly compacted: ObjectPartitionResult[];
  readonly failed: Array<{ readonly partition: string; readonly error: string }>;
  /** Interrupted compactions finished (sources deleted) or undone (outputs deleted). */
  readonly recovered: { readonly finished: number; readonly undone: number };
  /** Closed partitions that still need compaction when the run stopped for time. */
  readonly deferred: number;
  readonly scannedBytes: number;
}

/** What a single rewrite needs of a run (the compaction's and the purge's). */
export interface RewriteRun {
  readonly store: ObjectStore;
  readonly engine: SqlEngine;
  readonly settings: {
    readonly database: string;
    readonly table: string;
    readonly prefix?: string | undefined;
  };
  /**
   * Called at each step, and awaited (fault-injection tests throw {@link StopForTest} here, or change
   * the bucket as a fault would).
   */
  readonly onStep?: ((step: string) => void | Promise<void>) | undefined;
}

/** A whole run of the compaction or of the purge: its ports, settings, clock and time budget. */
export interface ObjectRewriteRun<S extends RewriteSettings> extends RewriteRun {
  readonly settings: S;
  /** @default the time the run starts */
  readonly now?: Date;
  /** Milliseconds left before the caller must stop (Lambda's remaining time). @default no limit */
  readonly remainingMs?: () => number;
  /** Stop starting partitions when less than this remains. @default 5 minutes */
  readonly reserveMs?: number;
}

/** A compaction run. */
export type ObjectCompactionRun = ObjectRewriteRun<ObjectCompactionSettings>;

/** A compaction that did not hold its sources' rows; nothing was published. */
export class ObjectCompactionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ObjectCompactionError';
  }
}

/**
 * Prefix of the journal, staging area and lock in the `logs` bucket (outside `logs/`), unless the
 * settings name another; the constructs grant and expire what is under it (`lib/private/object-rewrite.ts`).
 */
export const COMPACTION_PREFIX = 'compaction/';

/** Where the journal, staging area and lock live. */
export const prefixOf = (s: { readonly prefix?: string | undefined }) => s.prefix ?? COMPACTION_PREFIX;

/** Run one compaction pass over the bucket (see the module comment). */
export async function compactObjects(run: ObjectCompactionRun): Promise<ObjectCompactionReport> {
  const { store, settings } = run;
  const prefix = prefixOf(settings);
  const lockKey = `${prefix}lock`;
  const now = run.now ?? new Date();
  const owner = runId(now);
  if (!(await acquireLock(store, lockKey, owner, now, settings.lockTtlMs ?? 15 * 60_000))) {
    return {
      locked: false,
      compacted: [],
      failed: [],
      recovered: { finished: 0, undone: 0 },
      deferred: 0,
      scannedBytes: 0,
    };
  }
  let crashed = false;
  try {
    const recovered = await recover(run);
    const compacted: ObjectPartitionResult[] = [];
    const failed: Array<{ partition: string; error: string }> = [];
    const plans = await plan(run, now);
    let deferred = 0;
    for (const p of plans) {
      if (run.remainingMs && run.remainingMs() < (run.reserveMs ?? 5 * 60_000)) {
        deferred = plans.length - compacted.length - failed.length;
        break;
      }
      try {
        compacted.push(await compactPartition(run, p, runId(new Date())));
      } catch (error) {
        if (error instanceof StopForTest) {
          crashed = true;
          throw error;
        }
        failed.push({ partition: p.prefix, error: error instanceof Error ? error.message : String(error) });
      }
    }
    return {
      locked: true,
      compacted,
      failed,
      recovered,
      deferred,
      scannedBytes: compacted.reduce((s, c) => s + c.scannedBytes, 0),
    };
  } finally {
    // A simulated crash leaves the lock, as a real one would; the next run takes it over when it expires.
    if (!crashed) await store.delete([lockKey]);
  }
}

/** Thrown by an `onStep` hook to stop a run as a crash would (tests). */
export class StopForTest extends Error {
  constructor(readonly step: string) {
    super(`stopped at ${step}`);
    this.name = 'StopForTest';
  }
}

/** `20261122T101500Z_1a2b3c4d`: sortable, unique, and a valid Glue table name suffix. */
export function runId(at: Date): string {
  return `${at.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '').toLowerCase()}_${randomBytes(4).toString('hex')}`;
}

/**
 * Take the run lock (`<prefix>lock`): the compaction and the purge take the same one, as both rewrite
 * the same partitions. Resolves false when a live run holds it.
 */
export async function acquireLock(
  store: ObjectStore,
  key: string,
  owner: string,
  now: Date,
  ttlMs: number,
): Promise<boolean> {
  const body = JSON.stringify({ owner, expires: now.getTime() + ttlMs });
  if (await store.putIf(key, body, { absent: true })) return true;
  const held = await store.getWithEtag(key);
  if (!held) return store.putIf(key, body, { absent: true });
  const expires = Number((JSON.parse(held.body) as { expires?: unknown }).expires);
  if (Number.isFinite(expires) && expires > now.getTime()) return false;
  // The holder died (a run never outlives Lambda's 15 minutes): take over, unless someone else just did.
  return store.putIf(key, body, { etag: held.etag });
}

/** One partition's rewrite: the objects to replace. */
export interface Plan extends SqlPartition {
  /** `logs/category=<c>/dt=<d>/hour=<h>/` */
  readonly prefix: string;
  readonly sources: readonly StoredObject[];
}

/** What a rewrite checks its counts against, and what it leaves out. */
export interface RewriteOptions {
  /** Leave out the rows carrying this pseudonym, and delete the partition's old versions (a purge). */
  readonly without?: string;
}

/** Closed hours of the lookback window, per category, with the objects {@link chooseSources} picks. */
async function plan(run: ObjectCompactionRun, now: Date): Promise<Plan[]> {
  const s = run.settings;
  const target = s.targetFileBytes ?? 128 * 1024 ** 2;
  const max = s.maxSourcesPerRun ?? 1_000;
  const hours: Array<{ dt: string; hour: string }> = [];
  const first = Math.floor(now.getTime() / 3_600_000) - s.lookbackHours;
  for (let h = first; h <= Math.floor(now.getTime() / 3_600_000); h++) {
    const at = new Date(h * 3_600_000);
    const p = { dt: utcDate(at), hour: utcHour(at) };
    if (isClosed(p, now, s.closedAfterMs)) hours.push(p);
  }
  const days = [...new Set(hours.map((h) => h.dt))];
  const plans: Plan[] = [];
  for (const category of s.categories) {
    for (const dt of days) {
      // One listing per category-day (a page holds 1,000 keys) instead of one per hour.
      const objects = await run.store.list(`${DATA_PREFIX}/category=${category}/dt=${dt}/`);
      for (const { hour } of hours.filter((h) => h.dt === dt)) {
        const prefix = `${DATA_PREFIX}/category=${category}/dt=${dt}/hour=${hour}/`;
        const inHour = objects.filter(
          (o) => o.key.startsWith(prefix) && !o.key.slice(prefix.length).includes('/') && engineReads(o),
        );
        const files: PartitionFile[] = inHour.map((o) => ({
          name: o.key.slice(prefix.length),
          bytes: o.bytes,
        }));
        const chosen = chooseSources(files, target).slice(0, max);
        if (chosen.length === 0) continue;
        plans.push({
          category,
          dt,
          hour,
          prefix,
          sources: chosen.map((f) => ({ key: prefix + f.name, bytes: f.bytes })),
        });
      }
    }
  }
  return plans;
}

/**
 * Rewrite a partition's listed objects (all their rows, or for a purge all but the person's), verify the
 * counts, publish the rewrite and delete the sources, journaled step by step (see the module comment).
 */
export async function compactPartition(
  run: RewriteRun,
  p: Plan,
  id: string,
  options: RewriteOptions = {},
): Promise<ObjectPartitionResult & { readonly removedRows: number }> {
  const { store, engine, settings } = run;
  const prefix = prefixOf(settings);
  const journalKey = `${prefix}journal/${id}.json`;
  const staging = `${prefix}staging/${id}/`;
  const tempTable = `compaction_${id}`;
  const target = {
    database: settings.database,
    table: settings.table,
    tempTable,
    partition: { category: p.category, dt: p.dt, hour: p.hour },
    sources: p.sources.map((o) => store.uri(o.key)),
    ...(options.without !== undefined ? { without: options.without } : {}),
  };
  const purge = options.without !== undefined;
  const base: Journal = {
    version: 1,
    run: id,
    partition: p.prefix,
    tempTable,
    staging,
    sources: p.sources.map((o) => o.key),
    state: 'started',
    ...(purge ? { purge: true as const } : {}),
  };
  await store.put(journalKey, JSON.stringify(base));
  await run.onStep?.('journal-started');

  let scanned = await engine.execute(compactionCtas(target, store.uri(staging)));
  await run.onStep?.('rewritten');
  const count = await engine.query(compactionCountSql(target));
  scanned += count.scannedBytes;
  const row = count.rows[0] ?? {};
  const written = Number(row.written);
  const source = Number(row.source);
  // A purge leaves out the person's rows: written = source - removed, and none of them left.
  const removed = purge ? Number(row.removed) : 0;
  const left = purge ? Number(row.left) : 0;
  const staged = (await store.list(staging)).filter((o) => o.bytes > 0);
  const expected = source - removed;
  // An object holding only the person's rows is rewritten into nothing: no staged object then.
  const verified =
    Number.isInteger(written) &&
    written === expected &&
    left === 0 &&
    (purge ? removed > 0 && (written === 0 || staged.length > 0) : written > 0 && staged.length > 0);
  if (!verified) {
    await cleanUp(run, base, journalKey);
    throw new ObjectCompactionError(
      `${p.prefix}: the rewrite holds ${written} rows in ${staged.length} object(s) for ${source} source rows${purge ? ` less ${removed} of the person's (${left} of them left)` : ''}; nothing was published`,
    );
  }
  const copies = staged.map((o, i) => ({ from: o.key, to: p.prefix + compactedName(id, i) }));
  await store.put(journalKey, JSON.stringify({ ...base, state: 'verified', copies, rows: written }));
  await run.onStep?.('journal-verified');
  for (const c of copies) {
    await store.copy(c.from, c.to);
    await run.onStep?.('copied');
  }
  await deleteSources(
    store,
    p.sources.map((o) => o.key),
  );
  await run.onStep?.('sources-deleted');
  if (purge) {
    await store.deleteOldVersions(p.prefix);
    await run.onStep?.('versions-deleted');
  }
  await cleanUp(run, base, journalKey);
  return {
    partition: p.prefix,
    run: id,
    sourceObjects: p.sources.length,
    sourceBytes: p.sources.reduce((s, o) => s + o.bytes, 0),
    outputObjects: copies.length,
    rows: written,
    removedRows: removed,
    scannedBytes: scanned,
  };
}

/**
 * Retries of the delete that ends a compaction: between the copy and the delete the hour counts twice,
 * so a delete S3 refuses (throttling, a 500, a partial DeleteObjects) is retried within seconds rather
 * than left to the next scheduled run. Deleting a key that is already gone succeeds, so each attempt
 * asks for every source.
 */
export const SOURCE_DELETE_RETRY = { attempts: 5, baseMs: 250, capMs: 4_000 } as const;

async function deleteSources(store: ObjectStore, keys: readonly string[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await store.delete(keys);
      return;
    } catch (error) {
      if (attempt >= SOURCE_DELETE_RETRY.attempts) throw error;
      await sleep(backoffDelay(attempt, SOURCE_DELETE_RETRY));
    }
  }
}

/** Drop the temporary table, delete the staged objects, then the journal. */
async function cleanUp(run: RewriteRun, j: Journal, journalKey: string): Promise<void> {
  await run.engine.execute(dropTableSql(run.settings.database, j.tempTable));
  const staged = await run.store.list(j.staging);
  if (staged.length > 0) await run.store.delete(staged.map((o) => o.key));
  await run.onStep?.('staging-deleted');
  await run.store.delete([journalKey]);
}

/**
 * Finish or undo what interrupted runs left: a verified compaction whose copies are all in place loses
 * its sources (the rows are in the copies), and for a purge the partition's old versions; any other one
 * loses its copies. A verified purge whose rewrite was empty (the objects held only the person's rows)
 * has no copies and is finished the same way.
 */
export async function recover(run: RewriteRun): Promise<{ finished: number; undone: number }> {
  const { store } = run;
  let finished = 0;
  let undone = 0;
  for (const o of await store.list(`${prefixOf(run.settings)}journal/`)) {
    const text = await store.get(o.key);
    if (text === undefined) continue;
    const j = JSON.parse(text) as Journal;
    const present = new Set((await store.list(j.partition)).map((x) => x.key));
    const copies = j.copies ?? [];
    const complete = j.purge === true || copies.length > 0;
    if (j.state === 'verified' && complete && copies.every((c) => present.has(c.to))) {
      const left = j.sources.filter((k) => present.has(k));
      if (left.length > 0) await store.delete(left);
      if (j.purge) await store.deleteOldVersions(j.partition);
      finished++;
    } else {
      const made = copies.map((c) => c.to).filter((k) => present.has(k));
      if (made.length > 0) await store.delete(made);
      undone++;
    }
    await cleanUp(run, j, o.key);
  }
  return { finished, undone };
}
