import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { afterAll, describe, expect, it } from 'vitest';
import { firehoseClient, searchLake } from '../helpers/local';

const CLI = join(__dirname, '..', '..', 'bin', 'loglake.cjs');
const dataDir = mkdtempSync(join(tmpdir(), 'loglake-crash-'));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

/** Start `loglake local` in its own process; resolves with its URL once it printed its ready line. */
function startChild(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [CLI, 'local', '--port', '0', '--data-dir', dataDir, '--flush-seconds', '1', '--quiet'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    },
  );
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready: (http:\/\/\S+)/.exec(out);
      if (m?.[1]) resolve({ child, url: m[1] });
    });
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('exit', (code) =>
      reject(new Error(`loglake local exited (${code}) before it was ready: ${err}`)),
    );
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((r) => child.on('exit', (code) => r(code)));
}

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
            const out = await client.send(
              new PutRecordBatchCommand({
                DeliveryStreamName: 'logs',
                Records: ids.map((id) => ({
                  Data: Buffer.from(
                    `${JSON.stringify({ timestamp: new Date(base).toISOString(), level: 'INFO', service: 'crash', message: `event ${id} ${'x'.repeat(300)}`, correlation_id: id })}\n`,
                  ),
                })),
              }),
            );
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
