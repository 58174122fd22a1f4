/** The subject key table (crypto-shredding) in the whole stack: encryption, no PITR, who may do what. */
import { describe, expect, it } from 'vitest';
import { TRANSFORM_ENV } from '../../lambdas/transform/constants';
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

describe('LogLakeSubjectKeys', () => {
  it('is one on-demand table keyed by ref, encrypted with the lake key, without point-in-time recovery', () => {
    expectPrivacyTable(template(), 'LogLakeIngestSubjectKeys', 'ref');
  });

  it('lets each transform read and create keys, never delete them, and tells it the table', () => {
    const t = template();
    const [tableLogicalId] = resourceNamed(t, 'AWS::DynamoDB::Table', 'LogLakeIngestSubjectKeys');
    for (const lane of ['Logs', 'Audit']) {
      const [, fn] = resourceNamed(t, 'AWS::Lambda::Function', `LogLakeIngest${lane}Transform`);
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(flat(env[TRANSFORM_ENV.subjectKeyTable])).toContain(refTo(tableLogicalId));

      const statements = policyStatementsOf(t, `LogLakeIngest${lane}TransformRoleDefaultPolicy`);
      const onTable = statements.filter((s) => s.resources.some((r) => r.includes(refTo(tableLogicalId))));
      expect(onTable.flatMap((s) => s.actions).sort()).toEqual([
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
      ]);
    }
  });

  it('lets only the privacy officer look keys up and destroy them; every persona records through the access recorder alone', () => {
    const t = template();
    const [tableLogicalId] = resourceNamed(t, 'AWS::DynamoDB::Table', 'LogLakeIngestSubjectKeys');
    const actionsOn = (persona: string) =>
      policyStatementsOf(t, `LogLakeAccess${persona}Policy`)
        .filter((s) => s.resources.some((r) => r.includes(refTo(tableLogicalId))))
        .flatMap((s) => s.actions)
        .sort();

    expect(actionsOn('PrivacyOfficer')).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
    ]);
    // security searches by --user: it may look keys up, never destroy them.
    expect(actionsOn('Security')).toEqual(['dynamodb:BatchGetItem', 'dynamodb:GetItem']);
    for (const persona of ['Developer', 'Ops', 'Auditor']) expect(actionsOn(persona)).toEqual([]);

    const [recorder] = resourceNamed(t, 'AWS::Lambda::Function', 'LogLakeRecorderFunction');
    const writes = (persona: string) =>
      policyStatementsOf(t, `LogLakeAccess${persona}Policy`)
        .filter((s) => s.actions.some((a) => a.startsWith('firehose:') || a.startsWith('lambda:')))
        .map((s) => ({ actions: s.actions.sort(), resources: s.resources }));
    // Its erase and export requests, and every persona's reads, go through the access recorder, which
    // writes them as the verified caller; no persona puts on the audit stream itself.
    for (const persona of ['PrivacyOfficer', 'Developer', 'Ops', 'Security', 'Auditor']) {
      expect(writes(persona)).toEqual([
        { actions: ['lambda:InvokeFunctionUrl'], resources: [refTo(recorder)] },
        { actions: ['lambda:InvokeFunction'], resources: [refTo(recorder)] },
      ]);
    }
  });

  it('names the table in the stack outputs for `loglake subject --stack`', () => {
    const t = template();
    const outputs = t.toJSON().Outputs as Record<string, { Value: unknown }>;
    const [tableLogicalId] = resourceNamed(t, 'AWS::DynamoDB::Table', 'LogLakeIngestSubjectKeys');

    expect(flat(outputs[STACK_OUTPUTS.subjectKeyTable]?.Value)).toContain(refTo(tableLogicalId));
    expect(
      Object.keys(resourcesOf(t, 'AWS::DynamoDB::Table')).filter((id) =>
        id.startsWith('LogLakeIngestSubjectKeys'),
      ),
    ).toHaveLength(1);
  });
});
