import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { COMPACT_ENV } from '../../lambdas/compact/constants';
import { LogLakeCompaction } from '../../lib/compaction';
import { LogLake } from '../../lib/log-lake';
import { RewriteWorkGroup } from '../../lib/private/object-rewrite';
import { COMPACTION_PREFIX } from '../../src/compaction/objects';
import { DEFAULT_CONFIG } from '../../src/config';
import { resourcesOf, template } from './helpers';

type Json = Record<string, unknown>;

/**
 * The construct added to a lake built without its own compaction, bundling skipped (as the other infra
 * tests do), compacting two categories.
 */
function bare(): { stack: Stack; compaction: LogLakeCompaction; t: Template } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Bare');
  const lake = new LogLake(stack, 'Lake', {
    config: { name: 'lake', compaction: { enabled: false }, alerts: { enabled: false } },
  });
  const compaction = new LogLakeCompaction(stack, 'Compaction', {
    lake,
    categories: ['runtime', 'api_access'],
    settings: DEFAULT_CONFIG.compaction,
    logRetentionDays: 30,
  });
  return { stack, compaction, t: Template.fromStack(stack) };
}

/** Every statement of the compaction function's role policies. */
function statements(t: Template): Json[] {
  return Object.entries(resourcesOf(t, 'AWS::IAM::Policy'))
    .filter(([id]) => id.startsWith('CompactionFunctionRole'))
    .flatMap(([, p]) => ((p.Properties.PolicyDocument as Json).Statement as Json[]) ?? []);
}

