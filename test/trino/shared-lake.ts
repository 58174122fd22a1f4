/**
 * The one lake the Trino tier's files share, written once by the tier's global setup: the tier's events
 * sent by the shipper with the real `@aws-sdk/client-firehose` to the local pipeline (the transform's code,
 * Parquet in the Firehose layout) under Trino's `local.location`, and the Glue tables of the synthesized
 * stack created over it in a Trino schema. No vitest imports: this runs in the global setup.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CONFIG, lockedCategories } from '../../src/config';
import { Shipper } from '../../src/producer';
import type { StreamName } from '../../src/schema';
import { startTestLocal } from '../helpers/local';
import { TrinoSession } from '../helpers/trino';
import { type GlueTable, oneTreeTables, synthesizedGlueTables, trinoCreateTable } from '../helpers/trino-ddl';
import { tierDataset } from './dataset';

/** What the global setup hands to the tier's files (serializable). */
export interface SharedLake {
  /** The `now` the dataset was generated for: `tierDataset(now)` gives the events again. */
  readonly now: number;
  /** The local pipeline's data directory (DuckDB reads it; Trino's tables point at it). */
  readonly dataDir: string;
  /** The Trino schema standing in for the Glue database. */
  readonly schema: string;
  /** The Glue tables of the synthesized stack, by name. */
  readonly glue: Readonly<Record<string, GlueTable>>;
}

const LOCKED: readonly string[] = lockedCategories(DEFAULT_CONFIG);

/** Locked categories go to the `audit` stream, the others to `logs`, as producers route them. */
function streamOf(category: unknown): StreamName {
  return typeof category === 'string' && LOCKED.includes(category) ? 'audit' : 'logs';
}

/** Write the tier's events through the local pipeline and create the Glue tables over them on Trino. */
export async function writeSharedLake(
  trinoUrl: string,
  lakeRoot: string,
  now = Date.now(),
): Promise<SharedLake> {
  const events = tierDataset(now).events;
  const dir = `tier-${randomUUID().slice(0, 8)}`;
  const dataDir = join(lakeRoot, dir);
  const local = await startTestLocal({ dataDir, flushSeconds: 3600 });
  try {
    // The real shipper packs lines per category and hour (the transform puts every event of a record in
    // one partition); one shipper per stream.
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
  const trino = new TrinoSession(trinoUrl);
  // Both streams' files are in the one tree of the local lake (two buckets on AWS).
  const glue = oneTreeTables(synthesizedGlueTables());
  const database = Object.values(glue)[0]?.database ?? 'loglake';
  const schema = `${database}_${dir.replace(/-/g, '_')}`;
  await trino.query(`CREATE SCHEMA hive."${schema}"`);
  for (const table of Object.values(glue)) await trino.query(trinoCreateTable(table, schema, dir));
  return { now, dataDir, schema, glue };
}

/** Drop the tables and the schema, and delete the files. */
export async function dropSharedLake(trinoUrl: string, lake: SharedLake): Promise<void> {
  const trino = new TrinoSession(trinoUrl);
  for (const table of Object.keys(lake.glue)) {
    await trino.query(`DROP TABLE IF EXISTS hive."${lake.schema}"."${table}"`);
  }
  await trino.query(`DROP SCHEMA IF EXISTS hive."${lake.schema}"`);
  rmSync(lake.dataDir, { recursive: true, force: true });
}
