import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { DATA_OUTPUT_PREFIX, ERROR_OUTPUT_PREFIX } from '../../lib/ingest';
import { LogLake } from '../../lib/log-lake';
import { NAMED_QUERIES } from '../../lib/query';
import { DEFAULT_CONFIG, lockedCategories } from '../../src/config';
import { alertStateTableOf, pascalCase } from '../../src/outputs';
import { CATEGORIES, PARTITION_COLUMNS, PERSONAS, RECORD_COLUMNS } from '../../src/schema';
import { resourceNamed, resourcesOf, template } from './helpers';

const LOCKED = lockedCategories(DEFAULT_CONFIG);

type Json = Record<string, unknown>;
type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: unknown;
  Condition?: Json;
};

function logicalId(prefix: string, type: string): string {
  return resourceNamed(template(), type, prefix)[0];
}
const keyArn = () => ({ 'Fn::GetAtt': [logicalId('LogLakeKey', 'AWS::KMS::Key'), 'Arn'] });
const bucketRef = (name: 'Logs' | 'Audit' | 'AccessLogs' | 'QueryResults') => ({
  Ref: logicalId(`LogLakeStorage${name}Bucket`, 'AWS::S3::Bucket'),
});
const bucketProps = (name: 'Logs' | 'Audit' | 'AccessLogs' | 'QueryResults') =>
  resourceNamed(template(), 'AWS::S3::Bucket', `LogLakeStorage${name}Bucket`)[1].Properties;
