import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LakeWriter, type TransformedRecord } from '../../src/local/writer';
import { buildQuery, decodeSearchRow } from '../../src/query';
import { LOCAL_TABLE, LocalLakeReader } from '../../src/query/duckdb';
import type { LogRecord, PartitionKeys } from '../../src/schema';
import { record } from '../helpers/records';

let root: string;
let dataDir: string;
let staging: string;
let writer: LakeWriter;
beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'loglake-writer-'));
  dataDir = join(root, 'data');
  staging = join(root, 'staging');
  mkdirSync(staging, { recursive: true });
  writer = await LakeWriter.open(dataDir, staging);
});
afterEach(() => {
  writer.close();
  rmSync(root, { recursive: true, force: true });
});

function ok(id: string, records: LogRecord[], keys: PartitionKeys): TransformedRecord {
  return {
    recordId: id,
    result: 'Ok',
    data: Buffer.from(records.map((r) => `${JSON.stringify(r)}\n`).join('')).toString('base64'),
    metadata: { partitionKeys: keys },
  };
}

function strip({ category: _c, ...rest }: ReturnType<typeof record>): LogRecord {
  return rest;
}

const keys = (category: PartitionKeys['category'], hour: string): PartitionKeys => ({
  category,
  dt: '2026-11-22',
  hour,
});
const raw = (id: string, text: string) => ({
  id,
  arrival: Date.parse('2026-11-22T10:00:00Z'),
  data: Buffer.from(text).toString('base64'),
  bytes: text.length,
});

async function searchAll(): Promise<ReturnType<typeof decodeSearchRow>[]> {
  const reader = await LocalLakeReader.open(dataDir);
  try {
    const built = buildQuery(
      {
        kind: 'search',
        filter: { since: new Date('2026-11-22T00:00:00Z'), until: new Date('2026-11-23T00:00:00Z') },
        order: 'asc',
      },
      { dialect: 'duckdb', tables: [{ table: LOCAL_TABLE }] },
    );
    return (await reader.query(built)).map((r) => decodeSearchRow(built.columns, r));
  } finally {
    reader.close();
  }
}

