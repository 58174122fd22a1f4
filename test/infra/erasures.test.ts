/** Scheduled erasure in the whole stack: the request table, who may write it, the executor and its schedule. */
import { describe, expect, it } from 'vitest';
import { ERASE_ENV } from '../../lambdas/erase/constants';
import { STACK_OUTPUTS } from '../../src/outputs';
import {
  expectPrivacyTable,
  flat,
  policyStatementsOf,
  refTo,
  resourceNamed,
  resourcesOf,
  template,
} from './helpers';

describe('LogLakeErasures', () => {
  it('keeps requests in their own table keyed by subject, encrypted with the lake key, without backups', () => {
    const t = template();
    const id = expectPrivacyTable(t, 'LogLakeErasuresRequests', 'subject');
    const outputs = t.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(flat(outputs[STACK_OUTPUTS.subjectRequestTable]?.Value)).toContain(refTo(id));
  });

  it('lets only the privacy officer and the executor touch requests, and no one else write them', () => {
    const t = template();
    const [requestTable] = resourceNamed(t, 'AWS::DynamoDB::Table', 'LogLakeErasuresRequests');
    const policies = {
      ...resourcesOf(t, 'AWS::IAM::Policy'),
      ...resourcesOf(t, 'AWS::IAM::ManagedPolicy'),
    };
    const onRequests = Object.keys(policies)
      .map((id) => [id, policyStatementsOf(t, id)] as const)
      .map(
        ([id, statements]) =>
          [
            refTo(id).slice(1, -1),
            statements
              .filter((s) => s.resources.some((r) => r.includes(refTo(requestTable))))
              .flatMap((s) => s.actions)
              .sort(),
          ] as const,
      )
      .filter(([, actions]) => actions.length > 0);

    expect(Object.fromEntries(onRequests)).toEqual({
      LogLakeAccessPrivacyOfficerPolicy: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      LogLakeErasuresExecutorRoleDefaultPolicy: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Scan'],
    });
  });

  it('runs the executor on a schedule with the tables, the audit stream and its own identity, granted only what it does', () => {
    const t = template();
    const [fnId, fn] = resourceNamed(t, 'AWS::Lambda::Function', 'LogLakeErasuresExecutor');
    const [requestTable] = resourceNamed(t, 'AWS::DynamoDB::Table', 'LogLakeErasuresRequests');
    const [keyTable] = resourceNamed(t, 'AWS::DynamoDB::Table', 'LogLakeIngestSubjectKeys');
    const [auditStream] = resourceNamed(t, 'AWS::KinesisFirehose::DeliveryStream', 'LogLakeIngestAudit');
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(flat(env[ERASE_ENV.requestTable])).toContain(refTo(requestTable));
    expect(flat(env[ERASE_ENV.keyTable])).toContain(refTo(keyTable));
    expect(flat(env[ERASE_ENV.auditStream])).toContain(refTo(auditStream));
    expect(flat(env[ERASE_ENV.principal])).toContain('LogLakeErasuresExecutorRole');

    const [, rule] = resourceNamed(t, 'AWS::Events::Rule', 'LogLakeErasuresSchedule');
    expect(rule.Properties.ScheduleExpression).toBe('rate(1 hour)');
    expect(flat(rule.Properties.Targets)).toContain(refTo(fnId));

    const statements = policyStatementsOf(t, 'LogLakeErasuresExecutorRoleDefaultPolicy');
    const on = (logicalId: string) =>
      statements
        .filter((s) => s.resources.some((r) => r.includes(refTo(logicalId))))
        .flatMap((s) => s.actions)
        .sort();
    expect(on(keyTable)).toEqual(['dynamodb:DeleteItem']);
    expect(on(auditStream)).toEqual(['firehose:PutRecord', 'firehose:PutRecordBatch']);
    const kms = statements.filter((s) => s.actions.some((a) => a.startsWith('kms:')));
    for (const s of kms) expect(s.condition).toContain('kms:ViaService');
  });

  it('lets the executor purge only the unlocked categories: their objects and old versions, the compaction prefix, its own workgroup, compaction_* tables', () => {
    const t = template();
    const [, fn] = resourceNamed(t, 'AWS::Lambda::Function', 'LogLakeErasuresExecutor');
    const [bucket] = resourceNamed(t, 'AWS::S3::Bucket', 'LogLakeStorageLogsBucket');
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const purge = flat(env[ERASE_ENV.purge]);
    expect(purge).toContain(refTo(bucket));
    expect(purge).toContain('"workgroup":"loglake-purge"');
    expect(purge).toContain('"categories":["debug","runtime","framework","errors","api_access"]');
    expect(purge).toContain('"locked":["security","audit"]');
    // One find query per category, each back to its own expiry + 1 day.
    expect(purge).toContain(
      '"searchDays":{"debug":15,"runtime":31,"framework":91,"errors":91,"api_access":181}',
    );
    expect(fn.Properties.Timeout).toBe(900);

    const statements = policyStatementsOf(t, 'LogLakeErasuresExecutorRoleDefaultPolicy');
    const onBucket = statements.filter((s) => s.resources.some((r) => r.includes(refTo(bucket))));
    const objectWrites = onBucket.filter((s) => s.actions.includes('s3:DeleteObjectVersion'));
    expect(objectWrites.flatMap((s) => s.resources).sort()).toEqual(
      ['api_access', 'debug', 'errors', 'framework', 'runtime'].map(
        (c) => `${refTo(bucket)}/logs/category=${c}/*`,
      ),
    );
    const versions = onBucket.filter((s) => s.actions.includes('s3:ListBucketVersions'));
    expect(versions).toHaveLength(1);
    expect(versions[0]?.condition).toContain('logs/category=debug/');
    for (const s of onBucket) {
      for (const locked of ['security', 'audit']) {
        expect(s.resources.join() + s.condition).not.toContain(`category=${locked}/`);
      }
    }
    const athena = statements.filter((s) => s.actions.includes('athena:StartQueryExecution'));
    expect(athena.flatMap((s) => s.resources)).toEqual([expect.stringContaining('workgroup/loglake-purge')]);
    const glue = statements.filter((s) => s.actions.includes('glue:CreateTable'));
    expect(glue.flatMap((s) => s.resources).filter((r) => r.includes(':table/'))).toEqual([
      expect.stringContaining('table/loglake/compaction_*'),
    ]);
  });
});
