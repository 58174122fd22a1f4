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

/** `loglake tail` with no filter for `ms`, then Ctrl-C; resolves with what it printed. */
function tailFor(ms: number): Promise<{ code: number | null; stdout: string }> {
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
    setTimeout(() => child.kill('SIGINT'), ms);
  });
}

describe('loglake tail and the access audit', () => {
  it('records its first poll, and neither feeds on nor shows its own access events', async () => {
    // Act: about 25 polls at a 200 ms interval.
    const { code, stdout } = await tailFor(5_000);

    // Assess
    expect(code).toBe(0);
    expect(stdout).not.toContain(ACCESS_SERVICE);
    const access = (await searchLake(dataDir, { services: [ACCESS_SERVICE] })).filter(
      (r) => r.attributes['access.command'] === 'tail',
    );
    expect(access).toHaveLength(1);
  }, 60_000);
});
