/**
 * `loglake subject erase --purge` on a real local lake: the unlocked categories' files are rewritten
 * without the person's rows (crash-safely, through the compaction steps), the locked categories' files
 * are never touched, everyone else's rows stay, and the request and its audit event say what was purged
 * and why locked rows were kept (GDPR Art. 17(3)(b)).
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import { cancelCommand, eraseCommand, statusCommand } from '../../src/cli/commands/subject';
import type { CliIO } from '../../src/cli/io';
import { DEFAULT_CONFIG } from '../../src/config';
import { COMPACTION_STEPS, SimulatedCrash } from '../../src/local/compact';
import { dataDirPaths, lockDataDir, pseudonymKey } from '../../src/local/datadir';
import { lookupPseudonyms } from '../../src/privacy/keyring';
import { runLocalDueErasures } from '../../src/privacy/local-erasures';
import { purgeLocalSubject, subjectRowPredicate } from '../../src/privacy/local-purge';
import { LocalSubjectRequestStore } from '../../src/privacy/local-requests';
import { LocalSubjectKeyStore } from '../../src/privacy/local-store';
import { duckdbHiveTypes } from '../../src/query/columns';
import { deliverEvents } from '../helpers/lake';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const quiet = (): CliIO & { out: string[] } => {
  const out: string[] = [];
  return { out, stdout: (t) => void out.push(t), stderr: () => undefined };
};

const HOUR = 3_600_000;

/** A lake with alice and bob in two hours of `runtime`, one `errors` event of alice, and her `security` event. */
async function lake(): Promise<{ dataDir: string; pseudonym: (user: string) => Promise<string> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'loglake-purge-'));
  dirs.push(dataDir);
  const at = (ago: number) => new Date(Date.now() - ago * HOUR).toISOString();
  const events = [
    { timestamp: at(3), service: 'shop', message: 'login ok', user_id: 'alice-1001' },
    { timestamp: at(3), service: 'shop', message: 'login ok', user_id: 'bob-2002' },
    { timestamp: at(3), service: 'shop', message: 'cart viewed', user_id: 'bob-2002' },
    { timestamp: at(1), service: 'api', message: 'user alice-1001 paid' },
    { timestamp: at(1), service: 'api', message: 'user bob-2002 paid' },
    { timestamp: at(1), service: 'api', level: 'ERROR', message: 'card declined', user_id: 'alice-1001' },
    { timestamp: at(1), service: 'auth', category: 'security', message: 'mfa ok', user_id: 'alice-1001' },
  ];
  await deliverEvents(
    dataDir,
    events.map((e) => ({ level: 'INFO', ...e })),
  );
  const key = pseudonymKey(dataDir, undefined, false);
  const store = LocalSubjectKeyStore.forDataDir(dataDir);
  return {
    dataDir,
    pseudonym: async (user) => (await lookupPseudonyms(key, store, [user])).get(user) as string,
  };
}

/** Every Parquet file on disk under `logs/` (hidden ones included), relative path → mtime. */
function files(dataDir: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.parquet')) out.set(relative(dataDir, p), statSync(p).mtimeMs);
    }
  };
  walk(join(dataDir, 'logs'));
  return out;
}

/**
 * Every row of every Parquet file on disk, with its category, read directly (no marker hides any). The
 * partition values stay strings as the lake reads them: inferred, `hour` is a number until the erase's
 * audit event lands in an hour `00`–`09`, and then a string in every row.
 */
