/**
 * The readers of `compliance-report --stack` (src/compliance/aws.ts), each against its SDK client mocked
 * with aws-sdk-client-mock: the AWS answers a deployed lake gives, and the findings a drifted one yields.
 * The emulator test (test/emulator/deploy.test.ts (its compliance-report case)) reads the same evidence from real resources.
 */
import { AthenaClient, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import {
  CloudWatchClient,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
} from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { GetKeyRotationStatusCommand, KMSClient } from '@aws-sdk/client-kms';
import {
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { marshall } from '@aws-sdk/util-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  allows,
  type DeployedLake,
  deployedLake,
  readAccessLog,
  readAccessMatrix,
  readAlertCoverage,
  readEncryption,
  readIntegrity,
  readRedaction,
  readRequests,
  readRetention,
  readVolume,
} from '../../src/compliance/aws';
import { DEFAULT_CONFIG, type LogLakeConfig, resolveConfig } from '../../src/config';
import { InputError } from '../../src/errors';
import { STACK_OUTPUTS } from '../../src/outputs';
import { CATEGORIES, categoryPrefix } from '../../src/schema';
import { answerAthenaPerQuery } from '../helpers/athena-stub';
import { athena, cfn, cloudwatch, dynamodb, iam, KEY, kms, OUTPUTS, s3 } from '../helpers/stack-mocks';

/** Real clients: aws-sdk-client-mock answers for every instance, and the SDK's paginators want real ones. */
const region = 'eu-west-1';
const clients = {
  s3: new S3Client({ region }),
  kms: new KMSClient({ region }),
  iam: new IAMClient({ region }),
  athena: new AthenaClient({ region }),
  cfn: new CloudFormationClient({ region }),
  cloudwatch: new CloudWatchClient({ region }),
  dynamodb: new DynamoDBClient({ region }),
};

const lake: DeployedLake = deployedLake('LogLake', 'eu-west-1', OUTPUTS);
const config: LogLakeConfig = DEFAULT_CONFIG;
const until = new Date('2026-11-30T12:00:00Z');
const since = new Date('2026-11-29T12:00:00Z');

function awsError(name: string): S3ServiceException {
  return new S3ServiceException({ name, $fault: 'client', $metadata: {}, message: name });
}

/** The lifecycle rules `lib/storage.ts` deploys: one per category, tiered ones behind an `And` filter. */
function categoryRules(
  categories: readonly (typeof CATEGORIES)[number][],
  days = (c: string) => config.categories[c as 'debug'].expiryDays,
) {
  return categories.map((c) => ({
    ID: `Category-${c}`,
    Status: 'Enabled' as const,
    Filter:
      c === 'debug'
        ? { Prefix: categoryPrefix(c) }
        : { And: { Prefix: categoryPrefix(c), ObjectSizeGreaterThan: 0 } },
    Expiration: { Days: days(c) },
  }));
}

beforeEach(() => {
  for (const m of [s3, kms, iam, athena, cfn, cloudwatch, dynamodb]) m.reset();
});

describe('deployedLake', () => {
  it('reads the buckets, key, roles and the security workgroup from the outputs', () => {
    expect(lake.buckets).toEqual({ logs: 'lake-logs', audit: 'lake-audit' });
    expect(lake.athena.workGroup).toBe('loglake-security');
    expect(lake.roles).toEqual({ developer: OUTPUTS.DeveloperRoleArn });
  });

  it('names the outputs a stack lacks', () => {
    expect(() => deployedLake('Other', undefined, { LogsBucketName: 'b' })).toThrow(InputError);
    expect(() => deployedLake('Other', undefined, { LogsBucketName: 'b' })).toThrow(
      /KeyArn, DatabaseName, WorkGroupName/,
    );
  });
});

describe('readRetention', () => {
  it('passes the lifecycle rules and Object Lock the stack deploys', async () => {
    s3.on(GetBucketLifecycleConfigurationCommand, { Bucket: 'lake-logs' }).resolves({
      Rules: categoryRules(CATEGORIES),
    });
    s3.on(GetBucketLifecycleConfigurationCommand, { Bucket: 'lake-audit' }).resolves({
      Rules: categoryRules(['security', 'audit']),
    });
    s3.on(GetObjectLockConfigurationCommand).resolves({
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 365 } },
      },
    });
    s3.on(ListObjectsV2Command).resolves({
      CommonPrefixes: [{ Prefix: 'logs/category=runtime/dt=2026-11-20/' }],
    });
    // Every locked record was forwarded: none kept in the logs bucket.
    for (const c of ['security', 'audit'] as const) {
      s3.on(ListObjectsV2Command, { Bucket: 'lake-logs', Prefix: categoryPrefix(c) }).resolves({});
    }

    const item = await readRetention(clients.s3, lake, config, config, until);

    expect(item.status).toBe('ok');
    expect(item.rows.find((r) => r[0] === 'audit')).toEqual([
      'audit',
      2555,
      2555,
      'GOVERNANCE 365 days',
      '2026-11-20T00:00:00.000Z',
      'lake-audit',
    ]);
    expect(item.rows.find((r) => r[0] === 'runtime')?.slice(2, 4)).toEqual([30, false]);
  });

  it('finds a category expiring sooner than the policy, a missing lock and a short lock', async () => {
    s3.on(GetBucketLifecycleConfigurationCommand, { Bucket: 'lake-logs' }).resolves({
      Rules: categoryRules(CATEGORIES, (c) =>
        c === 'errors' ? 7 : config.categories[c as 'debug'].expiryDays,
      ),
    });
    s3.on(GetBucketLifecycleConfigurationCommand, { Bucket: 'lake-audit' }).rejects(
      awsError('NoSuchLifecycleConfiguration'),
    );
    s3.on(GetObjectLockConfigurationCommand).resolves({
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 30 } },
      },
    });
    s3.on(ListObjectsV2Command).resolves({});

    const item = await readRetention(clients.s3, lake, config, config, until);

    expect(item.status).toBe('violation');
    expect(item.summary).toContain(
      "FINDING: errors expires after 7 days in lake-logs, shorter than the policy's 90",
    );
    expect(item.summary).toContain(
      'notice: no enabled lifecycle rule expires audit in lake-audit: it is kept forever',
    );
    expect(item.summary).toContain(
      "FINDING: lake-audit keeps objects locked 30 days by default, shorter than security's 365-day retention: its records can be deleted before they expire",
    );
  });

  it('finds a lock shorter than a locked category’s retention even when the configuration asks for it', async () => {
    // Prepare: deployed as configured, with a 30-day lock.
    const short = resolveConfig({ objectLock: { retentionDays: 30 } });
    s3.on(GetBucketLifecycleConfigurationCommand, { Bucket: 'lake-logs' }).resolves({
      Rules: categoryRules(CATEGORIES),
    });
    s3.on(GetBucketLifecycleConfigurationCommand, { Bucket: 'lake-audit' }).resolves({
      Rules: categoryRules(['security', 'audit']),
    });
    s3.on(GetObjectLockConfigurationCommand).resolves({
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 30 } },
      },
    });
    s3.on(ListObjectsV2Command).resolves({});

    // Act
    const item = await readRetention(clients.s3, lake, short, short, until);

    // Assess
    expect(item.status).toBe('violation');
    expect(item.summary).toEqual([
      "FINDING: lake-audit keeps objects locked 30 days by default, shorter than security's 365-day retention: its records can be deleted before they expire",
    ]);
  });

  it('finds a broader or narrower rule expiring a category sooner than its own rule', async () => {
    // Arrange: besides the stack's rules, one over all of logs/ and one over a day of runtime.
    s3.on(GetBucketLifecycleConfigurationCommand, { Bucket: 'lake-logs' }).resolves({
      Rules: [
        ...categoryRules(CATEGORIES),
        { ID: 'Sweep', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 3 } },
        {
          ID: 'OneDay',
          Status: 'Enabled',
          Filter: { Prefix: 'logs/category=runtime/dt=2026-11-20/' },
          Expiration: { Days: 1 },
        },
      ],
    });
    s3.on(GetBucketLifecycleConfigurationCommand, { Bucket: 'lake-audit' }).resolves({
      Rules: categoryRules(CATEGORIES),
    });
    s3.on(GetObjectLockConfigurationCommand).resolves({
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 365 } },
      },
    });
    s3.on(ListObjectsV2Command).resolves({});

    // Act
    const item = await readRetention(clients.s3, lake, config, config, until);

    // Assert: S3 applies the shortest expiration of every rule matching an object.
    expect(item.status).toBe('violation');
    expect(item.summary).toContain(
      "FINDING: errors expires after 3 days in lake-logs, shorter than the policy's 90",
    );
    expect(item.summary).toContain(
      "FINDING: runtime expires after 1 days in lake-logs, shorter than the policy's 30",
    );
    expect(item.summary.filter((l) => l.includes('lake-audit'))).toEqual([]);
  });

  it('notes a locked category’s records kept in the logs bucket, and finds them expiring too soon there', async () => {
    // Prepare: the transform kept security records it could not forward; logs/ expires security early.
    s3.on(GetBucketLifecycleConfigurationCommand, { Bucket: 'lake-logs' }).resolves({
      Rules: categoryRules(CATEGORIES, (c) =>
        c === 'security' ? 30 : config.categories[c as 'debug'].expiryDays,
      ),
    });
    s3.on(GetBucketLifecycleConfigurationCommand, { Bucket: 'lake-audit' }).resolves({
      Rules: categoryRules(['security', 'audit']),
    });
    s3.on(GetObjectLockConfigurationCommand).resolves({
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 365 } },
      },
    });
    s3.on(ListObjectsV2Command).resolves({});
    s3.on(ListObjectsV2Command, { Bucket: 'lake-logs', Prefix: categoryPrefix('security') }).resolves({
      CommonPrefixes: [{ Prefix: 'logs/category=security/dt=2026-11-28/' }],
    });

    // Act
    const item = await readRetention(clients.s3, lake, config, config, until);

    // Assess
    expect(item.status).toBe('violation');
    expect(item.summary).toContain(
      'notice: security has records from 2026-11-28 in lake-logs that the transform could not forward to the audit stream: searchable there, not under Object Lock',
    );
    expect(item.summary).toContain(
      "FINDING: security expires after 30 days in lake-logs, shorter than the policy's 365",
    );
    expect(item.summary.filter((l) => l.includes('audit has records'))).toEqual([]);
  });

  it('finds locked categories in a bucket without Object Lock', async () => {
    s3.on(GetBucketLifecycleConfigurationCommand).resolves({ Rules: categoryRules(CATEGORIES) });
    s3.on(GetObjectLockConfigurationCommand).rejects(awsError('ObjectLockConfigurationNotFoundError'));
    s3.on(ListObjectsV2Command).resolves({});

    const item = await readRetention(clients.s3, lake, config, config, until);

    expect(item.summary).toContain('FINDING: the policy locks audit, but lake-audit has no Object Lock');
    expect(item.summary).toContain('FINDING: the policy locks security, but lake-audit has no Object Lock');
  });
});

