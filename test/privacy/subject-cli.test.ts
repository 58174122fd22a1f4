/**
 * `loglake subject export|erase|status|cancel` on a real local lake: events of two users through the local pipeline
 * (spool, transform, Parquet), export finds exactly user A's, erase A, and A's records remain but no
 * longer lead to A, B is unaffected, and the audit category holds the requests.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocal } from '../../src/cli/commands/local';
import {
  cancelCommand,
  eraseCommand,
  eraseFlags,
  exportCommand,
  exportFlags,
  statusCommand,
  statusFlags,
} from '../../src/cli/commands/subject';
import { parseFlags } from '../../src/cli/flags';
import type { CliIO } from '../../src/cli/io';
import type { ComplianceReport } from '../../src/compliance/report';
import { DEFAULT_CONFIG } from '../../src/config';
import { runLocalDueErasures } from '../../src/privacy/local-erasures';
import { LocalSubjectRequestStore } from '../../src/privacy/local-requests';
import { loglake } from '../helpers/cli';
import { deliverEvents } from '../helpers/lake';

const dataDir = mkdtempSync(join(tmpdir(), 'loglake-privacy-cli-'));
afterAll(() => (process.env.KEEP ? undefined : rmSync(dataDir, { recursive: true, force: true })));

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
    { service: 'shop', message: 'login ok', user_id: 'carol-3003' },
    { service: 'shop', message: 'login ok', user_id: 'dave-4004' },
  ];
  await deliverEvents(
    dataDir,
    lines.map((e) => ({ timestamp: now, level: 'INFO', ...e })),
  );
}, 120_000);

const access = (user: string) => {
  const { cli, out, err } = io();
  return exportCommand(
    { user, persona: 'privacy-officer', dataDir, since: '1d', format: 'ndjson' },
    cli,
  ).then((s) => ({
    summary: s,
    records: out
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { user_id: string; service: string }),
    err: err.join(''),
  }));
};

describe('loglake subject', () => {
  it('export exports exactly the subject records, with a summary', async () => {
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

  it('names the personas when export is asked without one, the flag once', () => {
    expect(() => parseFlags(exportFlags, { user: 'alice-1001' })).toThrow(
      /^--persona: required, one of developer, ops, security, auditor, privacy-officer$/,
    );
  });

  it('refuses a persona the config does not allow', async () => {
    await expect(
      exportCommand({ user: 'alice-1001', persona: 'developer', dataDir }, io().cli),
    ).rejects.toThrow(/--persona developer may not run subject requests/);
    await expect(
      eraseCommand({ user: 'alice-1001', persona: 'ops', dataDir, reason: 'x' }, io().cli),
    ).rejects.toThrow(/privacy\.personas in the config allows privacy-officer/);
    // security searches by user, but by default neither exports nor erases.
    await expect(
      eraseCommand({ user: 'alice-1001', persona: 'security', dataDir, reason: 'x' }, io().cli),
    ).rejects.toThrow(/--persona security may not run subject requests/);
  });

  it('erase makes the subject unfindable, keeps the records, leaves others alone, and is audited', async () => {
    const before = await access('alice-1001');
    const pseudonym = before.records[0]?.user_id as string;

    const first = await eraseCommand(
      { user: 'alice-1001', persona: 'privacy-officer', dataDir, reason: 'request 42' },
      io().cli,
    );
    const second = await eraseCommand(
      { user: 'alice-1001', persona: 'privacy-officer', dataDir, reason: 'again' },
      io().cli,
    );
    const status = await statusCommand({ user: 'alice-1001', persona: 'privacy-officer', dataDir }, io().cli);

    expect([first.destroyed, second.destroyed]).toEqual([true, false]);
    expect(status).toMatchObject({ key: 'absent', request: { state: 'done', reason: 'again' } });
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
      const audit = rows.filter(
        (r) => r.service === 'loglake-privacy' && r.attributes.includes(first.subject),
      );
      expect(audit.filter((r) => actionOf(r) === 'erase')).toHaveLength(2);
      expect(audit.filter((r) => actionOf(r) === 'export').length).toBeGreaterThanOrEqual(3);
      expect(JSON.stringify(audit)).toContain(first.subject);
      expect(JSON.stringify(audit)).toContain('request 42');
      expect(JSON.stringify(rows)).not.toContain('alice-1001');
    } finally {
      connection.closeSync();
      db.closeSync();
    }

    // The compliance report's item 8 lists these requests as the commands recorded them.
    const run = await loglake([
      'compliance-report',
      '--data-dir',
      dataDir,
      '--since',
      '1d',
      '--format',
      'json',
    ]);
    const report = JSON.parse(run.stdout) as ComplianceReport;
    const requests = report.items.find((i) => i.id === 'requests');
    const erasures = requests?.rows.filter((r) => r[1] === 'erase' && r[4] === first.subject) ?? [];
    expect(erasures).toHaveLength(2);
    expect(erasures[0]).toEqual([
      expect.stringMatching(/^\d{4}-/),
      'erase',
      expect.stringMatching(/\S/),
      'privacy-officer',
      first.subject,
      expect.stringMatching(/\S/),
      '',
      'request 42',
      expect.stringContaining('GDPR Art. 17(3)(b)'),
    ]);
    expect(requests?.rows.filter((r) => r[1] === 'export').length).toBeGreaterThanOrEqual(3);
    expect(requests?.summary[0]).toMatch(/^\d+ request event\(s\) in the period: .*2 erase/);
    expect(run.stdout).not.toContain('alice-1001');
  }, 180_000);
});

/** The privacy action of an audit row (its attributes map, as DuckDB prints it). */
const actionOf = (r: { attributes: string }) => /privacy\.action=([a-z-]+)/.exec(r.attributes)?.[1];

