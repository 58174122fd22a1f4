/**
 * `awsPurge` (`src/privacy/aws-purge.ts`), the executor's purge step: how the purge's report becomes the
 * request's answer (done with the outcome's words, not yet, failed) and how the outcome counts every run
 * of a request. The real S3 and Athena clients with the SDK mocked (`aws-sdk-client-mock`): a bucket in
 * memory, and an Athena whose CTAS stages an object as Athena's would. The purge itself on a real S3 and
 * engine is `test/trino/purge-objects.test.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AthenaSqlEngine, S3ObjectStore } from '../../src/compaction/aws';
import { purgeObjects } from '../../src/compaction/purge';
import { awsPurge, PurgeFailedError } from '../../src/privacy/aws-purge';
import { LocalSubjectRequestStore } from '../../src/privacy/local-requests';
import { LocalSubjectKeyStore } from '../../src/privacy/local-store';
import { NOTHING_TO_PURGE } from '../../src/privacy/purge';
import { type EraseRequest, runDueErasures } from '../../src/privacy/requests';

const BUCKET = 'lake';
const P = `u_${'cd'.repeat(16)}`;
const REF = 'e'.repeat(64);
const NOW = Date.parse('2026-11-30T12:00:00Z');
const HOUR_A = 'logs/category=debug/dt=2026-11-30/hour=10/';
const HOUR_B = 'logs/category=runtime/dt=2026-11-30/hour=11/';
const SETTINGS = {
  database: 'loglake',
  table: 'logs',
  categories: ['debug', 'runtime'],
  locked: ['security'],
  // Each category's expiry plus a day (debug 14, runtime 30 by default).
  searchDays: { debug: 15, runtime: 31 },
} as const;

const s3 = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'k', secretAccessKey: 's' } });
const athena = new AthenaClient({
  region: 'us-east-1',
  credentials: { accessKeyId: 'k', secretAccessKey: 's' },
});
const s3Mock = mockClient(s3);
const athenaMock = mockClient(athena);
const dirs: string[] = [];
afterEach(() => {
  s3Mock.reset();
  athenaMock.reset();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const request = (over: Partial<EraseRequest> = {}): EraseRequest => ({
  subject: REF,
  state: 'pending',
  requested: '2026-11-01T00:00:00.000Z',
  due: '2026-11-08T00:00:00.000Z',
  reason: 'ticket 7',
  principal: 'officer@host',
  persona: 'privacy-officer',
  purge: true,
  pseudonym: P,
  ...over,
});

function s3Error(status: number): Error {
  return Object.assign(new Error(`status ${status}`), { $metadata: { httpStatusCode: status } });
}

/**
 * A versioned bucket in memory behind the S3 client: current objects and noncurrent versions. `lock`
 * puts a live run's lock there first.
 */
function fakeBucket(objects: readonly string[], lock?: { expires: number }) {
  const current = new Map<string, string>(objects.map((k) => [k, 'parquet']));
  const old: Array<{ key: string; version: string }> = objects.map((k, i) => ({ key: k, version: `v${i}` }));
  if (lock) current.set('compaction/lock', JSON.stringify({ owner: 'other', ...lock }));
  s3Mock.on(PutObjectCommand).callsFake((input: { Key: string; Body: string; IfNoneMatch?: string }) => {
    if (input.IfNoneMatch === '*' && current.has(input.Key)) throw s3Error(412);
    current.set(input.Key, String(input.Body));
    return { ETag: '"e"' };
  });
  s3Mock.on(GetObjectCommand).callsFake((input: { Key: string }) => {
    const body = current.get(input.Key);
    if (body === undefined) throw s3Error(404);
    return { ETag: '"e"', Body: { transformToString: async () => body } };
  });
  s3Mock.on(ListObjectsV2Command).callsFake((input: { Prefix?: string }) => ({
    Contents: [...current.keys()]
      .filter((k) => k.startsWith(input.Prefix ?? ''))
      .map((Key) => ({ Key, Size: current.get(Key)?.length ?? 0 })),
    IsTruncated: false,
  }));
  s3Mock.on(CopyObjectCommand).callsFake((input: { CopySource: string; Key: string }) => {
    current.set(input.Key, current.get(decodeURIComponent(input.CopySource.slice(BUCKET.length + 1))) ?? '');
    return {};
  });
  s3Mock
    .on(DeleteObjectsCommand)
    .callsFake((input: { Delete: { Objects: Array<{ Key: string; VersionId?: string }> } }) => {
      for (const o of input.Delete.Objects) {
        const i = old.findIndex((v) => v.key === o.Key && v.version === o.VersionId);
        if (o.VersionId === undefined) current.delete(o.Key);
        else if (i >= 0) old.splice(i, 1);
      }
      return { Errors: [] };
    });
  s3Mock.on(ListObjectVersionsCommand).callsFake((input: { Prefix?: string }) => ({
    Versions: old
      .filter((v) => v.key.startsWith(input.Prefix ?? ''))
      .map((v) => ({ Key: v.key, VersionId: v.version, IsLatest: false })),
    IsTruncated: false,
  }));
  return { current, old };
}

