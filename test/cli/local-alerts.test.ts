/**
 * `loglake local` evaluates the alert rules beside the pipeline: at start over what the lake holds, then
 * every `alerts.scheduleMinutes`; `--no-alerts` turns it off. The lake is written by the real pipeline
 * from the demo's sample traffic (which holds an incident the default rules catch).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleTraffic } from '../../src/local/sample-traffic';
import { startTestLocal } from '../helpers/local';

const CLI = join(__dirname, '..', '..', 'bin', 'loglake.cjs');
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'loglake-local-alerts-'));
  const local = await startTestLocal({ dataDir, flushSeconds: 1 });
  try {
    const traffic = sampleTraffic(new Date(Date.now() - 60_000));
    for (const stream of ['logs', 'audit'] as const) {
      const lines = traffic.events.filter((e) => e.stream === stream).map((e) => e.line);
      for (let i = 0; i < lines.length; i += 400) {
        const res = await local.client.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: stream,
            Records: lines.slice(i, i + 400).map((l) => ({ Data: Buffer.from(`${l}\n`) })),
          }),
        );
        expect(res.FailedPutCount).toBe(0);
      }
    }
    await local.pipeline.flush();
  } finally {
    local.client.destroy();
    await local.stop();
  }
}, 120_000);
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Run `loglake local` on the lake until `until` shows on stderr (or `ms` pass), then SIGTERM it. */
function runLocal(args: string[], until: RegExp, ms: number): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'local', '--port', '0', '--data-dir', dataDir, ...args], {
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    let err = '';
    let ready = false;
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      child.kill('SIGTERM');
    };
    child.stdout.on('data', (d: Buffer) => {
      if (!ready && d.toString().includes('ready: ')) {
        ready = true;
        setTimeout(stop, ms);
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (until.test(err)) stop();
    });
    child.on('close', (code) => resolve({ code, err }));
  });
}

describe('loglake local alerting', () => {
  it('evaluates the rules at start: alerts on stderr and in alerts.jsonl', async () => {
    // Act
    const r = await runLocal([], /loglake local: alert /, 60_000);

    // Assess
    expect(r.err).toMatch(/loglake local: alert /);
    expect(r.err).not.toMatch(/alert evaluation failed/);
    const alerts = readFileSync(join(dataDir, 'alerts.jsonl'), 'utf8').trim().split('\n');
    expect(alerts.length).toBeGreaterThan(0);
    expect(r.code, r.err).toBe(0);
  }, 120_000);

  it('--no-alerts evaluates nothing', async () => {
    // Prepare
    rmSync(join(dataDir, 'alerts.jsonl'), { force: true });

    // Act
    const r = await runLocal(['--no-alerts'], /(?!)/, 5_000);

    // Assess
    expect(r.err).not.toMatch(/alert/);
    expect(existsSync(join(dataDir, 'alerts.jsonl'))).toBe(false);
    expect(r.code).toBe(0);
  }, 60_000);
});
