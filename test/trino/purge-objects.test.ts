/**
 * The S3 purge of one person (`src/compaction/purge.ts`, `loglake subject erase --purge --stack`) with the
 * Lambda's own ports (`src/compaction/aws.ts`): the real S3 client on MiniStack's versioned S3, and the
 * real Athena client on the Athena API in front of Trino, over a bucket holding the tier lake's real
 * pipeline Parquet of several categories and hours, plus rows carrying a pseudonym in prose and in an
 * attribute, and a locked category's objects. Faults: a crash after the sources are deleted but before
 * their old versions are (the compaction's run finishes it from the shared journal), and a crash before
 * anything was published.
 *
 * Rows are compared in full, read back with the S3 client and DuckDB (not through the engine under test).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compactObjects, StopForTest } from '../../src/compaction/objects';
import { type ObjectPurgeRun, purgeObjects } from '../../src/compaction/purge';
import { listPartitions } from '../../src/local/lake-files';
import { duckdbFileList, duckdbString } from '../../src/query/duckdb';
import {
  type EmulatorBuckets,
  type LakeBucket,
  openEmulatorBuckets,
  openTierLake,
  type TierLake,
  tierPseudonyms,
} from './lake';

const LOCK_TTL_MS = 15 * 60_000;
/** Unlocked categories searched; `security` is locked (Object Lock on AWS): never rewritten. */
const UNLOCKED = ['debug', 'runtime', 'framework', 'errors', 'api_access'];
const LOCKED = 'security';
/** How many unlocked categories' hours holding A's rows go into each bucket (one per category). */
const HOURS = 3;

let lake: TierLake;
/** The emulator's S3, an Athena client configured as the Lambda's, and this file's Trino schema. */
let buckets: EmulatorBuckets;
let work: string;
/** Pseudonyms of the person purged (A) and of someone else (B). */
let A = '';
let B = '';
/** Keys and bodies every bucket starts with. */
let objects: Array<{ key: string; body: Buffer }> = [];
/** The prefix of the hour holding the prose and attribute rows. */
let firstHour = '';
/**
 * The find queries' earliest day (one query per category, all from this day here): the objects' first
 * `dt`, as the executor's is now less each category's retention. A day long past (say 2000-01-01) would have the engine enumerate every projected
 * partition of the table's retention (categories × days × 24 hours, each an S3 listing): 95% of this
 * file's time on MiniStack before.
 */
let since = '';

/** The key of a tier lake file under the bucket's `logs/` prefix, for category `category`. */
function keyOf(rel: string, name: string, category?: string): string {
  const [, c, d, h] = /category=([^/]+)\/dt=([^/]+)\/hour=([^/]+)/.exec(rel) ?? [];
  return `logs/category=${category ?? c}/dt=${d}/hour=${h}/${name}`;
}