/**
 * Athena answering the purge's queries: the find query with the objects of `found` (key → the person's
 * rows) still in the bucket, in its categories, from its earliest day and up to its limit, as Athena
 * would; each count with `counts(sql)`; a CTAS stages one object at its location, as Athena writes one.
 */
function fakeAthena(
  bucket: Map<string, string>,
  found: Record<string, number>,
  counts: (sql: string) => { written: number; source: number; removed: number; left: number },
) {
  const started: string[] = [];
  const results = new Map<string, { columns: string[]; rows: string[][] }>();
  athenaMock.on(StartQueryExecutionCommand).callsFake((input: { QueryString: string }) => {
    const sql = input.QueryString;
    started.push(sql);
    const id = `q${started.length}`;
    let result = { columns: [] as string[], rows: [] as string[][] };
    if (/^SELECT "\$path"/.test(sql)) {
      const categories = (/"category" IN \(([^)]*)\)/.exec(sql)?.[1] ?? '').replaceAll("'", '').split(', ');
      const since = /"dt" >= '([^']+)'/.exec(sql)?.[1] ?? '';
      const limit = Number(/LIMIT (\d+)/.exec(sql)?.[1]);
      result = {
        columns: ['path', 'category', 'dt', 'hour', 'rows'],
        rows: Object.entries(found)
          .filter(([key]) => bucket.has(key))
          .map(([key, n]) => {
            const [, c = '', d = '', h = ''] = /category=([^/]+)\/dt=([^/]+)\/hour=([^/]+)/.exec(key) ?? [];
            return [`s3://${BUCKET}/${key}`, c, d, h, String(n)];
          })
          .filter(([, c = '', d = '']) => categories.includes(c) && d >= since)
          .sort((a, b) => (a.join() < b.join() ? -1 : 1))
          .slice(0, limit),
      };
    } else if (/AS "written"/.test(sql)) {
      const c = counts(sql);
      result = {
        columns: ['written', 'source', 'removed', 'left'],
        rows: [[c.written, c.source, c.removed, c.left].map(String)],
      };
    } else {
      const location = /external_location = 's3:\/\/[^/]+\/([^']+)'/.exec(sql)?.[1];
      if (location) bucket.set(`${location}20261130_000000_part`, 'rewritten');
    }
    results.set(id, result);
    return { QueryExecutionId: id };
  });
  athenaMock.on(GetQueryExecutionCommand).callsFake((input: { QueryExecutionId: string }) => ({
    QueryExecution: { QueryExecutionId: input.QueryExecutionId, Status: { State: 'SUCCEEDED' } },
  }));
  athenaMock.on(GetQueryResultsCommand).callsFake((input: { QueryExecutionId: string }) => {
    const r = results.get(input.QueryExecutionId) ?? { columns: [], rows: [] };
    return {
      ResultSet: {
        ResultSetMetadata: { ColumnInfo: r.columns.map((Name) => ({ Name, Label: Name, Type: 'varchar' })) },
        Rows: [r.columns, ...r.rows].map((row) => ({ Data: row.map((VarCharValue) => ({ VarCharValue })) })),
      },
    };
  });
  return started;
}

