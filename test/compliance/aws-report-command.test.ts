import { DescribeStacksCommand, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import { GetKeyRotationStatusCommand } from '@aws-sdk/client-kms';
import {
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetObjectLockConfigurationCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
} from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { complianceReportCommand, EXIT_FINDINGS } from '../../src/cli/commands/compliance-report';
import type { CliIO } from '../../src/cli/io';
import { type ComplianceReport, EVIDENCE_ITEMS } from '../../src/compliance/report';
import { DEFAULT_CONFIG } from '../../src/config';
import { CATEGORIES, type Category, categoryPrefix } from '../../src/schema';
import { answerAthenaPerQuery } from '../helpers/athena-stub';
import { athena, cfn, cloudwatch, dynamodb, iam, KEY, kms, OUTPUTS, s3 } from '../helpers/stack-mocks';

const now = new Date('2026-11-30T12:00:00Z');
const LOCKED: readonly Category[] = ['security', 'audit'];

/** The lifecycle rules `lib/storage.ts` deploys: one per category, expiring after `days`. */
function categoryRules(categories: readonly Category[], days: (c: Category) => number) {
  return categories.map((c) => ({
    ID: `Category-${c}`,
    Status: 'Enabled' as const,
    Filter: { Prefix: categoryPrefix(c) },
    Expiration: { Days: days(c) },
  }));
}

const policyDays = (c: Category) => DEFAULT_CONFIG.categories[c].expiryDays;

/** A deployed stack as `cdk deploy` leaves it, with nothing in the period: every reader passes. */
function deployedStack(): void {
  cfn.on(DescribeStacksCommand, { StackName: 'LogLake' }).resolves({
    Stacks: [
      {
        StackName: 'LogLake',
        CreationTime: now,
        StackStatus: 'CREATE_COMPLETE',
        Outputs: Object.entries(OUTPUTS).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
  cfn.on(ListStackResourcesCommand).resolves({ StackResourceSummaries: [] });
  s3.on(GetBucketLifecycleConfigurationCommand, { Bucket: 'lake-logs' }).resolves({
    Rules: categoryRules(CATEGORIES, policyDays),
  });
  s3.on(GetBucketLifecycleConfigurationCommand, { Bucket: 'lake-audit' }).resolves({
    Rules: categoryRules(LOCKED, policyDays),
  });
  s3.on(GetObjectLockConfigurationCommand).resolves({
    ObjectLockConfiguration: {
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 365 } },
    },
  });
  s3.on(ListObjectsV2Command).resolves({});
  s3.on(ListObjectVersionsCommand).resolves({});
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
  s3.on(GetBucketPolicyCommand).resolves({
    Policy: JSON.stringify({
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
    }),
  });
  kms.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: true, RotationPeriodInDays: 365 });
  iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['read'] });
  iam.on(ListAttachedRolePoliciesCommand).resolves({ AttachedPolicies: [] });
  iam.on(GetRolePolicyCommand).resolves({
    PolicyDocument: encodeURIComponent(
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['s3:GetObject*', 's3:List*'],
            Resource: DEFAULT_CONFIG.personas.developer.read.map(
              (c) => `arn:aws:s3:::lake-logs/${categoryPrefix(c)}*`,
            ),
          },
          { Effect: 'Allow', Action: 'kms:Decrypt', Resource: KEY },
        ],
      }),
    ),
  });
  cloudwatch.on(DescribeAlarmsCommand).resolves({ MetricAlarms: [] });
  dynamodb.on(GetItemCommand).resolves({});
  // Every Athena read of an empty period: no records, no access events, no requests.
  answerAthenaPerQuery(athena, [
    { sql: /count\(\*\) AS n/, columns: ['n'], rows: [['0']] },
    { sql: /(?:)/, columns: ['x'], rows: [] },
  ]);
}

