/**
 * The Trino tier's lake (`shared-lake.ts`) read two ways: DuckDB through `LocalLakeReader` (what `loglake`
 * runs locally) and Trino through the Glue tables of the synthesized stack and the production Athena
 * runner (what the CLI and the alarm Lambda run on AWS).
 */

import { inject } from 'vitest';
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
import { LOCAL_TABLE, LocalLakeReader } from '../../src/query/duckdb';
import type { StreamName } from '../../src/schema';
import { type AthenaOnTrino, startAthenaOnTrino, TrinoSession } from '../helpers/trino';
import type { GlueTable } from '../helpers/trino-ddl';
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