describe('readEncryption', () => {
  const tlsPolicy = JSON.stringify({
    Statement: [
      {
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 's3:*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
      {
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 's3:*',
        Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } },
      },
    ],
  });

  it('passes KMS default encryption, TLS-only policies and a rotating key', async () => {
    s3.on(GetBucketEncryptionCommand).resolves({
      ServerSideEncryptionConfiguration: {
        Rules: [
          {
            ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: KEY },
            BucketKeyEnabled: true,
          },
        ],
      },
    });
    s3.on(GetBucketPolicyCommand).resolves({ Policy: tlsPolicy });
    kms
      .on(GetKeyRotationStatusCommand, { KeyId: KEY })
      .resolves({ KeyRotationEnabled: true, RotationPeriodInDays: 365 });

    const item = await readEncryption(clients.s3, clients.kms, lake);

    expect(item.status).toBe('ok');
    expect(item.rows).toContainEqual([
      'default encryption',
      'lake-audit',
      `aws:kms ${KEY}, bucket key`,
      true,
    ]);
    expect(item.rows).toContainEqual(['TLS-only bucket policy', 'lake-logs', 'TLS only, TLS 1.2+', true]);
    expect(item.rows).toContainEqual(['KMS key rotation', KEY, 'every 365 days', true]);
  });

  it('finds SSE-S3 data, a bucket that allows plain HTTP and a key that does not rotate', async () => {
    s3.on(GetBucketEncryptionCommand).resolves({
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    });
    s3.on(GetBucketEncryptionCommand, { Bucket: 'lake-results' }).rejects(
      awsError('ServerSideEncryptionConfigurationNotFoundError'),
    );
    s3.on(GetBucketPolicyCommand).resolves({ Policy: tlsPolicy });
    s3.on(GetBucketPolicyCommand, { Bucket: 'lake-audit' }).rejects(awsError('NoSuchBucketPolicy'));
    kms.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: false });

    const item = await readEncryption(clients.s3, clients.kms, lake);

    expect(item.status).toBe('violation');
    expect(item.summary).toEqual([
      'FINDING: lake-logs has AES256 default encryption, not KMS',
      'FINDING: lake-audit has AES256 default encryption, not KMS',
      'FINDING: the policy of lake-audit does not deny requests without TLS',
      'FINDING: lake-results has no default encryption',
      `FINDING: automatic rotation of ${KEY} is off`,
    ]);
  });
});

