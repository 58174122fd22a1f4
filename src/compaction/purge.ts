/**
 * The purge of one person from the lake on S3 (`loglake subject erase --purge --stack`): the objects of
 * the unlocked categories holding a row that carries the person's pseudonym are found with one
 * partition-pruned Athena query (`"$path"`) per category, each over that category's own days (partition
 * projection plans every projected partition of a query's range: one query over the longest range
 * would plan the short-lived categories' expired days too, 21.7k partitions against 9.8k with the
 * default categories), then each hour's objects are rewritten without those rows by the compaction's
 * own journaled rewrite ({@link compactPartition} with `without`): CTAS into staging, the
 * counts verified (rows before − the person's rows = rows after, none of theirs left), the rewrite copied
 * in, the originals deleted, then every old version under the hour (the bucket is versioned: deleted and
 * replaced objects, including earlier compactions' sources, would still hold the rows).
 *
 * It takes the compaction's lock and journal, so the two never rewrite the same hour at once and either
 * one finishes or undoes what the other left (`recover`). A run that stops (time, lock held, a failure)
 * leaves every hour either untouched or purged; the next run finds what is left with the same queries.
 */
import { DATA_PREFIX } from '../schema';
import {
  acquireLock,
  compactPartition,
  type ObjectRewriteRun,
  type Plan,
  prefixOf,
  type RewriteSettings,
  recover,
  runId,
  StopForTest,
} from './objects';
import { purgeFindSql } from './sql';

export interface ObjectPurgeSettings extends RewriteSettings {
  /**
   * The earliest `dt` searched (`YYYY-MM-DD`) in each of `categories`: older partitions are expired by
   * the category's lifecycle rule.
   */
  readonly since: Readonly<Record<string, string>>;
  /** At most this many objects found per run (the rest are found by the next run). @default 1,000 */
  readonly maxObjectsPerRun?: number;
}

/** A purge run: the compaction's ports and clock, and the person. */
export interface ObjectPurgeRun extends ObjectRewriteRun<ObjectPurgeSettings> {
  /** The person's stored pseudonym (`u_` + 32 hex). */
  readonly pseudonym: string;
}

export interface ObjectPurgeReport {
  /** False when the compaction (or another purge) held the lock: nothing was done. */
  readonly locked: boolean;
  /** Every object found holding the person was rewritten: nothing of theirs is left. */
  readonly complete: boolean;
  /** Objects replaced by rewrites without the person's rows. */
  readonly objects: number;
  /** The person's rows left out. */
  readonly removedRows: number;
  /** Hours rewritten. */
  readonly partitions: readonly string[];
  readonly failed: ReadonlyArray<{ readonly partition: string; readonly error: string }>;
  /** Hours found but not started because the run was out of time. */
  readonly deferred: number;
  readonly scannedBytes: number;
}

const PARTITION_VALUE = {
  category: /^[a-z][a-z0-9_]{0,62}$/,
  dt: /^\d{4}-\d{2}-\d{2}$/,
  hour: /^(?:[01]\d|2[0-3])$/,
};

/**
 * The hours to rewrite from the find query's rows (`path`, `category`, `dt`, `hour`, `rows`): one plan
 * per hour with the objects holding the person. Pure.
 * @param uriPrefix what the engine's `"$path"` puts before a key (`s3://<bucket>/`)
 * @throws Error on a row that is not an object directly in its own partition of the `logs/` prefix
 *   (nothing is rewritten on a result that cannot be right)
 */
