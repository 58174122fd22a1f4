/** `LogLakeFunction` alone on a bare stack: the team's defaults, its log group and role, and what it leaves to the caller. */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { LogLakeFunction, type LogLakeFunctionProps } from '../../lib/function';
import {
  bareStack,
  type FlatStatement,
  policyStatementsOf,
  refTo,
  resourceNamed,
  resourcesOf,
} from './helpers';

function build(props: Partial<LogLakeFunctionProps> = {}) {
  const { stack } = bareStack();
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const fn = new LogLakeFunction(stack, 'Fn', {
    entry: 'lambdas/subscriber/index.ts',
    description: 'loglake: a test function',
    logRetentionDays: 14,
    encryptionKey: key,
    ...props,
  });
  return { stack, key, fn };
}

describe('LogLakeFunction', () => {
  it('runs Node.js 24 on arm64 with 1024 MB and a minute, its environment encrypted with the key', () => {
    const { stack } = build({ environment: { LOGLAKE_TEST: 'b' } });
    const t = Template.fromStack(stack);

    t.resourceCountIs('AWS::Lambda::Function', 1);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 1024,
      Timeout: 60,
      Handler: 'index.handler',
      Description: 'loglake: a test function',
      KmsKeyArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
      Environment: { Variables: { LOGLAKE_TEST: 'b' } },
      LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^FnLogGroup') } },
    });
  });

  it('writes to its own KMS-encrypted log group with retention, destroyed with the stack; no retention custom resource', () => {
    const { stack } = build();
    const t = Template.fromStack(stack);

    const [, group] = resourceNamed(t, 'AWS::Logs::LogGroup', 'FnLogGroup');
    expect(group.Properties).toEqual({
      RetentionInDays: 14,
      KmsKeyId: { 'Fn::GetAtt': [expect.stringMatching(/^Key/), 'Arn'] },
    });
    t.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    expect(resourcesOf(t, 'Custom::LogRetention')).toEqual({});
  });

  it('keeps its log group when asked to', () => {
    const { stack } = build({ logRemovalPolicy: RemovalPolicy.RETAIN });

    Template.fromStack(stack).hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain' });
  });

  it('has a role of its own that may only write to its log group, without the basic execution managed policy', () => {
    const { stack } = build();
    const t = Template.fromStack(stack);

    const [, role] = resourceNamed(t, 'AWS::IAM::Role', 'FnRole');
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.Description).toBe('Execution role of loglake: a test function');
    expect(policyStatementsOf(t, 'FnRoleDefaultPolicy')).toEqual<FlatStatement[]>([
      {
        effect: 'Allow',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [refTo('FnLogGroup')],
        condition: '',
      },
    ]);
  });

  it('takes the caller’s role, memory, timeout and every other function option', () => {
    const { stack } = bareStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const role = new iam.Role(stack, 'Given', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    const dlq = new sqs.Queue(stack, 'Dlq', { enforceSSL: true });
    new LogLakeFunction(stack, 'Fn', {
      entry: 'lambdas/subscriber/index.ts',
      description: 'loglake: a test function',
      logRetentionDays: 30,
      encryptionKey: key,
      role,
      memorySize: 256,
      timeout: Duration.minutes(15),
      deadLetterQueue: dlq,
      reservedConcurrentExecutions: 2,
    });
    const t = Template.fromStack(stack);

    t.hasResourceProperties('AWS::Lambda::Function', {
      Role: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Given'), 'Arn'] },
      MemorySize: 256,
      Timeout: 900,
      DeadLetterConfig: { TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Dlq'), 'Arn'] } },
      ReservedConcurrentExecutions: 2,
    });
    expect(Object.keys(resourcesOf(t, 'AWS::IAM::Role'))).toEqual([expect.stringMatching(/^Given/)]);
    expect(policyStatementsOf(t, 'GivenDefaultPolicy').map((s) => s.actions)).toEqual([
      ['sqs:SendMessage'],
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
    ]);
  });

  it('refuses an entry with neither its source nor a pre-bundled handler', () => {
    expect(() => build({ entry: 'lambdas/none/index.ts' })).toThrow(
      /LogLakeFunction: neither .*lambdas\/none\/index\.ts nor its pre-bundled .*index\.js exists/,
    );
  });
});
