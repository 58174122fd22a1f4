import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exited, killAll, type ReadyChild, startLocalProcess } from '../helpers/child';
import { firehoseClient, searchLake } from '../helpers/local';
import { taggedBatch } from '../helpers/tagged-batch';

const dataDir = mkdtempSync(join(tmpdir(), 'loglake-crash-'));
const children: ChildProcess[] = [];
afterAll(() => {
  killAll(children);
  rmSync(dataDir, { recursive: true, force: true });
});

/** Start `loglake local` in its own process; resolves with its URL once it printed its ready line. */
const startChild = (): Promise<ReadyChild> =>
  startLocalProcess(dataDir, ['--flush-seconds', '1', '--quiet'], children);

describe('loglake local after SIGKILL', () => {
  it('delivers every acknowledged record exactly once after a restart', async () => {
    const acknowledged = new Set<string>();
    const attempted = new Set<string>();
    const base = Date.now();
    let seq = 0;

    // Prepare: two kill cycles under continuous traffic, so kills land mid-request and mid-delivery.
    for (let cycle = 0; cycle < 2; cycle++) {
      const { child, url } = await startChild();
      const client = firehoseClient(url);
      let stop = false;
      const sender = async () => {
        while (!stop) {
          const ids = Array.from({ length: 25 }, () => `crash-${seq++}`);
          for (const id of ids) attempted.add(id);
          try {
            const out = await client.send(taggedBatch('crash', ids, base, 300));
            if (out.FailedPutCount === 0) for (const id of ids) acknowledged.add(id);
          } catch {
            // The process died under the request: not acknowledged, so no promise was made.
            return;
          }
        }
      };
      const senders = [sender(), sender(), sender()];

      // Act
      await new Promise((r) => setTimeout(r, 1_500 + cycle * 700));
      child.kill('SIGKILL');
      stop = true;
      await exited(child);
      await Promise.all(senders);
      client.destroy();
    }
    const { child } = await startChild();
    child.kill('SIGTERM');
    const code = await exited(child);

    // Assess
    expect(code).toBe(0);
    expect(acknowledged.size).toBeGreaterThan(100);
    const found = await searchLake(dataDir, { services: ['crash'] });
    const counts = new Map<string, number>();
    for (const r of found) counts.set(r.correlation_id ?? '', (counts.get(r.correlation_id ?? '') ?? 0) + 1);
    const missing = [...acknowledged].filter((id) => !counts.has(id));
    const duplicated = [...counts].filter(([, n]) => n > 1);
    const unknown = [...counts.keys()].filter((id) => !attempted.has(id));
    expect(missing).toEqual([]);
    expect(duplicated).toEqual([]);
    expect(unknown).toEqual([]);
    expect(existsSync(join(dataDir, 'errors'))).toBe(false);
  }, 120_000);
});
