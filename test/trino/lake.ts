/**
 * A lake for the Trino tier: events sent by the shipper with the real `@aws-sdk/client-firehose` to the local pipeline
 * (the transform's code, Parquet in the Firehose layout) under Trino's `local.location`, then read two
 * ways: DuckDB through `LocalLakeReader` (what `loglake` runs locally) and Trino through the Glue tables
 * of the synthesized stack and the production Athena runner (what the CLI and the alarm Lambda run on AWS).
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';
import { DEFAULT_CONFIG, lockedCategories } from '../../src/config';
import { Shipper } from '../../src/producer';
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
import { LOCAL_TABLE, LocalLakeReader } from '../../src/query/duckdb';
import type { StreamName } from '../../src/schema';
import { startTestLocal } from '../helpers/local';
import { type AthenaOnTrino, startAthenaOnTrino, TrinoSession } from '../helpers/trino';
import { type GlueTable, synthesizedGlueTables, trinoCreateTable } from '../helpers/trino-ddl';

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

/** Every category's stream: locked categories go to `audit`, the others to `logs` (as producers route them). */
const LOCKED: readonly string[] = lockedCategories(DEFAULT_CONFIG);

function streamOf(category: string | undefined): StreamName {
  return category !== undefined && LOCKED.includes(category) ? 'audit' : 'logs';
}

/** Send `events` through the local pipeline, wait for delivery, and open the lake on both engines. */
export async function openTierLake(events: readonly RawEvent[]): Promise<TierLake> {
  const { url, lakeRoot } = inject('trino');
  const dir = `tier-${randomUUID().slice(0, 8)}`;
  const dataDir = join(lakeRoot, dir);
  const local = await startTestLocal({ dataDir, flushSeconds: 3600 });
  try {
    // The real shipper: it packs lines per category and hour (the transform puts every event of a record
    // in one partition), one shipper per stream, as producers route locked categories to `audit`.
    for (const stream of ['logs', 'audit'] as const) {
      const lines = events.filter((e) => streamOf(e.category) === stream).map((e) => JSON.stringify(e));
      if (lines.length === 0) continue;
      const shipper = new Shipper({ streamName: stream, client: local.client });
      for (const line of lines) await shipper.write(line);
      const counters = await shipper.close();
      if (counters.linesSent !== lines.length) {
        throw new Error(
          `shipper sent ${counters.linesSent} of ${lines.length} lines: ${JSON.stringify(counters)}`,
        );
      }
    }
    await local.pipeline.flush();
  } finally {
    await local.stop();
    local.client.destroy();
  }

  const trino = new TrinoSession(url);
  const glue = synthesizedGlueTables();
  const database = Object.values(glue)[0]?.database ?? 'loglake';
  const schema = `${database}_${dir.replace(/-/g, '_')}`;
  await trino.query(`CREATE SCHEMA hive."${schema}"`);
  for (const table of Object.values(glue)) await trino.query(trinoCreateTable(table, schema, dir));
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
      for (const table of Object.keys(glue))
        await trino.query(`DROP TABLE IF EXISTS hive."${schema}"."${table}"`);
      await trino.query(`DROP SCHEMA IF EXISTS hive."${schema}"`);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
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