/** Statements granting `action`. */
function granting(t: Template, action: string): Json[] {
  return statements(t).filter((s) => ([] as unknown[]).concat(s.Action).includes(action));
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
          [COMPACT_ENV.workgroup]: 'lake-compaction',
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

  it('expires staged rewrites and query results an interrupted run left, under its own prefix only', () => {
    const { t } = bare();

    t.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            Id: 'ExpireCompactionStaging',
            Prefix: `${COMPACTION_PREFIX}staging/`,
            ExpirationInDays: 7,
          }),
          Match.objectLike({
            Id: 'ExpireCompactionResults',
            Prefix: `${COMPACTION_PREFIX}results/`,
            ExpirationInDays: 7,
          }),
        ]),
      },
    });
  });

  it('may read, replace and delete objects only under the compacted categories and its own prefix', () => {
    const { t } = bare();

    const deletes = text(granting(t, 's3:DeleteObject'));
    expect(deletes).toContain('/logs/category=runtime/*');
    expect(deletes).toContain('/logs/category=api_access/*');
    expect(deletes).toContain(`/${COMPACTION_PREFIX}*`);
    expect(text(granting(t, 's3:GetObject'))).toContain('/logs/category=runtime/*');
    const all = text(statements(t));
    for (const other of [
      'category=security',
      'category=audit',
      'category=debug',
      'errors/',
      '"arn:aws:s3:::*"',
      'AuditBucket',
    ]) {
      expect(all).not.toContain(other);
    }
    const listings = granting(t, 's3:ListBucket').map(
      (s) => ((s.Condition as Json).StringLike as Json)['s3:prefix'],
    );
    expect(listings).toContainEqual([
      'logs/category=runtime/',
      'logs/category=runtime/*',
      'logs/category=api_access/',
      'logs/category=api_access/*',
    ]);
    expect(listings).toContainEqual([COMPACTION_PREFIX, `${COMPACTION_PREFIX}*`]);
    for (const s of granting(t, 'kms:GenerateDataKey')) {
      expect(text(s.Condition)).toContain('kms:ViaService');
    }
  });

  it('rewrites in its own workgroup, which lets a CTAS name its location and encrypts results with the lake key', () => {
    const { t } = bare();

    t.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'lake-compaction',
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: false,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: Match.objectLike({
          EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: Match.anyValue() },
          OutputLocation: Match.objectLike({
            'Fn::Join': Match.arrayWith([Match.arrayWith(['/compaction/results/'])]),
          }),
        }),
      }),
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [COMPACT_ENV.workgroup]: 'lake-compaction' }) },
    });
  });

  it('runs queries only in its own workgroup and creates and drops only compaction_* tables', () => {
    const { t } = bare();

    const athena = granting(t, 'athena:StartQueryExecution');
    expect(athena).toHaveLength(1);
    expect(athena[0]?.Action).toEqual([
      'athena:StartQueryExecution',
      'athena:GetQueryExecution',
      'athena:GetQueryResults',
      'athena:StopQueryExecution',
      'athena:GetWorkGroup',
    ]);
    expect(text(athena[0]?.Resource)).toContain('workgroup/lake-compaction"');
    const creates = granting(t, 'glue:CreateTable');
    expect(creates).toHaveLength(1);
    expect(creates[0]?.Action).toEqual(['glue:CreateTable', 'glue:DeleteTable', 'glue:GetTable']);
    expect(text(creates[0]?.Resource)).toContain('table/lake/compaction_*');
    expect(text(creates[0]?.Resource)).not.toContain('table/lake/logs');
    expect(text(granting(t, 'glue:GetPartitions'))).toContain('table/lake/logs');
  });

  it('keeps the workgroup logical id: a replacement of a named workgroup would fail', () => {
    const { stack, compaction } = bare();
    // Where the workgroup was before it had a construct of its own: a direct child of the compaction.
    const before = new Stack(new App(), 'Before');
    const direct = new athena.CfnWorkGroup(new Construct(before, 'Compaction'), 'WorkGroup', { name: 'x' });

    expect(stack.getLogicalId(compaction.workGroup)).toBe(before.getLogicalId(direct));
  });

  it('RewriteWorkGroup.grantQuery grants running queries in that workgroup only', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Grant');
    const lake = new LogLake(stack, 'Lake', {
      config: { name: 'lake', compaction: { enabled: false }, alerts: { enabled: false } },
    });
    const workGroup = new RewriteWorkGroup(stack, 'WorkGroup', {
      lake,
      name: 'lake-rewrites',
      description: 'test',
      resultsPrefix: 'compaction/test-results/',
    });
    const role = new iam.Role(stack, 'Runner', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });

    const grant = workGroup.grantQuery(role);

    expect(grant.success).toBe(true);
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Runner') }],
      PolicyDocument: {
        Statement: [
          {
            Effect: 'Allow',
            Action: [
              'athena:StartQueryExecution',
              'athena:GetQueryExecution',
              'athena:GetQueryResults',
              'athena:StopQueryExecution',
              'athena:GetWorkGroup',
            ],
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':athena:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':workgroup/lake-rewrites',
                ],
              ],
            },
          },
        ],
      },
    });
  });

  it('refuses a locked category: its objects cannot be deleted under Object Lock', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Locked');
    const lake = new LogLake(stack, 'Lake', { config: { compaction: { enabled: false } } });

    expect(
      () =>
        new LogLakeCompaction(stack, 'Compaction', {
          lake,
          categories: ['runtime', 'audit'],
          settings: DEFAULT_CONFIG.compaction,
          logRetentionDays: 30,
        }),
    ).toThrow(/audit are under Object Lock/);
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
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Empty');
    const lake = new LogLake(stack, 'Lake', { config: { compaction: { enabled: false } } });

    expect(
      () =>
        new LogLakeCompaction(stack, 'Compaction', {
          lake,
          categories: [],
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
    const [fn, ...others] = fns;
    if (!fn || others.length > 0) throw new Error(`expected one compaction function, found ${fns.length}`);
    const settings = JSON.parse(
      ((fn.Properties.Environment as Json).Variables as Json)[COMPACT_ENV.settings] as string,
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
      s.Properties.DeliveryStreamName as string,
      ((s.Properties.ExtendedS3DestinationConfiguration as Json).BufferingHints as Json).IntervalInSeconds,
    ]);
    // The WAF stream buffers as the logs stream does: it feeds the same table.
    expect(Object.fromEntries(hints)).toEqual({
      'loglake-logs': 60,
      'loglake-audit': 900,
      'aws-waf-logs-loglake': 60,
    });
  });
});
