/**
 * The compaction Lambda's handler (`lambdas/compact/index.ts`) over a mocked S3: the run lock it takes.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { COMPACT_ENV } from '../../lambdas/compact/constants';

const LAMBDA_TIMEOUT_MS = 15 * 60_000;
const s3Mock = mockClient(S3Client);
const athenaMock = mockClient(AthenaClient);

beforeEach(() => {
  vi.stubEnv('AWS_REGION', 'eu-west-1');
  vi.stubEnv(COMPACT_ENV.bucket, 'lake');
  vi.stubEnv(COMPACT_ENV.workgroup, 'loglake-compaction');
  vi.stubEnv(COMPACT_ENV.database, 'loglake');
  vi.stubEnv(COMPACT_ENV.table, 'logs');
  vi.stubEnv(
    COMPACT_ENV.settings,
    JSON.stringify({ categories: ['runtime'], closedAfterMinutes: 30, lookbackHours: 2, targetFileMiB: 128 }),
  );
  vi.spyOn(process.stdout, 'write').mockImplementation((() => true) as never);
});

afterEach(() => {
  s3Mock.reset();
  athenaMock.reset();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('compaction handler', () => {
  it('holds its lock for as long as it can run, even when the schedule’s event reaches it late', async () => {
    // Arrange: an empty bucket; the event waited 40 minutes in Lambda's asynchronous queue (throttling).
    const locks: Array<{ expires: number }> = [];
    s3Mock.on(PutObjectCommand).callsFake((input: { Key: string; Body: string }) => {
      if (input.Key === 'compaction/lock') locks.push(JSON.parse(input.Body) as { expires: number });
      return { ETag: '"e"' };
    });
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [], IsTruncated: false });
    s3Mock.on(DeleteObjectsCommand).resolves({ Errors: [] });
    const event = { time: new Date(Date.now() - 40 * 60_000).toISOString() } as ScheduledEvent;
    const context = { getRemainingTimeInMillis: () => LAMBDA_TIMEOUT_MS } as Context;
    const { handler } = await import('../../lambdas/compact/index');
    const started = Date.now();

    // Act
    await handler(event, context);

    // Assert: another run cannot take the lock over while this one may still be running.
    expect(locks).toHaveLength(1);
    expect(locks[0]?.expires).toBeGreaterThanOrEqual(started + LAMBDA_TIMEOUT_MS);
  });
});
