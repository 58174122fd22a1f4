/**
 * The access recorder in the whole stack: a function URL with `AWS_IAM` auth, the only way the persona
 * roles write to the audit trail; the recorder's own role puts on the audit stream alone.
 */
import { describe, expect, it } from 'vitest';
import { ACCESS_RECORDER_ENV } from '../../lambdas/access-recorder/constants';
import { pascalCase, STACK_OUTPUTS } from '../../src/outputs';
import { PERSONAS } from '../../src/schema';
import { flat, policyStatementsOf, refTo, resourceNamed, resourcesOf, template } from './helpers';

const RECORDER = 'LogLakeRecorderFunction';

describe('LogLakeAccessRecorder', () => {
  it('serves the recorder at a function URL with AWS_IAM auth, named in the stack outputs', () => {
    // Arrange
    const t = template();
    const [fnId] = resourceNamed(t, 'AWS::Lambda::Function', RECORDER);

    // Act
    const urls = Object.values(resourcesOf(t, 'AWS::Lambda::Url'));
    const outputs = t.toJSON().Outputs as Record<string, { Value: unknown }>;

    // Assess
    expect(
      urls.map((u) => ({ auth: u.Properties.AuthType, target: flat(u.Properties.TargetFunctionArn) })),
    ).toEqual([{ auth: 'AWS_IAM', target: refTo(fnId) }]);
    const [urlId] = resourceNamed(t, 'AWS::Lambda::Url', 'LogLakeRecorderFunctionFunctionUrl');
    expect(flat(outputs[STACK_OUTPUTS.accessRecorderUrl]?.Value)).toBe(refTo(urlId));
  });

  it('lets the recorder put records on the audit stream and no other', () => {
    // Arrange
    const t = template();
    const [, fn] = resourceNamed(t, 'AWS::Lambda::Function', RECORDER);
    const [auditStream] = resourceNamed(t, 'AWS::KinesisFirehose::DeliveryStream', 'LogLakeIngestAudit');

    // Act
    const statements = policyStatementsOf(t, `${RECORDER}RoleDefaultPolicy`);
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;

    // Assess
    const firehose = statements.filter((s) => s.actions.some((a) => a.startsWith('firehose:')));
    expect(firehose).toEqual([
      {
        effect: 'Allow',
        actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
        resources: [refTo(auditStream)],
        condition: '',
      },
    ]);
    expect(flat(env[ACCESS_RECORDER_ENV.auditStream])).toBe(refTo(auditStream));
    // Besides its own log group, nothing.
    expect(
      statements
        .flatMap((s) => s.actions)
        .filter((a) => !a.startsWith('firehose:') && !a.startsWith('logs:')),
    ).toEqual([]);
  });

  it('gives every persona the recorder’s URL, through AWS_IAM auth only, and no put on any stream', () => {
    // Arrange
    const t = template();
    const [fnId] = resourceNamed(t, 'AWS::Lambda::Function', RECORDER);

    for (const persona of PERSONAS) {
      // Act
      const statements = policyStatementsOf(t, `LogLakeAccess${pascalCase(persona)}Policy`);

      // Assess
      expect(
        statements.filter((s) => s.actions.some((a) => a.startsWith('firehose:'))),
        persona,
      ).toEqual([]);
      expect(
        statements.filter((s) => s.actions.some((a) => a.startsWith('lambda:'))),
        persona,
      ).toEqual([
        {
          effect: 'Allow',
          actions: ['lambda:InvokeFunctionUrl'],
          resources: [refTo(fnId)],
          condition: 'StringEquals lambda:FunctionUrlAuthType=AWS_IAM',
        },
        {
          effect: 'Allow',
          actions: ['lambda:InvokeFunction'],
          resources: [refTo(fnId)],
          condition: 'Bool lambda:InvokedViaFunctionUrl=true',
        },
      ]);
    }
  });
});