describe('readAccessMatrix', () => {
  const readPolicy = (prefixes: string[]) =>
    encodeURIComponent(
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['s3:GetObject*', 's3:GetBucket*', 's3:List*'],
            Resource: prefixes.map((p) => `arn:aws:s3:::lake-logs/${p}*`),
          },
          { Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY },
        ],
      }),
    );

  it('evaluates the role policies: reads granted by inline and managed policies, and a grant the config lacks', async () => {
    iam
      .on(ListRolePoliciesCommand, { RoleName: 'LogLake-DeveloperRole-ABC' })
      .resolves({ PolicyNames: ['inline'] });
    iam.on(GetRolePolicyCommand).resolves({
      PolicyDocument: readPolicy(
        ['debug', 'runtime', 'framework', 'errors'].map((c) => categoryPrefix(c as 'debug')),
      ),
    });
    iam
      .on(ListAttachedRolePoliciesCommand)
      .resolves({ AttachedPolicies: [{ PolicyArn: 'arn:aws:iam::111122223333:policy/extra' }] });
    iam.on(GetPolicyCommand).resolves({ Policy: { DefaultVersionId: 'v3' } });
    iam.on(GetPolicyVersionCommand, { VersionId: 'v3' }).resolves({
      PolicyVersion: { Document: readPolicy([categoryPrefix('api_access'), categoryPrefix('security')]) },
    });

    const item = await readAccessMatrix(clients.iam, lake, config);

    expect(item.status).toBe('violation');
    expect(item.rows.filter((r) => r[0] === 'developer' && r[2] === true).map((r) => r[1])).toEqual([
      'debug',
      'runtime',
      'framework',
      'errors',
      'api_access',
      'security',
    ]);
    expect(item.summary).toContain(
      'FINDING: developer can read security; the configuration does not grant it',
    );
    expect(item.summary).toContain('notice: the stack has no role for ops');
  });

  it('lets a Deny win over an Allow, and matches actions case-insensitively and resources exactly', () => {
    const allow = { Effect: 'Allow', Action: 'S3:Get*', Resource: 'arn:aws:s3:::b/logs/category=runtime/*' };
    const deny = {
      Effect: 'Deny',
      Action: 's3:*',
      Resource: 'arn:aws:s3:::b/logs/category=runtime/dt=2026-*',
    };
    const key = 'arn:aws:s3:::b/logs/category=runtime/dt=2026-01-01/x.parquet';
    expect(allows([allow], 's3:GetObject', key)).toBe(true);
    expect(allows([allow, deny], 's3:GetObject', key)).toBe(false);
    expect(allows([allow], 's3:GetObject', 'arn:aws:s3:::B/logs/category=runtime/x')).toBe(false);
    expect(allows([allow], 's3:PutObject', key)).toBe(false);
  });
});