beforeAll(async () => {
  lake = await openTierLake();
  buckets = await openEmulatorBuckets(lake, 's3purge');
  const ids = await tierPseudonyms(lake, ['user-1', 'user-2']);
  A = ids.get('user-1') ?? '';
  B = ids.get('user-2') ?? '';
  const partitions = listPartitions(lake.dataDir).filter((p) => p.visible.length > 0);
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  // Hours of three unlocked categories holding A's rows, and one holding B's but not A's.
  const holding = async (p: (typeof partitions)[number], who: string) =>
    (
      await conn.runAndReadAll(
        `SELECT count(*) FROM read_parquet(${duckdbFileList(p.visible.map((n) => join(p.abs, n)))}, hive_partitioning = false) WHERE user_id = ${duckdbString(who)}`,
      )
    ).getRows()[0]?.[0] !== 0n;
  // One hour holding A's rows in each of HOURS unlocked categories, and one hour holding B's but not
  // A's: whichever categories have them (the tier's events are drawn anew for every run).
  const unlocked: typeof partitions = [];
  const inCategory = (c: string) => partitions.filter((p) => p.rel.startsWith(`logs/category=${c}/`));
  for (const c of UNLOCKED) {
    if (unlocked.length === HOURS) break;
    for (const p of inCategory(c)) {
      if (await holding(p, A)) {
        unlocked.push(p);
        break;
      }
    }
  }
  if (unlocked.length < HOURS)
    throw new Error(`only ${unlocked.length} unlocked categories of the tier lake hold user-1's rows`);
  search: for (const c of UNLOCKED) {
    for (const p of inCategory(c)) {
      if (!unlocked.includes(p) && (await holding(p, B)) && !(await holding(p, A))) {
        unlocked.push(p);
        break search;
      }
    }
  }
  if (unlocked.length < HOURS + 1)
    throw new Error("no unlocked hour of the tier lake holds user-2's rows without user-1's");
  for (const p of unlocked) {
    for (const name of p.visible)
      objects.push({ key: keyOf(p.rel, name), body: readFileSync(join(p.abs, name)) });
  }
  // A locked category's objects, under the same table: the purge must leave them as they are.
  let locked: (typeof partitions)[number] | undefined;
  for (const p of partitions.filter((p) => p.rel.includes(`category=${LOCKED}/`))) {
    if (await holding(p, A)) {
      locked = p;
      break;
    }
  }
  if (!locked) throw new Error(`the tier lake has no ${LOCKED} partition`);
  for (const name of locked.visible)
    objects.push({ key: keyOf(locked.rel, name, LOCKED), body: readFileSync(join(locked.abs, name)) });
  // Rows carrying A only in prose and in an attribute (the transform pseudonymizes "user 1001" in text).
  work = mkdtempSync(join(tmpdir(), 'loglake-s3-purge-'));
  const first = unlocked[0];
  const firstName = first?.visible[0];
  if (!first || !firstName) throw new Error('no partition');
  firstHour = keyOf(first.rel, '');
  try {
    const out = join(work, 'prose.parquet');
    const src = duckdbString(join(first.abs, firstName));
    await conn.run(
      `COPY (
         (SELECT * REPLACE (NULL AS user_id, 'user ${A} logged in' AS message) FROM read_parquet(${src}, hive_partitioning = false) LIMIT 1)
         UNION ALL
         (SELECT * REPLACE (NULL AS user_id, MAP {'actor': '${A}'} AS attributes) FROM read_parquet(${src}, hive_partitioning = false) LIMIT 1)
         UNION ALL
         (SELECT * REPLACE ('${B}' AS user_id) FROM read_parquet(${src}, hive_partitioning = false) LIMIT 1)
       ) TO ${duckdbString(out)} (FORMAT parquet)`,
    );
    objects.push({ key: keyOf(first.rel, 'loglake-logs-prose.parquet'), body: readFileSync(out) });
    // An object holding nothing but A's rows: its rewrite is empty, and it is simply deleted.
    const only = join(work, 'only-a.parquet');
    await conn.run(
      // Two rows even when the source file holds one (files are small when records split by partition).
      `COPY (SELECT r.* REPLACE ('${A}' AS user_id) FROM read_parquet(${src}, hive_partitioning = false) AS r CROSS JOIN range(2) LIMIT 2) TO ${duckdbString(only)} (FORMAT parquet)`,
    );
    objects.push({ key: keyOf(first.rel, 'loglake-logs-only-a.parquet'), body: readFileSync(only) });
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  since = objects.map((o) => /\/dt=([^/]+)\//.exec(o.key)?.[1] ?? '').sort()[0] ?? '';
  if (!/^\d{4}-\d{2}-\d{2}$/.test(since)) throw new Error(`no dt in the objects' keys: ${since}`);
}, 600_000);

afterAll(async () => {
  await buckets?.close();
  if (work) rmSync(work, { recursive: true, force: true });
  await lake?.close();
  objects = [];
});

/**
 * A versioned bucket holding the objects, each also overwritten once (so an old version of every one
 * holds the same rows, as a compaction's deleted sources would), a table over it, and a run's ports.
 */
async function lakeBucket(
  only?: (key: string) => boolean,
): Promise<LakeBucket & { run: (over?: Partial<ObjectPurgeRun>) => ObjectPurgeRun }> {
  const b = await buckets.create(
    'loglake-purge',
    objects.filter((o) => only?.(o.key) ?? true),
    { versioned: true, puts: 2 },
  );
  const { store, engine, table } = b;
  return {
    ...b,
    run: (over = {}) => ({
      store,
      engine,
      pseudonym: A,
      settings: {
        database: buckets.schema,
        table,
        categories: UNLOCKED,
        since: Object.fromEntries(UNLOCKED.map((c) => [c, since])),
        lockTtlMs: LOCK_TTL_MS,
      },
      ...over,
    }),
  };
}

const keys = (bucket: string, under = '') => buckets.keys(bucket, under);

/** Noncurrent versions under a prefix (one page: the buckets here hold far fewer than 1,000). */
async function oldVersions(bucket: string, under: string): Promise<Array<{ key: string; version: string }>> {
  const r = await buckets.s3.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: under }));
  return (r.Versions ?? [])
    .filter((v) => v.IsLatest === false)
    .map((v) => ({ key: v.Key ?? '', version: v.VersionId ?? '' }));
}

/** Every current row under a prefix as JSON text, sorted (read with the S3 client and DuckDB). */
async function rows(bucket: string, under: string): Promise<string[]> {
  return buckets.rows(
    bucket,
    (await keys(bucket, under)).map((key) => ({ key })),
  );
}

/** Current rows of the unlocked categories, and of the locked one. */
async function lakeRows(bucket: string): Promise<{ unlocked: string[]; locked: string[] }> {
  const unlocked: string[] = [];
  for (const c of UNLOCKED) unlocked.push(...(await rows(bucket, `logs/category=${c}/`)));
  return { unlocked: unlocked.sort(), locked: await rows(bucket, `logs/category=${LOCKED}/`) };
}

