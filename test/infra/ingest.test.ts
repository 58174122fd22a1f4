/** `LogLakeIngest` alone on a bare stack: lanes, the producer grant, the pseudonym key and the metrics. */
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { LogLakeCatalog } from '../../lib/catalog';
import { TRANSFORM_METRICS } from '../../src/metrics';
import { RECORD_COLUMNS } from '../../src/schema';
import { transformOne } from '../transform/helpers';
import { bareStack, type FlatStatement, flat, policyStatementsOf, resourcesOf } from './helpers';
import { defaultIngest } from './parts';

function build(withAudit = true) {
  const { stack } = bareStack();
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const bucket = (id: string) => new s3.Bucket(stack, id, { encryptionKey: key, enforceSSL: true });
  const logs = bucket('LogsBucket');
  const audit = bucket('AuditBucket');
  const catalog = new LogLakeCatalog(stack, 'Catalog', {
    databaseName: 'lake',
    tables: {
      logs: { bucket: logs, categories: ['debug', 'runtime'], retentionDays: 30 },
      ...(withAudit && { audit: { bucket: audit, categories: ['audit'], retentionDays: 2555 } }),
    },
  });
  const ingest = defaultIngest(stack, key, {
    logs: { bucket: logs, table: catalog.tables.logs },
    ...(withAudit && catalog.tables.audit && { audit: { bucket: audit, table: catalog.tables.audit } }),
  });
  const role = new iam.Role(stack, 'Producer', { assumedBy: new iam.AccountRootPrincipal() });
  return { stack, ingest, role };
}