const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
/** Every string in a CloudFormation value, with Fn::Join parts concatenated and refs as `<Id>`. */
function flat(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(flat).join(' ');
  if (v && typeof v === 'object') {
    const o = v as Json;
    if ('Fn::Join' in o) return ((o['Fn::Join'] as [string, unknown[]])[1] ?? []).map(flat).join('');
    if ('Ref' in o) return `<${String(o.Ref)}>`;
    if ('Fn::GetAtt' in o) return `<${(o['Fn::GetAtt'] as string[]).join('.')}>`;
    return Object.values(o).map(flat).join(' ');
  }
  return String(v);
}
function bucketPolicyStatements(bucket: 'Logs' | 'Audit'): Statement[] {
  const policy = Object.values(resourcesOf(template(), 'AWS::S3::BucketPolicy')).find(
    (p) => flat(p.Properties.Bucket) === flat(bucketRef(bucket)),
  );
  if (!policy) throw new Error(`no bucket policy for ${bucket}`);
  return (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
}
function policyStatements(prefix: string, type = 'AWS::IAM::ManagedPolicy'): Statement[] {
  const [, res] = resourceNamed(template(), type, prefix);
  return (res.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
}

describe('LogLake key', () => {
  it('rotates the customer-managed key', () => {
    template().hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('names CloudWatch Logs as the only service principal, bound to this account’s log groups', () => {
    const [, key] = resourceNamed(template(), 'AWS::KMS::Key', 'LogLakeKey');
    const statements = (key.Properties.KeyPolicy as { Statement: Statement[] }).Statement;
    const services = statements.flatMap((s) => {
      const p = s.Principal as { Service?: unknown } | undefined;
      return p?.Service ? [flat(p.Service)] : [];
    });
    expect(services).toEqual(['logs.<AWS::Region>.amazonaws.com']);
    const logs = statements.find((s) => flat(s.Principal).includes('logs.'));
    expect(flat(logs?.Condition)).toContain(':logs:<AWS::Region>:<AWS::AccountId>:log-group:*');
  });
});

describe('LogLake logs bucket', () => {
  it('encrypts with the key and a bucket key, blocks public access and keeps versions', () => {
    const props = bucketProps('Logs');
    expect(props.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: keyArn() },
        },
      ],
    });
    expect(props.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(props.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  it('sends server access logs to the separate access-logs bucket', () => {
    expect(bucketProps('Logs').LoggingConfiguration).toEqual({
      DestinationBucketName: bucketRef('AccessLogs'),
      LogFilePrefix: 'logs/',
    });
    expect(bucketProps('AccessLogs').LoggingConfiguration).toBeUndefined();
  });

  it('denies every request that does not use TLS', () => {
    const statements = bucketPolicyStatements('Logs');
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
    );
  });

  it('has one lifecycle rule per category prefix with its tiers and expiry, small objects included', () => {
    const rules = (bucketProps('Logs').LifecycleConfiguration as { Rules: Json[] }).Rules;
    for (const c of CATEGORIES) {
      const policy = DEFAULT_CONFIG.categories[c];
      const rule = rules.filter((r) => r.Prefix === `logs/category=${c}/`);
      expect(rule, c).toHaveLength(1);
      expect(rule[0]).toMatchObject({ Status: 'Enabled', ExpirationInDays: policy.expiryDays });
      const transitions = (rule[0]?.Transitions as Json[] | undefined) ?? [];
      expect(transitions.map((t) => [t.StorageClass, t.TransitionInDays])).toEqual(
        policy.transitions.map((t) => [
          {
            STANDARD_IA: 'STANDARD_IA',
            GLACIER_IR: 'GLACIER_IR',
            GLACIER: 'GLACIER',
            DEEP_ARCHIVE: 'DEEP_ARCHIVE',
          }[t.storageClass as string],
          t.afterDays,
        ]),
      );
      expect(rule[0]?.ObjectSizeGreaterThan).toBe(policy.transitions.length > 0 ? '0' : undefined);
    }
  });

  it('expires raw error output, old versions and incomplete uploads', () => {
    const rules = (bucketProps('Logs').LifecycleConfiguration as { Rules: Json[] }).Rules;
    expect(rules).toContainEqual(
      expect.objectContaining({ Prefix: 'errors/', ExpirationInDays: DEFAULT_CONFIG.errorOutput.expiryDays }),
    );
    expect(rules).toContainEqual(
      expect.objectContaining({
        NoncurrentVersionExpiration: { NoncurrentDays: 7 },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      }),
    );
    expect(rules).toContainEqual(expect.objectContaining({ ExpiredObjectDeleteMarker: true }));
  });

  it('follows a category policy override in its lifecycle rule', () => {
    const t = template({ override: { categories: { debug: { expiryDays: 7 } } } });
    const [, bucket] = resourceNamed(t, 'AWS::S3::Bucket', 'LogLakeStorageLogsBucket');
    const rules = (bucket.Properties.LifecycleConfiguration as { Rules: Json[] }).Rules;
    expect(rules.find((r) => r.Prefix === 'logs/category=debug/')?.ExpirationInDays).toBe(7);
  });
});

describe('LogLake audit bucket', () => {
  it('locks objects in GOVERNANCE mode for the shortest locked category’s expiry by default', () => {
    const props = bucketProps('Audit');
    expect(props.ObjectLockEnabled).toBe(true);
    expect(props.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 365 } },
    });
  });

  it('uses COMPLIANCE mode and a shorter retention when configured', () => {
    const t = template({ override: { objectLock: { mode: 'COMPLIANCE', retentionDays: 30 } } });
    t.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } },
      },
    });
  });

  it('follows the shortest locked expiry when a locked category gets shorter', () => {
    const t = template({ override: { categories: { security: { expiryDays: 200 } } } });
    t.hasResourceProperties('AWS::S3::Bucket', {
      ObjectLockConfiguration: Match.objectLike({
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 200 } },
      }),
    });
  });

  it('has lifecycle rules for every category (one unlocked later keeps objects here), and KMS, TLS, versioning, access logs', () => {
    const props = bucketProps('Audit');
    const prefixes = (props.LifecycleConfiguration as { Rules: Json[] }).Rules.map((r) => r.Prefix).filter(
      Boolean,
    );
    expect(prefixes.sort()).toEqual([...CATEGORIES.map((c) => `logs/category=${c}/`), 'errors/'].sort());
    expect(flat(props.BucketEncryption)).toContain('aws:kms');
    expect(props.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(props.LoggingConfiguration).toEqual({
      DestinationBucketName: bucketRef('AccessLogs'),
      LogFilePrefix: 'audit/',
    });
  });

  it('is left out, with its stream and table, when no category is locked', () => {
    const t = template({
      override: { categories: { security: { locked: false }, audit: { locked: false } } },
    });
    // logs and the WAF stream (into the logs table)
    expect(Object.keys(resourcesOf(t, 'AWS::KinesisFirehose::DeliveryStream'))).toHaveLength(2);
    expect(Object.keys(resourcesOf(t, 'AWS::Glue::Table'))).toHaveLength(1);
    expect(JSON.stringify(resourcesOf(t, 'AWS::S3::Bucket'))).not.toContain('ObjectLock');
  });
});

