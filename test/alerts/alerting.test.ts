import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALARM_ENV } from '../../lambdas/alarm/constants';
import { Alerting } from '../../lib/alerting';
import type { AlertsConfig } from '../../src/alerts/config';
import { decodeAlarmSettings } from '../../src/alerts/settings';
import { resolveConfig } from '../../src/config';
import { template as stackTemplate } from '../infra/helpers';

/** A stack holding only the Alerting construct, with the lake parts it needs imported by name. */
function synth(alerts: AlertsConfig = resolveConfig({}).alerts): { template: Template; stack: Stack } {
  const app = new App();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app));
  const stack = new Stack(app, 'AlertingTest', { env: { account: '123456789012', region: 'eu-west-1' } });
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const bucket = (id: string, name: string) => s3.Bucket.fromBucketName(stack, id, name);
  const streams = (['logs', 'audit'] as const).map((name) => ({
    name,
    deliveryStream: firehose.DeliveryStream.fromDeliveryStreamName(stack, `${name}Stream`, `lake-${name}`),
    transform: lambda.Function.fromFunctionArn(
      stack,
      `${name}Transform`,
      `arn:aws:lambda:eu-west-1:123456789012:function:lake-${name}-transform`,
    ),
    bucket: bucket(`${name}Bucket`, `lake-${name}-bucket`),
  }));
  new Alerting(stack, 'Alerting', {
    alerts,
    encryptionKey: key,
    lake: {
      workGroupName: 'loglake',
      resultsBucket: bucket('Results', 'lake-results'),
      resultsPrefix: 'athena/',
      databaseName: 'loglake',
      tables: { logs: 'logs', audit: 'audit' },
    },
    streams,
    lockedCategories: ['security', 'audit'],
    logRetentionDays: logs.RetentionDays.ONE_MONTH,
    enableBucketEvents: false,
  });
  app.synth();
  return { template: Template.fromStack(stack), stack };
}

