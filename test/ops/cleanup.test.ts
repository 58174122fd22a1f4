/**
 * `loglake cleanup` on a lake with known contents written by the real pipeline: the dry run lists
 * exactly the expired partitions and deletes nothing; the run deletes exactly those, records them in the
 * integrity log first (the lake still verifies clean), and a second run has nothing to do.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CleanupPlan } from '../../src/compliance/cleanup';
import { lakeObjectKeys, readIntegrityLog } from '../../src/compliance/integrity';
import { verifyLocalIntegrity } from '../../src/compliance/verify';
import { utcDate } from '../../src/time';
import { loglake } from '../helpers/cli';
import { DAY, type KnownLake, writeKnownLake } from '../helpers/known-lake';
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