describe('LogLake delivery streams', () => {
  const streams = () => resourcesOf(template(), 'AWS::KinesisFirehose::DeliveryStream');
  const stream = (name: 'logs' | 'audit') => {
    const found = Object.values(streams()).find((s) => s.Properties.DeliveryStreamName === `loglake-${name}`);
    if (!found) throw new Error(`no stream loglake-${name}`);
    return found.Properties;
  };

  it('creates Direct PUT streams logs and audit, encrypted with the key', () => {
    // and the WAF stream (test/infra/sources.test.ts)
    expect(Object.keys(streams())).toHaveLength(3);
    for (const name of ['logs', 'audit'] as const) {
      expect(stream(name).DeliveryStreamType).toBe('DirectPut');
      expect(stream(name).DeliveryStreamEncryptionConfigurationInput).toEqual({
        KeyType: 'CUSTOMER_MANAGED_CMK',
        KeyARN: keyArn(),
      });
    }
  });

  it('runs the stream’s transform, partitions by its keys into the DESIGN layout and keeps errors apart', () => {
    for (const name of ['logs', 'audit'] as const) {
      const dest = stream(name).ExtendedS3DestinationConfiguration as Json;
      expect(dest.Prefix).toBe(DATA_OUTPUT_PREFIX);
      expect(DATA_OUTPUT_PREFIX).toBe(
        'logs/category=!{partitionKeyFromLambda:category}/dt=!{partitionKeyFromLambda:dt}/hour=!{partitionKeyFromLambda:hour}/',
      );
      expect(dest.ErrorOutputPrefix).toBe(ERROR_OUTPUT_PREFIX);
      expect(ERROR_OUTPUT_PREFIX).toBe('errors/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/');
      expect(dest.DynamicPartitioningConfiguration).toMatchObject({ Enabled: true });
      expect(dest.BucketARN).toEqual({
        'Fn::GetAtt': [bucketRef(name === 'logs' ? 'Logs' : 'Audit').Ref, 'Arn'],
      });
      expect(dest.EncryptionConfiguration).toEqual({ KMSEncryptionConfig: { AWSKMSKeyARN: keyArn() } });
      const processors = (dest.ProcessingConfiguration as { Enabled: boolean; Processors: Json[] })
        .Processors;
      expect(processors).toHaveLength(1);
      const params = Object.fromEntries(
        ((processors[0]?.Parameters ?? []) as { ParameterName: string; ParameterValue: unknown }[]).map(
          (p) => [p.ParameterName, p.ParameterValue],
        ),
      );
      expect(processors[0]?.Type).toBe('Lambda');
      expect(flat(params.LambdaArn)).toContain(`LogLakeIngest${name === 'logs' ? 'Logs' : 'Audit'}Transform`);
      expect(params.BufferSizeInMBs).toBe('1');
      expect(params.BufferIntervalInSeconds).toBe('60');
      // The audit stream buffers longer: its categories cannot be compacted (Object Lock).
      expect(dest.BufferingHints).toEqual(
        name === 'logs'
          ? { IntervalInSeconds: 60, SizeInMBs: 64 }
          : { IntervalInSeconds: 300, SizeInMBs: 128 },
      );
      expect(dest.CloudWatchLoggingOptions).toMatchObject({ Enabled: true });
    }
  });

  it('converts to Parquet through the stream’s Glue table with the OpenX JSON SerDe', () => {
    for (const name of ['logs', 'audit'] as const) {
      const conversion = (stream(name).ExtendedS3DestinationConfiguration as Json)
        .DataFormatConversionConfiguration;
      expect(conversion).toMatchObject({
        Enabled: true,
        InputFormatConfiguration: { Deserializer: { OpenXJsonSerDe: {} } },
        OutputFormatConfiguration: { Serializer: { ParquetSerDe: { Compression: 'SNAPPY' } } },
        SchemaConfiguration: {
          DatabaseName: 'loglake',
          TableName: {
            Ref: logicalId(`LogLakeCatalog${name === 'logs' ? 'Logs' : 'Audit'}Table`, 'AWS::Glue::Table'),
          },
        },
      });
    }
  });

  it('takes buffering and Parquet compression from the config', () => {
    const t = template({
      override: {
        output: { compression: 'GZIP' },
        firehose: { bufferIntervalSeconds: 300, bufferSizeMiB: 128, processorBufferSizeMiB: 0.5 },
      },
    });
    t.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      ExtendedS3DestinationConfiguration: Match.objectLike({
        BufferingHints: { IntervalInSeconds: 300, SizeInMBs: 128 },
        DataFormatConversionConfiguration: Match.objectLike({
          OutputFormatConfiguration: { Serializer: { ParquetSerDe: { Compression: 'GZIP' } } },
        }),
        ProcessingConfiguration: Match.objectLike({
          Processors: [
            Match.objectLike({
              Parameters: Match.arrayWith([{ ParameterName: 'BufferSizeInMBs', ParameterValue: '0.5' }]),
            }),
          ],
        }),
      }),
    });
  });

  it('denies Firehose every destructive S3 action, above all on the locked bucket', () => {
    for (const name of ['Logs', 'Audit']) {
      const statements = policyStatements(
        `LogLakeIngest${name}DeliveryRoleDefaultPolicy`,
        'AWS::IAM::Policy',
      );
      const deny = statements.find((s) => s.Effect === 'Deny');
      expect(actions(deny as Statement)).toEqual(
        expect.arrayContaining([
          's3:DeleteObject*',
          's3:PutObjectRetention',
          's3:PutObjectLegalHold',
          's3:BypassGovernanceRetention',
        ]),
      );
    }
  });
});