describe('LakeWriter.deliver', () => {
  it('writes Ok records as Parquet in the DESIGN layout, readable back with every column', async () => {
    // Prepare
    const a = record({
      timestamp: '2026-11-22T10:05:00.000Z',
      category: 'errors',
      level: 'ERROR',
      redactions: { email: 1 },
    });
    const b = record({ timestamp: '2026-11-22T11:05:00.000Z', category: 'runtime', schema_errors: ['x'] });
    const segment = { id: 'seg-1', records: [raw('seg-1-0', 'a'), raw('seg-1-1', 'b')] };

    // Act
    const report = await writer.deliver(
      segment,
      [ok('seg-1-0', [strip(a)], keys('errors', '10')), ok('seg-1-1', [strip(b)], keys('runtime', '11'))],
      join(root, 'seg-1.manifest'),
    );

    // Assess
    expect([...report.files].sort()).toEqual([
      'logs/category=errors/dt=2026-11-22/hour=10/seg-1.parquet',
      'logs/category=runtime/dt=2026-11-22/hour=11/seg-1.parquet',
    ]);
    expect(report.events).toBe(2);
    expect(await searchAll()).toEqual([a, b]);
    expect(readdirSync(staging)).toEqual([]);
  });

  it('delivers without a manifest when none is asked for (an access event), and leaves none behind', async () => {
    // Prepare
    const a = record({ timestamp: '2026-11-22T10:05:00.000Z', category: 'audit' });
    const segment = { id: 'access-1', records: [raw('access-1-0', 'a')] };

    // Act
    const report = await writer.deliver(segment, [ok('access-1-0', [strip(a)], keys('audit', '10'))]);

    // Assess
    expect(report.files).toEqual(['logs/category=audit/dt=2026-11-22/hour=10/access-1.parquet']);
    expect(await searchAll()).toEqual([a]);
    expect(readdirSync(staging)).toEqual([]);
    expect(readdirSync(root).filter((f) => f.includes('manifest'))).toEqual([]);
  });

  it('writes ProcessingFailed records raw under errors/processing-failed in Firehose’s error format', async () => {
    // Prepare
    const segment = { id: 'seg-2', records: [raw('seg-2-0', 'not a log')] };

    // Act
    const report = await writer.deliver(
      segment,
      [{ recordId: 'seg-2-0', result: 'ProcessingFailed', data: segment.records[0]?.data ?? '' }],
      join(root, 'seg-2.manifest'),
    );

    // Assess
    expect(report.files).toEqual(['errors/processing-failed/dt=2026-11-22/seg-2.ndjson']);
    const doc = JSON.parse(readFileSync(join(dataDir, report.files[0] ?? ''), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(doc).toMatchObject({
      attemptsMade: 1,
      errorCode: 'Lambda.ProcessingFailedStatus',
      rawData: segment.records[0]?.data,
    });
    expect(Buffer.from(String(doc.rawData), 'base64').toString()).toBe('not a log');
  });

  it('keeps records DuckDB cannot convert under errors/format-conversion-failed', async () => {
    // Prepare
    const bad = Buffer.from('{"timestamp":"not a time","level":"INFO"}\n').toString('base64');
    const segment = { id: 'seg-3', records: [raw('seg-3-0', 'raw bytes')] };

    // Act
    const report = await writer.deliver(
      segment,
      [{ recordId: 'seg-3-0', result: 'Ok', data: bad, metadata: { partitionKeys: keys('runtime', '10') } }],
      join(root, 'seg-3.manifest'),
    );

    // Assess
    expect(report.conversionFailed).toBe(1);
    expect(report.files).toEqual(['errors/format-conversion-failed/dt=2026-11-22/seg-3.ndjson']);
    const doc = JSON.parse(readFileSync(join(dataDir, report.files[0] ?? ''), 'utf8')) as { rawData: string };
    expect(Buffer.from(doc.rawData, 'base64').toString()).toBe('raw bytes');
  });

  it('sends only the unreadable record of a partition to the error output, not its neighbours', async () => {
    // Prepare
    const good = record({ timestamp: '2026-11-22T10:05:00.000Z', category: 'runtime', message: 'good' });
    const bad = Buffer.from('{"timestamp":"not a time","level":"INFO"}\n').toString('base64');
    const segment = { id: 'seg-5', records: [raw('seg-5-0', 'good'), raw('seg-5-1', 'bad')] };

    // Act
    const report = await writer.deliver(
      segment,
      [
        ok('seg-5-0', [strip(good)], keys('runtime', '10')),
        { recordId: 'seg-5-1', result: 'Ok', data: bad, metadata: { partitionKeys: keys('runtime', '10') } },
      ],
      join(root, 'seg-5.manifest'),
    );

    // Assess
    expect(report.conversionFailed).toBe(1);
    expect(report.events).toBe(1);
    expect((await searchAll()).map((x) => x.message)).toEqual(['good']);
  });

  it('delivers a replayed segment exactly once, even when the replay partitions differently', async () => {
    // Prepare: a first delivery that crashed after publishing (its manifest is still there).
    const r = record({ timestamp: '2026-11-22T10:05:00.000Z', category: 'errors' });
    const segment = { id: 'seg-4', records: [raw('seg-4-0', 'x')] };
    const manifest = join(root, 'seg-4.manifest');
    await writer.deliver(segment, [ok('seg-4-0', [strip(r)], keys('errors', '10'))], manifest);

    // Act: the replay undoes the partial delivery, then delivers into another partition.
    const undone = writer.undoPartialDelivery(manifest);
    await writer.deliver(
      segment,
      [ok('seg-4-0', [strip({ ...r, category: 'runtime' })], keys('runtime', '10'))],
      manifest,
    );

    // Assess
    expect(undone).toEqual(['logs/category=errors/dt=2026-11-22/hour=10/seg-4.parquet']);
    expect(existsSync(join(dataDir, undone[0] ?? ''))).toBe(false);
    expect((await searchAll()).map((x) => x.category)).toEqual(['runtime']);
  });

  it('ignores a manifest torn by a crash (written before any file was published)', () => {
    // Prepare
    const manifest = join(root, 'torn.manifest');
    writeFileSync(manifest, '{"segment":"s","files":["logs/');

    // Act
    const undone = writer.undoPartialDelivery(manifest);

    // Assess
    expect(undone).toEqual([]);
  });
});

describe('LakeWriter under a path with glob characters and a quote', () => {
  it("converts its own staged file, not a look-alike neighbour's that DuckDB's glob would match", async () => {
    // Prepare: a writer whose staging directory is `st [x] o'k`; `st x o'k` (what the unescaped glob
    // matches) holds a file at the path the writer stages its first file at.
    const mine = record({ timestamp: '2026-11-22T10:05:00.000Z', category: 'runtime', message: 'mine' });
    const other = record({ timestamp: '2026-11-22T10:06:00.000Z', category: 'runtime', message: 'other' });
    const globStaging = join(root, "st [x] o'k");
    const neighbour = join(root, "st x o'k", 'seg-g');
    mkdirSync(neighbour, { recursive: true });
    writeFileSync(join(neighbour, '0.ndjson'), `${JSON.stringify(strip(other))}\n`);
    const globWriter = await LakeWriter.open(dataDir, globStaging);

    // Act
    try {
      await globWriter.deliver({ id: 'seg-g', records: [raw('seg-g-0', 'm')] }, [
        ok('seg-g-0', [strip(mine)], keys('runtime', '10')),
      ]);
    } finally {
      globWriter.close();
    }

    // Assess
    expect((await searchAll()).map((r) => r.message)).toEqual(['mine']);
  });
});
