/**
 * `LogLakeSubscriptions` alone on a bare stack, with a stream and a stand-in lake of its own: the role
 * CloudWatch Logs assumes, subscriptions by name, the account policy and the feedback-loop checks.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { LogLakeSubscriptions, type LogLakeSubscriptionsProps } from '../../lib/subscriptions';
import { bareStack, type FlatStatement, flat, policyStatementsOf, resourceNamed } from './helpers';

const STREAM_ARN = 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/lake-logs';

function build(props: Partial<LogLakeSubscriptionsProps> = {}) {
  const { app, stack } = bareStack();
  const stream = firehose.DeliveryStream.fromDeliveryStreamArn(stack, 'Stream', STREAM_ARN);
  const lake = new Construct(stack, 'Lake');
  const ownGroup = new logs.LogGroup(lake, 'OwnGroup', { logGroupName: '/loglake/own' });
  const subscriptions = new LogLakeSubscriptions(stack, 'Subscriptions', {
    name: 'lake',
    stream,
    lakeStreams: () => [stream],
    lake,
    ...props,
  });
  return { app, stack, stream, ownGroup, subscriptions };
}

describe('LogLakeSubscriptions', () => {
  it('has a role only CloudWatch Logs of this account and region assumes, putting records on the one stream', () => {
    const { stack } = build();
    const t = Template.fromStack(stack);

    const [, role] = resourceNamed(t, 'AWS::IAM::Role', 'SubscriptionsCloudWatchLogsRole');
    expect(role.Properties.AssumeRolePolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { Service: 'logs.amazonaws.com' },
          Condition: {
            StringEquals: { 'aws:SourceAccount': '123456789012' },
            StringLike: { 'aws:SourceArn': 'arn:aws:logs:eu-west-1:123456789012:*' },
          },
        },
      ],
    });
    expect(policyStatementsOf(t, 'SubscriptionsCloudWatchLogsRoleDefaultPolicy')).toEqual<FlatStatement[]>([
      {
        effect: 'Allow',
        actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
        resources: [STREAM_ARN],
        condition: '',
      },
    ]);
  });

  it('subscribes a log group to the stream through its role, the category in the filter name', () => {
    const { stack, subscriptions } = build();
    const group = new logs.LogGroup(stack, 'Orders', { logGroupName: '/aws/lambda/orders' });

    subscriptions.subscribe(group, {
      category: 'security',
      filterPattern: logs.FilterPattern.literal('ERROR'),
    });
    subscriptions.subscribe(logs.LogGroup.fromLogGroupName(stack, 'Imported', '/ecs/web'));

    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::Logs::SubscriptionFilter', 2);
    t.hasResourceProperties('AWS::Logs::SubscriptionFilter', {
      LogGroupName: { Ref: Match.stringLikeRegexp('^Orders') },
      DestinationArn: STREAM_ARN,
      RoleArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SubscriptionsCloudWatchLogsRole'), 'Arn'] },
      FilterPattern: 'ERROR',
      FilterName: 'lake-lake.category=security',
    });
    t.hasResourceProperties('AWS::Logs::SubscriptionFilter', {
      LogGroupName: '/ecs/web',
      FilterPattern: '',
      FilterName: 'lake-lake',
    });
    t.resourceCountIs('AWS::Logs::AccountPolicy', 0);
  });

  it('refuses a log group the lake created', () => {
    const { subscriptions, ownGroup } = build();

    expect(() => subscriptions.subscribe(ownGroup)).toThrow(
      /Lake\/OwnGroup is one of the lake's own log groups; subscribing it would feed the lake its own output/,
    );
  });

  it('refuses a log group of the lake imported by its literal name', () => {
    const { stack, subscriptions } = build();
    const imported = logs.LogGroup.fromLogGroupName(stack, 'ByName', '/loglake/own');

    expect(() => subscriptions.subscribe(imported)).toThrow(/ByName is one of the lake's own log groups/);
    // A name that only starts like it is another group.
    expect(() =>
      subscriptions.subscribe(logs.LogGroup.fromLogGroupName(stack, 'Other', '/loglake/own-not')),
    ).not.toThrow();
  });

  it('with the account policy, sends every log group but the lake’s own, the excluded and the subscribed by name', () => {
    const { stack, subscriptions } = build({
      accountPolicy: { enabled: true, filterPattern: 'ERROR', exclude: ['/noisy'] },
    });
    subscriptions.subscribe(logs.LogGroup.fromLogGroupName(stack, 'Named', '/aws/lambda/orders'));

    const t = Template.fromStack(stack);
    const [, policy] = resourceNamed(t, 'AWS::Logs::AccountPolicy', 'SubscriptionsAccountPolicy');
    expect(policy.Properties.PolicyName).toBe('lake-lake');
    expect(policy.Properties.PolicyType).toBe('SUBSCRIPTION_FILTER_POLICY');
    expect(policy.Properties.Scope).toBe('ALL');
    expect(flat(policy.Properties.SelectionCriteria)).toBe(
      'LogGroupName NOT IN ["<LakeOwnGroup>", "/noisy", "/aws/lambda/orders"]',
    );
    expect(JSON.parse(flat(policy.Properties.PolicyDocument))).toEqual({
      DestinationArn: STREAM_ARN,
      RoleArn: '<SubscriptionsCloudWatchLogsRole>',
      FilterPattern: 'ERROR',
    });
  });

  it('fails synth when anything else in the stack sends a lake log group to a lake stream', () => {
    const { app, stack, stream, ownGroup } = build();
    new logs.CfnSubscriptionFilter(stack, 'Loop', {
      logGroupName: ownGroup.logGroupName,
      destinationArn: stream.deliveryStreamArn,
      filterPattern: '',
    });

    expect(() => app.synth()).toThrow(
      /Bare\/Loop subscribes the lake's own log group .*LakeOwnGroup.* to a lake stream: the lake would feed on its own output/,
    );
  });
});