describe('LogLake transform functions', () => {
  // The alarm Lambda (Alerting) is tested in test/alerts/alerting.test.ts.
  const functions = () =>
    Object.fromEntries(
      Object.entries(resourcesOf(template(), 'AWS::Lambda::Function')).filter(([id]) =>
        id.includes('Transform'),
      ),
    );

  it('run on Node.js 24, arm64, with an explicit encrypted log group and no retention custom resource', () => {
    const fns = Object.values(functions());
    expect(fns).toHaveLength(2);
    for (const fn of fns) {
      expect(fn.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
      });
      expect(flat((fn.Properties.LoggingConfig as Json).LogGroup)).toMatch(/Transform.*LogGroup/);
    }
    const groups = Object.values(resourcesOf(template(), 'AWS::Logs::LogGroup'));
    for (const g of groups) {
      expect(g.Properties.RetentionInDays).toBe(DEFAULT_CONFIG.lambdaLogRetentionDays);
      expect(g.Properties.KmsKeyId).toEqual(keyArn());
    }
    expect(template().findResources('Custom::LogRetention')).toEqual({});
  });

  it('get the settings slice, their stream, the pseudonym secret, and (logs only) the audit stream name', () => {
    for (const [id, fn] of Object.entries(functions())) {
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(JSON.parse(env.LOGLAKE_TRANSFORM_SETTINGS as string)).toEqual({
        categories: DEFAULT_CONFIG.categories,
        transform: DEFAULT_CONFIG.transform,
        redaction: DEFAULT_CONFIG.redaction,
      });
      expect(env.LOGLAKE_PSEUDONYM_SECRET_ARN).toEqual({
        Ref: logicalId('LogLakeIngestPseudonymKey', 'AWS::SecretsManager::Secret'),
      });
      const isLogs = id.includes('Logs');
      expect(env.LOGLAKE_STREAM).toBe(isLogs ? 'logs' : 'audit');
      expect(env.LOGLAKE_AUDIT_STREAM_NAME !== undefined).toBe(isLogs);
    }
  });

  it('fails synth, naming the rules, when the settings would overflow Lambda’s 4 KB environment', () => {
    const rules = Array.from({ length: 60 }, (_, i) => ({
      category: 'framework' as const,
      loggerPrefixes: [`component-${i}`],
    }));

    expect(() => template({ override: { transform: { rules } } })).toThrow(
      /transform settings need \d+ bytes of Lambda environment.*limit of 4096.*shorten transform\.rules/,
    );
    expect(() => template({ override: { transform: { rules: rules.slice(0, 10) } } })).not.toThrow();
  });

  it('lets only the logs transform put records on the audit stream', () => {
    const logsPolicy = policyStatements('LogLakeIngestLogsTransformRoleDefaultPolicy', 'AWS::IAM::Policy');
    const put = logsPolicy.find(
      (s) => actions(s).includes('firehose:PutRecordBatch') && s.Sid !== 'ReingestDeferredRecords',
    );
    expect(flat(put?.Resource)).toContain('LogLakeIngestAuditStream');
    const auditPolicy = policyStatements('LogLakeIngestAuditTransformRoleDefaultPolicy', 'AWS::IAM::Policy');
    const auditFirehose = auditPolicy.filter((s) => actions(s).some((a) => a.startsWith('firehose:')));
    expect(auditFirehose.map((s) => s.Sid)).toEqual(['ReingestDeferredRecords']);
  });

  it('lets each transform re-ingest deferred records into its own stream only', () => {
    for (const [lane, stream] of [
      ['Logs', 'loglake-logs'],
      ['Audit', 'loglake-audit'],
    ] as const) {
      const statements = policyStatements(
        `LogLakeIngest${lane}TransformRoleDefaultPolicy`,
        'AWS::IAM::Policy',
      );
      const reingest = statements.find((s) => s.Sid === 'ReingestDeferredRecords');
      expect(reingest && actions(reingest)).toEqual(['firehose:PutRecordBatch']);
      expect(flat(reingest?.Resource)).toContain(`:deliverystream/${stream}`);
      expect(flat(reingest?.Resource)).not.toContain('*');
    }
  });

  it('read the generated HMAC secret, which the key encrypts', () => {
    template().hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: keyArn(),
      GenerateSecretString: Match.objectLike({ PasswordLength: 64, ExcludePunctuation: true }),
    });
  });
});

