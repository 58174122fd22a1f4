/**
 * The Trino tier's lake (`shared-lake.ts`) read two ways: DuckDB through `LocalLakeReader` (what `loglake`
 * runs locally) and Trino through the Glue tables of the synthesized stack and the production Athena
 * runner (what the CLI and the alarm Lambda run on AWS).
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { inject } from 'vitest';
import { AthenaSqlEngine, S3ObjectStore } from '../../src/compaction/aws';
import { pseudonymKey } from '../../src/local/datadir';
import { lookupPseudonyms } from '../../src/privacy/keyring';
import { LocalSubjectKeyStore } from '../../src/privacy/local-store';
import {
  type AggregateRow,
  type BuiltQuery,
  buildQuery,
  decodeAggregateRow,
  decodeSearchRow,
  type LogQuery,
  type RawRow,
  type SearchRecord,
  type TableRef,
} from '../../src/query';
import { athenaRows } from '../../src/query/athena';
import { duckdbFileList, LOCAL_TABLE, LocalLakeReader } from '../../src/query/duckdb';
import type { StreamName } from '../../src/schema';
import { acquireEmulator, emulatorClientConfig, releaseEmulator } from '../helpers/emulator';
import { type AthenaOnTrino, startAthenaOnTrino, TrinoSession } from '../helpers/trino';
import { type GlueTable, trinoCreateTable } from '../helpers/trino-ddl';
import { type Dataset, tierDataset } from './dataset';

/** One raw log event as a producer sends it (the transform normalizes it). */
export type RawEvent = Record<string, unknown> & { category?: string };

export interface TierLake {
  /** The local pipeline's data directory (DuckDB reads it; Trino's tables point at it). */
  readonly dataDir: string;
  /** The Trino schema standing in for the Glue database. */
  readonly schema: string;
  readonly glue: Readonly<Record<string, GlueTable>>;
  readonly trino: TrinoSession;
  readonly athena: AthenaOnTrino;
  readonly reader: LocalLakeReader;
  /** Athena table refs of streams (default both: the local view holds both streams' categories). */
  tables(streams?: readonly StreamName[]): TableRef[];
  /** A query on DuckDB over the local lake. */
  duckdb(query: LogQuery): Promise<{ built: BuiltQuery; rows: RawRow[] }>;
  /** The same query in the Athena dialect, on Trino, through `athenaRows`. */
  athenaRun(query: LogQuery, streams?: readonly StreamName[]): Promise<{ built: BuiltQuery; rows: RawRow[] }>;
  close(): Promise<void>;
}

/** The tier's shared lake (written once by the global setup), opened on both engines for one test file. */
export async function openTierLake(): Promise<TierLake> {
  const { url, lake: shared } = inject('trino');
  const { dataDir, schema, glue } = shared;
  const trino = new TrinoSession(url);
  const athena = await startAthenaOnTrino(trino);
  const reader = await LocalLakeReader.open(dataDir);
  const tables = (streams: readonly StreamName[] = ['logs', 'audit']) =>
    streams.map((s) => ({ database: schema, table: s }));
  return {
    dataDir,
    schema,
    glue,
    trino,
    athena,
    reader,
    tables,
    duckdb: async (query) => {
      const built = buildQuery(query, { dialect: 'duckdb', tables: [{ table: LOCAL_TABLE }] });
      return { built, rows: await reader.query(built) };
    },
    athenaRun: async (query, streams) => {
      const built = buildQuery(query, { dialect: 'athena', tables: tables(streams) });
      return { built, rows: await runOnTrino(athena, built, schema) };
    },
    close: async () => {
      reader.close();
      await athena.close();
    },
  };
}

/**
 * The pseudonyms the tier lake's records carry for raw user ids (each subject's own key, found with the
 * lake key), as `loglake search --user` looks them up. Every id must have a key: it had records.
 */
export async function tierPseudonyms(lake: TierLake, ids: readonly string[]): Promise<Map<string, string>> {
  const found = await lookupPseudonyms(
    pseudonymKey(lake.dataDir, undefined, false),
    LocalSubjectKeyStore.forDataDir(lake.dataDir),
    ids,
  );
  return new Map(
    ids.map((id) => {
      const p = found.get(id);
      if (p === undefined) throw new Error(`no subject key for ${id} in the tier lake`);
      return [id, p];
    }),
  );
}

/** The tier's events, as the global setup generated them. */
export function tierData(): Dataset {
  return tierDataset(inject('trino').lake.now);
}

/** `athenaRows` as the CLI and the alarm Lambda call it; small pages so paging is exercised too. */
export function runOnTrino(athena: AthenaOnTrino, built: BuiltQuery, database: string): Promise<RawRow[]> {
  return athenaRows(athena.client, built, {
    workGroup: 'primary',
    database,
    pollMs: 20,
    maxPollMs: 100,
    pageSize: 97,
  });
}

/** Search rows decoded the way the CLI decodes them. */
export function searchRecords(r: { built: BuiltQuery; rows: RawRow[] }): SearchRecord[] {
  return r.rows.map((row) => decodeSearchRow(r.built.columns, row));
}

