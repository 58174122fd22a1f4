/**
 * No row leaves before its read is recorded. Over a real local lake (the pipeline's own writer) whose
 * results span several pages, and over Athena (a scripted endpoint, the real SDK clients): the `started`
 * access event is in the audit sink when the first row reaches the output, its completion follows with
 * the same id, and when the event cannot be written no row leaves and the error names the cause.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_SERVICE, withAccessScope } from '../../src/audit/access';
import { LocalAccessSink } from '../../src/audit/local-sink';
import { cliAccessScope, describeCliAccess } from '../../src/cli/access';
import { exportCommand } from '../../src/cli/commands/export';
import { searchCommand } from '../../src/cli/commands/search';
import type { CliIO } from '../../src/cli/io';
import { readIntegrityLog } from '../../src/compliance/integrity';
import { ACCESS_COLUMNS, type ComplianceReport } from '../../src/compliance/report';
import { DEFAULT_CONFIG } from '../../src/config';
import { runAthena } from '../../src/query/athena';
import { buildQuery } from '../../src/query/build';
import type { RawRow } from '../../src/query/decode';
import { loglake } from '../helpers/cli';
import { deliverBatches } from '../helpers/lake';
import { searchLake } from '../helpers/local';
import { startScriptedAws } from '../helpers/scripted-aws';

/** More rows than one DuckDB chunk (2,048): a search of them comes in several pages. */
const ROWS = 2_500;
const root = mkdtempSync(join(tmpdir(), 'loglake-first-row-'));
const dataDir = join(root, 'data');

beforeAll(async () => {
  const at = Date.now() - 60_000;
  await deliverBatches(dataDir, [
    Array.from({ length: ROWS }, (_, i) => ({
      id: `r-${i}`,
      at: at + i,
      service: 'web',
      level: 'INFO' as const,
    })),
  ]);
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const accessDeliveries = () =>
  readIntegrityLog(dataDir).filter((l) => l.entry?.type === 'delivery' && l.entry.source === 'access').length;

/** The access events of `command` in the lake, oldest first. */
const accessEvents = async (command: string) =>
  (await searchLake(dataDir, { services: [ACCESS_SERVICE] }))
    .map((r) => r.attributes)
    .filter((a) => a['access.command'] === command);

/** An output that notes, at its first write, how many access deliveries the lake had. */
function watchedIO(): { io: CliIO; out: string[]; deliveriesAtFirstRow: () => number | undefined } {
  const out: string[] = [];
  let atFirst: number | undefined;
  const io: CliIO = {
    stdout: (t) => {
      atFirst ??= accessDeliveries();
      out.push(t);
    },
    stderr: () => undefined,
  };
  return { io, out, deliveriesAtFirstRow: () => atFirst };
}

const flags = { dataDir, service: ['web'], since: '1h' };

describe('the first row of a read of several pages', () => {
  it.each([
    ['search', (io: CliIO) => searchCommand(undefined, { ...flags, limit: 3_000, format: 'ndjson' }, io)],
    ['export', (io: CliIO) => exportCommand(undefined, { ...flags, output: '-', format: 'ndjson' }, io)],
  ])(
    '%s: the started event is in the lake before the first row is written out',
    async (command, run) => {
      // Arrange
      const before = accessDeliveries();
      const { io, out, deliveriesAtFirstRow } = watchedIO();

      // Act
      await withAccessScope(cliAccessScope(command), () => run(io));

      // Assert
      expect(out.join('').trim().split('\n')).toHaveLength(ROWS);
      expect(deliveriesAtFirstRow()).toBe(before + 1);
      const [started, completed, ...more] = await accessEvents(command);
      expect(more).toEqual([]);
      expect(started).toMatchObject({
        'access.outcome': 'started',
        'access.query_kind': 'search',
        'access.filter.services': 'web',
        'access.categories': 'all',
      });
      expect(started?.['access.principal']).toMatch(/\S+@\S+/);
      expect(started?.['access.id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(completed).toMatchObject({
        'access.outcome': 'completed',
        'access.rows': String(ROWS),
        'access.id': started?.['access.id'],
      });
    },
    60_000,
  );
});

describe('a read whose access event cannot be written', () => {
  it.each([
    ['search', ['search', '--limit', '3000', '--format', 'ndjson']],
    ['export to stdout', ['export', '--output', '-', '--format', 'ndjson']],
    ['tail', ['tail', '--format', 'ndjson', '--interval', '200ms']],
  ])(
    '%s: exits 1 with nothing on stdout, naming the cause',
    async (_name, args) => {
      // Arrange: the writer's staging directory is a file, so no Parquet file can be staged
      const staging = join(dataDir, '.loglake', 'staging');
      rmSync(staging, { recursive: true, force: true });
      writeFileSync(staging, 'not a directory');
      try {
        // Act
        const r = await loglake([
          ...args,
          '--data-dir',
          dataDir,
          '--service',
          'web',
          ...(args[0] === 'tail' ? [] : ['--since', '1h']),
        ]);

        // Assert
        expect(r.code).toBe(1);
        expect(r.stdout).toBe('');
        expect(r.stderr).toContain('the access event of this query could not be recorded');
        expect(r.stderr).toMatch(/staging|ENOTDIR|EEXIST|not a directory/i);
      } finally {
        rmSync(staging, { force: true });
      }
    },
    60_000,
  );
});

describe('the first page of an Athena read of several pages', () => {
  const built = buildQuery(
    {
      kind: 'aggregate',
      filter: { since: new Date(Date.now() - 3_600_000), until: new Date(), categories: ['runtime'] },
      groupBy: ['service'],
    },
    { dialect: 'athena', tables: [{ database: 'lake', table: 'logs' }] },
  );
  const resultPage = (first: boolean) => ({
    ResultSet: {
      ResultSetMetadata: { ColumnInfo: [{ Name: 'service', Type: 'varchar' }] },
      Rows: first
        ? [{ Data: [{ VarCharValue: 'service' }] }, { Data: [{ VarCharValue: 'web' }] }]
        : [{ Data: [{ VarCharValue: 'api' }] }],
    },
    ...(first ? { NextToken: 'page-2' } : {}),
  });

  /** Runs the query in the CLI's scope with the audit stream named; the PutRecord answers from `putRecord`. */
  async function readAthena(putRecord: () => { status?: number; body: unknown }) {
    const aws = await startScriptedAws((call) => {
      if (call.operation === 'StartQueryExecution') return { body: { QueryExecutionId: 'q-9' } };
      if (call.operation === 'GetQueryExecution')
        return {
          body: { QueryExecution: { Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 1 } } },
        };
      if (call.operation === 'PutRecord') return putRecord();
      return { body: resultPage(call.body.NextToken === undefined) };
    });
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: aws.url,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_MAX_ATTEMPTS: '1',
    });
    const { AthenaClient } = await import('@aws-sdk/client-athena');
    const client = new AthenaClient({ region: 'eu-west-1', endpoint: aws.url });
    const puts = () =>
      aws.calls
        .filter((c) => c.operation === 'PutRecord')
        .map(
          (c) =>
            JSON.parse(
              Buffer.from(String((c.body.Record as { Data: string }).Data), 'base64').toString(),
            ) as { access: Record<string, string> },
        );
    const putsAtPage: string[][] = [];
    const rows: RawRow[] = [];
    const scope = cliAccessScope('stats');
    describeCliAccess(scope, { auditStream: { name: 'lake-audit', region: 'eu-west-1' } });
    try {
      const error = await withAccessScope(scope, async () => {
        const run = await runAthena(client, built, { workGroup: 'wg', database: 'lake', pollMs: 1 });
        for await (const page of run.pages) {
          putsAtPage.push(puts().map((p) => p.access.outcome ?? ''));
          rows.push(...page);
        }
      }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      return { error, rows, putsAtPage, puts: puts() };
    } finally {
      process.env = saved;
      client.destroy();
      await aws.close();
    }
  }

  it('puts the started event on the audit stream before the first page is handed over', async () => {
    // Act
    const { error, rows, putsAtPage, puts } = await readAthena(() => ({
      body: { RecordId: 'r', Encrypted: true },
    }));

    // Assert
    expect(error).toBeUndefined();
    expect(rows).toEqual([{ service: 'web' }, { service: 'api' }]);
    expect(putsAtPage).toEqual([['started'], ['started', 'completed']]);
    expect(puts[0]?.access).toMatchObject({
      command: 'stats',
      engine: 'athena',
      lake: 'wg/lake',
      categories: 'runtime',
    });
    expect(puts[1]?.access).toMatchObject({ rows: '2', query_id: 'q-9', id: puts[0]?.access.id });
  });

  it('hands over no page when the audit stream refuses the event, naming the cause', async () => {
    // Act
    const { error, rows } = await readAthena(() => ({
      status: 400,
      body: { __type: 'ResourceNotFoundException', message: 'Firehose lake-audit not found' },
    }));

    // Assert
    expect(rows).toEqual([]);
    expect(error?.name).toBe('AccessAuditError');
    expect(error?.message).toMatch(
      /could not be recorded, so its results are withheld: .*lake-audit not found/,
    );
  });
});