describe('LogLake Glue catalog', () => {
  const table = (name: 'Logs' | 'Audit') =>
    resourceNamed(template(), 'AWS::Glue::Table', `LogLakeCatalog${name}Table`)[1].Properties
      .TableInput as Json;

  it('has a database and the DESIGN columns and partitions in each table, from src/schema.ts', () => {
    template().hasResourceProperties('AWS::Glue::Database', {
      DatabaseInput: Match.objectLike({ Name: 'loglake' }),
    });
    for (const name of ['Logs', 'Audit'] as const) {
      const input = table(name);
      const sd = input.StorageDescriptor as { Columns: Json[]; SerdeInfo: Json };
      expect(sd.Columns.map((c) => [c.Name, c.Type])).toEqual(RECORD_COLUMNS.map((c) => [c.name, c.type]));
      expect((input.PartitionKeys as Json[]).map((c) => [c.Name, c.Type])).toEqual(
        PARTITION_COLUMNS.map((c) => [c.name, c.type]),
      );
      expect(sd.SerdeInfo.SerializationLibrary).toBe(
        'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
      );
      expect(input.TableType).toBe('EXTERNAL_TABLE');
    }
  });

  it('projects partitions (category enum, dt date, two-digit hour) instead of crawling', () => {
    const logs = table('Logs').Parameters as Record<string, unknown>;
    expect(logs).toMatchObject({
      'projection.enabled': 'true',
      'projection.category.type': 'enum',
      // Every category: the transform keeps a locked record it could not forward in the logs bucket.
      'projection.category.values': CATEGORIES.join(','),
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': 'NOW-2555DAYS,NOW+1DAYS',
      'projection.hour.type': 'integer',
      'projection.hour.range': '0,23',
      'projection.hour.digits': '2',
    });
    expect(flat(logs['storage.location.template'])).toBe(
      `s3://${flat(bucketRef('Logs'))}/logs/category=\${category}/dt=\${dt}/hour=\${hour}/`,
    );
    const audit = table('Audit').Parameters as Record<string, unknown>;
    expect(audit['projection.category.values']).toBe(LOCKED.join(','));
    expect(audit['projection.dt.range']).toBe('NOW-2555DAYS,NOW+1DAYS');
    expect(template().findResources('AWS::Glue::Crawler')).toEqual({});
  });
});

