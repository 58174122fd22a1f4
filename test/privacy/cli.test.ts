/**
 * `loglake privacy access|erase` on a real local lake: events of two users through the local pipeline
 * (spool, transform, Parquet), export finds exactly user A's, erase A, and A's records remain but no
 * longer lead to A, B is unaffected, and the audit category holds the requests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessCommand, eraseCommand } from '../../src/cli/commands/privacy';
import type { CliIO } from '../../src/cli/io';
import { DEFAULT_CONFIG } from '../../src/config';
import { LocalPipeline } from '../../src/local/pipeline';
import { dataDirTransform } from '../../src/local/transform';

const dataDir = mkdtempSync(join(tmpdir(), 'loglake-privacy-cli-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function io() {
  const out: string[] = [];
  const err: string[] = [];
  const cli: CliIO = { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t) };
  return { cli, out, err };
}

beforeAll(async () => {
  const now = new Date().toISOString();
  const lines = [
    { service: 'shop', message: 'login ok', user_id: 'alice-1001' },
    { service: 'api', message: 'user alice-1001 paid', level: 'WARN' },
    { service: 'shop', message: 'login ok', user_id: 'bob-2002' },
  ].map((e) => `${JSON.stringify({ timestamp: now, level: 'INFO', ...e })}\n`);
  const pipeline = await LocalPipeline.open({
    dataDir,
    transform: dataDirTransform(DEFAULT_CONFIG, dataDir),
    compaction: false,
  });
  try {
    await pipeline.put(
      'logs',
      lines.map((l) => ({ data: Buffer.from(l).toString('base64'), bytes: Buffer.byteLength(l) })),
    );
    await pipeline.flush();
  } finally {
    await pipeline.close();
  }
}, 120_000);

const access = (user: string) => {
  const { cli, out, err } = io();
  return accessCommand(user, { persona: 'security', dataDir, since: '1d', format: 'ndjson' }, cli).then(
    (s) => ({
      summary: s,
      records: out
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { user_id: string; service: string }),
      err: err.join(''),
    }),
  );
};

describe('loglake privacy', () => {
  it('access exports exactly the subject records, with a summary', async () => {
    const a = await access('alice-1001');

    expect(a.records.map((r) => r.service).sort()).toEqual(['api', 'shop']);
    expect(new Set(a.records.map((r) => r.user_id)).size).toBe(1);
    expect(a.summary).toMatchObject({
      records: 2,
      byService: { shop: 1, api: 1 },
      byCategory: { runtime: 2 },
    });
    expect(a.err).toContain('exported 2 records of the subject');
    expect(JSON.stringify(a.records)).not.toContain('alice-1001');
  }, 120_000);

  it('refuses a persona the config does not allow', async () => {
    await expect(accessCommand('alice-1001', { persona: 'developer', dataDir }, io().cli)).rejects.toThrow(
      /--persona developer may not run privacy requests/,
    );
    await expect(eraseCommand('alice-1001', { persona: 'ops', dataDir }, io().cli)).rejects.toThrow(
      /privacy\.personas in the config allows security/,
    );
  });

  it('erase makes the subject unfindable, keeps the records, leaves others alone, and is audited', async () => {
    const before = await access('alice-1001');
    const pseudonym = before.records[0]?.user_id as string;

    const first = await eraseCommand(
      'alice-1001',
      { persona: 'security', dataDir, reason: 'request 42' },
      io().cli,
    );
    const second = await eraseCommand('alice-1001', { persona: 'security', dataDir }, io().cli);

    expect([first.destroyed, second.destroyed]).toEqual([true, false]);
    expect((await access('alice-1001')).records).toEqual([]);
    expect((await access('bob-2002')).records).toHaveLength(1);
    const db = await DuckDBInstance.create();
    const connection = await db.connect();
    try {
      const result = await connection.runAndReadAll(
        `select user_id, service, cast(attributes as varchar) as attributes from read_parquet('${dataDir}/logs/**/*.parquet', hive_partitioning = true)`,
      );
      const rows = result.getRowObjectsJson() as Array<{
        user_id: string | null;
        service: string;
        attributes: string;
      }>;
      // A's records still exist, anonymized: their pseudonym is there, nothing leads to it any more.
      expect(rows.filter((r) => r.user_id === pseudonym)).toHaveLength(2);
      const audit = rows.filter((r) => r.service === 'loglake-privacy');
      expect(audit).toHaveLength(2);
      expect(JSON.stringify(audit)).toContain(first.subject);
      expect(JSON.stringify(audit)).toContain('request 42');
      expect(JSON.stringify(rows)).not.toContain('alice-1001');
    } finally {
      connection.closeSync();
      db.closeSync();
    }
  }, 180_000);
});
