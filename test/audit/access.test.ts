/**
 * Access to logs is itself logged: every CLI query path over a real local lake (search, stats, export,
 * alerts evaluate) appends an access event to the lake's `audit` category, which search finds; the
 * event is recorded in the integrity log; a query whose event cannot be written prints nothing.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readIntegrityLog } from '../../src/compliance/integrity';
import { verifyLocalIntegrity } from '../../src/compliance/verify';
import { loglake } from '../helpers/cli';
import { type KnownLake, writeBulkReadConfig, writeKnownLake } from '../helpers/known-lake';
import { startScriptedAws } from '../helpers/scripted-aws';

interface AccessRow {
  level: string;
  service: string;
  category: string;
  message: string;
  attributes: Record<string, string>;
}

let lake: KnownLake;
beforeAll(async () => {
  lake = await writeKnownLake();
});
afterAll(() => lake?.dispose());

/**
 * The access events in the lake, oldest first, by reading the audit category with the CLI itself;
 * without the events of these listings (each is a query too, recorded after its rows are read).
 */
async function accessEvents(dataDir = lake.dataDir): Promise<AccessRow[]> {
  const r = await loglake([
    'search',
    '--data-dir',
    dataDir,
    '--category',
    'audit',
    '--service',
    'loglake-access',
    '--since',
    '1h',
    '--order',
    'asc',
    '--limit',
    '1000',
    '--format',
    'json',
  ]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as AccessRow[]).filter(
    (e) => e.attributes['access.filter.services'] !== 'loglake-access',
  );
}

describe('access events of CLI queries on the local lake', () => {
  it('records search, stats, export and alerts evaluate, each with its command, filter and rows', async () => {
    // Arrange
    const before = (await accessEvents()).length;
    const out = join(lake.root, 'export.ndjson');

    // Act
    const search = await loglake([
      'search',
      'card declined',
      '--data-dir',
      lake.dataDir,
      '--service',
      'payments',
      '--since',
      '1d',
      '--format',
      'json',
    ]);
    const stats = await loglake([
      'stats',
      '--data-dir',
      lake.dataDir,
      '--since',
      '7d',
      '--group-by',
      'service',
    ]);
    const exported = await loglake([
      'export',
      '--data-dir',
      lake.dataDir,
      '--since',
      '1d',
      '--category',
      'runtime',
      '--output',
      out,
      '--format',
      'ndjson',
    ]);
    const alerts = await loglake(['alerts', 'evaluate', '--data-dir', lake.dataDir]);

    // Assert
    for (const r of [search, stats, exported]) expect(r.code, r.stderr).toBe(0);
    expect(alerts.code, alerts.stderr).not.toBe(1);
    const events = (await accessEvents()).slice(before);
    const commands = events.map((e) => e.attributes['access.command']);
    expect(commands.slice(0, 3)).toEqual(['search', 'stats', 'export']);
    expect(commands.slice(3).every((c) => c === 'alerts evaluate')).toBe(true);
    expect(commands.length).toBeGreaterThan(3);

    const [s, st, ex] = events;
    expect(s?.category).toBe('audit');
    expect(s?.level).toBe('INFO');
    expect(s?.attributes).toMatchObject({
      'access.engine': 'duckdb',
      'access.query_kind': 'search',
      'access.rows': '2',
      'access.outcome': 'completed',
      'access.categories': 'all',
      'access.filter.text': 'card declined',
      'access.filter.services': 'payments',
      'access.flags': '',
    });
    expect(s?.attributes['access.principal']).toMatch(/\S+@\S+/);
    expect(s?.attributes['access.lake']).toContain(lake.dataDir);
    expect(st?.attributes['access.query_kind']).toBe('aggregate');
    const exportedLines = readFileSync(out, 'utf8').trim().split('\n').length;
    expect(ex?.attributes['access.rows']).toBe(String(exportedLines));
    expect(ex?.attributes['access.categories']).toBe('runtime');
  });

  it('records the conditions, the regular expression and the case of the filter', async () => {
    // Arrange
    const before = (await accessEvents()).length;

    // Act
    const r = await loglake([
      'search',
      '--data-dir',
      lake.dataDir,
      '--since',
      '1d',
      '--where',
      'http_status>=500',
      '--where',
      'attributes.tenant=acme',
      '--regex',
      'declin(ed|e)',
      '--case-sensitive',
      '--format',
      'json',
    ]);

    // Assess: what was asked, not only the time range
    expect(r.code, r.stderr).toBe(0);
    const [e] = (await accessEvents()).slice(before);
    expect(e?.attributes).toMatchObject({
      'access.command': 'search',
      'access.filter.where': JSON.stringify(['http_status>=500', 'attributes.tenant=acme']),
      'access.filter.regex': 'declin(ed|e)',
      'access.filter.case_sensitive': 'true',
    });
  });

  it('flags a persona reading a locked category and a bulk read, at WARN', async () => {
    // Arrange: a config whose bulk-read threshold the known lake exceeds
    const config = writeBulkReadConfig(lake);
    const before = (await accessEvents()).length;

    // Act
    const auditor = await loglake([
      'search',
      '--data-dir',
      lake.dataDir,
      '--persona',
      'auditor',
      '--category',
      'security',
      '--since',
      '7d',
    ]);
    const bulk = await loglake([
      'export',
      '--data-dir',
      lake.dataDir,
      '--since',
      '1d',
      '--output',
      '-',
      '--config',
      config,
    ]);

    // Assert
    expect(auditor.code, auditor.stderr).toBe(0);
    expect(bulk.code, bulk.stderr).toBe(0);
    const [a, b] = (await accessEvents()).slice(before);
    expect(a?.level).toBe('WARN');
    expect(a?.attributes).toMatchObject({
      'access.persona': 'auditor',
      'access.flags': 'locked_category',
      'access.categories': 'security',
    });
    expect(b?.level).toBe('WARN');
    expect(b?.attributes['access.flags']).toBe('bulk_read');
    expect(Number(b?.attributes['access.rows'])).toBeGreaterThan(3);
  });

  it('keeps each access event in the integrity log, and the lake still verifies clean', async () => {
    // Act
    const entries = readIntegrityLog(lake.dataDir).map((l) => l.entry);
    const result = verifyLocalIntegrity(lake.dataDir, {
      since: new Date(lake.now - 90 * 86_400_000),
      until: new Date(Date.now() + 60_000),
      now: new Date(),
      expiresAt: () => undefined,
    });

    // Assert
    const access = entries.filter((e) => e?.type === 'delivery' && e.source === 'access');
    expect(access.length).toBeGreaterThanOrEqual(4);
    expect(result.findings).toEqual([]);
  });

  it('records nothing when the config turns access auditing off', async () => {
    // Arrange
    const config = join(lake.root, 'off.json');
    writeFileSync(config, JSON.stringify({ accessAudit: { enabled: false } }));
    const before = (await accessEvents()).length;

    // Act
    const r = await loglake(['search', '--data-dir', lake.dataDir, '--config', config, '--since', '1d']);

    // Assert
    expect(r.code, r.stderr).toBe(0);
    expect((await accessEvents()).length).toBe(before);
  });

  it('withholds the results when the access event cannot be written (exit 1, nothing on stdout)', async () => {
    // Arrange: the writer's staging directory is a file, so no Parquet file can be staged
    const staging = join(lake.dataDir, '.loglake', 'staging');
    const existed = existsSync(staging);
    rmSync(staging, { recursive: true, force: true });
    writeFileSync(staging, 'not a directory');
    try {
      // Act
      const r = await loglake(['search', '--data-dir', lake.dataDir, '--since', '1d', '--format', 'json']);

      // Assert
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('the access event of this query could not be recorded');
    } finally {
      rmSync(staging, { force: true });
      if (existed) mkdirSync(staging);
    }
  });
});

