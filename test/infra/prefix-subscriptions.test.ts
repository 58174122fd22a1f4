/**
 * Log groups subscribed by name prefix, on the construct side: the subscriber function and its least
 * privilege, the EventBridge rule on CloudTrail's CreateLogGroup, the custom resource and its settings
 * (the lake's own and the template's subscribed groups excluded), and the synth-time check that no prefix
 * matches the lake's own log groups; the alarm on groups left out at CloudWatch Logs' filter limit.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { ALARM_ENV } from '../../lambdas/alarm/constants';
import { SETTINGS_PROPERTY, SUBSCRIBER_ENV, SUBSCRIBER_METRICS } from '../../lambdas/subscriber/constants';
import {
  LogLakePrefixSubscriptions,
  type LogLakePrefixSubscriptionsProps,
} from '../../lib/prefix-subscriptions';
import type { LogLakeConfigOverride } from '../../src/config';
import {
  bareStack,
  flat,
  policyStatementsOf,
  refTo,
  resourceNamed,
  resourcesOf,
  synthStack,
  template,
} from './helpers';

const PREFIXES: LogLakeConfigOverride = {
  sources: {
    cloudWatchLogs: {
      logGroups: ['/aws/lambda/orders-explicit', '/other/explicit'],
      logGroupPrefixes: [
        '/aws/lambda/orders-',
        { prefix: '/ecs/', filterPattern: 'ERROR', category: 'framework' },
      ],
    },
  },
};
const ARN = 'arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:';

/** The settings JSON, with every CloudFormation value written as `<LogicalId>` (flat). */
function settingsOf(t: Template): Record<string, unknown> {
  const [, resource] = resourceNamed(
    t,
    'Custom::LogLakePrefixSubscriptions',
    'LogLakeSubscriptionsPrefixesSweep',
  );
  return JSON.parse(flat(resource.Properties[SETTINGS_PROPERTY])) as Record<string, unknown>;
}

