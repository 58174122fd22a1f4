/**
 * The S3 compaction (`src/compaction/objects.ts`) with the compaction Lambda's own ports
 * (`src/compaction/aws.ts`): the real S3 client on MiniStack's S3, and the real Athena client on the
 * Athena API in front of Trino, whose Hive catalog reads and writes the same emulator buckets
 * (`scripts/trino.sh`). The small objects are real pipeline Parquet split in three, as Firehose delivers
 * an hour in several objects. Faults: a crash between copy and delete, a crash before publishing, two
 * runs at once, a rewrite whose count does not match.
 *
 * Rows are compared in full, read back with the S3 client and DuckDB (not through the engine under test).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { S3ObjectStore } from '../../src/compaction/aws';
import {
  compactObjects,
  type ObjectCompactionRun,
  type ObjectCompactionSettings,
  StopForTest,
} from '../../src/compaction/objects';
import { COMPACTED_PREFIX, hourEnd } from '../../src/compaction/plan';
import { listPartitions } from '../../src/local/lake-files';
import { duckdbFileList, duckdbString } from '../../src/query/duckdb';
import { type EmulatorBuckets, openEmulatorBuckets, openTierLake, type TierLake } from './lake';

const PARTS = 3;
const CLOSED_AFTER_MS = 10 * 60_000;
const LOCK_TTL_MS = 15 * 60_000;

let lake: TierLake;
/** The emulator's S3, an Athena client configured as the Lambda's, and this file's Trino schema. */
let buckets: EmulatorBuckets;
let work: string;
/** The category-hour every test compacts (the tier lake's busiest), and its prefix in a bucket. */
const partition = { category: '', dt: '', hour: '' };
let prefix: string;
/** The small objects' bodies (one pipeline file split in PARTS). */
let parts: Buffer[] = [];

/** A time at which the partition's hour is closed. */
const closedAt = () => new Date(hourEnd(partition) + CLOSED_AFTER_MS + 60_000);