/** Athena's answers to the readers' queries, told apart by their SQL. */
const QUERIES = {
  count: /count\(\*\) AS n/,
  rescan: /"\$path" AS object/,
  accessLog: /'access\.principal'/,
  trail: /eventsource = 's3\.amazonaws\.com'/,
  requests: /'privacy\.action'\) IS NOT NULL/,
  volume: /GROUP BY/,
};

/** `answerAthenaPerQuery` with each result as rows of cells, the first row the names. */
function athenaAnswers(results: ReadonlyArray<readonly [RegExp, string[][]]>): string[] {
  return answerAthenaPerQuery(
    athena,
    results.map(([sql, [columns = [], ...rows]]) => ({ sql, columns, rows })),
    { scannedBytes: 1024 },
  );
}

describe('the Athena readers', () => {
  it('rescans every stored record and finds a secret with its object and field', async () => {
    const columns = [
      'object',
      'time',
      'message',
      'stack_trace',
      'error_type',
      'http_path',
      'logger',
      'service',
      'attrs',
    ];
    const sql = athenaAnswers([
      [QUERIES.count, [['n'], ['2']]],
      [
        QUERIES.rescan,
        [
          columns,
          [
            's3://lake-logs/logs/category=runtime/a.parquet',
            '2026-11-30T01:00:00Z',
            'order placed',
            '',
            '',
            '',
            '',
            'shop',
            '{}',
          ],
          [
            's3://lake-audit/logs/category=audit/b.parquet',
            '2026-11-30T02:00:00Z',
            'ok',
            '',
            '',
            '',
            '',
            'shop',
            JSON.stringify({ note: 'deploy with AKIAIOSFODNN7EXAMPLE now' }),
          ],
        ],
      ],
    ]);

    const item = await readRedaction(clients.athena, lake, config, { since, until });

    expect(item.status).toBe('violation');
    expect(item.summary[0]).toBe('unredacted secrets found: 1');
    expect(item.rows).toEqual([
      [
        's3://lake-audit/logs/category=audit/b.parquet',
        '2026-11-30T02:00:00Z',
        'attributes.note',
        'aws_access_key',
      ],
    ]);
    expect(sql[1]).toContain('"loglake"."logs"');
    expect(sql[1]).toContain('"loglake"."audit"');
    expect(sql[1]).not.toContain('TABLESAMPLE');
    expect(athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input.WorkGroup).toBe(
      'loglake-security',
    );
  });

  it('samples a period larger than the limit, and says so', async () => {
    const sql = athenaAnswers([
      [QUERIES.count, [['n'], ['1000']]],
      [QUERIES.rescan, [['object']]],
    ]);

    const item = await readRedaction(clients.athena, lake, config, { since, until }, 100);

    expect(sql[1]).toContain('TABLESAMPLE BERNOULLI (10.000000)');
    expect(item.summary[1]).toMatch(
      /^a random sample of 0 of the period's 1000 stored record\(s\) rescanned/,
    );
  });

  it('lists the access events of the audit table in the period', async () => {
    const sql = athenaAnswers([
      [
        QUERIES.accessLog,
        [
          [
            'time',
            'principal',
            'persona',
            'command',
            'categories',
            'n',
            'flags',
            'outcome',
            'filters',
            'bytes',
          ],
          [
            '2026-11-30T03:00:00Z',
            'arn:aws:sts::1:assumed-role/x',
            'auditor',
            'export',
            'audit',
            '50000',
            'bulk-read',
            'ok',
            'levels=ERROR text=boom',
            '1048576',
          ],
        ],
      ],
    ]);

    const item = await readAccessLog(clients.athena, lake, config, { since, until });

    expect(item.rows).toEqual([
      [
        '2026-11-30T03:00:00Z',
        'arn:aws:sts::1:assumed-role/x',
        'auditor',
        'export',
        'audit',
        50000,
        'bulk-read',
        'ok',
        'levels=ERROR text=boom',
        '1048576',
      ],
    ]);
    expect(item.status).toBe('notice');
    expect(sql[0]).toContain('FROM "loglake"."audit"');
    expect(athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input.ExecutionParameters).toContain(
      "'loglake-access'",
    );
    expect(item.summary.join('\n')).toContain('the stack has no CloudTrail trail');
  });

  it("adds what the stack's CloudTrail trail recorded on the lake's objects, reads outside loglake included", async () => {
    const withTrail = deployedLake('LogLake', 'eu-west-1', {
      ...OUTPUTS,
      [STACK_OUTPUTS.trailTable]: 'cloudtrail',
    });
    const sql = athenaAnswers([
      [
        QUERIES.accessLog,
        [['time', 'principal', 'persona', 'command', 'categories', 'n', 'flags', 'outcome']],
      ],
      [
        QUERIES.trail,
        [
          ['principal', 'operation', 'n', 'total', 'pairs', 'principals'],
          ['arn:aws:sts::111122223333:assumed-role/Admin/mallory', 'GetObject', '1200', '1240', '2', '2'],
          ['athena.amazonaws.com', 'GetObject', '40', '1240', '2', '2'],
        ],
      ],
    ]);

    const item = await readAccessLog(clients.athena, withTrail, config, { since, until });

    expect(item.summary).toEqual(
      expect.arrayContaining([
        "CloudTrail (table cloudtrail): 1240 operation(s) on the lake's objects by 2 principal(s), reads outside loglake included",
        '  arn:aws:sts::111122223333:assumed-role/Admin/mallory GetObject ×1200',
      ]),
    );
    expect(item.summary.join('\n')).not.toContain('no CloudTrail trail');
    expect(item.source).toContain("the CloudTrail trail's table cloudtrail");
    expect(sql[1]).toContain('FROM "loglake"."cloudtrail"');
    expect(sql[1]).toContain("eventsource = 's3.amazonaws.com'");
    // Delivery days up to the one after the period (a late event is delivered then), and event times.
    expect(athena.commandCalls(StartQueryExecutionCommand)[1]?.args[0].input.ExecutionParameters).toEqual([
      "'2026/11/29'",
      "'2026/12/01'",
      "'2026-11-29T12:00:00.000Z'",
      "'2026-11-30T12:00:00.000Z'",
    ]);
  });
});