describe('access events of Athena queries', () => {
  it('puts the event on the audit stream, and refuses a query when no audit stream is known', async () => {
    // Arrange: Athena and Firehose as the SDK sees them
    const aws = await startScriptedAws((call) => {
      if (call.operation === 'StartQueryExecution') return { body: { QueryExecutionId: 'q-7' } };
      if (call.operation === 'GetQueryExecution')
        return {
          body: {
            QueryExecution: { Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 4096 } },
          },
        };
      if (call.operation === 'PutRecord') return { body: { RecordId: 'r-1', Encrypted: true } };
      return {
        body: {
          ResultSet: {
            ResultSetMetadata: { ColumnInfo: [{ Name: 'n' }] },
            Rows: [{ Data: [{ VarCharValue: 'n' }] }, { Data: [{ VarCharValue: '1' }] }],
          },
        },
      };
    });
    const env = { AWS_ENDPOINT_URL: aws.url, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
    const args = ['stats', '--athena', '--region', 'eu-west-1', '--workgroup', 'wg', '--database', 'lake'];
    try {
      // Act
      const recorded = await loglake([...args, '--audit-stream', 'lake-audit', '--persona', 'ops'], env);
      const refused = await loglake(args, env);

      // Assert
      expect(recorded.code, recorded.stderr).toBe(0);
      const put = aws.calls.find((c) => c.operation === 'PutRecord');
      expect(put?.body.DeliveryStreamName).toBe('lake-audit');
      const data = (put?.body.Record as { Data?: string } | undefined)?.Data ?? '';
      const event = JSON.parse(Buffer.from(data, 'base64').toString()) as {
        category: string;
        service: string;
        access: Record<string, unknown>;
      };
      expect(event.category).toBe('audit');
      expect(event.service).toBe('loglake-access');
      expect(event.access).toMatchObject({
        command: 'stats',
        engine: 'athena',
        lake: 'wg/lake',
        persona: 'ops',
        query_id: 'q-7',
        bytes_scanned: '4096',
        rows: '1',
        outcome: 'completed',
      });
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toContain('no audit stream is known for this Athena query');
    } finally {
      await aws.close();
    }
  });
});