/** Run the command as the CLI does, with JSON on a captured stdout; the exit status it sets. */
async function report(): Promise<{ report: ComplianceReport; stderr: string; exitCode: number }> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
  };
  await complianceReportCommand(
    { stack: 'LogLake', region: 'eu-west-1', since: '1d', format: 'json' },
    io,
    now,
  );
  const exitCode = Number(process.exitCode ?? 0);
  return { report: JSON.parse(stdout) as ComplianceReport, stderr, exitCode };
}

const item = (r: ComplianceReport, id: string) => {
  const found = r.items.find((i) => i.id === id);
  if (!found) throw new Error(`no item ${id} in ${r.items.map((i) => i.id).join(', ')}`);
  return found;
};

beforeEach(() => {
  for (const m of [s3, kms, iam, athena, cfn, cloudwatch, dynamodb]) m.reset();
  process.exitCode = undefined;
});
// The command sets the exit status of this process; the test runner's must not keep it.
afterEach(() => {
  process.exitCode = undefined;
});

describe('loglake compliance-report --stack', () => {
  it('passes on a stack as deployed: exit 0, the JSON schema and every item, read from the stack outputs', async () => {
    deployedStack();

    const r = await report();

    expect(r.exitCode).toBe(0);
    expect(r.report.schema).toBe('loglake.compliance-report/v1');
    expect(r.report.status).toBe('pass');
    expect(r.report.findings).toEqual([]);
    expect(r.report.lake).toEqual({ engine: 'athena', stack: 'LogLake', region: 'eu-west-1' });
    expect(r.report.period).toEqual({ since: '2026-11-29T12:00:00.000Z', until: now.toISOString() });
    expect(r.report.items.map((i) => i.id)).toEqual([...EVIDENCE_ITEMS]);
    for (const i of r.report.items) {
      expect(Object.keys(i)).toEqual(
        expect.arrayContaining(['id', 'title', 'source', 'controls', 'status', 'summary', 'columns', 'rows']),
      );
      expect(i.status, i.id).not.toBe('violation');
    }
    expect(item(r.report, 'retention').status).toBe('ok');
    expect(item(r.report, 'encryption').status).toBe('ok');
    expect(r.stderr).toContain('compliance-report: pass, 0 finding(s)');
    // The outputs name what is read: the buckets, the key and the security workgroup.
    expect(cfn.commandCalls(DescribeStacksCommand)[0]?.args[0].input.StackName).toBe('LogLake');
    expect(kms.commandCalls(GetKeyRotationStatusCommand)[0]?.args[0].input.KeyId).toBe(KEY);
    expect(
      s3
        .commandCalls(GetBucketEncryptionCommand)
        .map((c) => c.args[0].input.Bucket)
        .sort(),
    ).toEqual(['lake-audit', 'lake-logs', 'lake-results']);
  });

  it('exits 3 on a drifted stack, naming the retention shorter than the policy and the missing encryption', async () => {
    deployedStack();
    s3.on(GetBucketLifecycleConfigurationCommand, { Bucket: 'lake-logs' }).resolves({
      Rules: categoryRules(CATEGORIES, (c) => (c === 'errors' ? 7 : policyDays(c))),
    });
    s3.on(GetBucketEncryptionCommand, { Bucket: 'lake-results' }).rejects(
      Object.assign(new Error('none'), { name: 'ServerSideEncryptionConfigurationNotFoundError' }),
    );

    const r = await report();

    expect(r.exitCode).toBe(EXIT_FINDINGS);
    expect(r.report.status).toBe('fail');
    expect(r.report.findings.map((f) => f.item).sort()).toEqual(['encryption', 'retention']);
    expect(r.report.findings.map((f) => f.message)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('errors expires after 7 days in lake-logs'),
        expect.stringContaining('lake-results has no default encryption'),
      ]),
    );
    expect(item(r.report, 'retention').summary).toContain(
      `FINDING: errors expires after 7 days in lake-logs, shorter than the policy's ${policyDays('errors')}`,
    );
    expect(item(r.report, 'encryption').summary).toContain('FINDING: lake-results has no default encryption');
    expect(r.stderr).toContain('compliance-report: fail, 2 finding(s)');
  });
});