describe('LogLake Athena', () => {
  it('enforces engine v3, KMS-encrypted results and the scan cutoff on every query workgroup', () => {
    const all = Object.values(resourcesOf(template(), 'AWS::Athena::WorkGroup'));
    // The rewrites' workgroups (compaction, purge) cannot enforce (a CTAS names its location):
    // test/infra/compaction.test.ts, test/infra/erasures.test.ts.
    const rewrites = ['loglake-compaction', 'loglake-purge'];
    const wgs = all.filter((w) => !rewrites.includes(String(w.Properties.Name)));
    expect(all).toHaveLength(wgs.length + rewrites.length);
    expect(wgs.map((w) => w.Properties.Name).sort()).toEqual(
      ['loglake', ...PERSONAS.map((p) => `loglake-${p}`)].sort(),
    );
    for (const wg of wgs) {
      expect(wg.Properties.WorkGroupConfiguration).toMatchObject({
        EnforceWorkGroupConfiguration: true,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        BytesScannedCutoffPerQuery: DEFAULT_CONFIG.athena.bytesScannedCutoffPerQuery,
        ResultConfiguration: { EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: keyArn() } },
      });
      expect(flat((wg.Properties.WorkGroupConfiguration as Json).ResultConfiguration)).toContain(
        `s3://${flat(bucketRef('QueryResults'))}/`,
      );
    }
  });

  it('takes the scan cutoff from the config', () => {
    template({
      override: { athena: { bytesScannedCutoffPerQuery: 50 * 1024 * 1024 } },
    }).hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: Match.objectLike({ BytesScannedCutoffPerQuery: 50 * 1024 * 1024 }),
    });
  });

  it('saves the correlation-id search, the last hour’s errors and the error rate by service', () => {
    const queries = Object.values(resourcesOf(template(), 'AWS::Athena::NamedQuery')).map(
      (q) => q.Properties,
    );
    const main = queries.filter((q) => q.WorkGroup === 'loglake');
    expect(main.map((q) => q.Name).sort()).toEqual(NAMED_QUERIES.map((q) => q.name).sort());
    const byName = Object.fromEntries(main.map((q) => [q.Name, q.QueryString as string]));
    expect(byName['search-by-correlation-id']).toMatch(/WHERE correlation_id = \? AND dt BETWEEN \? AND \?/);
    expect(byName['errors-last-hour']).toMatch(/level IN \('ERROR', 'CRITICAL'\)[\s\S]*INTERVAL '1' HOUR/);
    expect(byName['error-rate-by-service']).toMatch(/GROUP BY service/);
    for (const sql of Object.values(byName)) expect(sql).toContain('FROM "loglake"."logs"');
  });

  it('leaves the named queries out of the emulator target and nothing else', () => {
    const aws = template().toJSON() as { Resources: Record<string, { Type: string }> };
    const emu = template({ target: 'emulator' }).toJSON() as { Resources: Record<string, { Type: string }> };
    const missing = Object.keys(aws.Resources).filter((id) => !(id in emu.Resources));
    expect(missing.length).toBeGreaterThan(0);
    expect(new Set(missing.map((id) => aws.Resources[id]?.Type))).toEqual(
      new Set(['AWS::Athena::NamedQuery']),
    );
    expect(Object.keys(emu.Resources).filter((id) => !(id in aws.Resources))).toEqual([]);
  });
});

