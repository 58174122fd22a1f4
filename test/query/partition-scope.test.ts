/**
 * The local reader opens only the partitions a query can match: a file in another hour is neither
 * listed nor opened (here: a file that is not Parquet at all, which DuckDB refuses as soon as a view
 * names it), while every row inside the range is still found, at the hour boundaries and for events
 * that arrived late (their partition is their own hour, not the hour they arrived in).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildQuery, decodeSearchRow, type LogFilter } from '../../src/query';
import { LOCAL_TABLE, LocalLakeReader } from '../../src/query/duckdb';
import { loglake } from '../helpers/cli';
import { deliverEvents } from '../helpers/lake';
import { record, writeParquetLake } from '../helpers/records';

const tables = [{ table: LOCAL_TABLE }];
const search = (filter: LogFilter) =>
  buildQuery({ kind: 'search', filter, order: 'asc' }, { dialect: 'duckdb', tables });
const range = (since: string, until: string): LogFilter => ({
  since: new Date(since),
  until: new Date(until),
});

/** A file in `hour` of 2026-11-22 that DuckDB cannot open: reading it fails the query. */
function breakHour(dataDir: string, hour: string): void {
  const dir = join(dataDir, 'logs', 'category=runtime', 'dt=2026-11-22', `hour=${hour}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'not-parquet.parquet'), 'these bytes are not a Parquet file');
}

async function ids(reader: LocalLakeReader, filter: LogFilter): Promise<Array<string | null>> {
  const built = search(filter);
  return (await reader.query(built)).map((r) => decodeSearchRow(built.columns, r).correlation_id);
}

describe('LocalLakeReader scope', () => {
  let root: string;
  let dataDir: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'loglake-scope-'));
    dataDir = join(root, 'lake');
    // Each record in the partition of its own hour; the boundaries one millisecond either side.
    await writeParquetLake(
      dataDir,
      [
        '2026-11-22T09:59:59.999Z',
        '2026-11-22T10:00:00.000Z',
        '2026-11-22T10:30:00.000Z',
        '2026-11-22T10:59:59.999Z',
        '2026-11-22T11:00:00.000Z',
      ].map((timestamp) => record({ timestamp, correlation_id: timestamp.slice(11, 23) })),
    );
    breakHour(dataDir, '13');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('opened with a query scope, neither opens the hours outside it nor misses a row inside', async () => {
    // Prepare
    const filter = range('2026-11-22T10:00:00Z', '2026-11-22T11:00:00Z');
    const reader = await LocalLakeReader.open(dataDir, { scope: search(filter).scope });
    try {
      // Act
      const found = await ids(reader, filter);
      const wider = await ids(reader, range('2026-11-22T09:00:00Z', '2026-11-22T12:00:00Z'));

      // Assess
      expect(found).toEqual(['10:00:00.000', '10:30:00.000', '10:59:59.999']);
      expect(wider).toEqual(['09:59:59.999', ...found, '11:00:00.000']);
    } finally {
      reader.close();
    }
  });

  it('opens the broken hour when the scope reaches it, or when opened without one (the file is read)', async () => {
    // Act
    const unscoped = await LocalLakeReader.open(dataDir).catch((error: unknown) => error);
    const reader = await LocalLakeReader.open(dataDir, {
      scope: search(range('2026-11-22T10:00:00Z', '2026-11-22T11:00:00Z')).scope,
    });
    const reaching = await ids(reader, range('2026-11-22T10:00:00Z', '2026-11-22T13:00:01Z')).catch(
      (error: unknown) => error,
    );
    reader.close();

    // Assess
    expect(unscoped).toBeInstanceOf(Error);
    expect(String(unscoped)).toMatch(/not-parquet\.parquet/);
    expect(reaching).toBeInstanceOf(Error);
    expect(String(reaching)).toMatch(/not-parquet\.parquet/);
  });

  it('opened per query, opens no hour until a query reaches it, and then that query fails', async () => {
    // Act
    const reader = await LocalLakeReader.open(dataDir, { scope: 'per-query' });
    try {
      const found = await ids(reader, range('2026-11-22T10:00:00Z', '2026-11-22T11:00:00Z'));
      const reaching = await ids(reader, range('2026-11-22T10:00:00Z', '2026-11-22T13:00:01Z')).catch(
        (error: unknown) => error,
      );

      // Assess
      expect(found).toEqual(['10:00:00.000', '10:30:00.000', '10:59:59.999']);
      expect(String(reaching)).toMatch(/not-parquet\.parquet/);
    } finally {
      reader.close();
    }
  });

  it('a context query reads the hours of its range widened by the context pad, and no other', async () => {
    // Prepare: every record is one service's; each hit's neighbours lie up to an hour outside the range.
    const context = (since: string, until: string) =>
      buildQuery(
        { kind: 'context', filter: range(since, until), before: 1, after: 1 },
        { dialect: 'duckdb', tables },
      );
    const reader = await LocalLakeReader.open(dataDir, { scope: 'per-query' });
    try {
      // Act: 09:00–12:00 is read; 11:00–12:00:00.001 widens into 13:00, the broken hour.
      const rows = await reader.query(context('2026-11-22T10:00:00Z', '2026-11-22T11:00:00Z'));
      const reaching = await reader
        .query(context('2026-11-22T11:00:00Z', '2026-11-22T12:00:00.001Z'))
        .catch((error: unknown) => error);

      // Assess: the three hits and one neighbour on either side.
      expect(rows).toHaveLength(5);
      expect(String(reaching)).toMatch(/not-parquet\.parquet/);
    } finally {
      reader.close();
    }
  });

  it('a whole `loglake search` reads only its hours: the broken hour does not fail it', async () => {
    // Act
    const search = (until: string) =>
      loglake([
        'search',
        '--data-dir',
        dataDir,
        '--since',
        '2026-11-22T10:00:00Z',
        '--until',
        until,
        '--format',
        'ndjson',
      ]);
    const inRange = await search('2026-11-22T11:00:00Z');
    const reaching = await search('2026-11-22T14:00:00Z');

    // Assess
    expect(inRange.stderr).toBe('');
    expect(
      inRange.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { correlation_id: string }).correlation_id)
        .sort(),
    ).toEqual(['10:00:00.000', '10:30:00.000', '10:59:59.999']);
    expect(inRange.code).toBe(0);
    expect(reaching.code).not.toBe(0);
    expect(reaching.stderr).toMatch(/not-parquet\.parquet/);
  });

  it('finds an event that arrived hours late in the hour of its own time, not of its arrival', async () => {
    // Prepare: the pipeline partitions by the event's time; it arrives now.
    const lateDir = join(root, 'late');
    const hour = 3_600_000;
    const now = Date.now();
    const ownTime = Math.floor(now / hour) * hour - 3 * hour + 120_000;
    await deliverEvents(lateDir, [
      {
        timestamp: new Date(ownTime).toISOString(),
        level: 'INFO',
        message: 'late',
        correlation_id: 'late-1',
      },
      { timestamp: new Date(now).toISOString(), level: 'INFO', message: 'on time', correlation_id: 'now-1' },
    ]);
    const own = { since: new Date(ownTime - 60_000), until: new Date(ownTime + 60_000) };
    const arrival = { since: new Date(now - 60_000), until: new Date(now + 60_000) };

    // Act
    const reader = await LocalLakeReader.open(lateDir, { scope: search(own).scope });
    try {
      const inOwn = await ids(reader, own);
      const inArrival = await ids(reader, arrival);

      // Assess
      expect(inOwn).toEqual(['late-1']);
      expect(inArrival).toEqual(['now-1']);
    } finally {
      reader.close();
    }
  });
});