describe('log groups subscribed by prefix', () => {
  it('the function may touch subscription filters only under the prefixes and pass only the CloudWatch Logs role', () => {
    const t = template({ override: PREFIXES });

    const statements = policyStatementsOf(t, 'LogLakeSubscriptionsPrefixesFunctionRoleDefaultPolicy');

    expect(statements.map((s) => [s.actions.join(','), s.resources.join(' '), s.condition])).toEqual([
      ['sqs:SendMessage', '<LogLakeSubscriptionsPrefixesDeadLetterQueue>', ''],
      ['logs:CreateLogStream,logs:PutLogEvents', '<LogLakeSubscriptionsPrefixesFunctionLogGroup>', ''],
      [
        'logs:DeleteSubscriptionFilter,logs:DescribeSubscriptionFilters,logs:PutSubscriptionFilter',
        `${ARN}/aws/lambda/orders-* ${ARN}/ecs/*`,
        '',
      ],
      ['logs:DescribeLogGroups', `${ARN}*`, ''],
      ['iam:PassRole', '<LogLakeSubscriptionsCloudWatchLogsRole>', ''],
    ]);
  });

  it('a rule on CloudTrail’s CreateLogGroup under the prefixes invokes it, retried, with a dead-letter queue', () => {
    const t = template({ override: PREFIXES });
    const [, rule] = resourceNamed(t, 'AWS::Events::Rule', 'LogLakeSubscriptionsPrefixesCreateLogGroup');
    expect(rule.Properties.EventPattern).toEqual({
      source: ['aws.logs'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['logs.amazonaws.com'],
        eventName: ['CreateLogGroup'],
        requestParameters: { logGroupName: [{ prefix: '/aws/lambda/orders-' }, { prefix: '/ecs/' }] },
      },
    });
    const targets = rule.Properties.Targets as Array<{ Arn: unknown }>;
    expect(targets.map((x) => flat(x.Arn))).toEqual(['<LogLakeSubscriptionsPrefixesFunction>']);
    const [, fn] = resourceNamed(t, 'AWS::Lambda::Function', 'LogLakeSubscriptionsPrefixesFunction');
    expect(flat(fn.Properties.DeadLetterConfig)).toBe('<LogLakeSubscriptionsPrefixesDeadLetterQueue>');
    const [, invoke] = resourceNamed(
      t,
      'AWS::Lambda::EventInvokeConfig',
      'LogLakeSubscriptionsPrefixesFunction',
    );
    expect(invoke.Properties.MaximumRetryAttempts).toBe(2);
  });

  it('the custom resource and the function get the same settings: stream, role, prefixes and the groups left alone', () => {
    const t = template({ override: PREFIXES });
    const settings = settingsOf(t);
    const [, fn] = resourceNamed(t, 'AWS::Lambda::Function', 'LogLakeSubscriptionsPrefixesFunction');
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;

    expect(JSON.parse(flat(env[SUBSCRIBER_ENV.settings]))).toEqual(settings);
    expect(settings).toMatchObject({
      lakeName: 'loglake',
      destinationArn: '<LogLakeIngestLogsStream>',
      roleArn: '<LogLakeSubscriptionsCloudWatchLogsRole>',
      prefixes: [
        { prefix: '/aws/lambda/orders-', filterPattern: '' },
        { prefix: '/ecs/', filterPattern: 'ERROR', category: 'framework' },
      ],
    });
    expect(settings.accountPolicy).toBeUndefined();
    // Every log group of the stack is the lake's own here, and the one subscribed by name under a prefix
    // (one elsewhere cannot be swept: left out, the environment holds only 4 KB).
    const groups = Object.keys(resourcesOf(t, 'AWS::Logs::LogGroup')).map((id) => refTo(id));
    expect(groups.length).toBeGreaterThan(5);
    expect([...(settings.exclude as string[])].sort()).toEqual(
      [...groups, '/aws/lambda/orders-explicit'].sort(),
    );
  });

  it('tells the function which groups the account policy covers, when it is on', () => {
    const t = template({
      override: {
        sources: {
          cloudWatchLogs: {
            logGroupPrefixes: ['/ecs/'],
            accountPolicy: { enabled: true, exclude: ['/ecs/private'] },
          },
        },
      },
    });
    expect(settingsOf(t).accountPolicy).toEqual({ exclude: ['/ecs/private'] });
  });

  it('alarms on log groups left out at the filter limit, routed through the alarm Lambda like the other pipeline alarms', () => {
    const t = template({ override: PREFIXES });
    const [id, alarm] = resourceNamed(
      t,
      'AWS::CloudWatch::Alarm',
      'LogLakeAlertingLogGroupsAtFilterLimitAlarm',
    );

    // The literal names pin the contract with the handler; SUBSCRIBER_METRICS is what both sides import.
    expect(SUBSCRIBER_METRICS).toMatchObject({ namespace: 'LogLake', service: 'loglake-subscriber' });
    expect(alarm.Properties).toMatchObject({
      Namespace: SUBSCRIBER_METRICS.namespace,
      MetricName: SUBSCRIBER_METRICS.names.full,
      Dimensions: [{ Name: 'service', Value: SUBSCRIBER_METRICS.service }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    // No alarm action: its state change reaches SNS through EventBridge and the alarm Lambda.
    expect(alarm.Properties.AlarmActions).toBeUndefined();
    const [, stateChanges] = resourceNamed(t, 'AWS::Events::Rule', 'LogLakeAlertingAlarmStateChange');
    expect(flat(stateChanges.Properties.EventPattern)).toContain(refTo(id));
    const [, fn] = resourceNamed(t, 'AWS::Lambda::Function', 'LogLakeAlertingFunction');
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(JSON.parse(String(env[ALARM_ENV.pipelineSeverities])).logGroupsAtFilterLimit).toBe('high');
    expect(alarm.Properties.AlarmDescription).toMatch(
      /^CloudWatch Logs: log groups.* \[loglake:logGroupsAtFilterLimit\]$/,
    );

    const medium = template({
      override: { ...PREFIXES, alerts: { pipeline: { severities: { logGroupsAtFilterLimit: 'medium' } } } },
    });
    const [, mediumFn] = resourceNamed(medium, 'AWS::Lambda::Function', 'LogLakeAlertingFunction');
    const mediumEnv = (mediumFn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(JSON.parse(String(mediumEnv[ALARM_ENV.pipelineSeverities])).logGroupsAtFilterLimit).toBe('medium');
  });

  it('adds nothing without prefixes', () => {
    const t = template();
    expect(resourcesOf(t, 'Custom::LogLakePrefixSubscriptions')).toEqual({});
    expect(
      Object.keys(resourcesOf(t, 'AWS::CloudWatch::Alarm')).filter((id) => id.includes('FilterLimit')),
    ).toEqual([]);
    expect(Object.keys(resourcesOf(t, 'AWS::Events::Rule')).filter((id) => id.includes('Prefixes'))).toEqual(
      [],
    );
  });

  it('fails synth for a prefix that matches the lake’s own log groups', () => {
    for (const prefix of ['L', 'LogLake', 'LogLake-IngestLogs']) {
      const { app } = synthStack({
        override: { sources: { cloudWatchLogs: { logGroupPrefixes: [prefix] } } },
      });
      expect(() => app.synth(), prefix).toThrow(
        new RegExp(`logGroupPrefixes: "${prefix}" matches the lake's own log groups`),
      );
    }
  });

  it('fails synth for a prefix matching a log group the lake gets later, with a name', () => {
    const { app, stack } = synthStack({
      override: { sources: { cloudWatchLogs: { logGroupPrefixes: ['/team/'] } } },
    });
    new logs.LogGroup(stack.lake, 'Extra', { logGroupName: '/team/lake-extra' });
    expect(() => app.synth()).toThrow(/"\/team\/" matches the lake's own log groups \(\/team\/lake-extra\)/);
  });

  it('fails synth when the settings would not fit in the function’s 4 KB environment', () => {
    const prefixes = Array.from({ length: 50 }, (_, i) => `/aws/lambda/${'team-'.repeat(18)}${i}-`);
    const { app } = synthStack({ override: { sources: { cloudWatchLogs: { logGroupPrefixes: prefixes } } } });
    expect(() => app.synth()).toThrow(/logGroupPrefixes: the subscriber's settings need about \d+ bytes/);
    const fits = synthStack({
      override: { sources: { cloudWatchLogs: { logGroupPrefixes: prefixes.slice(0, 9) } } },
    });
    expect(() => fits.app.synth()).not.toThrow();
  });

  it('refuses a prefix CloudWatch Logs could not name, naming the field', () => {
    expect(() =>
      template({
        override: { sources: { cloudWatchLogs: { logGroupPrefixes: [{ prefix: '/bad prefix' }] } } },
      }),
    ).toThrow(/sources\.cloudWatchLogs\.logGroupPrefixes\.0/);
  });
});

describe('LogLakePrefixSubscriptions on a bare stack', () => {
  const STREAM_ARN = 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/lake-logs';

  function build(props: Partial<LogLakePrefixSubscriptionsProps> = {}) {
    const { stack } = bareStack();
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const role = new iam.Role(stack, 'CwlRole', {
      assumedBy: new iam.ServicePrincipal('logs.amazonaws.com'),
    });
    const prefixes = new LogLakePrefixSubscriptions(stack, 'Prefixes', {
      name: 'lake',
      prefixes: [
        { prefix: '/aws/lambda/orders-' },
        { prefix: '/ecs/', filterPattern: 'ERROR', category: 'framework' },
      ],
      stream: firehose.DeliveryStream.fromDeliveryStreamArn(stack, 'Stream', STREAM_ARN),
      cloudWatchLogsRole: role,
      exclude: () => ['/aws/lambda/orders-own'],
      encryptionKey: key,
      logRetentionDays: 30,
      ...props,
    });
    return { stack, prefixes, t: Template.fromStack(stack) };
  }

  it('sweeps at deploy with its settings: prefixes, stream, role and the groups left alone', () => {
    const { t } = build({ accountPolicyExclude: ['/ecs/noisy'] });

    const [, sweep] = resourceNamed(t, 'Custom::LogLakePrefixSubscriptions', 'PrefixesSweep');
    expect(JSON.parse(flat(sweep.Properties[SETTINGS_PROPERTY]))).toEqual({
      lakeName: 'lake',
      destinationArn: STREAM_ARN,
      roleArn: '<CwlRole>',
      prefixes: [
        { prefix: '/aws/lambda/orders-', filterPattern: '' },
        { prefix: '/ecs/', filterPattern: 'ERROR', category: 'framework' },
      ],
      exclude: ['/aws/lambda/orders-own'],
      accountPolicy: { exclude: ['/ecs/noisy'] },
    });
  });

  it('may put filters only under its prefixes and pass only the given role', () => {
    const { t } = build();

    expect(
      policyStatementsOf(t, 'PrefixesFunctionRoleDefaultPolicy').map((s) => [
        s.actions.join(','),
        s.resources.join(' '),
      ]),
    ).toEqual([
      ['sqs:SendMessage', '<PrefixesDeadLetterQueue>'],
      ['logs:CreateLogStream,logs:PutLogEvents', '<PrefixesFunctionLogGroup>'],
      [
        'logs:DeleteSubscriptionFilter,logs:DescribeSubscriptionFilters,logs:PutSubscriptionFilter',
        'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/orders-* arn:aws:logs:eu-west-1:123456789012:log-group:/ecs/*',
      ],
      ['logs:DescribeLogGroups', 'arn:aws:logs:eu-west-1:123456789012:log-group:*'],
      ['iam:PassRole', '<CwlRole>'],
    ]);
  });

  it('runs on CloudTrail’s CreateLogGroup under its prefixes, retried', () => {
    const { t } = build();

    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: {
          eventSource: ['logs.amazonaws.com'],
          eventName: ['CreateLogGroup'],
          requestParameters: { logGroupName: [{ prefix: '/aws/lambda/orders-' }, { prefix: '/ecs/' }] },
        },
      }),
      Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 8 } })],
    });
  });

  it('measures the groups left out at the filter limit with the subscriber’s own metric', () => {
    const { prefixes } = build();

    const metric = prefixes.metricAtFilterLimit();

    expect([metric.namespace, metric.metricName, metric.dimensions, metric.statistic]).toEqual([
      SUBSCRIBER_METRICS.namespace,
      SUBSCRIBER_METRICS.names.full,
      { service: SUBSCRIBER_METRICS.service },
      'Sum',
    ]);
  });
});
