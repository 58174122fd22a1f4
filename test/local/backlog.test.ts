/**
 * The local endpoint's listen backlog, as the kernel holds it for a running `loglake local`: with Node's
 * default (511), 2.5–3.2% of 10,000 producers connecting at once were reset (README, Benchmarks). `ss`
 * (iproute2) reports a listening socket's backlog limit as its Send-Q; the kernel caps it at
 * net.core.somaxconn.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_BACKLOG } from '../../src/local/server';
import { exited, startReady } from '../helpers/child';
import { run } from '../helpers/run';

/** Node's backlog when none is given. */
const NODE_DEFAULT_BACKLOG = 511;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('loglake local', () => {
  it('listens with a backlog above Node’s default of 511, as large as the kernel allows', async () => {
    // Prepare
    const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8').trim());
    const dataDir = mkdtempSync(join(tmpdir(), 'loglake-backlog-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const local = await startReady(['local', '--data-dir', dataDir, '--port', '0', '--no-alerts', '--quiet']);
    cleanups.push(async () => {
      local.child.kill('SIGTERM');
      await exited(local.child);
    });
    const port = new URL(local.url).port;

    // Act
    const ss = await run('ss', ['-ltnH', `sport = :${port}`]);

    // Assess: columns State, Recv-Q, Send-Q (the backlog limit of a listening socket), local address.
    expect(ss.status, ss.stderr).toBe(0);
    const [state, , sendQ, address] = ss.stdout.trim().split(/\s+/);
    expect([state, address]).toEqual(['LISTEN', `127.0.0.1:${port}`]);
    expect(
      somaxconn,
      'net.core.somaxconn caps every backlog; at 511 or less no raised backlog can be observed',
    ).toBeGreaterThan(NODE_DEFAULT_BACKLOG);
    expect(Number(sendQ)).toBe(Math.min(DEFAULT_BACKLOG, somaxconn));
  }, 60_000);
});