describe('readRequests and readVolume', () => {
  it('lists the privacy requests of the audit table, counted by action', async () => {
    const columns = [
      'time',
      'action',
      'principal',
      'persona',
      'subject',
      'outcome',
      'records',
      'reason',
      'kept',
    ];
    const sql = athenaAnswers([
      [
        QUERIES.requests,
        [
          columns,
          [
            '2026-11-30T01:00:00.000Z',
            'erase-scheduled',
            'arn:dpo',
            'privacy-officer',
            'r_1',
            'scheduled',
            '',
            'ticket 9',
            '',
          ],
          [
            '2026-11-30T02:00:00.000Z',
            'export',
            'arn:dpo',
            'privacy-officer',
            'r_2',
            'exported',
            '12',
            '',
            '',
          ],
          [
            '2026-11-30T03:00:00.000Z',
            'erase',
            'arn:executor',
            'privacy-officer',
            'r_1',
            'key destroyed',
            '',
            'ticket 9',
            'locked kept',
          ],
        ],
      ],
    ]);

    const item = await readRequests(clients.athena, lake, { since, until });

    expect(sql[0]).toContain('FROM "loglake"."audit"');
    expect(sql[0]).toContain("element_at(attributes, 'privacy.action')");
    expect(sql[0]).toContain('"service" IN (?)');
    expect(item.summary).toEqual(['3 request event(s) in the period: 1 erase-scheduled, 1 export, 1 erase']);
    expect(item.rows[1]).toEqual([
      '2026-11-30T02:00:00.000Z',
      'export',
      'arn:dpo',
      'privacy-officer',
      'r_2',
      'exported',
      '12',
      '',
      '',
    ]);
  });

  it('counts records and errors per category and service', async () => {
    athenaAnswers([
      [
        QUERIES.volume,
        [
          ['category', 'service', 'count', 'errors', 'error_rate'],
          ['runtime', 'shop', '40', '1', '0.025'],
          ['errors', 'pay', '3', '3', '1.0'],
        ],
      ],
    ]);

    const item = await readVolume(clients.athena, lake, { since, until });

    expect(item.summary).toEqual(['43 record(s) in the period, in 2 category/service group(s)']);
    expect(item.rows).toEqual([
      ['runtime', 'shop', 40, 1, 0.025],
      ['errors', 'pay', 3, 3, 1],
    ]);
  });
});