/** The purge step as the executor builds it, over the mocked clients. */
const step = (remainingMs?: () => number) =>
  awsPurge({
    store: new S3ObjectStore(s3, BUCKET),
    engine: new AthenaSqlEngine(athena, { workGroup: 'loglake-purge', database: 'loglake', pollMs: 1 }),
    settings: SETTINGS,
    now: () => NOW,
    ...(remainingMs ? { remainingMs } : {}),
  });

/** Each hour's count: the hour's sources hold 10 rows, 3 of them the person's per source object. */
const countsOf = (sql: string) => {
  const sources = new Set(sql.match(/s3:\/\/lake\/logs\/[^']+'/g)).size;
  return { written: 10 * sources - 3 * sources, source: 10 * sources, removed: 3 * sources, left: 0 };
};

describe('awsPurge', () => {
  it('is done when every object found was rewritten: the outcome counts the files and rows, and names the locked categories', async () => {
    // Arrange
    const a1 = `${HOUR_A}a1.parquet`;
    const a2 = `${HOUR_A}a2.parquet`;
    const b1 = `${HOUR_B}b1.parquet`;
    const bucket = fakeBucket([a1, a2, b1]);
    const started = fakeAthena(bucket.current, { [a1]: 3, [a2]: 3, [b1]: 3 }, countsOf);

    // Act
    const outcome = await step()(request());

    // Assert
    expect(outcome).toBe(
      'purged 9 row(s) from 3 file(s) of debug, runtime; locked categories not rewritten: security',
    );
    expect([...bucket.current.keys()].filter((k) => k.startsWith('logs/'))).toEqual([
      expect.stringMatching(/^logs\/category=debug\/dt=2026-11-30\/hour=10\/[^/]+$/),
      expect.stringMatching(/^logs\/category=runtime\/dt=2026-11-30\/hour=11\/[^/]+$/),
    ]);
    expect(bucket.old).toEqual([]);
    expect([...bucket.current.keys()].filter((k) => k.startsWith('compaction/'))).toEqual([]);
    expect(started.filter((s) => s.startsWith('CREATE TABLE'))).toHaveLength(2);
    expect(started[0]).toContain(`'${P}'`);
  });

  it('looks in each category with a query of its own, back to its own expiry + 1 day, and finds every object there', async () => {
    // Arrange: objects of both categories near the end of each one's range, and one of runtime older
    // than debug's whole range.
    const debugOld = 'logs/category=debug/dt=2026-11-15/hour=00/d.parquet';
    const runtimeOld = 'logs/category=runtime/dt=2026-10-30/hour=00/r.parquet';
    const runtimeMid = 'logs/category=runtime/dt=2026-11-10/hour=05/m.parquet';
    const bucket = fakeBucket([debugOld, runtimeOld, runtimeMid]);
    const started = fakeAthena(bucket.current, { [debugOld]: 3, [runtimeOld]: 3, [runtimeMid]: 3 }, countsOf);

    // Act
    const outcome = await step()(request());

    // Assert: one find query per category, each over its own days (NOW is 2026-11-30T12:00Z).
    const finds = started.filter((q) => q.startsWith('SELECT "$path"'));
    expect(finds).toHaveLength(2);
    expect(finds[0]).toContain(`"category" IN ('debug')`);
    expect(finds[0]).toContain(`"dt" >= '2026-11-15'`);
    expect(finds[1]).toContain(`"category" IN ('runtime')`);
    expect(finds[1]).toContain(`"dt" >= '2026-10-30'`);
    expect(outcome).toBe(
      'purged 9 row(s) from 3 file(s) of debug, runtime; locked categories not rewritten: security',
    );
    expect(started.filter((q) => q.startsWith('CREATE TABLE'))).toHaveLength(3);
  });

  it('counts the rows and files of the earlier runs of the request in the outcome', async () => {
    // Arrange
    const a1 = `${HOUR_A}a1.parquet`;
    const bucket = fakeBucket([a1]);
    fakeAthena(bucket.current, { [a1]: 3 }, countsOf);

    // Act
    const outcome = await step()(request({ purgedSoFar: { files: 4, rows: 11 } }));

    // Assert
    expect(outcome).toBe(
      'purged 14 row(s) from 5 file(s) of debug, runtime; locked categories not rewritten: security',
    );
  });

  it('is not yet, with nothing done, while another run holds the lock', async () => {
    // Arrange
    const a1 = `${HOUR_A}a1.parquet`;
    const bucket = fakeBucket([a1], { expires: NOW + 60_000 });
    const started = fakeAthena(bucket.current, { [a1]: 3 }, countsOf);

    // Act
    const outcome = await step()(request({ purgedSoFar: { files: 1, rows: 2 } }));

    // Assert
    expect(outcome).toBeUndefined();
    expect(started).toEqual([]);
    expect(bucket.current.has(a1)).toBe(true);
  });

  it('is not yet when the run is out of time, with what this and the earlier runs did', async () => {
    // Arrange: time for the first hour only.
    const a1 = `${HOUR_A}a1.parquet`;
    const b1 = `${HOUR_B}b1.parquet`;
    const bucket = fakeBucket([a1, b1]);
    fakeAthena(bucket.current, { [a1]: 3, [b1]: 3 }, countsOf);
    const left = [10 * 60_000, 60_000];

    // Act
    const outcome = await step(() => left.shift() ?? 0)(request({ purgedSoFar: { files: 2, rows: 5 } }));

    // Assert
    expect(outcome).toEqual({ pending: { files: 3, rows: 8 } });
    expect(bucket.current.has(a1)).toBe(false);
    expect(bucket.current.has(b1)).toBe(true);
  });

  it('fails when an hour could not be verified, keeping its originals and carrying what was done', async () => {
    // Arrange: the second hour's rewrite still holds one of the person's rows.
    const a1 = `${HOUR_A}a1.parquet`;
    const b1 = `${HOUR_B}b1.parquet`;
    const bucket = fakeBucket([a1, b1]);
    fakeAthena(bucket.current, { [a1]: 3, [b1]: 3 }, (sql) =>
      sql.includes(b1) ? { written: 8, source: 10, removed: 3, left: 1 } : countsOf(sql),
    );

    // Act
    const outcome = step()(request());

    // Assert
    await expect(outcome).rejects.toThrow(PurgeFailedError);
    await expect(outcome).rejects.toMatchObject({
      message: expect.stringContaining(`1 hour(s) not rewritten (originals kept), e.g. ${HOUR_B}`),
      progress: { files: 1, rows: 3 },
    });
    expect(bucket.current.has(b1)).toBe(true);
    expect(bucket.current.has(a1)).toBe(false);
  });

  it('finds nothing without a pseudonym, and asks nothing of S3 or Athena', async () => {
    // Act
    const { pseudonym: _none, ...without } = request();
    const outcome = await step()(without);

    // Assert
    expect(outcome).toBe(NOTHING_TO_PURGE);
    expect(s3Mock.calls()).toHaveLength(0);
    expect(athenaMock.calls()).toHaveLength(0);
  });
});

describe('purgeObjects find queries', () => {
  const run = (maxObjectsPerRun: number) =>
    purgeObjects({
      store: new S3ObjectStore(s3, BUCKET),
      engine: new AthenaSqlEngine(athena, { workGroup: 'loglake-purge', database: 'loglake', pollMs: 1 }),
      pseudonym: P,
      now: new Date(NOW),
      settings: {
        database: 'loglake',
        table: 'logs',
        // Not in name order: the queries run in name order, as one query's ORDER BY "category" went.
        categories: ['runtime', 'debug'],
        since: { debug: '2026-11-15', runtime: '2026-10-30' },
        maxObjectsPerRun,
      },
    });

  it('share one limit: a category is asked only for what is left, and none once it is reached', async () => {
    // Arrange
    const a1 = `${HOUR_A}a1.parquet`;
    const a2 = `${HOUR_A}a2.parquet`;
    const b1 = `${HOUR_B}b1.parquet`;
    const bucket = fakeBucket([a1, a2, b1]);
    const started = fakeAthena(bucket.current, { [a1]: 3, [a2]: 3, [b1]: 3 }, countsOf);

    // Act
    const report = await run(2);

    // Assert: debug's two objects fill the limit; runtime waits for the next run.
    const finds = started.filter((q) => q.startsWith('SELECT "$path"'));
    expect(finds).toHaveLength(1);
    expect(finds[0]).toContain(`"category" IN ('debug')`);
    expect(finds[0]).toContain('LIMIT 2');
    expect(report).toMatchObject({ locked: true, complete: false, objects: 2 });
    expect(bucket.current.has(b1)).toBe(true);
  });

  it('is complete when every category was asked and the objects found stay under the limit', async () => {
    // Arrange
    const a1 = `${HOUR_A}a1.parquet`;
    const b1 = `${HOUR_B}b1.parquet`;
    const bucket = fakeBucket([a1, b1]);
    const started = fakeAthena(bucket.current, { [a1]: 3, [b1]: 3 }, countsOf);

    // Act
    const report = await run(3);

    // Assert
    const finds = started.filter((q) => q.startsWith('SELECT "$path"'));
    expect(finds.map((q) => /LIMIT \d+/.exec(q)?.[0])).toEqual(['LIMIT 3', 'LIMIT 2']);
    expect(report).toMatchObject({ locked: true, complete: true, objects: 2 });
  });
});

describe('a --purge request carried out over several runs', () => {
  it("records every run's rows in the outcome and the audit event, not only the last run's", async () => {
    // Arrange: two hours; the first run has time for one of them, then fails the next run's other.
    const dir = mkdtempSync(join(tmpdir(), 'loglake-aws-purge-'));
    dirs.push(dir);
    const requests = new LocalSubjectRequestStore(join(dir, 'requests'));
    const keys = new LocalSubjectKeyStore(join(dir, 'keys'));
    await keys.getOrCreate([REF]);
    await requests.put(request());
    const a1 = `${HOUR_A}a1.parquet`;
    const b1 = `${HOUR_B}b1.parquet`;
    const b2 = `${HOUR_B}b2.parquet`;
    const bucket = fakeBucket([a1, b1, b2]);
    let failB = false;
    fakeAthena(bucket.current, { [a1]: 3, [b1]: 3, [b2]: 3 }, (sql) =>
      failB && sql.includes(b1) ? { written: 0, source: 20, removed: 6, left: 0 } : countsOf(sql),
    );
    const recorded: Array<string | undefined> = [];
    const run = (remainingMs: () => number) =>
      runDueErasures({
        keys,
        requests,
        executor: 'executor',
        now: () => NOW,
        purge: step(remainingMs),
        record: async (_r, _d, purged) => {
          recorded.push(purged);
        },
      });

    // Act 1: time for the first hour only.
    const left = [10 * 60_000, 60_000];
    expect(await run(() => left.shift() ?? 0)).toEqual([]);
    const afterFirst = await requests.get(REF);
    // Act 2: the other hour's rewrite does not verify.
    failB = true;
    await expect(run(() => 10 * 60_000)).rejects.toThrow(PurgeFailedError);
    const afterFailure = await requests.get(REF);
    // Act 3: it goes through.
    failB = false;
    const done = await run(() => 10 * 60_000);

    // Assert
    expect(afterFirst).toMatchObject({ state: 'pending', purgedSoFar: { files: 1, rows: 3 } });
    expect(afterFirst?.claimed).toBeUndefined();
    expect(afterFailure).toMatchObject({ state: 'pending', purgedSoFar: { files: 1, rows: 3 } });
    expect(done).toHaveLength(1);
    const outcome =
      'purged 9 row(s) from 3 file(s) of debug, runtime; locked categories not rewritten: security';
    expect(recorded).toEqual([outcome]);
    const closed = await requests.get(REF);
    expect(closed).toMatchObject({ state: 'done', outcome: `key destroyed; ${outcome}` });
    expect(closed?.purgedSoFar).toBeUndefined();
    expect(closed?.pseudonym).toBeUndefined();
  });
});
