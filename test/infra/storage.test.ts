/** `LogLakeStorage` alone on a bare stack: its buckets and the grants that know where categories live. */
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import type { LogLakeStorageProps } from '../../lib/storage';
import { DEFAULT_CONFIG } from '../../src/config';
import { CATEGORIES } from '../../src/schema';
import { bareStack, type FlatStatement, policyStatementsOf, resourceNamed, resourcesOf } from './helpers';
import { defaultStorage } from './parts';

function build(props: Partial<LogLakeStorageProps> = {}) {
  const { stack } = bareStack();
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const storage = defaultStorage(stack, key, props);
  const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
  return { stack, storage, role };
}

const viaS3 = 'StringEquals kms:ViaService=s3.eu-west-1.amazonaws.com';
const prefixes = (bucket: string, ...categories: string[]) =>
  categories.map((c) => `<Storage${bucket}Bucket>/logs/category=${c}/*`);

describe('LogLakeStorage', () => {
  it('creates the logs, audit (Object Lock), query-results and access-logs buckets', () => {
    const { stack } = build();

    const buckets = Object.keys(resourcesOf(Template.fromStack(stack), 'AWS::S3::Bucket'));

    expect(buckets.map((id) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual(
      [
        'StorageAccessLogsBucket',
        'StorageAuditBucket',
        'StorageLogsBucket',
        'StorageQueryResultsBucket',
      ].sort(),
    );
  });

  it('places locked categories in the audit bucket, and every category in logs without one', () => {
    expect(build().storage.placement).toMatchObject({ security: 'audit', audit: 'audit', debug: 'logs' });

    const unlocked = build({ objectLock: undefined }).storage;

    expect(unlocked.dataBuckets.audit).toBeUndefined();
    expect(new Set(Object.values(unlocked.placement))).toEqual(new Set(['logs']));
  });

  it('expires every category in the audit bucket too: a category unlocked later keeps objects there', () => {
    // Arrange: security was locked (its objects went to the audit bucket) and is unlocked now.
    const { stack } = build({
      categories: {
        ...DEFAULT_CONFIG.categories,
        security: { ...DEFAULT_CONFIG.categories.security, locked: false },
      },
    });

    // Act
    const [, bucket] = resourceNamed(Template.fromStack(stack), 'AWS::S3::Bucket', 'StorageAuditBucket');

    // Assert: a rule expires each category's prefix there, with the category's own days.
    const rules = (bucket.Properties.LifecycleConfiguration as { Rules: Array<Record<string, unknown>> })
      .Rules;
    for (const c of CATEGORIES) {
      expect(
        rules.filter((r) => r.Prefix === `logs/category=${c}/`).map((r) => r.ExpirationInDays),
        c,
      ).toEqual([DEFAULT_CONFIG.categories[c].expiryDays]);
    }
  });

  it('grants reading categories: their prefixes in their bucket, locked ones in the logs bucket too, decrypting through S3', () => {
    const { stack, storage, role } = build();

    storage.grantReadCategories(role, ['debug', 'security']);

    const statements = policyStatementsOf(Template.fromStack(stack), 'ReaderDefaultPolicy');
    expect(statements).toEqual<FlatStatement[]>([
      {
        effect: 'Allow',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [...prefixes('Audit', 'security'), ...prefixes('Logs', 'debug', 'security')].sort(),
        condition: '',
      },
      {
        effect: 'Allow',
        actions: ['s3:ListBucket'],
        resources: ['<StorageLogsBucket>'],
        condition:
          'StringLike s3:prefix=logs/category=debug/,logs/category=debug/*,logs/category=security/,logs/category=security/*',
      },
      {
        effect: 'Allow',
        actions: ['s3:GetBucketLocation'],
        resources: ['<StorageAuditBucket>', '<StorageLogsBucket>'],
        condition: '',
      },
      {
        effect: 'Allow',
        actions: ['s3:ListBucket'],
        resources: ['<StorageAuditBucket>'],
        condition: 'StringLike s3:prefix=logs/category=security/,logs/category=security/*',
      },
      { effect: 'Allow', actions: ['kms:Decrypt'], resources: ['<Key>'], condition: viaS3 },
    ]);
  });

  it('grants nothing for no category', () => {
    const { stack, storage, role } = build();

    const grant = storage.grantReadCategories(role, []);

    expect(grant.principalStatements).toEqual([]);
    expect(Template.fromStack(stack).findResources('AWS::IAM::Policy')).toEqual({});
  });

  it('grants writing categories under their prefixes in the logs bucket only, and refuses a locked one', () => {
    const { stack, storage, role } = build();

    storage.grantWriteCategories(role, ['runtime']);

    expect(policyStatementsOf(Template.fromStack(stack), 'ReaderDefaultPolicy')).toEqual<FlatStatement[]>([
      {
        effect: 'Allow',
        actions: ['s3:AbortMultipartUpload', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:PutObject'],
        resources: prefixes('Logs', 'runtime'),
        condition: '',
      },
      {
        effect: 'Allow',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['<Key>'],
        condition: viaS3,
      },
    ]);
    expect(() => storage.grantWriteCategories(role, ['audit'])).toThrow(
      /audit live in the Object Lock bucket/,
    );
  });

  it('grants reading the raw error output of both data buckets', () => {
    const { stack, storage, role } = build();

    storage.grantReadErrorOutput(role);

    const statements = policyStatementsOf(Template.fromStack(stack), 'ReaderDefaultPolicy');
    expect(statements.find((s) => s.actions.includes('s3:GetObject'))?.resources).toEqual([
      '<StorageAuditBucket>/errors/*',
      '<StorageLogsBucket>/errors/*',
    ]);
    expect(statements.filter((s) => s.actions.includes('s3:ListBucket')).map((s) => s.condition)).toEqual([
      'StringLike s3:prefix=errors/,errors/*',
    ]);
  });
});