describe('LogLake personas and producers', () => {
  const persona = (p: string) => policyStatements(`LogLakeAccess${p}Policy`);
  const readPrefixes = (statements: Statement[]) =>
    statements
      .filter((s) => s.Effect === 'Allow' && actions(s).includes('s3:GetObject'))
      .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]).map(flat));

  it('creates one role per persona', () => {
    const roles = Object.keys(resourcesOf(template(), 'AWS::IAM::Role')).filter((id) =>
      id.startsWith('LogLakeAccess'),
    );
    expect(roles).toHaveLength(PERSONAS.length);
  });

  it('lets the developer read exactly its categories in the logs bucket and nothing locked', () => {
    const prefixes = readPrefixes(persona('Developer'));
    const logs = flat(bucketRef('Logs')).replace('<', '<').replace('>', '.Arn>');
    const expected = DEFAULT_CONFIG.personas.developer.read.map((c) => `${logs}/logs/category=${c}/*`);
    expect(prefixes.filter((p) => !p.includes('QueryResults')).sort()).toEqual(expected.sort());
    expect(prefixes.join(' ')).not.toContain('AuditBucket');
    expect(prefixes.join(' ')).not.toContain('.Arn>/errors/');
  });

  it('lets the auditor read security and audit in the locked bucket, not debug or runtime', () => {
    const prefixes = readPrefixes(persona('Auditor')).join(' ');
    expect(prefixes).toMatch(/AuditBucket[^ ]*\/logs\/category=audit\/\*/);
    expect(prefixes).toMatch(/AuditBucket[^ ]*\/logs\/category=security\/\*/);
    expect(prefixes).not.toMatch(/category=(debug|runtime|api_access)\//);
  });

  it('gives ops write (put/delete) on runtime and framework in the logs bucket only', () => {
    const write = persona('Ops').filter(
      (s) => actions(s).includes('s3:PutObject') && !flat(s.Resource).includes('QueryResults'),
    );
    expect(write).toHaveLength(1);
    expect(actions(write[0] as Statement)).toEqual(
      expect.arrayContaining(['s3:PutObject', 's3:DeleteObject']),
    );
    const resources = flat(write[0]?.Resource);
    expect(resources).toMatch(/LogsBucket[^ ]*\/logs\/category=runtime\/\*/);
    expect(resources).toMatch(/LogsBucket[^ ]*\/logs\/category=framework\/\*/);
    expect(resources).not.toContain('AuditBucket');
    for (const p of ['Developer', 'Security', 'Auditor']) {
      const writes = persona(p).filter((s) => actions(s).includes('s3:DeleteObject'));
      expect(writes, p).toEqual([]);
    }
  });

  it('queries only through the persona’s own workgroup and reads only its own results prefix', () => {
    for (const p of PERSONAS) {
      const statements = persona(pascalCase(p));
      const athena = statements.filter((s) => actions(s).some((a) => a.startsWith('athena:')));
      expect(athena).toHaveLength(1);
      expect(flat(athena[0]?.Resource)).toMatch(new RegExp(`:workgroup/loglake-${p}$`));
      const results = statements.filter(
        (s) => flat(s.Resource).includes('QueryResults') && actions(s).includes('s3:GetObject'),
      );
      expect(flat(results[0]?.Resource)).toContain(`/personas/${p}/*`);
    }
  });

  it('lets only the security persona read the pseudonym key and the raw error output', () => {
    for (const p of ['Developer', 'Ops', 'Auditor']) {
      expect(persona(p).flatMap(actions)).not.toContain('secretsmanager:GetSecretValue');
      expect(flat(persona(p).map((s) => s.Resource))).not.toContain('/errors/');
    }
    expect(persona('Security').flatMap(actions)).toContain('secretsmanager:GetSecretValue');
    for (const bucket of ['Logs', 'Audit'] as const) {
      const deny = bucketPolicyStatements(bucket).find(
        (s) => s.Effect === 'Deny' && flat(s.Resource).endsWith('/errors/*'),
      );
      expect(actions(deny as Statement)).toContain('s3:GetObject');
      const allowed = flat(deny?.Condition);
      expect(allowed).toContain('LogLakeAccessSecurityRole');
      expect(allowed).toContain('DeliveryRole');
      expect(allowed).not.toMatch(/Developer|Ops|Auditor/);
    }
  });

  it('lets producers put records on the two streams and do nothing else', () => {
    const statements = policyStatements('LogLakeAccessProducerPolicy');
    expect(statements).toHaveLength(1);
    expect(actions(statements[0] as Statement).sort()).toEqual([
      'firehose:PutRecord',
      'firehose:PutRecordBatch',
    ]);
    const resources = flat(statements[0]?.Resource);
    expect(resources).toContain('LogLakeIngestLogsStream');
    expect(resources).toContain('LogLakeIngestAuditStream');
  });
});

