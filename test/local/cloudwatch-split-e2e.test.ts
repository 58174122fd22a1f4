/**
 * A CloudWatch Logs subscription payload whose log events belong to different partitions (an ERROR among
 * INFO lines, and lines on both sides of an hour), put with the real Firehose client the way CloudWatch
 * Logs puts it (gzip'd), through the local pipeline: each event is found in its own category and hour,
 * exactly once.
 */
import { gzipSync } from 'node:zlib';
import { PutRecordCommand } from '@aws-sdk/client-firehose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchRecord } from '../../src/query';
import { searchLake, startTestLocal, type TestLocal } from '../helpers/local';

const HOUR = 3_600_000;
const hourStart = Date.now() - (Date.now() % HOUR);
const events = [
  { level: 'info', at: hourStart - 500, msg: 'split-e2e cart loaded' },
  { level: 'error', at: hourStart - 400, msg: 'split-e2e payment declined' },
  { level: 'info', at: hourStart + 100, msg: 'split-e2e cart saved' },
];

let local: TestLocal;
const mine = (records: SearchRecord[]) =>
  records.filter((r) => r.message.startsWith('split-e2e')).map((r) => r.message);

beforeAll(async () => {
  local = await startTestLocal({ flushSeconds: 1 });
  const payload = {
    messageType: 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup: '/aws/lambda/checkout',
    logStream: '2026/12/01/[$LATEST]0123456789abcdef',
    subscriptionFilters: ['loglake'],
    logEvents: events.map((e, i) => ({
      id: `3719${i}`,
      timestamp: e.at,
      message: JSON.stringify({ level: e.level, time: new Date(e.at).toISOString(), message: e.msg }),
    })),
  };
  const out = await local.client.send(
    new PutRecordCommand({ DeliveryStreamName: 'logs', Record: { Data: gzipSync(JSON.stringify(payload)) } }),
  );
  expect(out.RecordId).toBeTruthy();
  await local.pipeline.flush();
});
afterAll(async () => {
  await local?.dispose();
});

describe('a CloudWatch Logs payload mixing partitions, through the local pipeline', () => {
  it('stores every event once', async () => {
    expect(mine(await searchLake(local.dataDir)).sort()).toEqual(events.map((e) => e.msg).sort());
  });

  it('finds the ERROR in the errors category', async () => {
    const found = await searchLake(local.dataDir, { categories: ['errors'] });
    expect(mine(found)).toEqual(['split-e2e payment declined']);
  });

  it('finds the event after the hour boundary in its own hour', async () => {
    const found = await searchLake(local.dataDir, { since: new Date(hourStart) });
    expect(mine(found)).toEqual(['split-e2e cart saved']);
    const before = await searchLake(local.dataDir, { until: new Date(hourStart), categories: ['runtime'] });
    expect(mine(before)).toEqual(['split-e2e cart loaded']);
  });
});
