/** Test data: normalized records as the transform emits them, and small in-memory lakes over them. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { duckdbRecordColumns } from '../../src/query/columns';
import type { SearchRecord } from '../../src/query/decode';
import { duckdbString, LOCAL_TABLE } from '../../src/query/duckdb';
import { type Category, DATA_PREFIX, type Level } from '../../src/schema';

/** A record with every field set to a plain default, overridden by `over`. */
export function record(over: Partial<SearchRecord> = {}): SearchRecord {
  return {
    timestamp: '2026-11-22T10:15:00.000Z',
    level: 'INFO' as Level,
    service: 'checkout',
    logger: 'checkout.api',
    message: 'order placed',
    correlation_id: 'corr-1',
    trace_id: null,
    span_id: null,
    user_id: null,
    error_type: null,
    stack_trace: null,
    duration_ms: 12.5,
    http_method: null,
    http_path: null,
    http_status: null,
    attributes: { 'order.id': '42' },
    metrics: {},
    redactions: {},
    ingest_time: '2026-11-22T10:15:01.000Z',
    schema_errors: [],
    message_template: 'order placed',
    category: 'runtime' as Category,
    ...over,
  };
}

/**
 * An in-memory DuckDB with a `logs` table holding `records` (plus their `dt`/`hour` partitions), loaded
 * through `read_json` with the lake's column types, as the local writer does.
 */
export async function memoryLake(
  records: readonly SearchRecord[],
): Promise<{ connection: DuckDBConnection; close: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'loglake-test-'));
  const file = join(dir, 'records.ndjson');
  writeFileSync(
    file,
    records
      .map((r) => JSON.stringify({ ...r, dt: r.timestamp.slice(0, 10), hour: r.timestamp.slice(11, 13) }))
      .join('\n'),
  );
  const columns = [
    ...duckdbRecordColumns(),
    { name: 'category', type: 'VARCHAR' },
    { name: 'dt', type: 'VARCHAR' },
    { name: 'hour', type: 'VARCHAR' },
  ];
  const struct = `{${columns.map((c) => `${duckdbString(c.name)}: ${duckdbString(c.type)}`).join(', ')}}`;
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  if (records.length > 0) {
    await connection.run(
      `CREATE TABLE ${LOCAL_TABLE} AS SELECT * FROM read_json(${duckdbString(file)}, format = 'newline_delimited', columns = ${struct})`,
    );
  } else {
    await connection.run(
      `CREATE TABLE ${LOCAL_TABLE} (${columns.map((c) => `"${c.name}" ${c.type}`).join(', ')})`,
    );
  }
  rmSync(dir, { recursive: true, force: true });
  return {
    connection,
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}

/** Writes records as the local pipeline lays them out: hive-partitioned Parquet under `<dataDir>/logs/`. */
export async function writeParquetLake(dataDir: string, records: readonly SearchRecord[]): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const lake = await memoryLake(records);
  try {
    await lake.connection.run(
      `COPY ${LOCAL_TABLE} TO ${duckdbString(join(dataDir, DATA_PREFIX))} (FORMAT parquet, PARTITION_BY (category, dt, hour), FILENAME_PATTERN 'part_{i}')`,
    );
  } finally {
    lake.close();
  }
}

/**
 * `n` records in minute `minute` after `start` (ms), 100 ms apart, each with its own correlation id
 * (`c-<minute>-<i>`), otherwise {@link record} with `over`.
 */
export function minuteEvents(
  start: number,
  n: number,
  minute: number,
  over: Partial<SearchRecord> = {},
): SearchRecord[] {
  return Array.from({ length: n }, (_, i) =>
    record({
      timestamp: new Date(start + minute * 60_000 + i * 100).toISOString(),
      correlation_id: `c-${minute}-${i}`,
      ...over,
    }),
  );
}
