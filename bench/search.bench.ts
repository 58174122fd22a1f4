/**
 * Search latency over a local lake of 1M records: one correlation id, with the query builder (partition
 * pruning from a 1 h window, then the id) against a baseline that scans every file for the id.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { buildQuery } from '../src/query';
import { duckdbRecordColumns } from '../src/query/columns';
import { duckdbString, LOCAL_TABLE, LocalLakeReader, lakeScan, runDuckDb } from '../src/query/duckdb';

const RECORDS = Number(process.argv[2] ?? 1_000_000);
const RUNS = 15;
const DAY_START = Date.parse('2026-11-22T00:00:00Z');

/** SQL generating `RECORDS` rows spread over one day and seven categories, in the lake's column types. */
function generator(): string {
  const expr: Record<string, string> = {
    timestamp: `TIMESTAMP '2026-11-22 00:00:00' + to_milliseconds(i * ${Math.floor(86_400_000 / RECORDS)})`,
    level: `['DEBUG','INFO','INFO','INFO','WARN','ERROR','CRITICAL'][1 + i % 7]`,
    service: `'svc-' || (i % 20)`,
    logger: `'logger.' || (i % 5)`,
    message: `'request ' || i || ' handled for order ' || (i * 7919 % 100000)`,
    correlation_id: `md5(i::VARCHAR)`,
    trace_id: `NULL`,
    span_id: `NULL`,
    user_id: `'u_' || md5((i % 5000)::VARCHAR)`,
    error_type: `NULL`,
    stack_trace: `NULL`,
    duration_ms: `(i % 1000) / 10.0`,
    http_method: `'GET'`,
    http_path: `'/api/v1/items/' || (i % 100)`,
    http_status: `200`,
    attributes: `MAP {'region': 'eu-west-1', 'pod': 'pod-' || (i % 50)}`,
    redactions: `MAP {'email': 1}`,
    ingest_time: `TIMESTAMP '2026-11-22 00:00:00' + to_milliseconds(i * ${Math.floor(86_400_000 / RECORDS)} + 500)`,
    schema_errors: `[]::VARCHAR[]`,
  };
  const cols = duckdbRecordColumns().map((c) => `CAST(${expr[c.name]} AS ${c.type}) AS "${c.name}"`);
  return `SELECT ${cols.join(', ')},
    ['debug','runtime','framework','errors','api_access','security','audit'][1 + (i // 1000) % 7] AS category
    FROM range(${RECORDS}) t(i)`;
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
}

async function time(runs: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  await fn(); // warm-up: file metadata caches
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'loglake-bench-search-'));
  try {
    const t0 = performance.now();
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    await c.run(
      `COPY (SELECT *, strftime("timestamp", '%Y-%m-%d') AS dt, strftime("timestamp", '%H') AS hour FROM (${generator()}))
       TO ${duckdbString(join(dir, 'logs'))} (FORMAT parquet, PARTITION_BY (category, dt, hour), COMPRESSION snappy)`,
    );
    c.closeSync();
    db.closeSync();
    console.log(
      `lake: ${RECORDS.toLocaleString('en')} records written in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    const reader = await LocalLakeReader.open(dir);
    const target = Math.floor(RECORDS * 0.61);
    const id = (await reader.connection.runAndReadAll(`SELECT md5('${target}')`)).getRows()[0]?.[0] as string;
    const at = DAY_START + target * Math.floor(86_400_000 / RECORDS);
    const tables = [{ table: LOCAL_TABLE }];
    const pruned = buildQuery(
      {
        kind: 'search',
        filter: { since: new Date(at - 30 * 60_000), until: new Date(at + 30 * 60_000), correlationId: id },
        limit: 100,
      },
      { dialect: 'duckdb', tables },
    );
    const wholeDay = buildQuery(
      {
        kind: 'search',
        filter: { since: new Date(DAY_START), until: new Date(DAY_START + 86_400_000), correlationId: id },
        limit: 100,
      },
      { dialect: 'duckdb', tables },
    );
    const check = await runDuckDb(reader.connection, pruned);
    if (check.length !== 1) throw new Error(`expected 1 match, got ${check.length}`);

    const baseline = await time(RUNS, () =>
      reader.connection.runAndReadAll(`SELECT * FROM ${lakeScan(dir)} WHERE correlation_id = $1`, [id]),
    );
    const day = await time(RUNS, () => runDuckDb(reader.connection, wholeDay));
    const hour = await time(RUNS, () => runDuckDb(reader.connection, pruned));
    const stats = buildQuery(
      {
        kind: 'aggregate',
        filter: { since: new Date(DAY_START), until: new Date(DAY_START + 86_400_000) },
        groupBy: ['service'],
      },
      { dialect: 'duckdb', tables },
    );
    const agg = await time(5, () => runDuckDb(reader.connection, stats));
    reader.close();

    const row = (name: string, xs: number[], ratio = true) =>
      console.log(
        `${name.padEnd(52)} p50 ${percentile(xs, 0.5).toFixed(1).padStart(7)} ms  p95 ${percentile(xs, 0.95).toFixed(1).padStart(7)} ms` +
          (ratio
            ? `  (${(percentile(baseline, 0.5) / percentile(xs, 0.5)).toFixed(1)}x speed-up over the baseline)`
            : ''),
      );
    console.log(`correlation-id lookup over ${RECORDS.toLocaleString('en')} records (${RUNS} runs):`);
    row('baseline: scan all files for the id', baseline, false);
    row('query builder, whole day (dt/hour pruning: none)', day);
    row('query builder, 1 h window (dt/hour pruning)', hour);
    row('stats: count by service over the day', agg, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
