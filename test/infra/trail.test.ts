/**
 * The optional CloudTrail trail (`accessAudit.trail`): what it records (advanced event selectors over the
 * lake's buckets), where it writes (the Object Lock bucket, KMS, log file validation), who CloudTrail may
 * act for (confused-deputy conditions), how it is queried (a Glue table with projection) and by whom.
 */
import { describe, expect, it } from 'vitest';
import { STACK_OUTPUTS } from '../../src/outputs';
import { flat, policyStatementsOf, resourceNamed, resourcesOf, template } from './helpers';

type Props = Record<string, unknown>;
type Selector = { Name: string; FieldSelectors: Array<Record<string, unknown>> };

const withTrail = { override: { accessAudit: { trail: { enabled: true } } } };
const trailOf = (t: ReturnType<typeof template>) => {
  const trails = Object.values(resourcesOf(t, 'AWS::CloudTrail::Trail'));
  expect(trails).toHaveLength(1);
  return trails[0]?.Properties as Props;
};
const field = (s: Selector | undefined, name: string) =>
  s?.FieldSelectors.find((f) => f.Field === name) as Record<string, unknown> | undefined;

describe('the CloudTrail trail', () => {
  it('is absent by default (data events cost per event; an organisation trail may record them)', () => {
    const t = template();
    expect(Object.keys(resourcesOf(t, 'AWS::CloudTrail::Trail'))).toEqual([]);
    expect(t.toJSON().Outputs[STACK_OUTPUTS.trailTable]).toBeUndefined();
  });

  it('records reads, deletions and lock changes of every lake bucket, and management events without KMS', () => {
    const trail = trailOf(template(withTrail));
    const selectors = trail.AdvancedEventSelectors as Selector[];
    expect(selectors.map((s) => s.Name)).toEqual([
      'Reads of the lake objects',
      'Deletions and lock changes of the lake objects',
      'Management events without KMS',
    ]);
    const [reads, changes, management] = selectors;
    const watched = ((field(reads, 'resources.ARN')?.StartsWith ?? []) as unknown[]).map(flat).sort();
    expect(watched).toEqual([
      '<LogLakeStorageAuditBucket>/',
      '<LogLakeStorageLogsBucket>/',
      '<LogLakeStorageQueryResultsBucket>/',
    ]);
    expect(field(reads, 'readOnly')?.Equals).toEqual(['true']);
    expect(field(reads, 'resources.type')?.Equals).toEqual(['AWS::S3::Object']);
    // The delivery streams' PutObject is not recorded: it would only mirror the delivered objects.
    expect(field(changes, 'eventName')?.Equals).toEqual(
      expect.arrayContaining(['DeleteObject', 'PutObjectRetention']),
    );
    expect(field(changes, 'eventName')?.Equals).not.toContain('PutObject');
    expect(field(management, 'eventSource')?.NotEquals).toEqual(['kms.amazonaws.com']);
  });

  it('leaves management events out when asked', () => {
    const trail = trailOf(
      template({ override: { accessAudit: { trail: { enabled: true, managementEvents: false } } } }),
    );
    expect((trail.AdvancedEventSelectors as Selector[]).map((s) => s.Name)).not.toContain(
      'Management events without KMS',
    );
  });

  it('writes KMS-encrypted, validated files under cloudtrail/ of the Object Lock bucket, expired with the audit category', () => {
    const t = template(withTrail);
    const trail = trailOf(t);
    expect(flat(trail.S3BucketName)).toBe('<LogLakeStorageAuditBucket>');
    expect(trail.S3KeyPrefix).toBe('cloudtrail');
    expect(flat(trail.KMSKeyId)).toBe('<LogLakeKey>');
    expect(trail.EnableLogFileValidation).toBe(true);
    expect(trail.IsLogging).toBe(true);
    const [, bucket] = resourceNamed(t, 'AWS::S3::Bucket', 'LogLakeStorageAuditBucket');
    const rules = (bucket.Properties.LifecycleConfiguration as { Rules: Props[] }).Rules;
    expect(rules.find((r) => r.Id === 'CloudTrail')).toMatchObject({
      Prefix: 'cloudtrail/',
      ExpirationInDays: 2555,
      Status: 'Enabled',
    });
  });

  it('lets CloudTrail write and encrypt only for this trail (aws:SourceArn)', () => {
    const t = template(withTrail);
    const [, policy] = resourceNamed(t, 'AWS::S3::BucketPolicy', 'LogLakeStorageAuditBucketPolicy');
    const statements = (policy.Properties.PolicyDocument as { Statement: Props[] }).Statement;
    const write = statements.find((s) => s.Sid === 'CloudTrailWrite');
    expect(flat(write?.Resource)).toMatch(/^<LogLakeStorageAuditBucket>\/cloudtrail\/AWSLogs\/.+\/\*$/);
    expect(flat((write?.Condition as Props | undefined)?.StringEquals)).toContain(':trail/loglake-access');
    expect(flat(statements.find((s) => s.Sid === 'CloudTrailAclCheck')?.Condition)).toContain(
      ':trail/loglake-access',
    );
    const [, key] = resourceNamed(t, 'AWS::KMS::Key', 'LogLakeKey');
    const keyStatement = (key.Properties.KeyPolicy as { Statement: Props[] }).Statement.find(
      (s) => s.Sid === 'CloudTrailEncryptsThisTrail',
    );
    expect([keyStatement?.Action].flat().sort()).toEqual(['kms:DescribeKey', 'kms:GenerateDataKey*']);
    const condition = keyStatement?.Condition as Record<string, Props>;
    expect(flat(condition.StringEquals?.['aws:SourceArn'])).toContain(':trail/loglake-access');
    expect(flat(condition.StringLike?.['kms:EncryptionContext:aws:cloudtrail:arn'])).toContain(
      ':trail/loglake-access',
    );
  });

  it('is queryable: a Glue table with day projection over the delivered files, named in the outputs', () => {
    const t = template(withTrail);
    const tables = Object.values(resourcesOf(t, 'AWS::Glue::Table')).map(
      (r) => r.Properties.TableInput as Props,
    );
    const table = tables.find((x) => x.Name === 'cloudtrail');
    const parameters = table?.Parameters as Record<string, unknown>;
    expect(parameters['projection.day.format']).toBe('yyyy/MM/dd');
    expect(parameters['projection.day.range']).toBe('NOW-2555DAYS,NOW+1DAYS');
    expect(flat(parameters['storage.location.template'])).toMatch(
      /^s3:\/\/<LogLakeStorageAuditBucket>\/cloudtrail\/AWSLogs\/.+\/CloudTrail\/.+\/\$\{day\}\/$/,
    );
    // One row per delivered file, read by the OpenX JSON SerDe (Athena and Trino both have it; the
    // query and the files are run on Trino by test/trino/cloudtrail.test.ts).
    const storage = table?.StorageDescriptor as Props;
    expect(storage.InputFormat).toBe('org.apache.hadoop.mapred.TextInputFormat');
    expect((storage.SerdeInfo as Props).SerializationLibrary).toBe('org.openx.data.jsonserde.JsonSerDe');
    const columns = storage.Columns as Props[];
    expect(columns.map((c) => c.Name)).toEqual(['records']);
    for (const field of [
      'useridentity:struct<',
      'eventname:string',
      'eventsource:string',
      'eventtime:string',
    ]) {
      expect(columns[0]?.Type).toContain(field);
    }
    expect(columns[0]?.Type).toMatch(/^array<struct<.*>>$/);
    expect(t.toJSON().Outputs[STACK_OUTPUTS.trailTable]?.Value).toBe('cloudtrail');
  });

  it('is read by the personas that read the audit category, and by no other', () => {
    const t = template(withTrail);
    const readsTrail = (persona: string) =>
      policyStatementsOf(t, `LogLakeAccess${persona}Policy`).some((s) =>
        s.resources.some((r) => r.endsWith('/cloudtrail/*')),
      );
    expect(readsTrail('Auditor')).toBe(true);
    expect(readsTrail('Security')).toBe(true);
    expect(readsTrail('Developer')).toBe(false);
    const tableGrant = policyStatementsOf(t, 'LogLakeAccessAuditorPolicy').find(
      (s) => s.actions.includes('glue:GetPartitions') && s.resources.some((r) => r.endsWith('/cloudtrail')),
    );
    expect(tableGrant).toBeDefined();
  });

  it('writes into the logs bucket when no category is locked', () => {
    const trail = trailOf(
      template({
        override: {
          accessAudit: { trail: { enabled: true } },
          categories: { security: { locked: false }, audit: { locked: false } },
        },
      }),
    );
    expect(flat(trail.S3BucketName)).toBe('<LogLakeStorageLogsBucket>');
  });
});