/** Aggregate rows decoded the way the CLI and the alert source decode them. */
export function aggregateRows(r: { built: BuiltQuery; rows: RawRow[] }): AggregateRow[] {
  return r.rows.map((row) => decodeAggregateRow(r.built.columns, row));
}

/** A bucket of {@link EmulatorBuckets}: its table, and the compaction Lambda's ports over both. */
export interface LakeBucket {
  readonly bucket: string;
  readonly table: string;
  readonly store: S3ObjectStore;
  readonly engine: AthenaSqlEngine;
}

/**
 * Buckets on MiniStack's S3 read by Trino through the Athena API, as the compaction and the purge
 * Lambdas read the `logs` bucket: a Trino schema of the test file's own holding one `logs` table per
 * bucket (the synthesized Glue table's DDL, located in that bucket).
 */
export interface EmulatorBuckets {
  readonly s3: S3Client;
  /**
   * An Athena client configured as the Lambda's: the SDK's default retries (the tier's shared client
   * makes one attempt so that query tests see every error; the rewrites run with what production has).
   */
  readonly athena: AthenaClient;
  /** The Trino schema standing in for the Glue database. */
  readonly schema: string;
  /**
   * A new bucket `<name>-<random>` holding `objects`, each put `puts` times (versioned: the earlier puts
   * stay as old versions), with a table over it.
   */
  create(
    name: string,
    objects: ReadonlyArray<{ readonly key: string; readonly body: Uint8Array }>,
    options?: { readonly versioned?: boolean; readonly puts?: number },
  ): Promise<LakeBucket>;
  /** Every current key under a prefix, sorted (one page: these buckets hold far fewer than 1,000). */
  keys(bucket: string, under?: string): Promise<string[]>;
  /**
   * Every row of the objects (or object versions) given, as JSON text, sorted: read with the S3 client
   * and DuckDB, not through the engine under test.
   */
  rows(
    bucket: string,
    objects: ReadonlyArray<{ readonly key: string; readonly version?: string }>,
  ): Promise<string[]>;
  /** Drops the tables and the schema, and lets the emulator go. */
  close(): Promise<void>;
}

/** Opens the emulator's S3 and a schema `<tier schema>_<suffix>` for one test file. */
export async function openEmulatorBuckets(lake: TierLake, suffix: string): Promise<EmulatorBuckets> {
  acquireEmulator();
  const s3 = new S3Client(emulatorClientConfig);
  const athena = new AthenaClient({
    endpoint: lake.athena.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const schema = `${lake.schema}_${suffix}`;
  const tables: string[] = [];
  await lake.trino.query(`CREATE SCHEMA hive."${schema}"`);
  return {
    s3,
    athena,
    schema,
    create: async (name, objects, options = {}) => {
      const id = randomBytes(4).toString('hex');
      const bucket = `${name}-${id}`;
      const table = `logs_${id}`;
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      if (options.versioned) {
        await s3.send(
          new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
        );
      }
      for (const o of objects) {
        for (let i = 0; i < (options.puts ?? 1); i++)
          await s3.send(new PutObjectCommand({ Bucket: bucket, Key: o.key, Body: o.body }));
      }
      const logs = lake.glue.logs;
      if (!logs) throw new Error('no logs table');
      await lake.trino.query(trinoCreateTable(logs, schema, { bucket }, table));
      tables.push(table);
      // Polled every 50-100 ms (the Lambda's default grows to 2 s): most of these queries take a second.
      const engine = new AthenaSqlEngine(athena, {
        workGroup: 'primary',
        database: schema,
        pollMs: 50,
        maxPollMs: 100,
      });
      return { bucket, table, store: new S3ObjectStore(s3, bucket), engine };
    },
    keys: async (bucket, under = '') => {
      const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: under }));
      return (r.Contents ?? []).map((o) => o.Key ?? '').sort();
    },
    rows: async (bucket, objects) => {
      if (objects.length === 0) return [];
      const dir = mkdtempSync(join(tmpdir(), 'loglake-s3-rows-'));
      const db = await DuckDBInstance.create(':memory:');
      const conn = await db.connect();
      try {
        const files: string[] = [];
        for (const [i, o] of objects.entries()) {
          const r = await s3.send(
            new GetObjectCommand({
              Bucket: bucket,
              Key: o.key,
              ...(o.version ? { VersionId: o.version } : {}),
            }),
          );
          const file = join(dir, `${i}.parquet`);
          writeFileSync(file, await (r.Body?.transformToByteArray() ?? new Uint8Array()));
          files.push(file);
        }
        const r = await conn.runAndReadAll(
          `SELECT to_json(struct_pack(*COLUMNS(*)))::VARCHAR FROM read_parquet(${duckdbFileList(files)}, hive_partitioning = false)`,
        );
        return r
          .getRows()
          .map((row) => String(row[0]))
          .sort();
      } finally {
        conn.closeSync();
        db.closeSync();
        rmSync(dir, { recursive: true, force: true });
      }
    },
    close: async () => {
      try {
        for (const t of tables) await lake.trino.query(`DROP TABLE IF EXISTS hive."${schema}"."${t}"`);
        await lake.trino.query(`DROP SCHEMA IF EXISTS hive."${schema}"`);
      } finally {
        s3.destroy();
        athena.destroy();
        releaseEmulator();
      }
    },
  };
}
