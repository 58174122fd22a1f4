/**
 * Local evaluation on the local pipeline's own delivery latency, end to end: events sent through the
 * real Firehose client to the local endpoint, delivered by the pipeline's own timer (a 1 s flush), then
 * `loglake alerts evaluate` right away sees them fire; the AWS delay (`--delay 2`) would not have.
 */
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { afterEach, describe, expect, it } from 'vitest';
import { alertsEvaluate } from '../../src/cli/commands/alerts';
import { resolveConfig } from '../../src/config';
import { searchLake, startTestLocal, type TestLocal } from '../helpers/local';

let local: TestLocal | undefined;
afterEach(async () => {
  await local?.dispose();
  local = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('loglake alerts evaluate on the local pipeline’s latency', () => {
  it('fires on events delivered a moment ago, which the AWS delay would not evaluate yet', async () => {
    // Prepare: a pipeline flushing every second, and a rule on the audit stream's security events.
    local = await startTestLocal({ flushSeconds: 1 });
    const config = resolveConfig({});
    const sentAt = Date.now();
    const lines = Array.from({ length: 3 }, (_, i) =>
      JSON.stringify({
        timestamp: new Date(sentAt - 500 + i).toISOString(),
        level: 'CRITICAL',
        service: 'auth',
        category: 'security',
        message: `token replay detected ${i}`,
        correlation_id: `replay-${i}`,
      }),
    );
    await local.client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: 'audit',
        Records: lines.map((l) => ({ Data: Buffer.from(`${l}\n`) })),
      }),
    );
    // Delivered by the pipeline's own timer, not a forced flush: wait until the lake holds them.
    const deadline = Date.now() + 30_000;
    while ((await searchLake(local.dataDir, { services: ['auth'] })).length < 3) {
      if (Date.now() > deadline) throw new Error('the local pipeline did not deliver within 30 s');
      await sleep(250);
    }
    // The window ends on a whole second, 3 s (1 s flush + 2 s margin) before the evaluation: wait until
    // that second is past the last event's, or an event in the same second as the window's end (end
    // exclusive) would be left out.
    const lastEvent = sentAt - 500 + lines.length - 1;
    await sleep(Math.max(0, (Math.floor(lastEvent / 1000) + 1) * 1000 + 3_000 + 50 - Date.now()));
    const now = new Date();

    // Act
    const { alerts } = await alertsEvaluate(
      { dataDir: local.dataDir, format: 'json', flushSeconds: 1, rule: ['security-critical'] },
      config,
      now,
    );
    const aws = await alertsEvaluate(
      { dataDir: local.dataDir, format: 'json', delay: 2, rule: ['security-critical'] },
      config,
      now,
    );

    // Assess
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      rule: 'security-critical',
      group: { service: 'auth' },
      value: 3,
      status: 'firing',
    });
    expect([...(alerts[0]?.samples ?? [])].sort()).toEqual(['replay-0', 'replay-1', 'replay-2']);
    // The window ends 3 s (1 s flush + 2 s margin) before the evaluation, to the second.
    expect(Date.parse(alerts[0]?.window.end ?? '')).toBe(Math.floor((now.getTime() - 3_000) / 1000) * 1000);
    expect(aws.alerts).toEqual([]);
  }, 90_000);
});