async function rows(
  dataDir: string,
): Promise<Array<{ category: string; text: string; user_id: string | null }>> {
  const db = await DuckDBInstance.create();
  const connection = await db.connect();
  try {
    const result = await connection.runAndReadAll(
      `SELECT category, user_id, CAST(to_json(t) AS VARCHAR) AS text
       FROM read_parquet('${dataDir}/logs/**/*.parquet', hive_partitioning = true, hive_types = ${duckdbHiveTypes()}, union_by_name = true) AS t`,
    );
    return result.getRowObjectsJson() as Array<{ category: string; text: string; user_id: string | null }>;
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

const withPseudonym = (all: Awaited<ReturnType<typeof rows>>, p: string) =>
  all
    .filter((r) => r.text.includes(p))
    .map((r) => r.category)
    .sort();

describe('loglake subject erase --purge', () => {
  it("rewrites the unlocked categories without the person's rows, never touches locked ones, and records why", async () => {
    const { dataDir, pseudonym } = await lake();
    const [alice, bob] = [await pseudonym('alice-1001'), await pseudonym('bob-2002')];
    const before = await rows(dataDir);
    const filesBefore = files(dataDir);
    const lockedBefore = [...filesBefore].filter(([f]) => /category=(security|audit)\//.test(f));
    expect(withPseudonym(before, alice)).toEqual(['errors', 'runtime', 'runtime', 'security']);
    expect(withPseudonym(before, bob)).toEqual(['runtime', 'runtime', 'runtime']);

    const io = quiet();
    const result = await eraseCommand(
      { user: 'alice-1001', persona: 'privacy-officer', dataDir, reason: 'art 17 request 7', purge: true },
      io,
    );

    expect(result.destroyed).toBe(true);
    expect(result.purge).toMatchObject({ rows: 3, files: 3, locked: ['security', 'audit'] });
    const after = await rows(dataDir);
    // Gone from every unlocked file on disk (the replaced files are deleted, not hidden); kept where locked.
    expect(withPseudonym(after, alice)).toEqual(['security']);
    expect(withPseudonym(after, bob)).toEqual(['runtime', 'runtime', 'runtime']);
    const others = (r: { category: string; text: string }) =>
      r.category !== 'audit' && !r.text.includes(alice);
    expect(
      after
        .filter(others)
        .map((r) => r.text)
        .sort(),
    ).toEqual(
      before
        .filter(others)
        .map((r) => r.text)
        .sort(),
    );
    // The locked category's files are the same files, untouched.
    const filesAfter = files(dataDir);
    for (const [f, mtime] of lockedBefore) expect(filesAfter.get(f)).toBe(mtime);
    expect(lockedBefore.length).toBeGreaterThan(0);
    // No compaction marker or staging is left behind.
    expect(readdirSync(join(dataDir, '.loglake', 'compaction')).filter((n) => n !== 'staging')).toEqual([]);
    expect(io.out.join('')).toContain('purged 3 row(s) from 3 file(s) of debug, runtime, framework, errors');
    // The request and the audit event say what was purged and why the locked rows are kept.
    const request = await LocalSubjectRequestStore.forDataDir(dataDir).get(result.subject);
    expect(request).toMatchObject({ state: 'done', purge: true });
    expect(request?.outcome).toMatch(/^key destroyed; purged 3 row\(s\)/);
    const audit = after.filter((r) => r.category === 'audit' && r.text.includes(result.subject));
    expect(audit).toHaveLength(1);
    expect(audit[0]?.text).toContain('purged 3 row(s)');
    expect(audit[0]?.text).toContain('GDPR Art. 17(3)(b)');
    expect(JSON.stringify(after)).not.toContain('alice-1001');
  }, 120_000);

  it.each(
    // output-renamed falls between two outputs of one partition (a rewrite this small has one);
    // marker-deleted is after the purge is complete.
    COMPACTION_STEPS.filter((s) => s !== 'output-renamed' && s !== 'marker-deleted'),
  )(
    'a crash at %s leaves old or new files, and running erase --purge again finishes it',
    async (step) => {
      const { dataDir, pseudonym } = await lake();
      const [alice, bob] = [await pseudonym('alice-1001'), await pseudonym('bob-2002')];
      const before = await rows(dataDir);
      const bobRows = before
        .filter((r) => r.text.includes(bob))
        .map((r) => r.text)
        .sort();

      await expect(
        purgeLocalSubject(dataDir, DEFAULT_CONFIG, alice, {
          onStep: (s) => {
            if (s === step) throw new SimulatedCrash(s);
          },
        }),
      ).rejects.toThrow(SimulatedCrash);
      const result = await eraseCommand(
        { user: 'alice-1001', persona: 'privacy-officer', dataDir, reason: 'again', purge: true },
        quiet(),
      );

      expect(result.destroyed).toBe(true);
      const after = await rows(dataDir);
      expect(withPseudonym(after, alice)).toEqual(['security']);
      expect(
        after
          .filter((r) => r.text.includes(bob))
          .map((r) => r.text)
          .sort(),
      ).toEqual(bobRows);
    },
    120_000,
  );

  it('is refused while loglake local holds the data directory; nothing is erased', async () => {
    const { dataDir } = await lake();
    const filesBefore = files(dataDir);

    const release = lockDataDir(dataDir);
    try {
      await expect(
        eraseCommand(
          { user: 'alice-1001', persona: 'privacy-officer', dataDir, reason: 'x', purge: true },
          quiet(),
        ),
      ).rejects.toThrow(/needs the data directory to itself: .*Nothing was erased; stop loglake local/);
    } finally {
      release();
    }

    expect(files(dataDir)).toEqual(filesBefore);
    const status = await statusCommand({ user: 'alice-1001', persona: 'privacy-officer', dataDir }, quiet());
    expect(status.key).toBe('present');
  }, 120_000);

  it('with --after, keeps the pseudonym only while pending, waits while the data directory is in use, then purges', async () => {
    const { dataDir, pseudonym } = await lake();
    const [alice, bob] = [await pseudonym('alice-1001'), await pseudonym('bob-2002')];
    const requests = LocalSubjectRequestStore.forDataDir(dataDir);
    const later = () => Date.now() + 2 * HOUR;

    const scheduled = await eraseCommand(
      {
        user: 'alice-1001',
        persona: 'privacy-officer',
        dataDir,
        reason: 'ticket 9',
        purge: true,
        after: HOUR,
      },
      quiet(),
    );
    expect(await requests.get(scheduled.subject)).toMatchObject({
      state: 'pending',
      purge: true,
      pseudonym: alice,
    });
    // Due, but `loglake local` holds the data directory: nothing happens, the request waits.
    const filesBefore = files(dataDir);
    const release = lockDataDir(dataDir);
    try {
      expect(await runLocalDueErasures(dataDir, DEFAULT_CONFIG, 'test', later)).toEqual([]);
    } finally {
      release();
    }
    expect(files(dataDir)).toEqual(filesBefore);
    expect((await requests.get(scheduled.subject))?.state).toBe('pending');

    const done = await runLocalDueErasures(dataDir, DEFAULT_CONFIG, 'test', later);

    expect(done.map((d) => d.destroyed)).toEqual([true]);
    const closed = await requests.get(scheduled.subject);
    expect(closed).toMatchObject({ state: 'done', purge: true });
    expect(closed?.outcome).toMatch(/^key destroyed; purged 3 row\(s\) from 3 file\(s\)/);
    expect(closed).not.toHaveProperty('pseudonym');
    const after = await rows(dataDir);
    expect(withPseudonym(after, alice)).toEqual(['security']);
    expect(withPseudonym(after, bob)).toEqual(['runtime', 'runtime', 'runtime']);
    const audit = after.filter((r) => r.category === 'audit' && r.text.includes(scheduled.subject));
    expect(audit.filter((r) => r.text.includes('purged 3 row(s)'))).toHaveLength(1);
    expect(JSON.stringify(after)).not.toContain('alice-1001');

    // A withdrawn purge request keeps no pseudonym either.
    const bobRequest = await eraseCommand(
      {
        user: 'bob-2002',
        persona: 'privacy-officer',
        dataDir,
        reason: 'ticket 10',
        purge: true,
        after: HOUR,
      },
      quiet(),
    );
    expect((await requests.get(bobRequest.subject))?.pseudonym).toBe(bob);
    await cancelCommand({ user: 'bob-2002', persona: 'privacy-officer', dataDir }, quiet());
    expect(await requests.get(bobRequest.subject)).not.toHaveProperty('pseudonym');
  }, 120_000);

  it('an erase without --after leaves a pending --purge request to be carried out, not dropped unpurged', async () => {
    const { dataDir, pseudonym } = await lake();
    const alice = await pseudonym('alice-1001');
    const requests = LocalSubjectRequestStore.forDataDir(dataDir);
    const person = { user: 'alice-1001', persona: 'privacy-officer' as const, dataDir };
    const scheduled = await eraseCommand(
      { ...person, reason: 'ticket 11', purge: true, after: HOUR },
      quiet(),
    );

    await expect(eraseCommand({ ...person, reason: 'ticket 11, now' }, quiet())).rejects.toThrow(
      /already has an erasure due .*subject cancel first/,
    );

    expect(await requests.get(scheduled.subject)).toMatchObject({
      state: 'pending',
      purge: true,
      pseudonym: alice,
    });
    const done = await runLocalDueErasures(dataDir, DEFAULT_CONFIG, 'test', () => Date.now() + 2 * HOUR);
    expect(done.map((d) => d.request.outcome)).toEqual([
      expect.stringMatching(/^key destroyed; purged 3 row/),
    ]);
    expect(withPseudonym(await rows(dataDir), alice)).toEqual(['security']);
  }, 120_000);

  it('keeps what the purge did when the audit event cannot be written, and records it on the next run', async () => {
    const { dataDir, pseudonym } = await lake();
    const alice = await pseudonym('alice-1001');
    // The audit write stages its file under .loglake/staging: a plain file there makes it fail for real.
    const staging = dataDirPaths(dataDir).staging;
    rmSync(staging, { recursive: true, force: true });
    writeFileSync(staging, 'not a directory');
    const person = { user: 'alice-1001', persona: 'privacy-officer' as const, dataDir };

    await expect(eraseCommand({ ...person, reason: 'ticket 12', purge: true }, quiet())).rejects.toThrow();

    // The rows are gone and the key too; what was purged waits on the request for its audit event.
    expect(withPseudonym(await rows(dataDir), alice)).toEqual(['security']);
    rmSync(staging, { force: true });
    const requests = LocalSubjectRequestStore.forDataDir(dataDir);
    expect(await requests.list('pending')).toEqual([
      expect.objectContaining({ purged: expect.stringMatching(/^purged 3 row/) }),
    ]);
    await statusCommand({ ...person }, quiet());
    const audit = (await rows(dataDir)).filter((r) => r.category === 'audit');
    expect(audit.map((r) => r.text).join('\n')).toMatch(/purged 3 row\(s\) from 3 file\(s\)/);
    const [request] = await requests.list('done');
    expect(request?.outcome).toMatch(/purged 3 row\(s\)/);
  }, 120_000);

  it('builds its predicate only from a stored pseudonym', () => {
    expect(() => subjectRowPredicate("u_x' OR true --")).toThrow(/not a stored pseudonym/);
    expect(subjectRowPredicate(`u_${'a'.repeat(32)}`)).toContain(`'u_${'a'.repeat(32)}'`);
  });
});