describe('LogLake in a stack of your own', () => {
  it('synthesizes in an app without the recommended feature flags, granting access logs by bucket policy', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Mine');
    new LogLake(stack, 'Lake', { config: { name: 'mine' } });

    const t = Template.fromStack(stack);

    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'logging.s3.amazonaws.com' } }),
        ]),
      }),
    });
    t.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', { DeliveryStreamName: 'mine-logs' });
    expect(JSON.stringify(t.toJSON())).not.toContain('LogDeliveryWrite');
  });
});

describe('LogLakeStack outputs', () => {
  it('names streams, buckets, workgroups, database, tables, roles and the producer policy', () => {
    const outputs = Object.keys(template().findOutputs('*'));
    expect(outputs).toEqual(
      expect.arrayContaining([
        'LogsStreamName',
        'AuditStreamName',
        'LogsBucketName',
        'AuditBucketName',
        'QueryResultsBucketName',
        'WorkGroupName',
        'DeveloperWorkGroupName',
        'DatabaseName',
        'LogsTableName',
        'AuditTableName',
        'ProducerPolicyArn',
        'SecurityRoleArn',
        'PseudonymSecretArn',
        'AccessRecorderUrl',
      ]),
    );
    template().hasOutput('LogsStreamName', {
      Value: { Ref: Match.stringLikeRegexp('^LogLakeIngestLogsStream') },
    });
  });

  it('names the access recorder’s URL, except on the emulator, whose function URLs name no verified caller', () => {
    const aws = template().findOutputs('*');
    const emulator = template({ target: 'emulator' }).findOutputs('*');

    expect(aws.AccessRecorderUrl?.Value).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^LogLakeRecorderFunctionFunctionUrl/), 'FunctionUrl'],
    });
    // The CLI then writes to the audit stream directly, as for a stack deployed before the recorder.
    expect(emulator).not.toHaveProperty('AccessRecorderUrl');
    expect(emulator).toHaveProperty('AuditStreamName');
  });

  it('names the alert state table only when the stack has alerting, as readers tell the two apart', () => {
    const withAlerting = template().findOutputs('*');
    const without = template({ override: { alerts: { enabled: false } } }).findOutputs('*');

    expect(withAlerting.AlertStateTableName?.Value).toEqual({
      Ref: expect.stringMatching(/^LogLakeAlertingStateTable/),
    });
    expect(alertStateTableOf({ AlertStateTableName: 'state', HighAlertTopicArn: 'arn' })).toBe('state');
    expect(Object.keys(without).filter((k) => k.includes('Alert'))).toEqual([]);
    expect(alertStateTableOf(Object.fromEntries(Object.keys(without).map((k) => [k, 'v'])))).toBeNull();
    expect(alertStateTableOf({ HighAlertTopicArn: 'arn' })).toBeUndefined();
  });
});