describe('the compliance report of reads recorded in two events', () => {
  it('counts a read of several pages once, and shows a read that started and never completed', async () => {
    // Arrange: a read of several pages (started, completed), then one whose process died after it started
    await withAccessScope(cliAccessScope('search'), () =>
      searchCommand(undefined, { ...flags, limit: 3_000, format: 'ndjson' }, watchedIO().io),
    );
    const startedAt = new Date().toISOString();
    await new LocalAccessSink(dataDir, DEFAULT_CONFIG).record({
      id: '00000000-0000-4000-8000-000000000001',
      time: startedAt,
      principal: 'mallory@host',
      command: 'export',
      engine: 'duckdb',
      lake: dataDir,
      queryKind: 'search',
      categories: 'all',
      filter: { since: startedAt },
      rows: 0,
      outcome: 'started',
      durationMs: 3,
      flags: [],
    });
    const ids = new Set(
      (await searchLake(dataDir, { services: [ACCESS_SERVICE] })).map((r) => r.attributes['access.id']),
    );

    // Act
    const r = await loglake([
      'compliance-report',
      '--data-dir',
      dataDir,
      '--since',
      '1d',
      '--format',
      'json',
    ]);

    // Assert
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as ComplianceReport;
    const item = report.items.find((i) => i.id === 'accessLog');
    const outcome = ACCESS_COLUMNS.indexOf('outcome');
    const principal = ACCESS_COLUMNS.indexOf('principal');
    expect(item?.rows).toHaveLength(ids.size);
    const unfinished = item?.rows.filter((row) => row[outcome] === 'started');
    expect(unfinished?.map((row) => row[principal])).toEqual(['mallory@host']);
    expect(item?.summary).toContain(
      '1 read(s) started and never completed (outcome started: interrupted after its first rows were handed over; the rows are not counted)',
    );
    expect(item?.status).toBe('notice');
  }, 120_000);
});