describe('readIntegrity', () => {
  const at = new Date('2026-11-30T01:10:00Z');

  it('lists delivered objects with their S3 checksums and lock, and finds a changed and a deleted locked object', async () => {
    s3.on(GetObjectLockConfigurationCommand).resolves({
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 365 } },
      },
    });
    s3.on(ListObjectVersionsCommand).resolves({});
    s3.on(ListObjectVersionsCommand, {
      Bucket: 'lake-logs',
      Prefix: 'logs/category=runtime/dt=2026-11-30/',
    }).resolves({
      Versions: [
        {
          Key: 'logs/category=runtime/dt=2026-11-30/hour=01/a.parquet',
          VersionId: 'v1',
          LastModified: at,
          IsLatest: true,
        },
        {
          Key: 'logs/category=runtime/dt=2026-11-30/hour=01/b.parquet',
          VersionId: 'v2',
          LastModified: new Date(at.getTime() + 60_000),
          IsLatest: true,
        },
        {
          Key: 'logs/category=runtime/dt=2026-11-30/hour=01/b.parquet',
          VersionId: 'v1',
          LastModified: at,
          IsLatest: false,
        },
      ],
    });
    s3.on(ListObjectVersionsCommand, {
      Bucket: 'lake-audit',
      Prefix: 'logs/category=audit/dt=2026-11-30/',
    }).resolves({
      Versions: [
        {
          Key: 'logs/category=audit/dt=2026-11-30/hour=01/c.parquet',
          VersionId: 'v1',
          LastModified: at,
          IsLatest: false,
        },
      ],
      DeleteMarkers: [
        {
          Key: 'logs/category=audit/dt=2026-11-30/hour=01/c.parquet',
          VersionId: 'd1',
          LastModified: at,
          IsLatest: true,
        },
      ],
    });
    s3.on(HeadObjectCommand).resolves({
      ChecksumSHA256: Buffer.from('ab'.repeat(32), 'hex').toString('base64'),
      ContentLength: 10,
      ObjectLockMode: 'GOVERNANCE',
      ObjectLockRetainUntilDate: new Date('2027-11-30T01:10:00Z'),
    });
    s3.on(HeadObjectCommand, { Bucket: 'lake-logs' }).resolves({
      ETag: '"e1"',
      ChecksumCRC64NVME: 'AAAA',
      ContentLength: 5,
    });

    const item = await readIntegrity(clients.s3, lake, config, { since, until, now: until });

    expect(item.status).toBe('violation');
    expect(item.summary).toContain(
      'FINDING: changed lake-logs/logs/category=runtime/dt=2026-11-30/hour=01/b.parquet: 2 versions of a delivered object',
    );
    expect(item.summary).toContain(
      'FINDING: deleted lake-audit/logs/category=audit/dt=2026-11-30/hour=01/c.parquet before its expiry',
    );
    expect(item.rows).toContainEqual([
      'lake-logs/logs/category=runtime/dt=2026-11-30/hour=01/a.parquet',
      'v1',
      'crc64nvme:AAAA',
      5,
      at.toISOString(),
      null,
    ]);
    expect(item.rows).toContainEqual([
      'lake-audit/logs/category=audit/dt=2026-11-30/hour=01/c.parquet',
      'v1',
      `sha256:${'ab'.repeat(32)}`,
      10,
      at.toISOString(),
      'GOVERNANCE until 2027-11-30T01:10:00.000Z',
    ]);
    expect(s3.commandCalls(HeadObjectCommand)[0]?.args[0].input.ChecksumMode).toBe('ENABLED');
  });

  it('passes untouched objects, and a compacted (deleted) object of the logs bucket is a notice only', async () => {
    s3.on(GetObjectLockConfigurationCommand).resolves({
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 365 } },
      },
    });
    s3.on(ListObjectVersionsCommand).resolves({});
    s3.on(ListObjectVersionsCommand, {
      Bucket: 'lake-logs',
      Prefix: 'logs/category=debug/dt=2026-11-30/',
    }).resolves({
      Versions: [
        {
          Key: 'logs/category=debug/dt=2026-11-30/hour=01/a.parquet',
          VersionId: 'v1',
          LastModified: at,
          IsLatest: false,
        },
      ],
      DeleteMarkers: [
        {
          Key: 'logs/category=debug/dt=2026-11-30/hour=01/a.parquet',
          VersionId: 'd1',
          LastModified: at,
          IsLatest: true,
        },
      ],
    });
    s3.on(HeadObjectCommand).resolves({ ETag: '"e1"', ContentLength: 5 });

    const item = await readIntegrity(clients.s3, lake, config, { since, until, now: until });

    expect(item.status).toBe('notice');
    expect(item.rows).toHaveLength(1);
    expect(item.rows[0]?.[2]).toBe('etag:e1');
  });
});