/** The crash tests' bucket: the hour with the prose rows, and the locked category (fewer queries). */
const firstHourAndLocked = (key: string) =>
  key.startsWith(firstHour) || key.startsWith(`logs/category=${LOCKED}/`);

const crashAt = (step: string) => (s: string) => {
  if (s === step) throw new StopForTest(s);
};

/** What must hold after A was purged from a bucket that held `before`. */
async function expectPurged(bucket: string, before: { unlocked: string[]; locked: string[] }) {
  const after = await lakeRows(bucket);
  expect(after.unlocked).toEqual(before.unlocked.filter((r) => !r.includes(A)));
  expect(after.unlocked.some((r) => r.includes(A))).toBe(false);
  expect(after.unlocked.filter((r) => r.includes(B))).toEqual(before.unlocked.filter((r) => r.includes(B)));
  expect(after.locked).toEqual(before.locked);
  // No old version of an unlocked object holds A (the hours A was never in keep theirs).
  const old = (await Promise.all(UNLOCKED.map((c) => oldVersions(bucket, `logs/category=${c}/`)))).flat();
  expect((await buckets.rows(bucket, old)).filter((r) => r.includes(A))).toEqual([]);
  // The locked category's objects were not touched: their old versions are still there.
  const lockedOld = await oldVersions(bucket, `logs/category=${LOCKED}/`);
  expect((await buckets.rows(bucket, lockedOld)).some((r) => r.includes(A))).toBe(true);
  expect(await keys(bucket, 'compaction/')).toEqual([]);
}

describe('purgeObjects on the emulator, with Trino as Athena', () => {
  it("rewrites every unlocked object holding A's rows without them, deletes the old versions, and leaves B and the locked category", async () => {
    // Arrange
    const b = await lakeBucket();
    const before = await lakeRows(b.bucket);
    const aRows = before.unlocked.filter((r) => r.includes(A)).length;
    expect(aRows).toBeGreaterThan(HOURS + 3);
    expect(before.unlocked.some((r) => r.includes(B))).toBe(true);
    expect(before.locked.some((r) => r.includes(A))).toBe(true);

    // Act
    const report = await purgeObjects(b.run());

    // Assess
    expect(report.failed).toEqual([]);
    expect(report).toMatchObject({ locked: true, complete: true, removedRows: aRows, deferred: 0 });
    expect(report.partitions.length).toBeGreaterThan(1);
    expect(report.partitions.every((p) => !p.includes(`category=${LOCKED}/`))).toBe(true);
    await expectPurged(b.bucket, before);
    // A second run finds nothing of A's left.
    expect(await purgeObjects(b.run())).toMatchObject({ complete: true, removedRows: 0, objects: 0 });
  }, 600_000);

  it('a run that crashed after deleting the sources is finished from the shared journal (old versions deleted), then the next purge run completes', async () => {
    // Arrange: the first hour's sources are deleted, their old versions (holding A) not yet; lock left.
    const b = await lakeBucket(firstHourAndLocked);
    const before = await lakeRows(b.bucket);
    await expect(purgeObjects(b.run({ onStep: crashAt('sources-deleted') }))).rejects.toThrow(StopForTest);
    expect(await keys(b.bucket, 'compaction/journal/')).toHaveLength(1);
    expect(await keys(b.bucket, 'compaction/')).toContain('compaction/lock');
    // While the dead run's lock is fresh, a purge does nothing.
    expect(await purgeObjects(b.run())).toMatchObject({ locked: false, complete: false });

    // Act: the compaction's next run takes the expired lock and recovers the journal; then the purge.
    const compaction = await compactObjects({
      store: b.store,
      engine: b.engine,
      // Long after the dead run's lock expired; nothing of the lake is in the look-back: it only recovers.
      now: new Date('2100-01-01T00:00:00Z'),
      settings: {
        database: buckets.schema,
        table: b.table,
        categories: UNLOCKED,
        closedAfterMs: 0,
        lookbackHours: 1,
        lockTtlMs: LOCK_TTL_MS,
      },
    });
    const report = await purgeObjects(b.run());

    // Assess
    expect(compaction.recovered).toEqual({ finished: 1, undone: 0 });
    expect(report.failed).toEqual([]);
    expect(report.complete).toBe(true);
    await expectPurged(b.bucket, before);
  }, 600_000);

  it('a run that crashed before publishing is undone: nothing of the rewrite stays, and the next run purges', async () => {
    // Arrange
    const b = await lakeBucket(firstHourAndLocked);
    const before = await lakeRows(b.bucket);
    await expect(purgeObjects(b.run({ onStep: crashAt('rewritten') }))).rejects.toThrow(StopForTest);
    expect((await lakeRows(b.bucket)).unlocked).toEqual(before.unlocked);
    const later = new Date(Date.now() + LOCK_TTL_MS + 60_000);

    // Act
    const report = await purgeObjects(b.run({ now: later }));

    // Assess
    expect(report.failed).toEqual([]);
    expect(report.complete).toBe(true);
    await expectPurged(b.bucket, before);
  }, 600_000);
});
