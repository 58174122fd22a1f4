/**
 * A local lake with known contents, written by the real local pipeline (the real Firehose client, the
 * transform, the Parquet writer, the integrity log), for the compliance, cleanup and health tests.
 *
 * Events are placed relative to `now`: fresh ones in every category, and old ones past their category's
 * expiry (debug 20 days, runtime 40 days old; the config lets the transform keep timestamps up to 400 days
 * in the past so old partitions can be made at all).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { LogLakeConfigOverride } from '../../src/config';
import { privacyLogEvent } from '../../src/privacy/audit';
import { duckdbRecordColumns } from '../../src/query/columns';
import { duckdbString } from '../../src/query/duckdb';
import { startTestLocal } from './local';
import { record } from './records';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** The lake's config override (written to `<root>/config.json`). */
export const KNOWN_CONFIG: LogLakeConfigOverride = { transform: { maxPastHours: 400 * 24 } };

/**
 * {@link KNOWN_CONFIG} with a bulk-read threshold (`accessAudit.bulkReadRows`) far below the lake's rows,
 * so an export of a day of it is a bulk read.
 */
export const BULK_READ_CONFIG: LogLakeConfigOverride = { ...KNOWN_CONFIG, accessAudit: { bulkReadRows: 3 } };

/** Write {@link BULK_READ_CONFIG} beside `lake` (`<root>/bulk.json`); its path. */
export function writeBulkReadConfig(lake: Pick<KnownLake, 'root'>): string {
  const file = join(lake.root, 'bulk.json');
  writeFileSync(file, JSON.stringify(BULK_READ_CONFIG));
  return file;
}

/**
 * The config the known lake is written with: longer debug and runtime retention, so the transform keeps
 * the old events' own times (it stamps an event older than its category's retention with its arrival
 * time). Commands then run with {@link KNOWN_CONFIG}, as if the policy had been shortened since.
 */
const WRITE_CONFIG: LogLakeConfigOverride = {
  ...KNOWN_CONFIG,
  categories: { debug: { expiryDays: 60 }, runtime: { expiryDays: 60 } },
};

export interface KnownEvent {
  readonly at: number;
  readonly event: Record<string, unknown>;
  readonly stream: 'logs' | 'audit';
}

/** The events of the known lake, relative to `now`. */
export function knownEvents(now: number): KnownEvent[] {
  const ev = (
    agoMs: number,
    event: Record<string, unknown>,
    stream: 'logs' | 'audit' = 'logs',
  ): KnownEvent => ({
    at: now - agoMs,
    stream,
    event: { timestamp: new Date(now - agoMs).toISOString(), ...event },
  });
  const out: KnownEvent[] = [];
  for (let i = 0; i < 6; i++) {
    out.push(ev(HOUR + i * 1000, { level: 'info', service: 'checkout', message: `order ${i} placed` }));
    out.push(
      ev(HOUR + i * 1000 + 500, {
        level: i < 2 ? 'error' : 'info',
        service: 'payments',
        message: i < 2 ? `card declined ${i}` : `charge ${i} ok`,
      }),
    );
  }
  out.push(
    ev(2 * HOUR, {
      level: 'info',
      service: 'web',
      message: 'GET /orders',
      http: { method: 'GET', path: '/orders', status: 200 },
    }),
  );
  // A secret the transform removes before anything is stored.
  out.push(
    ev(2 * HOUR + 1, {
      level: 'warn',
      service: 'checkout',
      message: 'retrying with key AKIAIOSFODNN7EXAMPLE for the upload',
    }),
  );
  out.push(ev(3 * HOUR, { level: 'debug', service: 'checkout', message: 'cache warm' }));
  out.push(ev(20 * DAY, { level: 'debug', service: 'checkout', message: 'old debug line' }));
  out.push(ev(40 * DAY, { level: 'info', service: 'checkout', message: 'old runtime line' }));
  out.push(
    ev(
      2 * DAY,
      // The person `subject export` finds (the privacy request below is about someone else).
      {
        level: 'info',
        logger: 'auth.login',
        service: 'auth',
        message: 'admin signed in',
        user_id: 'customer-42',
      },
      'audit',
    ),
  );
  out.push(
    ev(
      DAY,
      // The event `loglake subject erase` writes, by the function it writes it with.
      privacyLogEvent({
        time: new Date(now - DAY).toISOString(),
        action: 'erase',
        principal: 'dpo@vm',
        persona: 'privacy_officer',
        subject: 'r_3f1c0d9e5a7b2468',
        store: 'local:subject-keys',
        outcome: 'key destroyed',
        reason: 'GDPR Art. 17 request 2026-118',
      }),
      'audit',
    ),
  );
  return out;
}

export interface KnownLake {
  readonly root: string;
  readonly dataDir: string;
  readonly configFile: string;
  readonly now: number;
  readonly events: readonly KnownEvent[];
  dispose(): void;
}

/**
 * Write the known lake with the real pipeline; the pipeline is stopped when this resolves.
 * @param dirName - the data directory's name under the lake's root. @default 'data'
 */
export async function writeKnownLake(now = Date.now(), dirName = 'data'): Promise<KnownLake> {
  const root = mkdtempSync(join(tmpdir(), 'loglake-known-'));
  const dataDir = join(root, dirName);
  const configFile = join(root, 'config.json');
  writeFileSync(configFile, JSON.stringify(WRITE_CONFIG));
  const events = knownEvents(now);
  const local = await startTestLocal({ dataDir, configFile });
  try {
    for (const stream of ['logs', 'audit'] as const) {
      const records = events
        .filter((e) => e.stream === stream)
        .map((e) => ({ Data: Buffer.from(`${JSON.stringify(e.event)}\n`) }));
      const res = await local.client.send(
        new PutRecordBatchCommand({ DeliveryStreamName: stream, Records: records }),
      );
      if (res.FailedPutCount) throw new Error(`${res.FailedPutCount} known events were refused`);
    }
    await local.pipeline.flush();
  } finally {
    local.client.destroy();
    await local.stop();
    writeFileSync(configFile, JSON.stringify(KNOWN_CONFIG));
  }
  return {
    root,
    dataDir,
    configFile,
    now,
    events,
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * Write `records` as one Parquet file at `key` (relative to the data directory) straight into the lake,
 * with DuckDB, bypassing the pipeline: what someone writing around the transform would leave.
 */
export async function plantParquet(
  dataDir: string,
  key: string,
  records: ReadonlyArray<Partial<ReturnType<typeof record>>>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'loglake-plant-'));
  const input = join(dir, 'in.ndjson');
  writeFileSync(
    input,
    records
      .map((r) => {
        const { category: _c, ...rest } = record(r);
        return JSON.stringify(rest);
      })
      .join('\n'),
  );
  const instance = await DuckDBInstance.create(':memory:');
  const connection: DuckDBConnection = await instance.connect();
  try {
    const struct = `{${duckdbRecordColumns()
      .map((c) => `${duckdbString(c.name)}: ${duckdbString(c.type)}`)
      .join(', ')}}`;
    const target = join(dataDir, key);
    mkdirSync(dirname(target), { recursive: true });
    await connection.run(
      `COPY (SELECT * FROM read_json(${duckdbString(input)}, format = 'newline_delimited', columns = ${struct})) TO ${duckdbString(target)} (FORMAT parquet)`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
}