describe('readAlertCoverage', () => {
  const { AlertStateTableName: _, ...outputsBeforeStateTable } = OUTPUTS;

  it("reads the rules state from the stack's state table and the alarms with their last transitions", async () => {
    cfn.on(ListStackResourcesCommand).resolves({
      StackResourceSummaries: [
        {
          ResourceType: 'AWS::DynamoDB::Table',
          LogicalResourceId: 'LogLakeAlertingStateTable1234',
          PhysicalResourceId: 'state-t',
          ResourceStatus: 'CREATE_COMPLETE',
          LastUpdatedTimestamp: at(),
        },
        {
          ResourceType: 'AWS::CloudWatch::Alarm',
          LogicalResourceId: 'A',
          PhysicalResourceId: 'alarm-1',
          ResourceStatus: 'CREATE_COMPLETE',
          LastUpdatedTimestamp: at(),
        },
      ],
    });
    dynamodb.on(GetItemCommand).resolves({});
    dynamodb
      .on(GetItemCommand, { TableName: 'state-t', Key: { pk: { S: 'rule#error-rate' }, sk: { S: 'state' } } })
      .resolves({
        Item: marshall({
          pk: 'rule#error-rate',
          sk: 'state',
          lastSlot: '2026-11-30T11:55:00.000Z',
          state: {
            groups: { 'service=shop': { status: 'firing', since: '2026-11-30T11:00:00.000Z' } },
            lastFired: { at: '2026-11-30T11:00:00.000Z', groupKey: 'service=shop' },
          },
        }),
      });
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [
        {
          AlarmName: 'alarm-1',
          AlarmDescription: 'delivery to S3 failed',
          StateValue: 'OK',
          StateUpdatedTimestamp: at(),
          ActionsEnabled: true,
        },
      ],
    });
    cloudwatch.on(DescribeAlarmHistoryCommand).resolves({
      AlarmHistoryItems: [
        {
          Timestamp: new Date('2026-11-30T10:05:00Z'),
          HistoryData: JSON.stringify({ newState: { stateValue: 'OK' } }),
        },
        {
          Timestamp: new Date('2026-11-30T10:00:00Z'),
          HistoryData: JSON.stringify({ newState: { stateValue: 'ALARM' } }),
        },
      ],
    });

    const item = await readAlertCoverage(
      {
        cloudformation: clients.cfn,
        cloudwatch: clients.cloudwatch,
        dynamodb: clients.dynamodb,
      },
      // Deployed before the state table had an output: the table is found among the stack's resources.
      deployedLake('LogLake', region, outputsBeforeStateTable),
      config,
      since,
    );

    expect(item.rows.find((r) => r[0] === 'error-rate')?.slice(5)).toEqual([
      '2026-11-30T11:55:00.000Z',
      'service=shop since 2026-11-30T11:00:00.000Z',
      '2026-11-30T11:00:00.000Z (service=shop)',
      null,
    ]);
    expect(item.rows.find((r) => r[0] === 'alarm-1')).toEqual([
      'alarm-1',
      true,
      'cloudwatch alarm',
      null,
      'delivery to S3 failed',
      at().toISOString(),
      null,
      '2026-11-30T10:00:00.000Z',
      '2026-11-30T10:05:00.000Z',
    ]);
    expect(item.summary[0]).toBe(
      `${Object.keys(config.alerts.rules).length} rule(s) (state from state-t), 1 CloudWatch alarm(s) of the stack`,
    );
  });

  it('reads the state table the stack output names, and says which rules it may not read', async () => {
    cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] });
    dynamodb.on(GetItemCommand).resolves({});
    dynamodb
      .on(GetItemCommand, { TableName: 'lake-alert-state', Key: { pk: { S: 'rule#bulk-read' } } })
      .rejects(
        Object.assign(new Error('not authorized to perform: dynamodb:GetItem'), {
          name: 'AccessDeniedException',
        }),
      );
    dynamodb
      .on(GetItemCommand, { TableName: 'lake-alert-state', Key: { pk: { S: 'rule#error-rate' } } })
      .resolves({
        Item: marshall({ pk: 'rule#error-rate', sk: 'state', lastSlot: '2026-11-30T11:55:00.000Z' }),
      });

    const item = await readAlertCoverage(
      { cloudformation: clients.cfn, cloudwatch: clients.cloudwatch, dynamodb: clients.dynamodb },
      lake,
      config,
      since,
    );

    expect(item.rows.find((r) => r[0] === 'error-rate')?.[5]).toBe('2026-11-30T11:55:00.000Z');
    expect(item.summary).toEqual([
      `${Object.keys(config.alerts.rules).length} rule(s) (state from lake-alert-state), 0 CloudWatch alarm(s) of the stack`,
      'notice: state not readable (AccessDenied: dynamodb:GetItem on lake-alert-state, or kms:Decrypt on its key) for bulk-read',
    ]);
  });

  it('says so when the stack has no alerting', async () => {
    cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] });
    const { HighAlertTopicArn: __, ...withoutAlerting } = outputsBeforeStateTable;

    const item = await readAlertCoverage(
      { cloudformation: clients.cfn, cloudwatch: clients.cloudwatch, dynamodb: clients.dynamodb },
      deployedLake('LogLake', region, withoutAlerting),
      config,
      since,
    );

    expect(item.summary).toContain('notice: the stack has no alerting (alerts.enabled: false)');
    expect(dynamodb.commandCalls(GetItemCommand)).toEqual([]);
  });

  function at(): Date {
    return new Date('2026-11-30T10:05:00Z');
  }
});