describe('Alerting', () => {
  let template: Template;
  beforeAll(() => {
    ({ template } = synth());
  }, 120_000);

  it('creates one KMS-encrypted topic per severity, TLS only', () => {
    template.resourceCountIs('AWS::SNS::Topic', 4);
    template.allResourcesProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    for (const s of ['critical', 'high', 'medium', 'low']) {
      template.hasResourceProperties('AWS::SNS::Topic', { DisplayName: `loglake ${s} alerts` });
    }
    template.resourceCountIs('AWS::SNS::TopicPolicy', 4);
  });

  it('keeps rule state in a KMS-encrypted table with point-in-time recovery and TTL', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('runs the alarm Lambda on Node 24 arm64 with an explicit log group and a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      LoggingConfig: { LogGroup: Match.anyValue() },
      DeadLetterConfig: { TargetArn: Match.anyValue() },
      KmsKeyArn: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      RetentionInDays: 30,
      KmsKeyId: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2 });
  });

  it('passes the rules, tables and topics to the function in its environment', () => {
    const fns = template.findResources('AWS::Lambda::Function');
    const vars = Object.values(fns)[0]?.Properties.Environment.Variables as Record<string, unknown>;
    const settings = decodeAlarmSettings(vars[ALARM_ENV.settings] as string);
    expect(Object.keys(settings.rules).sort()).toEqual([
      'error-rate',
      'firehose-errors',
      'security-critical',
      'volume-anomaly',
    ]);
    expect(settings.lockedCategories).toEqual(['security', 'audit']);
    expect(vars[ALARM_ENV.workgroup]).toBe('loglake');
    expect(vars[ALARM_ENV.database]).toBe('loglake');
    expect(vars[ALARM_ENV.searchTarget]).toBe('--athena --stack AlertingTest');
    expect(JSON.stringify(vars[ALARM_ENV.topics])).toContain('CriticalTopic');
  });

  it('invokes the function on the configured schedule with retries and a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 4 },
          DeadLetterConfig: { Arn: Match.anyValue() },
        }),
      ],
    });
  });

  it('routes pipeline alarm state changes and new error objects to the function', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        resources: Match.anyValue(),
      },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.s3'],
        'detail-type': ['Object Created'],
        detail: {
          bucket: { name: ['lake-logs-bucket', 'lake-audit-bucket'] },
          object: { key: [{ prefix: 'errors/' }] },
        },
      },
    });
  });

  it('alarms on Firehose delivery, throttling and freshness and on transform errors, throttles and failed records, per stream', () => {
    const metric = (namespace: string, name: string) =>
      Object.keys(
        template.findResources('AWS::CloudWatch::Alarm', {
          Properties: { Namespace: namespace, MetricName: name },
        }),
      ).length;
    expect(metric('AWS/Firehose', 'DeliveryToS3.Success')).toBe(2);
    expect(metric('AWS/Firehose', 'ThrottledRecords')).toBe(2);
    expect(metric('AWS/Firehose', 'DeliveryToS3.DataFreshness')).toBe(2);
    expect(metric('AWS/Lambda', 'Throttles')).toBe(2);
    expect(metric('LogLake', 'Records')).toBe(2);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'LogLake',
      MetricName: 'Records',
      Dimensions: Match.arrayWith([
        { Name: 'Result', Value: 'ProcessingFailed' },
        { Name: 'Stream', Value: 'audit' },
      ]),
    });
    // Two transform functions plus the alarm Lambda itself.
    expect(metric('AWS/Lambda', 'Errors')).toBe(3);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DeliveryToS3.DataFreshness',
      Threshold: 900,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('sends the alarm Lambda’s own failures straight to SNS', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('alarm Lambda failed'),
      AlarmActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('HighTopic') })],
      OKActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('HighTopic') })],
    });
  });

  it('grants Athena only on the workgroup and S3 reads only under the data prefix', () => {
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('athena:StartQueryExecution');
    expect(policies).toContain(':workgroup/loglake');
    expect(policies).toContain('lake-logs-bucket/logs/*');
    expect(policies).not.toContain('lake-logs-bucket/*"');
    expect(policies).not.toContain('lake-logs-bucket/errors');
    expect(policies).toContain('sns:Publish');
  });

  it('draws a dashboard of the pipeline', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

describe('Alerting subscriptions', () => {
  it('escalates: a subscription gets every topic at or above its severity, with a filter for firing-only', () => {
    const alerts = resolveConfig({
      alerts: {
        subscriptions: [
          { protocol: 'email', endpoint: 'oncall@example.com', minSeverity: 'medium' },
          {
            protocol: 'https',
            endpoint: 'https://pager.example.com/hook',
            minSeverity: 'critical',
            firingOnly: true,
          },
        ],
      },
    }).alerts;
    const { template } = synth(alerts);
    template.resourceCountIs('AWS::SNS::Subscription', 4);
    expect(
      Object.keys(template.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'email' } })),
    ).toHaveLength(3);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'https',
      Endpoint: 'https://pager.example.com/hook',
      FilterPolicy: { status: ['firing'] },
      TopicArn: { Ref: Match.stringLikeRegexp('CriticalTopic') },
    });
  }, 120_000);

  it('leaves out the pipeline alarms and their rule when they are disabled', () => {
    const alerts = resolveConfig({ alerts: { pipeline: { enabled: false } } }).alerts;
    const { template } = synth(alerts);
    // Only the alarm Lambda's own two alarms remain.
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    expect(
      Object.keys(
        template.findResources('AWS::Events::Rule', {
          Properties: { EventPattern: { source: ['aws.cloudwatch'] } },
        }),
      ),
    ).toHaveLength(0);
  }, 120_000);
});

describe('LogLakeStack alert outputs', () => {
  it('names the topic of each severity, for subscribing email, chat or paging', () => {
    // Act
    const outputs = stackTemplate().findOutputs('*');

    // Assess
    for (const severity of ['Critical', 'High', 'Medium', 'Low']) {
      expect(outputs[`${severity}AlertTopicArn`]?.Value).toEqual({
        Ref: expect.stringMatching(new RegExp(`^LogLakeAlerting${severity}Topic`)),
      });
    }
  });

  it('has no topic outputs when alerting is disabled', () => {
    // Act
    const outputs = Object.keys(stackTemplate({ override: { alerts: { enabled: false } } }).findOutputs('*'));

    // Assess
    expect(outputs.filter((o) => o.endsWith('AlertTopicArn'))).toEqual([]);
    expect(outputs).toContain('LogsStreamName');
  });
});
