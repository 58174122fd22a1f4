import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPACTED_PREFIX, markerDir } from '../../src/local/lake-files';
import { deliverBatches, hourStart, idCounts, type LakeEvent, lakeFiles } from '../helpers/lake';
import { searchLake } from '../helpers/local';

const CLI = join(__dirname, '..', '..', 'bin', 'loglake.cjs');
const root = mkdtempSync(join(tmpdir(), 'loglake-compact-kill-'));
const template = join(root, 'template');
const events: LakeEvent[] = [];
const openTemplate = join(root, 'open-template');
const openEvents: LakeEvent[] = [];

beforeAll(async () => {
  // 10 deliveries into two closed hours (three categories): 6 partitions of 10 small files each.
  const batches = Array.from({ length: 10 }, (_, b) =>
    Array.from({ length: 9 }, (_, i) => ({
      id: `k-${b}-${i}`,
      at: hourStart(2 + (i % 2)) + (b * 9 + i) * 20_000,
      service: ['web', 'api', 'worker'][i % 3] as string,
      level: (['INFO', 'ERROR', 'DEBUG'] as const)[b % 3] as LakeEvent['level'],
    })),
  );
  events.push(...batches.flat());
  await deliverBatches(template, batches);
  // 12 deliveries into the current hour (one category): an open hour with more than the 10 delivered
  // files `loglake compact` waits for.
  const base = Math.max(hourStart(0), Date.now() - 120_000);
  const open = Array.from({ length: 12 }, (_, b) =>
    Array.from({ length: 5 }, (_, i) => ({
      id: `o-${b}-${i}`,
      at: base + b * 5 + i,
      service: ['web', 'api', 'worker'][i % 3] as string,
      level: 'INFO' as const,
    })),
  );
  openEvents.push(...open.flat());
  await deliverBatches(openTemplate, open);
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** `loglake compact` in its own process; resolves with its exit code and signal. */
function compact(
  dataDir: string,
  killAt?: string,
): Promise<{ code: number | null; signal: string | null; err: string }> {
  const child = spawn(process.execPath, [CLI, 'compact', '--data-dir', dataDir, '--grace', '0s'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      LOGLAKE_FAULT_COMPACT_KILL_AT: killAt ?? '',
    },
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, err })));
}

async function expectEveryRecordOnce(dataDir: string, expected = events): Promise<void> {
  const counts = idCounts((await searchLake(dataDir)).map((r) => r.correlation_id));
  expect([...counts.entries()].filter(([, n]) => n !== 1)).toEqual([]);
  expect(counts.size).toBe(expected.length);
}

describe('loglake compact killed with SIGKILL', () => {
  // `output-renamed` needs an hour of several output files; the in-process tests cover it.
  it.each(['staged', 'marker-written', 'committed:4', 'source-deleted:7', 'marker-deleted'])(
    'at %s: queries see every record exactly once, and the next run finishes the job',
    async (killAt) => {
      // Prepare: a fresh copy of the lake the pipeline delivered.
      const dataDir = join(root, killAt.replace(':', '-'));
      cpSync(template, dataDir, { recursive: true });

      // Act: the first run dies at the step; the second runs undisturbed.
      const killed = await compact(dataDir, killAt);
      const stateAfterKill = lakeFiles(dataDir);
      await expectEveryRecordOnce(dataDir);
      const rerun = await compact(dataDir);

      // Assess
      expect(killed.signal).toBe('SIGKILL');
      expect(stateAfterKill.length).toBeGreaterThan(0);
      expect(rerun.code, rerun.err).toBe(0);
      await expectEveryRecordOnce(dataDir);
      const files = lakeFiles(dataDir);
      expect(files).toHaveLength(6);
      expect(files.every((f) => f.split('/').pop()?.startsWith(COMPACTED_PREFIX))).toBe(true);
      expect(readdirSync(markerDir(dataDir)).filter((n) => n.endsWith('.json'))).toEqual([]);
    },
    120_000,
  );
});

describe('loglake compact killed with SIGKILL while compacting the current hour', () => {
  it.each(['staged', 'marker-written', 'committed', 'source-deleted:5', 'marker-deleted'])(
    'at %s: queries see every record exactly once, and the next run finishes the job',
    async (killAt) => {
      // Prepare: a fresh copy of the open hour the pipeline delivered.
      const dataDir = join(root, `open-${killAt.replace(':', '-')}`);
      cpSync(openTemplate, dataDir, { recursive: true });
      const delivered = lakeFiles(dataDir);

      // Act: the first run dies at the step; the second runs undisturbed.
      const killed = await compact(dataDir, killAt);
      await expectEveryRecordOnce(dataDir, openEvents);
      const rerun = await compact(dataDir);

      // Assess
      expect(delivered.length).toBeGreaterThanOrEqual(12);
      expect(killed.signal).toBe('SIGKILL');
      expect(rerun.code, rerun.err).toBe(0);
      await expectEveryRecordOnce(dataDir, openEvents);
      const files = lakeFiles(dataDir);
      expect(files.every((f) => f.split('/').pop()?.startsWith(COMPACTED_PREFIX))).toBe(true);
      expect(files.length).toBeLessThanOrEqual(2);
      expect(readdirSync(markerDir(dataDir)).filter((n) => n.endsWith('.json'))).toEqual([]);
    },
    120_000,
  );
});