async function lakeRows(): Promise<Array<{ user_id: string | null; service: string; attributes: string }>> {
  const db = await DuckDBInstance.create();
  const connection = await db.connect();
  try {
    const result = await connection.runAndReadAll(
      `select user_id, service, cast(attributes as varchar) as attributes from read_parquet('${dataDir}/logs/**/*.parquet', hive_partitioning = true)`,
    );
    return result.getRowObjectsJson() as Array<{
      user_id: string | null;
      service: string;
      attributes: string;
    }>;
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

describe('loglake subject erase --after (cancellation window)', () => {
  const carol = { user: 'carol-3003', persona: 'privacy-officer' as const, dataDir };

  it('schedules, can be cancelled within the window, and is carried out when due', async () => {
    const scheduled = await eraseCommand({ ...carol, reason: 'ticket 7', after: 7 * 86_400_000 }, io().cli);
    expect(scheduled.destroyed).toBe(false);
    expect(Date.parse(scheduled.due as string)).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    expect(await statusCommand(carol, io().cli)).toMatchObject({
      key: 'present',
      request: { state: 'pending', reason: 'ticket 7' },
    });
    await expect(eraseCommand({ ...carol, reason: 'twice', after: 3_600_000 }, io().cli)).rejects.toThrow(
      /already has an erasure due/,
    );
    // Not due yet: nothing happens, the person is still found.
    expect(await runLocalDueErasures(dataDir, DEFAULT_CONFIG, 'test')).toEqual([]);
    expect((await access('carol-3003')).records).toHaveLength(1);

    const cancelled = await cancelCommand({ ...carol, reason: 'withdrawn by the person' }, io().cli);
    expect(cancelled.state).toBe('cancelled');
    await expect(cancelCommand(carol, io().cli)).rejects.toThrow(
      /has no pending erasure: the last one was cancelled/,
    );
    // Even long after the original due time, a cancelled request destroys nothing.
    expect(
      await runLocalDueErasures(dataDir, DEFAULT_CONFIG, 'test', () => Date.now() + 30 * 86_400_000),
    ).toEqual([]);
    expect(await statusCommand(carol, io().cli)).toMatchObject({
      key: 'present',
      request: { state: 'cancelled' },
    });

    await eraseCommand({ ...carol, reason: 'ticket 8', after: 3_600_000 }, io().cli);
    const done = await runLocalDueErasures(dataDir, DEFAULT_CONFIG, 'test', () => Date.now() + 2 * 3_600_000);
    expect(done.map((d) => d.destroyed)).toEqual([true]);
    expect(await statusCommand(carol, io().cli)).toMatchObject({
      key: 'absent',
      request: { state: 'done', outcome: 'key destroyed', reason: 'ticket 8' },
    });
    expect((await access('carol-3003')).records).toEqual([]);

    const audit = (await lakeRows()).filter(
      (r) => r.service === 'loglake-privacy' && r.attributes.includes(scheduled.subject),
    );
    const actions = audit.map(actionOf);
    expect(actions.filter((a) => a !== 'export').sort()).toEqual([
      'cancel',
      'erase',
      'erase-scheduled',
      'erase-scheduled',
    ]);
    expect(JSON.stringify(audit)).not.toContain('carol-3003');
  }, 180_000);

  it('every subject command carries out the erasures that are due', async () => {
    const dave = { user: 'dave-4004', persona: 'privacy-officer' as const, dataDir };
    await eraseCommand({ ...dave, reason: 'short window', after: 1 }, io().cli);
    await new Promise((r) => setTimeout(r, 20));
    const { cli, err } = io();
    const status = await statusCommand(dave, cli);
    expect(err.join('')).toMatch(/carried out the due erasure of subject/);
    expect(status).toMatchObject({ key: 'absent', request: { state: 'done' } });
  }, 120_000);

  it('refuses a missing reason and an empty user, naming the flag', () => {
    expect(() => parseFlags(eraseFlags, { ...carol, user: ' ' })).toThrow(/--reason/);
    expect(() => parseFlags(statusFlags, { ...carol, user: '  ' })).toThrow(/--user is empty/);
  });
});

describe('loglake local and the real binary', () => {
  it('a starting loglake local carries out the erasures that became due', async () => {
    const erin = { user: 'erin-5005', persona: 'privacy-officer' as const, dataDir };
    await eraseCommand({ ...erin, reason: 'due while stopped', after: 1 }, io().cli);
    await new Promise((r) => setTimeout(r, 20));
    const pending = await LocalSubjectRequestStore.forDataDir(dataDir).list('pending');
    expect(pending).toHaveLength(1);
    const local = await startLocal({ dataDir, port: 0, quiet: true }, io().cli);
    await local.stop();
    expect(await LocalSubjectRequestStore.forDataDir(dataDir).list('pending')).toEqual([]);
    expect(
      await LocalSubjectRequestStore.forDataDir(dataDir).get(pending[0]?.subject as string),
    ).toMatchObject({
      state: 'done',
      closedBy: expect.stringMatching(/scheduled erasure/),
    });
  }, 120_000);

  it('loglake subject status|erase|cancel as a user types them', async () => {
    const base = ['--user', 'bob-2002', '--persona', 'privacy-officer', '--data-dir', dataDir];
    const scheduled = await loglake(['subject', 'erase', ...base, '--reason', 'ticket 9', '--after', '7d']);
    expect(scheduled.stderr).toBe('');
    expect(scheduled.stdout).toMatch(/erasure of subject [0-9a-f]{16} scheduled for /);
    const status = await loglake(['subject', 'status', ...base]);
    expect(status.stdout).toMatch(/key: {5}present/);
    expect(status.stdout).toMatch(/erasure pending, due .* \(by .*: ticket 9\)/);
    expect((await loglake(['subject', 'cancel', ...base])).code).toBe(0);
    const missing = await loglake(['subject', 'erase', ...base]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/--reason/);
    const blank = await loglake(['subject', 'status', ...base.slice(2), '--user', '  ']);
    expect(blank.code).toBe(2);
    expect(blank.stderr).toMatch(/--user is empty/);
    expect(JSON.stringify([scheduled, status])).not.toContain('bob-2002');
    // Bob is still there.
    expect((await access('bob-2002')).records).toHaveLength(1);
  }, 120_000);
});
