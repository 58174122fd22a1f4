/**
 * `LogLake`'s own API in a stack of a user's: the grant methods give a principal exactly what it needs,
 * and the metric methods name what the pipeline alarms watch.
 */
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { type ILogLake, LogLake } from '../../lib/log-lake';
import type { LogLakeConfigOverride } from '../../src/config';
import { bareStack, flat, policyStatementsOf } from './helpers';

function build(config: LogLakeConfigOverride = {}) {
  const { stack } = bareStack();
  const lake = new LogLake(stack, 'Lake', {
    config: { name: 'lake', alerts: { enabled: false }, ...config },
  });
  const role = new iam.Role(stack, 'App', { assumedBy: new iam.AccountRootPrincipal() });
  return { stack, lake, role };
}

const objectReads = (t: Template) =>
  policyStatementsOf(t, 'AppDefaultPolicy')
    .filter((s) => s.actions.includes('s3:GetObject'))
    .flatMap((s) => s.resources)
    .sort();

describe('LogLake grants', () => {
  it('grantPutRecords: PutRecord and PutRecordBatch on both streams', () => {
    const { stack, lake, role } = build();

    lake.grantPutRecords(role);

    expect(policyStatementsOf(Template.fromStack(stack), 'AppDefaultPolicy')).toEqual([
      {
        effect: 'Allow',
        actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
        resources: ['<LakeIngestAuditStream>', '<LakeIngestLogsStream>'],
        condition: '',
      },
    ]);
  });

  it('grantQuery with a persona: its workgroup, its results prefix and its categories only', () => {
    const { stack, lake, role } = build();

    lake.grantQuery(role, 'auditor');

    const t = Template.fromStack(stack);
    const statements = policyStatementsOf(t, 'AppDefaultPolicy');
    expect(
      statements.filter((s) => s.actions.includes('athena:StartQueryExecution')).flatMap((s) => s.resources),
    ).toEqual(['arn:aws:athena:eu-west-1:123456789012:workgroup/lake-auditor']);
    expect(objectReads(t)).toEqual([
      '<LakeStorageAuditBucket>/logs/category=audit/*',
      '<LakeStorageAuditBucket>/logs/category=security/*',
      '<LakeStorageLogsBucket>/logs/category=audit/*',
      '<LakeStorageLogsBucket>/logs/category=errors/*',
      '<LakeStorageLogsBucket>/logs/category=framework/*',
      '<LakeStorageLogsBucket>/logs/category=security/*',
      '<LakeStorageQueryResultsBucket>/personas/auditor/*',
    ]);
  });

  it('grantQuery without a persona: the main workgroup and every category', () => {
    const { stack, lake, role } = build();

    lake.grantQuery(role);

    const t = Template.fromStack(stack);
    expect(flat(policyStatementsOf(t, 'AppDefaultPolicy').map((s) => s.resources))).toContain(
      ':workgroup/lake ',
    );
    expect(objectReads(t)).toHaveLength(7 + 2 + 1);
  });

  it('grantReadCategories: objects and table of the categories, no workgroup, no results', () => {
    const { stack, lake, role } = build();

    lake.grantReadCategories(role, ['errors']);

    const statements = policyStatementsOf(Template.fromStack(stack), 'AppDefaultPolicy');
    expect(statements.map((s) => s.actions.join(','))).toEqual([
      's3:GetObject,s3:GetObjectVersion',
      's3:ListBucket',
      's3:GetBucketLocation',
      'kms:Decrypt',
      'glue:GetDatabase,glue:GetPartition,glue:GetPartitions,glue:GetTable,glue:GetTables',
    ]);
    expect(statements[0]?.resources).toEqual(['<LakeStorageLogsBucket>/logs/category=errors/*']);
    expect(statements[4]?.resources.some((r) => r.endsWith(':table/lake/audit'))).toBe(false);
  });

  it('grantReadCategories of a locked category: both buckets and both tables', () => {
    const { stack, lake, role } = build();

    lake.grantReadCategories(role, ['security']);

    const t = Template.fromStack(stack);
    expect(objectReads(t)).toEqual([
      '<LakeStorageAuditBucket>/logs/category=security/*',
      '<LakeStorageLogsBucket>/logs/category=security/*',
    ]);
    expect(
      policyStatementsOf(t, 'AppDefaultPolicy')
        .filter((s) => s.actions.includes('glue:GetPartitions'))
        .flatMap((s) => s.resources)
        .filter((r) => r.includes(':table/')),
    ).toEqual([
      'arn:aws:glue:eu-west-1:123456789012:table/lake/audit',
      'arn:aws:glue:eu-west-1:123456789012:table/lake/logs',
    ]);
  });
});

describe('LogLake catalog', () => {
  it('projects every category on the logs table, over the longest retention; the locked ones on audit', () => {
    const { stack } = build();

    const tables = Template.fromStack(stack).findResources('AWS::Glue::Table');

    const projected = Object.values(tables).map((r) => {
      const input = r.Properties.TableInput as { Name: string; Parameters: Record<string, string> };
      return [
        input.Name,
        input.Parameters['projection.category.values'],
        input.Parameters['projection.dt.range'],
      ];
    });
    expect(projected).toEqual([
      ['logs', 'debug,runtime,framework,errors,api_access,security,audit', 'NOW-2555DAYS,NOW+1DAYS'],
      ['audit', 'security,audit', 'NOW-2555DAYS,NOW+1DAYS'],
    ]);
  });
});

describe('LogLake metrics', () => {
  it('returns the stream’s Firehose and transform metrics, logs by default', () => {
    const { stack, lake } = build();
    const watched: ILogLake = lake;

    const incoming = watched.metricIncomingRecords();
    const duration = watched.metricTransformDuration({ stream: 'audit' });

    expect([incoming.namespace, incoming.metricName, flat(stack.resolve(incoming.dimensions))]).toEqual([
      'AWS/Firehose',
      'IncomingRecords',
      '<LakeIngestLogsStream>',
    ]);
    expect([duration.namespace, duration.metricName, flat(stack.resolve(duration.dimensions))]).toEqual([
      'AWS/Lambda',
      'Duration',
      '<LakeIngestAuditTransform>',
    ]);
    expect(lake.metricProcessingFailed({ stream: 'audit' }).dimensions).toMatchObject({ Stream: 'audit' });
  });

  it('returns the log groups left out at the filter limit only when a prefix is subscribed', () => {
    const { lake: withPrefix } = build({ sources: { cloudWatchLogs: { logGroupPrefixes: ['/ecs/'] } } });
    const { lake: without } = build();

    const metric = withPrefix.metricLogGroupsAtFilterLimit({ period: Duration.minutes(15) });

    expect([metric?.namespace, metric?.metricName, metric?.dimensions, metric?.statistic]).toEqual([
      'LogLake',
      'LogGroupsAtFilterLimit',
      { service: 'loglake-subscriber' },
      'Sum',
    ]);
    expect(metric?.period.toMinutes()).toBe(15);
    expect(without.metricLogGroupsAtFilterLimit()).toBeUndefined();
  });

  it('refuses a metric of the audit stream when no category is locked', () => {
    const { lake } = build({ categories: { security: { locked: false }, audit: { locked: false } } });

    expect(() => lake.metricDeliveryFreshness({ stream: 'audit' })).toThrow(/no audit stream/);
  });
});
