/**
 * A real full disk: `loglake local` on a small tmpfs, filled until requests fail, then space freed, more
 * traffic, kill -9 and restart (`test/helpers/disk-full-scenario.ts`). The scenario runs in a private
 * mount namespace (`unshare --mount`, plus `--user --map-root-user` when not root), so the tmpfs
 * disappears with it whatever happens.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(__dirname, '..', '..');
const SCENARIO = join(ROOT, 'test', 'helpers', 'disk-full-scenario.ts');
const mountPoint = mkdtempSync(join(tmpdir(), 'loglake-diskfull-'));
afterAll(() => rmSync(mountPoint, { recursive: true, force: true }));

interface ScenarioResult {
  acknowledged: string[];
  rejected: string[];
  errors: Record<string, number>;
  freedOk: number;
  afterOk: number;
  restartExitCode: number | null;
  firstStderr: string;
  secondStderr: string;
  counts: Record<string, number>;
}

function runScenario(): Promise<ScenarioResult> {
  const namespace = process.getuid?.() === 0 ? ['--mount'] : ['--user', '--map-root-user', '--mount'];
  const script = 'mount -t tmpfs -o size=16m,mode=0700 loglake-test "$1" && exec "$2" --import tsx "$3" "$1"';
  const child = spawn(
    'unshare',
    [...namespace, 'sh', '-c', script, 'sh', mountPoint, process.execPath, SCENARIO],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        reject(new Error(`disk-full scenario failed (exit ${code}):\n${err}\n${out}`));
        return;
      }
      resolve(JSON.parse(line) as ScenarioResult);
    });
  });
}

describe('loglake local on a full disk (tmpfs), then kill -9 and restart', () => {
  it('keeps every acknowledged record exactly once and no rejected record', async () => {
    // Prepare + Act (the scenario script drives the real CLI and the real SDK)
    const r = await runScenario();

    // Assess: the disk really filled up, and the pipeline came back once space was freed
    expect(r.rejected.length).toBeGreaterThan(0);
    expect(Object.keys(r.errors).join('\n')).toMatch(/spool write failed.*ENOSPC/);
    expect(r.firstStderr).toMatch(/answered with an error because the spool write failed \(ENOSPC/);
    expect(r.freedOk).toBe(10);
    expect(r.afterOk).toBe(5);
    expect(r.restartExitCode).toBe(0);
    // every acknowledged record exactly once, no rejected record at all
    const missing = r.acknowledged.filter((id) => r.counts[id] === undefined);
    const duplicated = Object.entries(r.counts).filter(([, n]) => n > 1);
    const rejectedStored = r.rejected.filter((id) => r.counts[id] !== undefined);
    expect(missing).toEqual([]);
    expect(duplicated).toEqual([]);
    expect(rejectedStored).toEqual([]);
    expect(Object.keys(r.counts).length).toBe(r.acknowledged.length);
  }, 180_000);
});
