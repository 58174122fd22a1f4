/**
 * `loglake cleanup` on a lake with known contents written by the real pipeline: the dry run lists
 * exactly the expired partitions and deletes nothing; the run deletes exactly those, records them in the
 * integrity log first (the lake still verifies clean), and a second run has nothing to do.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CleanupPlan, runCleanup } from '../../src/compliance/cleanup';
import { lakeObjectKeys, readIntegrityLog } from '../../src/compliance/integrity';
import { verifyLocalIntegrity } from '../../src/compliance/verify';
import { DEFAULT_CONFIG } from '../../src/config';
import { utcDate, utcHour } from '../../src/time';
import { loglake } from '../helpers/cli';
import { DAY, HOUR, type KnownLake, plantParquet, writeKnownLake } from '../helpers/known-lake';
import { searchLake } from '../helpers/local';

let lake: KnownLake;
let errorKey: string;
beforeAll(async () => {
  lake = await writeKnownLake();
  // Error output of 20 days ago: past errorOutput.expiryDays (14).
  errorKey = `errors/processing-failed/dt=${utcDate(new Date(lake.now - 20 * DAY))}/old.ndjson`;
  mkdirSync(join(lake.dataDir, errorKey, '..'), { recursive: true });
  writeFileSync(join(lake.dataDir, errorKey), '{"errorCode":"Lambda.FunctionError"}\n');
});
afterAll(() => lake?.dispose());

const cleanup = async (...extra: string[]) => {
  const r = await loglake([
    'cleanup',
    '--data-dir',
    lake.dataDir,
    '--config',
    lake.configFile,
    '--format',
    'json',
    ...extra,
  ]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as CleanupPlan & { dryRun: boolean };
};

const dt = (agoDays: number) => `dt=${utcDate(new Date(lake.now - agoDays * DAY))}`;

describe('loglake cleanup', () => {
  it('lists exactly the expired partitions with --dry-run, and deletes nothing', async () => {
    // Arrange
    const before = lakeObjectKeys(lake.dataDir);

    // Act
    const plan = await cleanup('--dry-run');

    // Assert
    expect(plan.dryRun).toBe(true);
    const partitions = [...new Set(plan.expired.map((o) => o.partition))].sort();
    expect(partitions).toEqual(
      [
        expect.stringMatching(new RegExp(`^logs/category=debug/${dt(20)}/hour=\\d\\d$`)),
        expect.stringMatching(new RegExp(`^logs/category=runtime/${dt(40)}/hour=\\d\\d$`)),
        `errors/processing-failed/${dt(20)}`,
      ].sort((a, b) => String(a).localeCompare(String(b))),
    );
    expect(plan.expired.map((o) => o.category).sort()).toEqual([
      'debug',
      'errors/processing-failed',
      'runtime',
    ]);
    expect(plan.next?.key).toBeTruthy();
    expect(lakeObjectKeys(lake.dataDir)).toEqual(before);
  });

  it('deletes exactly those, records them first, and leaves the lake verifiable', async () => {
    // Arrange
    const before = lakeObjectKeys(lake.dataDir);
    const planned = (await cleanup('--dry-run')).expired.map((o) => o.key);

    // Act
    const plan = await cleanup();
    const again = await cleanup();

    // Assert
    expect(plan.expired.map((o) => o.key)).toEqual(planned);
    expect(lakeObjectKeys(lake.dataDir)).toEqual(before.filter((k) => !planned.includes(k)));
    for (const key of planned) expect(existsSync(join(lake.dataDir, key, '..'))).toBe(false);
    expect(again.expired).toEqual([]);
    const expiry = readIntegrityLog(lake.dataDir)
      .map((l) => l.entry)
      .filter((e) => e?.type === 'expiry');
    expect(expiry).toHaveLength(1);
    expect(expiry[0]?.type === 'expiry' && expiry[0].objects.map((o) => o.key)).toEqual(planned);
    const messages = (await searchLake(lake.dataDir, { since: new Date(lake.now - 400 * DAY) })).map(
      (r) => r.message,
    );
    expect(messages).not.toContain('old debug line');
    expect(messages).not.toContain('old runtime line');
    expect(messages).toContain('cache warm');
    const verified = verifyLocalIntegrity(lake.dataDir, {
      since: new Date(lake.now - 400 * DAY),
      until: new Date(Date.now() + 60_000),
      now: new Date(),
      expiresAt: () => undefined,
    });
    // The planted error document was never delivered by the pipeline, so it was unrecorded until its expiry.
    expect(verified.findings.filter((f) => f.kind !== 'unrecorded')).toEqual([]);
  });
});

describe('cleanup at the retention boundary', () => {
  it('removes a partition one hour past its expiry and one exactly at it, and keeps one an hour short of it', async () => {
    // Arrange: for debug (14 days) and security (365 days), the hours whose expiry (end of the hour plus
    // the category's days) falls an hour before, exactly at, and an hour after `now`
    const dataDir = mkdtempSync(join(tmpdir(), 'loglake-boundary-'));
    const now = new Date('2026-06-15T12:00:00.000Z');
    const keyAt = (category: string, expiry: number, days: number) => {
      const start = new Date(expiry - days * DAY - HOUR);
      return `logs/category=${category}/dt=${utcDate(start)}/hour=${utcHour(start)}/part-0.parquet`;
    };
    const keys = (category: string, days: number) => ({
      past: keyAt(category, now.getTime() - HOUR, days),
      at: keyAt(category, now.getTime(), days),
      short: keyAt(category, now.getTime() + HOUR, days),
    });
    const debug = keys('debug', 14);
    const security = keys('security', 365);
    try {
      for (const key of [...Object.values(debug), ...Object.values(security)]) {
        await plantParquet(dataDir, key, [{ message: key }]);
      }

      // Act
      const plan = runCleanup(dataDir, DEFAULT_CONFIG, now);

      // Assert
      expect(debug.past).toContain('dt=2026-06-01/hour=10/');
      expect(debug.short).toContain('dt=2026-06-01/hour=12/');
      expect(plan.expired.map((o) => o.key).sort()).toEqual(
        [debug.past, debug.at, security.past, security.at].sort(),
      );
      expect(plan.expired.find((o) => o.key === debug.at)?.expiredAt).toBe(now.toISOString());
      expect(lakeObjectKeys(dataDir).sort()).toEqual([debug.short, security.short].sort());
      expect(plan.next?.expiresAt).toBe(new Date(now.getTime() + HOUR).toISOString());
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
