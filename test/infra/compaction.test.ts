import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { COMPACT_ENV } from '../../lambdas/compact/constants';
import { COMPACTION_PREFIX, LogLakeCompaction } from '../../lib/compaction';
import { DEFAULT_CONFIG } from '../../src/config';
import { resourcesOf, template } from './helpers';

type Json = Record<string, unknown>;

/** The construct alone in a bare stack, bundling skipped (as the other infra tests do). */
function bare(): { stack: Stack; compaction: LogLakeCompaction; t: Template } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Bare');
  const key = new kms.Key(stack, 'Key');
  const bucket = new s3.Bucket(stack, 'Logs', { encryptionKey: key, encryption: s3.BucketEncryption.KMS });
  const results = new s3.Bucket(stack, 'Results');
  const compaction = new LogLakeCompaction(stack, 'Compaction', {
    bucket,
    encryptionKey: key,
    categories: ['runtime', 'api_access'],
    databaseName: 'lake',
    tableName: 'logs',
    workGroupName: 'lake-wg',
    resultsBucket: results,
    resultsPrefix: 'athena/',
    settings: DEFAULT_CONFIG.compaction,
    logRetentionDays: 30,
  });
  return { stack, compaction, t: Template.fromStack(stack) };
}

/** Every statement of the compaction function's role policies. */
function statements(t: Template): Json[] {
  return Object.entries(resourcesOf(t, 'AWS::IAM::Policy'))
    .filter(([id]) => id.startsWith('CompactionFunctionRole') || id.includes('CompactionFunctionRole'))
    .flatMap(([, p]) => ((p.Properties.PolicyDocument as Json).Statement as Json[]) ?? []);
}

function sid(t: Template, name: string): Json {
  const s = statements(t).find((x) => x.Sid === name);
  if (!s) throw new Error(`no statement ${name}`);
  return s;
}

const text = (v: unknown) => JSON.stringify(v);

describe('LogLakeCompaction', () => {
  it('runs the compaction Lambda hourly with its settings, and does not retry a failed run at once', () => {
    const { t } = bare();

    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [
        Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 3600 } }),
      ],
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 900,
      Environment: {
        Variables: Match.objectLike({
          [COMPACT_ENV.workgroup]: 'lake-wg',
          [COMPACT_ENV.database]: 'lake',
          [COMPACT_ENV.table]: 'logs',
          [COMPACT_ENV.settings]: JSON.stringify({
            categories: ['runtime', 'api_access'],
            closedAfterMinutes: 30,
            lookbackHours: 48,
            targetFileMiB: 128,
          }),
        }),
      },
      KmsKeyArn: Match.anyValue(),
    });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
  });

  it('expires staged rewrites an interrupted run left, under its own prefix only', () => {
    const { t } = bare();

    t.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Id: 'ExpireCompactionStaging',
            Prefix: `${COMPACTION_PREFIX}staging/`,
            ExpirationInDays: 7,
          }),
        ]),
      },
    });
  });

  it('may read, replace and delete objects only under the compacted categories and its own prefix', () => {
    const { t } = bare();

    const rewrite = text(sid(t, 'RewriteCompactableObjects'));
    expect(sid(t, 'RewriteCompactableObjects').Action).toEqual([
      's3:GetObject',
      's3:PutObject',
      's3:DeleteObject',
      's3:AbortMultipartUpload',
    ]);
    expect(rewrite).toContain('/logs/category=runtime/*');
    expect(rewrite).toContain('/logs/category=api_access/*');
    expect(rewrite).toContain(`/${COMPACTION_PREFIX}*`);
    const all = text(statements(t));
    for (const other of [
      'category=security',
      'category=audit',
      'category=debug',
      'errors/',
      '"arn:aws:s3:::*"',
    ]) {
      expect(all).not.toContain(other);
    }
    expect(sid(t, 'ListCompactablePrefixes').Condition).toEqual({
      StringLike: {
        's3:prefix': ['logs/category=runtime/*', 'logs/category=api_access/*', `${COMPACTION_PREFIX}*`],
      },
    });
  });

  it('queries through its workgroup and creates and drops only compaction_* tables', () => {
    const { t } = bare();

    expect(text(sid(t, 'RunRewritesInTheWorkgroup').Resource)).toContain('workgroup/lake-wg');
    expect(sid(t, 'TemporaryRewriteTables').Action).toEqual([
      'glue:CreateTable',
      'glue:DeleteTable',
      'glue:GetTable',
    ]);
    expect(text(sid(t, 'TemporaryRewriteTables').Resource)).toContain('table/lake/compaction_*');
    expect(text(sid(t, 'ReadTheLakeTable').Resource)).toContain('table/lake/logs');
    expect(text(statements(t))).not.toMatch(/glue:(CreateTable|DeleteTable)[^\]]*table\/lake\/logs/);
  });

  it('has no unacknowledged cdk-nag finding in a bare stack', () => {
    const { stack } = bare();

    const findings = [new AwsSolutionsChecks(), new NIST80053R5Checks()].flatMap((pack) =>
      pack
        .validateScope(stack.node.findChild('Compaction'))
        .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`)),
    );

    expect(findings).toEqual([]);
  });

  it('refuses to be built without a category', () => {
    const stack = new Stack(new App(), 'Empty');
    const key = new kms.Key(stack, 'Key');

    expect(
      () =>
        new LogLakeCompaction(stack, 'Compaction', {
          bucket: new s3.Bucket(stack, 'B'),
          encryptionKey: key,
          categories: [],
          databaseName: 'lake',
          tableName: 'logs',
          workGroupName: 'wg',
          resultsBucket: new s3.Bucket(stack, 'R'),
          resultsPrefix: 'r/',
          settings: DEFAULT_CONFIG.compaction,
          logRetentionDays: 30,
        }),
    ).toThrow(/no category/);
  });
});

describe('LogLake compaction wiring', () => {
  it('compacts the unlocked categories of the logs bucket by default', () => {
    const t = template();

    const fns = Object.values(resourcesOf(t, 'AWS::Lambda::Function')).filter((f) =>
      text(f.Properties.Environment).includes(COMPACT_ENV.settings),
    );
    expect(fns).toHaveLength(1);
    const settings = JSON.parse(
      ((fns[0]?.Properties.Environment as Json).Variables as Json)[COMPACT_ENV.settings] as string,
    ) as { categories: string[] };
    expect(settings.categories).toEqual(['debug', 'runtime', 'framework', 'errors', 'api_access']);
  });

  it('leaves compaction out when it is turned off', () => {
    const t = template({ override: { compaction: { enabled: false } } });

    expect(text(resourcesOf(t, 'AWS::Lambda::Function'))).not.toContain(COMPACT_ENV.settings);
  });

  it('buffers each stream as configured (the audit stream longer by default)', () => {
    const t = template({
      override: { firehose: { streams: { audit: { bufferIntervalSeconds: 900, bufferSizeMiB: 128 } } } },
    });

    const hints = Object.values(resourcesOf(t, 'AWS::KinesisFirehose::DeliveryStream')).map((s) => [
      (s.Properties.DeliveryStreamName as string).split('-').pop(),
      ((s.Properties.ExtendedS3DestinationConfiguration as Json).BufferingHints as Json).IntervalInSeconds,
    ]);
    expect(Object.fromEntries(hints)).toEqual({ logs: 60, audit: 900 });
  });
});