beforeAll(async () => {
  lake = await openTierLake();
  buckets = await openEmulatorBuckets(lake, 's3compaction');
  const [busiest] = listPartitions(lake.dataDir)
    .filter((p) => p.rel.startsWith('logs/category=') && p.visible.length > 0)
    .sort((a, b) => b.visible.length - a.visible.length);
  if (!busiest) throw new Error('the tier lake has no logs partition');
  const [, c, d, h] = /category=([^/]+)\/dt=([^/]+)\/hour=([^/]+)/.exec(busiest.rel) ?? [];
  Object.assign(partition, { category: c, dt: d, hour: h });
  prefix = `${busiest.rel}/`;
  work = mkdtempSync(join(tmpdir(), 'loglake-s3-compaction-'));
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const source = duckdbFileList(busiest.visible.map((f) => join(lake.dataDir, busiest.rel, f)));
    for (let i = 0; i < PARTS; i++) {
      const out = join(work, `part-${i}.parquet`);
      await conn.run(
        `COPY (SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER () AS rn FROM read_parquet(${source}, hive_partitioning = false)) WHERE rn % ${PARTS} = ${i})
         TO ${duckdbString(out)} (FORMAT parquet)`,
      );
      parts.push(readFileSync(out));
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}, 600_000);

afterAll(async () => {
  await buckets?.close();
  if (work) rmSync(work, { recursive: true, force: true });
  await lake?.close();
  parts = [];
});

/** A bucket holding the hour as PARTS small objects, a table over it, and a run's ports. */
async function bucketWithSmallObjects(): Promise<{
  bucket: string;
  store: S3ObjectStore;
  sources: string[];
  run: (over?: Partial<ObjectCompactionRun>) => ObjectCompactionRun;
}> {
  const id = randomBytes(4).toString('hex');
  const sources = parts.map(
    (_, i) => `${prefix}loglake-logs-1-${partition.dt}-${partition.hour}-0${i}-00-${id}.parquet`,
  );
  const { bucket, table, store, engine } = await buckets.create(
    'loglake-compaction',
    sources.map((key, i) => ({ key, body: parts[i] ?? Buffer.alloc(0) })),
  );
  const settings: ObjectCompactionSettings = {
    database: buckets.schema,
    table,
    categories: [partition.category],
    closedAfterMs: CLOSED_AFTER_MS,
    lookbackHours: 2,
    lockTtlMs: LOCK_TTL_MS,
  };
  return {
    bucket,
    store,
    sources,
    run: (over = {}) => ({ store, engine, settings, now: closedAt(), ...over }),
  };
}

/** Every key of a bucket under a prefix. */
const keys = (bucket: string, under = '') => buckets.keys(bucket, under);

/** Every row of the objects under the hour's prefix, as JSON text, sorted. */
async function rowsOfHour(bucket: string): Promise<string[]> {
  return buckets.rows(
    bucket,
    (await keys(bucket, prefix)).map((key) => ({ key })),
  );
}

/** The hour's keys that a compaction wrote. */
const compacted = (all: readonly string[]) =>
  all.filter((k) => k.slice(prefix.length).startsWith(COMPACTED_PREFIX));

/** Stops the run as a crash would, the first time it reaches `step`. */
const crashAt = (step: string) => (s: string) => {
  if (s === step) throw new StopForTest(s);
};

describe('compactObjects on the emulator, with Trino as Athena', () => {
  it('rewrites a closed hour into one object holding every row once, and deletes the small objects', async () => {
    // Arrange
    const b = await bucketWithSmallObjects();
    const before = await rowsOfHour(b.bucket);

    // Act
    const report = await compactObjects(b.run());

    // Assess
    expect(report.failed).toEqual([]);
    expect(report.locked).toBe(true);
    expect(report.compacted).toHaveLength(1);
    expect(report.compacted[0]).toMatchObject({
      partition: prefix,
      sourceObjects: PARTS,
      rows: before.length,
    });
    const left = await keys(b.bucket, prefix);
    expect(left).toHaveLength(1);
    expect(compacted(left)).toEqual(left);
    expect(await rowsOfHour(b.bucket)).toEqual(before);
    // No journal, staging object or lock stays behind.
    expect(await keys(b.bucket, 'compaction/')).toEqual([]);
    // A second run finds the hour as compact as it gets.
    expect((await compactObjects(b.run())).compacted).toEqual([]);
  });

  it('finishes a run that crashed between the copy and the delete: no record twice, none lost', async () => {
    // Arrange: the copy of the verified rewrite is in the partition, the small objects too, the lock held.
    const b = await bucketWithSmallObjects();
    const before = await rowsOfHour(b.bucket);
    await expect(compactObjects(b.run({ onStep: crashAt('copied') }))).rejects.toThrow(StopForTest);
    const crashed = await keys(b.bucket, prefix);
    expect(compacted(crashed)).toHaveLength(1);
    expect(crashed).toEqual(expect.arrayContaining(b.sources));
    expect(await keys(b.bucket, 'compaction/')).toContain('compaction/lock');
    // While the lock is fresh, a run does nothing.
    expect((await compactObjects(b.run())).locked).toBe(false);

    // Act: the next scheduled run, after the dead run's lock expired.
    const later = new Date(closedAt().getTime() + LOCK_TTL_MS + 60_000);
    const report = await compactObjects(b.run({ now: later }));

    // Assess
    expect(report.recovered).toEqual({ finished: 1, undone: 0 });
    expect(report.failed).toEqual([]);
    const left = await keys(b.bucket, prefix);
    expect(left).toEqual(compacted(crashed));
    expect(await rowsOfHour(b.bucket)).toEqual(before);
    expect(await keys(b.bucket, 'compaction/')).toEqual([]);
  });

  it('retries a delete S3 refuses at once, so the hour does not wait for the next run to count once', async () => {
    // Arrange: a bucket whose first DeleteObjects of the small objects fails, as a throttled S3 would.
    const b = await bucketWithSmallObjects();
    const before = await rowsOfHour(b.bucket);
    let refused = 0;
    const flaky = Object.create(b.store) as S3ObjectStore;
    flaky.delete = async (keys) => {
      if (refused === 0 && keys.some((k) => b.sources.includes(k))) {
        refused++;
        throw new Error('SlowDown: Please reduce your request rate.');
      }
      return b.store.delete(keys);
    };

    // Act
    const report = await compactObjects(b.run({ store: flaky }));

    // Assess: one refusal, then the same run finished: one object, every row once, no journal left.
    expect(refused).toBe(1);
    expect(report.failed).toEqual([]);
    expect(report.compacted).toHaveLength(1);
    const left = await keys(b.bucket, prefix);
    expect(left).toEqual(compacted(left));
    expect(left).toHaveLength(1);
    expect(await rowsOfHour(b.bucket)).toEqual(before);
    expect(await keys(b.bucket, 'compaction/')).toEqual([]);
  });

  it('undoes a run that crashed after the rewrite and before publishing, then compacts the hour again', async () => {
    // Arrange
    const b = await bucketWithSmallObjects();
    const before = await rowsOfHour(b.bucket);
    await expect(compactObjects(b.run({ onStep: crashAt('journal-verified') }))).rejects.toThrow(StopForTest);
    expect(await keys(b.bucket, prefix)).toEqual([...b.sources].sort());

    // Act
    const later = new Date(closedAt().getTime() + LOCK_TTL_MS + 60_000);
    const report = await compactObjects(b.run({ now: later }));

    // Assess
    expect(report.recovered).toEqual({ finished: 0, undone: 1 });
    expect(report.compacted).toHaveLength(1);
    expect(compacted(await keys(b.bucket, prefix))).toEqual(await keys(b.bucket, prefix));
    expect(await rowsOfHour(b.bucket)).toEqual(before);
    expect(await keys(b.bucket, 'compaction/')).toEqual([]);
  });

  it('lets one of two concurrent runs compact; the other does nothing', async () => {
    // Arrange
    const b = await bucketWithSmallObjects();
    const before = await rowsOfHour(b.bucket);

    // Act: a retried invocation and the original, at once.
    const reports = await Promise.all([compactObjects(b.run()), compactObjects(b.run())]);

    // Assess
    expect(reports.map((r) => r.locked).sort()).toEqual([false, true]);
    expect(reports.flatMap((r) => r.compacted)).toHaveLength(1);
    expect(compacted(await keys(b.bucket, prefix))).toHaveLength(1);
    expect(await rowsOfHour(b.bucket)).toEqual(before);
    expect(await keys(b.bucket, 'compaction/')).toEqual([]);
  });

  it('keeps the small objects when the rewrite does not hold their rows, and says so', async () => {
    // Arrange: right after the rewrite, a second copy of its output appears in the staging prefix, so
    // the rewritten table counts every row twice.
    const b = await bucketWithSmallObjects();
    const before = await rowsOfHour(b.bucket);
    const run = b.run({
      onStep: async (step) => {
        if (step !== 'rewritten') return;
        const [output] = (await b.store.list('compaction/staging/')).filter((o) => o.bytes > 0);
        if (!output) throw new Error('the rewrite staged no object');
        await b.store.copy(output.key, `${output.key}-again`);
      },
    });

    // Act
    const report = await compactObjects(run);

    // Assess
    expect(report.compacted).toEqual([]);
    expect(report.failed).toHaveLength(1);
    expect(report.failed[0]?.partition).toBe(prefix);
    expect(report.failed[0]?.error).toMatch(/holds \d+ rows .* for \d+ source rows; nothing was published/);
    expect(await keys(b.bucket, prefix)).toEqual([...b.sources].sort());
    expect(await rowsOfHour(b.bucket)).toEqual(before);
    expect(await keys(b.bucket, 'compaction/')).toEqual([]);
  });
});
