/**
 * `loglake tail` over a local lake records its access like every query, without feeding on it: every
 * access event is written into the lake the tail watches, so recording each empty poll (or showing
 * tails' own access events) would wake the tail again at once, forever.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_SERVICE } from '../../src/audit/access';
import { CLI } from '../helpers/child';
import { deliverBatches } from '../helpers/lake';
import { searchLake } from '../helpers/local';

const root = mkdtempSync(join(tmpdir(), 'loglake-tail-access-'));
const dataDir = join(root, 'data');

beforeAll(async () => {
  await deliverBatches(dataDir, [[{ id: 'seed-1', at: Date.now() - 60_000, service: 'web', level: 'INFO' }]]);
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

const tailAccess = async () =>
  (await searchLake(dataDir, { services: [ACCESS_SERVICE] })).filter(
    (r) => r.attributes['access.command'] === 'tail',
  );

/**
 * `loglake tail` with no filter until its first poll is recorded, then `afterFirstMs` more (polls that
 * would record themselves, or wake on their own events, if it fed on them), then Ctrl-C; resolves with
 * what it printed. Waiting for the first record, not a fixed time, keeps a slow start-up under load
 * from ending the run before the first poll.
 */
function tailAfterFirstPoll(afterFirstMs: number): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [CLI, 'tail', '--data-dir', dataDir, '--interval', '200ms', '--format', 'ndjson'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout }));
    const waitForFirst = async (): Promise<void> => {
      while (child.exitCode === null && (await tailAccess()).length === 0) {
        await new Promise((r) => setTimeout(r, 250));
      }
      setTimeout(() => child.kill('SIGINT'), afterFirstMs);
    };
    waitForFirst().catch((e: unknown) => {
      child.kill('SIGKILL');
      reject(e);
    });
  });
}

describe('loglake tail and the access audit', () => {
  it('records its first poll, and neither feeds on nor shows its own access events', async () => {
    // Act: the first poll, then about 20 more at a 200 ms interval.
    const { code, stdout } = await tailAfterFirstPoll(4_000);

    // Assess
    expect(code).toBe(0);
    expect(stdout).not.toContain(ACCESS_SERVICE);
    expect(await tailAccess()).toHaveLength(1);
  }, 120_000);
});
