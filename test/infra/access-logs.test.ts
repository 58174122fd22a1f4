/**
 * `LogLakeAccessLogs` alone on a bare stack: the S3-notified function, what it may read and put, its
 * settings, retries and dead-letter queue.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { ACCESS_LOGS_ENV } from '../../lambdas/access-logs/constants';
import { LogLakeAccessLogs, type LogLakeAccessLogsProps } from '../../lib/access-logs';
import { DEFAULT_CONFIG } from '../../src/config';
import { bareStack, type FlatStatement, policyStatementsOf, resourceNamed } from './helpers';

const STREAM_ARN = 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/lake-logs';
const RULES = {
  rules: DEFAULT_CONFIG.transform.rules,
  defaultCategory: DEFAULT_CONFIG.transform.defaultCategory,
};

function build(props: Partial<LogLakeAccessLogsProps> = {}) {
  const { stack } = bareStack();
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const bucket = new s3.Bucket(stack, 'AlbLogs', { enforceSSL: true });
  new LogLakeAccessLogs(stack, 'Alb', {
    bucket,
    stream: firehose.DeliveryStream.fromDeliveryStreamArn(stack, 'Stream', STREAM_ARN),
    encryptionKey: key,
    rules: RULES,
    logRetentionDays: 30,
    format: 'alb',
    ...props,
  });
  return Template.fromStack(stack);
}

describe('LogLakeAccessLogs', () => {
  it('invokes its function on every new object under the prefix', () => {
    const t = build({ prefix: 'AWSLogs/' });

    t.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: Match.stringLikeRegexp('^AlbLogs') },
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'AWSLogs/' }] } },
            LambdaFunctionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlbFunction'), 'Arn'] },
          },
        ],
      },
    });
  });

  it('tells the function the stream, the format and category, and the transform’s rules', () => {
    const t = build({ category: 'api_access' });

    t.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 300,
      Environment: {
        Variables: {
          [ACCESS_LOGS_ENV.stream]: 'lake-logs',
          [ACCESS_LOGS_ENV.source]: JSON.stringify({ format: 'alb', category: 'api_access' }),
          [ACCESS_LOGS_ENV.rules]: JSON.stringify(RULES),
        },
      },
    });
  });

  it('retries an object twice within 6 hours, then keeps its event in an encrypted dead-letter queue', () => {
    const t = build();

    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21_600,
    });
    t.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
      MessageRetentionPeriod: 1_209_600,
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      DeadLetterConfig: {
        TargetArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlbDeadLetterQueue'), 'Arn'] },
      },
    });
  });

  it('may read only the bucket’s objects under the prefix and put records only on the stream', () => {
    const t = build({ prefix: 'AWSLogs/' });

    const [id] = resourceNamed(t, 'AWS::IAM::Policy', 'AlbFunctionRoleDefaultPolicy');
    const statements = policyStatementsOf(t, id);
    expect(statements.filter((s) => s.actions.some((a) => a.startsWith('s3:')))).toEqual<FlatStatement[]>([
      {
        effect: 'Allow',
        actions: ['s3:GetBucket*', 's3:GetObject*', 's3:List*'],
        resources: ['<AlbLogs>', '<AlbLogs>/AWSLogs/*'],
        condition: '',
      },
    ]);
    expect(statements.filter((s) => s.actions.some((a) => a.startsWith('firehose:')))).toEqual<
      FlatStatement[]
    >([
      {
        effect: 'Allow',
        actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
        resources: [STREAM_ARN],
        condition: '',
      },
    ]);
  });

  it('refuses settings too large for the function’s environment', () => {
    const rules = Array.from({ length: 200 }, (_, i) => ({
      ...(DEFAULT_CONFIG.transform.rules[0] as (typeof DEFAULT_CONFIG.transform.rules)[number]),
      name: `rule-${i}-${'x'.repeat(20)}`,
    }));

    expect(() => build({ rules: { ...RULES, rules } })).toThrow(
      /over Lambda.s limit of 4096; shorten transform.rules/,
    );
  });
});