export function planPurge(
  rows: ReadonlyArray<Record<string, unknown>>,
  uriPrefix: string,
): { readonly plans: Plan[]; readonly personRows: number } {
  const byPrefix = new Map<string, Plan>();
  let personRows = 0;
  for (const row of rows) {
    const { path, category, dt, hour } = row;
    const count = Number(row.rows);
    if (
      typeof path !== 'string' ||
      typeof category !== 'string' ||
      typeof dt !== 'string' ||
      typeof hour !== 'string' ||
      !PARTITION_VALUE.category.test(category) ||
      !PARTITION_VALUE.dt.test(dt) ||
      !PARTITION_VALUE.hour.test(hour) ||
      !Number.isInteger(count) ||
      count < 1
    ) {
      throw new Error(`purge: unexpected row from the find query: ${JSON.stringify(row)}`);
    }
    const prefix = `${DATA_PREFIX}/category=${category}/dt=${dt}/hour=${hour}/`;
    const key = path.startsWith(uriPrefix) ? path.slice(uriPrefix.length) : undefined;
    if (key === undefined || !key.startsWith(prefix) || key.slice(prefix.length).includes('/')) {
      throw new Error(`purge: ${path} is not an object of ${uriPrefix}${prefix}`);
    }
    const plan = byPrefix.get(prefix) ?? { category, dt, hour, prefix, sources: [] };
    if (!plan.sources.some((o) => o.key === key)) {
      byPrefix.set(prefix, { ...plan, sources: [...plan.sources, { key, bytes: 0 }] });
    }
    personRows += count;
  }
  const plans = [...byPrefix.values()].sort((a, b) => (a.prefix < b.prefix ? -1 : 1));
  return { plans, personRows };
}

/** Run one purge pass (see the module comment). */
export async function purgeObjects(run: ObjectPurgeRun): Promise<ObjectPurgeReport> {
  const { store, settings } = run;
  const lockKey = `${prefixOf(settings)}lock`;
  const now = run.now ?? new Date();
  const empty = { objects: 0, removedRows: 0, partitions: [], failed: [], deferred: 0, scannedBytes: 0 };
  if (!(await acquireLock(store, lockKey, runId(now), now, settings.lockTtlMs ?? 15 * 60_000))) {
    return { locked: false, complete: false, ...empty };
  }
  let crashed = false;
  try {
    await recover(run);
    const found = await findPerson(run);
    await run.onStep?.('found');
    const { plans } = planPurge(found.rows, store.uri(''));
    let scannedBytes = found.scannedBytes;
    let objects = 0;
    let removedRows = 0;
    const partitions: string[] = [];
    const failed: Array<{ partition: string; error: string }> = [];
    let deferred = 0;
    for (const [i, p] of plans.entries()) {
      if (run.remainingMs && run.remainingMs() < (run.reserveMs ?? 5 * 60_000)) {
        deferred = plans.length - i;
        break;
      }
      try {
        const r = await compactPartition(run, p, runId(new Date()), { without: run.pseudonym });
        objects += r.sourceObjects;
        removedRows += r.removedRows;
        scannedBytes += r.scannedBytes;
        partitions.push(r.partition);
      } catch (error) {
        if (error instanceof StopForTest) {
          crashed = true;
          throw error;
        }
        failed.push({ partition: p.prefix, error: error instanceof Error ? error.message : String(error) });
      }
    }
    const complete = failed.length === 0 && deferred === 0 && !found.truncated;
    return { locked: true, complete, objects, removedRows, partitions, failed, deferred, scannedBytes };
  } finally {
    // A simulated crash leaves the lock, as a real one would.
    if (!crashed) await store.delete([lockKey]);
  }
}

/**
 * The find query's rows over every category, one query per category (in name order, as one query
 * would have ordered them) bounded by its own `since`, at most `maxObjectsPerRun` rows in all.
 * `truncated`: the limit was reached, so objects may be left for the next run.
 */
async function findPerson(
  run: ObjectPurgeRun,
): Promise<{ rows: Array<Record<string, unknown>>; scannedBytes: number; truncated: boolean }> {
  const { settings } = run;
  const limit = settings.maxObjectsPerRun ?? 1_000;
  const rows: Array<Record<string, unknown>> = [];
  let scannedBytes = 0;
  for (const category of [...settings.categories].sort()) {
    const since = settings.since[category];
    if (since === undefined) throw new Error(`purge: no earliest dt for category ${category}`);
    const left = limit - rows.length;
    if (left === 0) return { rows, scannedBytes, truncated: true };
    const found = await run.engine.query(
      purgeFindSql({
        database: settings.database,
        table: settings.table,
        categories: [category],
        since,
        pseudonym: run.pseudonym,
        limit: left,
      }),
    );
    rows.push(...found.rows);
    scannedBytes += found.scannedBytes;
  }
  return { rows, scannedBytes, truncated: rows.length >= limit };
}