describe('LogLakeIngest', () => {
  it('creates one delivery stream and one transform function per destination', () => {
    const { stack } = build();
    const t = Template.fromStack(stack);

    expect(
      Object.values(resourcesOf(t, 'AWS::KinesisFirehose::DeliveryStream')).map(
        (s) => s.Properties.DeliveryStreamName,
      ),
    ).toEqual(['lake-audit', 'lake-logs']);
    expect(
      Object.keys(resourcesOf(t, 'AWS::Lambda::Function')).map((id) => id.replace(/[0-9A-F]{8}$/, '')),
    ).toEqual(['IngestAuditTransform', 'IngestLogsTransform']);
  });

  it('has the OpenX SerDe keep the case of JSON keys: map keys differing only in case are distinct', () => {
    // The transform keeps every field, so one row can hold keys that differ only in case; the OpenX
    // SerDe's default lowercases every key of the document, map keys included, and then fails the row
    // on the duplicate (format-conversion-failed) or folds `userId` into `userid`.
    const { records } = transformOne(
      JSON.stringify({ msg: 'x', Color: 'red', color: 'blue', Size: 1, size: 2 }),
    );
    expect(Object.keys(records[0]?.attributes ?? {})).toEqual(['Color', 'color']);
    expect(Object.keys(records[0]?.metrics ?? {})).toEqual(['Size', 'size']);
    // Matched by case, the record's own keys must be the Glue columns' names, which Glue keeps lowercase.
    expect(RECORD_COLUMNS.filter((c) => c.name !== c.name.toLowerCase())).toEqual([]);

    const { stack } = build();

    for (const s of Object.values(
      resourcesOf(Template.fromStack(stack), 'AWS::KinesisFirehose::DeliveryStream'),
    )) {
      const conversion = (s.Properties.ExtendedS3DestinationConfiguration as Record<string, unknown>)
        .DataFormatConversionConfiguration;
      expect(conversion).toMatchObject({
        InputFormatConfiguration: { Deserializer: { OpenXJsonSerDe: { CaseInsensitive: false } } },
      });
    }
  });

  it('grants producers PutRecord and PutRecordBatch on every stream, or on the ones named', () => {
    const { stack, ingest, role } = build();

    ingest.grantPutRecords(role);
    const other = new iam.Role(stack, 'AuditOnly', { assumedBy: new iam.AccountRootPrincipal() });
    ingest.grantPutRecords(other, ['audit']);

    const t = Template.fromStack(stack);
    expect(policyStatementsOf(t, 'ProducerDefaultPolicy')).toEqual<FlatStatement[]>([
      {
        effect: 'Allow',
        actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
        resources: ['<IngestAuditStream>', '<IngestLogsStream>'],
        condition: '',
      },
    ]);
    expect(policyStatementsOf(t, 'AuditOnlyDefaultPolicy').flatMap((s) => s.resources)).toEqual([
      '<IngestAuditStream>',
    ]);
  });

  it('grants reading the pseudonym key, decrypted through Secrets Manager only', () => {
    const { stack, ingest, role } = build();

    ingest.grantReadPseudonymKey(role);

    expect(policyStatementsOf(Template.fromStack(stack), 'ProducerDefaultPolicy')).toEqual<FlatStatement[]>([
      {
        effect: 'Allow',
        actions: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        resources: ['<IngestPseudonymKey>'],
        condition: '',
      },
      {
        effect: 'Allow',
        actions: ['kms:Decrypt'],
        resources: ['<Key>'],
        condition: 'StringEquals kms:ViaService=secretsmanager.eu-west-1.amazonaws.com',
      },
    ]);
  });

  it('names the metrics the pipeline alarms watch, per stream', () => {
    const { stack, ingest } = build();
    const resolve = (v: unknown) => flat(stack.resolve(v));

    const freshness = ingest.metricDeliveryFreshness({ stream: 'audit' });
    const success = ingest.metricDeliverySuccess();
    const errors = ingest.metricTransformErrors({ stream: 'audit', period: Duration.minutes(1) });

    expect([freshness.namespace, freshness.metricName, freshness.statistic]).toEqual([
      'AWS/Firehose',
      'DeliveryToS3.DataFreshness',
      'Maximum',
    ]);
    expect(resolve(freshness.dimensions)).toBe('<IngestAuditStream>');
    expect([success.metricName, success.statistic, resolve(success.dimensions)]).toEqual([
      'DeliveryToS3.Success',
      'Minimum',
      '<IngestLogsStream>',
    ]);
    expect([errors.namespace, errors.metricName, errors.period.toMinutes()]).toEqual([
      'AWS/Lambda',
      'Errors',
      1,
    ]);
    expect(resolve(errors.dimensions)).toBe('<IngestAuditTransform>');
  });

  it('names the ProcessingFailed metric as the transform handler emits it', () => {
    const { ingest } = build();

    const failed = ingest.metricProcessingFailed({ stream: 'audit' });

    expect([failed.namespace, failed.metricName, failed.statistic]).toEqual([
      TRANSFORM_METRICS.namespace,
      TRANSFORM_METRICS.names.records,
      'Sum',
    ]);
    expect(failed.dimensions).toEqual({
      service: 'loglake-transform',
      Stream: 'audit',
      Result: 'ProcessingFailed',
    });
  });

  it('names the re-ingestion and audit-forwarding failures as the transform handler emits them', () => {
    const { ingest } = build();

    const reingest = ingest.metricReingestFailed();
    const forward = ingest.metricAuditForwardFailed({ stream: 'logs', period: Duration.minutes(1) });

    expect([reingest.namespace, reingest.metricName, reingest.statistic]).toEqual([
      TRANSFORM_METRICS.namespace,
      TRANSFORM_METRICS.names.reingestFailed,
      'Sum',
    ]);
    expect(reingest.dimensions).toEqual({ service: 'loglake-transform', Stream: 'logs' });
    expect([forward.metricName, forward.period.toMinutes()]).toEqual([
      TRANSFORM_METRICS.names.auditForwardFailed,
      1,
    ]);
  });

  it('refuses a metric or grant of a stream it does not have', () => {
    const { ingest, role } = build(false);

    expect(() => ingest.metricIncomingRecords({ stream: 'audit' })).toThrow(/no audit stream/);
    expect(() => ingest.grantPutRecords(role, ['audit'])).toThrow(/no audit stream/);
  });
});
