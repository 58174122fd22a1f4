/**
 * `cleanup --dry-run --stack` (src/compliance/aws-cleanup.ts) against a mocked S3 client: the rules in
 * force, the objects past their category's expiry S3 has not removed yet, and the next one per category.
 */
import {
  GetBucketLifecycleConfigurationCommand,
  ListObjectsV2Command,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { cleanupCommand } from '../../src/cli/commands/cleanup';
import { deployedLake } from '../../src/compliance/aws';
import { lifecycleExpiry, planStackCleanup } from '../../src/compliance/aws-cleanup';
import { DEFAULT_CONFIG } from '../../src/config';
import { InputError } from '../../src/errors';

const s3 = mockClient(S3Client);
const client = new S3Client({ region: 'eu-west-1' });
const lake = deployedLake('LogLake', 'eu-west-1', {
  LogsBucketName: 'lake-logs',
  AuditBucketName: 'lake-audit',
  KeyArn: 'arn:aws:kms:eu-west-1:1:key/k',
  DatabaseName: 'loglake',
  WorkGroupName: 'loglake',
});
const now = new Date('2026-11-30T12:00:00Z');

beforeEach(() => s3.reset());

describe('lifecycleExpiry', () => {
  it('adds the days and rounds up to the next midnight UTC, as S3 does', () => {
    expect(lifecycleExpiry(new Date('2026-11-01T10:30:00Z'), 14).toISOString()).toBe(
      '2026-11-16T00:00:00.000Z',
    );
    expect(lifecycleExpiry(new Date('2026-11-01T00:00:00Z'), 1).toISOString()).toBe(
      '2026-11-02T00:00:00.000Z',
    );
  });
});

describe('planStackCleanup', () => {
  it('lists the rules, what is past its expiry and the next to expire; a category without a rule is named', async () => {
    s3.on(GetBucketLifecycleConfigurationCommand, { Bucket: 'lake-logs' }).resolves({
      Rules: [
        {
          ID: 'Category-debug',
          Status: 'Enabled',
          Filter: { Prefix: 'logs/category=debug/' },
          Expiration: { Days: 14 },
        },
        {
          ID: 'CleanUpVersionsAndUploads',
          Status: 'Enabled',
          Filter: {},
          NoncurrentVersionExpiration: { NoncurrentDays: 30 },
        },
      ],
    });
    s3.on(GetBucketLifecycleConfigurationCommand, { Bucket: 'lake-audit' }).rejects(
      new S3ServiceException({ name: 'NoSuchLifecycleConfiguration', $fault: 'client', $metadata: {} }),
    );
    s3.on(ListObjectsV2Command).resolves({});
    s3.on(ListObjectsV2Command, {
      Bucket: 'lake-logs',
      Prefix: 'logs/category=debug/',
      Delimiter: '/',
    }).resolves({
      CommonPrefixes: [
        { Prefix: 'logs/category=debug/dt=2026-11-10/' },
        { Prefix: 'logs/category=debug/dt=2026-11-20/' },
        { Prefix: 'logs/category=debug/dt=2026-11-29/' },
      ],
    });
    s3.on(ListObjectsV2Command, {
      Bucket: 'lake-logs',
      Prefix: 'logs/category=debug/dt=2026-11-10/',
    }).resolves({
      Contents: [
        {
          Key: 'logs/category=debug/dt=2026-11-10/hour=01/a.parquet',
          LastModified: new Date('2026-11-10T01:05:00Z'),
          Size: 100,
        },
      ],
    });
    s3.on(ListObjectsV2Command, {
      Bucket: 'lake-logs',
      Prefix: 'logs/category=debug/dt=2026-11-20/',
    }).resolves({
      Contents: [
        {
          Key: 'logs/category=debug/dt=2026-11-20/hour=02/b.parquet',
          LastModified: new Date('2026-11-20T02:05:00Z'),
          Size: 50,
        },
      ],
    });

    const plan = await planStackCleanup(client, lake, DEFAULT_CONFIG, now);

    expect(plan.rules).toContainEqual({
      bucket: 'lake-logs',
      id: 'Category-debug',
      prefix: 'logs/category=debug/',
      status: 'Enabled',
      expirationDays: 14,
      transitions: '',
      noncurrentVersionDays: null,
    });
    expect(plan.expired).toEqual([
      {
        key: 'lake-logs/logs/category=debug/dt=2026-11-10/hour=01/a.parquet',
        category: 'debug',
        partition: 'lake-logs/logs/category=debug/dt=2026-11-10',
        expiredAt: '2026-11-25T00:00:00.000Z',
        bytes: 100,
      },
    ]);
    expect(plan.next).toEqual([
      {
        category: 'debug',
        key: 'lake-logs/logs/category=debug/dt=2026-11-20/hour=02/b.parquet',
        expiresAt: '2026-12-05T00:00:00.000Z',
      },
    ]);
    expect(plan.withoutRule).toEqual(['runtime', 'framework', 'errors', 'api_access', 'security', 'audit']);
    // The newest partition cannot hold anything expired once a next is known: it is not listed.
    expect(
      s3
        .commandCalls(ListObjectsV2Command)
        .some((c) => c.args[0].input.Prefix === 'logs/category=debug/dt=2026-11-29/'),
    ).toBe(false);
  });
});

describe('loglake cleanup --stack', () => {
  it('refuses to delete on AWS: lifecycle does, and --dry-run shows it', async () => {
    await expect(cleanupCommand({ stack: 'LogLake' })).rejects.toThrow(InputError);
    await expect(cleanupCommand({ stack: 'LogLake' })).rejects.toThrow(/add --dry-run/);
    expect(s3.calls()).toHaveLength(0);
  });
});
