/**
 * The S3 compaction (`src/compaction/objects.ts`) over a bucket and an engine in memory: the engine
 * reads objects as Athena does, skipping what Athena never reads (a name starting with `_` or `.`, an
 * object in S3 Glacier Flexible Retrieval or Deep Archive). On a real S3 and engine the compaction is
 * `test/trino/compaction-objects.test.ts`.
 */
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../src/compaction/aws';
import {
  compactObjects,
  type ObjectCompactionSettings,
  type ObjectStore,
  type SqlEngine,
  type StoredObject,
} from '../../src/compaction/objects';

const BUCKET = 'lake';
const NOW = new Date('2026-11-30T12:00:00Z');
const HOUR = 'logs/category=runtime/dt=2026-11-30/hour=09/';
const SETTINGS: ObjectCompactionSettings = {
  database: 'loglake',
  table: 'logs',
  categories: ['runtime'],
  closedAfterMs: 30 * 60_000,
  lookbackHours: 48,
};

interface Stored {
  body: string;
  storageClass?: string;
}

/** A bucket in memory: every object's rows are the lines of its body. */
function memoryStore(objects: Record<string, Stored>): ObjectStore & { objects: Map<string, Stored> } {
  const map = new Map(Object.entries(objects));
  const list = async (prefix: string): Promise<StoredObject[]> =>
    [...map]
      .filter(([k]) => k.startsWith(prefix))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([key, o]) => ({
        key,
        bytes: o.body.length,
        ...(o.storageClass ? { storageClass: o.storageClass } : {}),
      }));
  return {
    objects: map,
    list,
    copy: async (from, to) => {
      const o = map.get(from);
      if (!o) throw new Error(`no ${from}`);
      map.set(to, { body: o.body });
    },
    delete: async (keys) => {
      for (const k of keys) map.delete(k);
    },
    get: async (key) => map.get(key)?.body,
    put: async (key, body) => {
      map.set(key, { body });
    },
    putIf: async (key, body, condition) => {
      if ('absent' in condition && map.has(key)) return false;
      map.set(key, { body });
      return true;
    },
    getWithEtag: async (key) => {
      const o = map.get(key);
      return o ? { body: o.body, etag: 'e' } : undefined;
    },
    uri: (key) => `s3://${BUCKET}/${key}`,
    deleteOldVersions: async () => 0,
  };
}

/** What Athena reads of an object: nothing for hidden names and archived storage classes. */
function readable(key: string, o: Stored | undefined): string[] {
  if (!o) return [];
  const name = key.slice(key.lastIndexOf('/') + 1);
  if (name.startsWith('_') || name.startsWith('.')) return [];
  if (o.storageClass === 'GLACIER' || o.storageClass === 'DEEP_ARCHIVE') return [];
  return o.body.split('\n').filter(Boolean);
}

/** Athena over the memory bucket: the CTAS, the count and the DROP the compaction runs. */
function memoryEngine(store: ReturnType<typeof memoryStore>): SqlEngine {
  const tables = new Map<string, string>();
  const keyOf = (uri: string) => uri.slice(`s3://${BUCKET}/`.length);
  const sources = (sql: string) =>
    [...(/"\$path" IN \(([^)]*)\)/.exec(sql)?.[1] ?? '').matchAll(/'([^']+)'/g)].map((m) =>
      keyOf(m[1] ?? ''),
    );
  const rowsOf = (keys: readonly string[]) => keys.flatMap((k) => readable(k, store.objects.get(k)));
  return {
    execute: async (sql) => {
      const ctas = /^CREATE TABLE "[^"]+"\."([^"]+)"/.exec(sql);
      if (ctas) {
        const location = keyOf(/external_location = '([^']+)'/.exec(sql)?.[1] ?? '');
        tables.set(ctas[1] ?? '', location);
        const rows = rowsOf(sources(sql));
        if (rows.length > 0) store.objects.set(`${location}part-0`, { body: rows.join('\n') });
      }
      return 0;
    },
    query: async (sql) => {
      const temp = /FROM "[^"]+"\."(compaction_[^"]+)"/.exec(sql)?.[1] ?? '';
      const location = tables.get(temp) ?? '\0';
      const written = rowsOf([...store.objects.keys()].filter((k) => k.startsWith(location))).length;
      const source = rowsOf(sources(sql)).length;
      return { rows: [{ written: String(written), source: String(source) }], scannedBytes: 0 };
    },
  };
}

/** Every row in the hour's current objects, sorted. */
function rowsOfHour(store: ReturnType<typeof memoryStore>): string[] {
  return [...store.objects]
    .filter(([k]) => k.startsWith(HOUR))
    .flatMap(([, o]) => o.body.split('\n').filter(Boolean))
    .sort();
}

describe('compactObjects', () => {
  it('rewrites the hour’s delivered objects into one and keeps every row', async () => {
    const store = memoryStore({
      [`${HOUR}loglake-logs-1-a.parquet`]: { body: 'a\nb' },
      [`${HOUR}loglake-logs-1-b.parquet`]: { body: 'c' },
    });

    const report = await compactObjects({ store, engine: memoryEngine(store), settings: SETTINGS, now: NOW });

    expect(report.compacted).toHaveLength(1);
    expect([...store.objects.keys()].filter((k) => k.startsWith(HOUR))).toHaveLength(1);
    expect(rowsOfHour(store)).toEqual(['a', 'b', 'c']);
  });

  it('never deletes an object Athena does not read: a hidden name, or one in Glacier or Deep Archive', async () => {
    // Arrange: besides Firehose's objects, one an operator re-delivered under a name starting with `_`,
    // and two a lifecycle rule tiered out of Athena's reach (a transition earlier than the look-back).
    const store = memoryStore({
      [`${HOUR}loglake-logs-1-a.parquet`]: { body: 'a\nb' },
      [`${HOUR}_repaired.parquet`]: { body: 'c' },
      [`${HOUR}.tmp-redelivered.parquet`]: { body: 'd' },
      [`${HOUR}loglake-logs-1-g.parquet`]: { body: 'e', storageClass: 'GLACIER' },
      [`${HOUR}loglake-logs-1-h.parquet`]: { body: 'f', storageClass: 'DEEP_ARCHIVE' },
    });

    // Act
    const report = await compactObjects({ store, engine: memoryEngine(store), settings: SETTINGS, now: NOW });

    // Assert: the rows Athena could not read are still in the hour, in their own objects.
    expect(report.failed).toEqual([]);
    expect(rowsOfHour(store)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(store.objects.has(`${HOUR}_repaired.parquet`)).toBe(true);
    expect(store.objects.get(`${HOUR}loglake-logs-1-g.parquet`)?.storageClass).toBe('GLACIER');
  });
});

describe('S3ObjectStore.list', () => {
  it('reports each object’s storage class, which the compaction skips archived objects by', async () => {
    const s3 = new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'k', secretAccessKey: 's' } });
    mockClient(s3)
      .on(ListObjectsV2Command)
      .resolves({
        Contents: [
          { Key: `${HOUR}a.parquet`, Size: 1, StorageClass: 'GLACIER' },
          { Key: `${HOUR}b.parquet`, Size: 2 },
        ],
      });

    const listed = await new S3ObjectStore(s3, BUCKET).list(HOUR);

    expect(listed).toEqual([
      { key: `${HOUR}a.parquet`, bytes: 1, storageClass: 'GLACIER' },
      { key: `${HOUR}b.parquet`, bytes: 2 },
    ]);
  });
});
