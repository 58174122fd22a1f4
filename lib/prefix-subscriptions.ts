import { ArnFormat, CustomResource, Duration, Lazy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { SETTINGS_PROPERTY, SUBSCRIBER_ENV, SUBSCRIBER_METRICS } from '../lambdas/subscriber/constants';
import type { LogGroupPrefix } from '../src/sources/config';
import type { SubscriberSettings } from '../src/sources/subscriber';
import { LogLakeFunction, type LogRetentionDays } from './function';
import { DEAD_LETTER_RETENTION, metricDeadLetters, metricOldestDeadLetterAge } from './private/dead-letters';
import { deployedEnvironmentBytes, LAMBDA_ENVIRONMENT_LIMIT_BYTES } from './private/environment-size';
import { acknowledge, acknowledgeGrantWildcards, wildcardResource } from './private/nag';

export interface LogLakePrefixSubscriptionsProps {
  /** The lake's name: the filters get the names `lake.subscribe` gives (`src/sources/names.ts`). */
  readonly name: string;
  /** The prefixes and how each one's log groups are subscribed. */
  readonly prefixes: readonly LogGroupPrefix[];
  /** The `logs` stream the filters send to. */
  readonly stream: firehose.IDeliveryStream;
  /** The role CloudWatch Logs assumes to put on it (`LogLakeSubscriptions.role`): passed, never assumed. */
  readonly cloudWatchLogsRole: iam.IRole;
  /**
   * Log groups never touched, resolved at synth: the lake's own and those the template subscribes.
   * (A function, so groups added to the stack after this construct are included.)
   */
  readonly exclude: () => readonly string[];
  /** The account-level subscription filter policy's exclusions, when the policy is on. */
  readonly accountPolicyExclude?: readonly string[];
  /** Encrypts the function's environment and log groups, and the dead-letter queue. */
  readonly encryptionKey: kms.IKey;
  readonly logRetentionDays: LogRetentionDays;
}

/**
 * Log groups subscribed by name prefix (`sources.cloudWatchLogs.logGroupPrefixes`), which CloudFormation
 * cannot express: one function (`lambdas/subscriber`) puts the lake's subscription filter on them.
 *
 * - Existing groups: a custom resource (custom-resources Provider) runs a sweep on every deployment that
 *   changes the settings, and takes the lake's filters off again when the stack is deleted.
 * - New groups: an EventBridge rule on CloudTrail's `CreateLogGroup` API call event under the prefixes.
 *   EventBridge sees API calls only when the account has a CloudTrail trail logging management events
 *   (the lake's own, `accessAudit.trail`, is one). The event is retried twice by Lambda, then kept in the
 *   dead-letter queue (KMS, 14 days).
 *
 * The function may put, delete and describe subscription filters only on log groups under the prefixes,
 * list log group names in this account and region (`DescribeLogGroups` is authorized on `log-group:*`
 * only), and pass only the CloudWatch Logs role.
 */
export class LogLakePrefixSubscriptions extends Construct {
  readonly function: LogLakeFunction;
  readonly rule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;
  readonly resource: CustomResource;
  readonly props: LogLakePrefixSubscriptionsProps;

  constructor(scope: Construct, id: string, props: LogLakePrefixSubscriptionsProps) {
    super(scope, id);
    this.props = props;
    const stack = Stack.of(this);
    const settings = Lazy.string({
      produce: () => {
        const value: SubscriberSettings = {
          lakeName: props.name,
          destinationArn: props.stream.deliveryStreamArn,
          roleArn: props.cloudWatchLogsRole.roleArn,
          prefixes: props.prefixes.map((p) => ({
            prefix: p.prefix,
            filterPattern: p.filterPattern ?? '',
            ...(p.category !== undefined && { category: p.category }),
          })),
          exclude: [...props.exclude()],
          ...(props.accountPolicyExclude && { accountPolicy: { exclude: [...props.accountPolicyExclude] } }),
        };
        return stack.toJsonString(value);
      },
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: DEAD_LETTER_RETENTION,
    });
    this.function = new LogLakeFunction(this, 'Function', {
      entry: 'lambdas/subscriber/index.ts',
      description: `loglake: subscribes ${props.name}'s logs stream to log groups by name prefix`,
      encryptionKey: props.encryptionKey,
      logRetentionDays: props.logRetentionDays,
      memorySize: 256,
      // A sweep of many groups runs at PutSubscriptionFilter's few calls per second.
      timeout: Duration.minutes(15),
      environment: { [SUBSCRIBER_ENV.settings]: settings },
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
    });

    const groupArns = props.prefixes.map((p) =>
      stack.formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: `${p.prefix}*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    );
    const filters = iam.Grant.addToPrincipal({
      grantee: this.function,
      actions: [
        'logs:PutSubscriptionFilter',
        'logs:DeleteSubscriptionFilter',
        'logs:DescribeSubscriptionFilters',
      ],
      resourceArns: groupArns,
    });
    const allGroups = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: '*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    iam.Grant.addToPrincipal({
      grantee: this.function,
      actions: ['logs:DescribeLogGroups'],
      resourceArns: [allGroups],
    });
    props.cloudWatchLogsRole.grantPassRole(this.function.grantPrincipal);
    acknowledgeGrantWildcards(
      this,
      'Subscription filters may be put and removed only on the log groups under the configured prefixes.',
      filters,
    );
    acknowledge(
      this,
      'DescribeLogGroups is authorized on log-group:* only (CloudWatch Logs evaluates it on the account, not on the prefix asked for); it lists names and settings, no log data.',
      wildcardResource(this, allGroups),
    );
    acknowledge(
      this.function,
      'The function calls only regional AWS APIs (CloudWatch Logs); a VPC would add NAT or endpoint cost and no data path.',
      'NIST.800.53.R5-LambdaInsideVPC',
    );
    acknowledge(
      this.function,
      'Invoked per deployment and per new log group; reserved concurrency would take from the account’s unreserved pool and can fail the deploy, and throttled calls are retried.',
      'NIST.800.53.R5-LambdaConcurrency',
    );

    this.rule = new events.Rule(this, 'CreateLogGroup', {
      description: `loglake: a new log group under ${props.name}'s prefixes gets the lake's subscription filter`,
      eventPattern: {
        source: ['aws.logs'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['logs.amazonaws.com'],
          eventName: ['CreateLogGroup'],
          requestParameters: { logGroupName: props.prefixes.map((p) => ({ prefix: p.prefix })) },
        },
      },
    });
    this.rule.addTarget(new targets.LambdaFunction(this.function, { retryAttempts: 8 }));

    const providerLogGroup = new logs.LogGroup(this, 'ProviderLogGroup', {
      retention: props.logRetentionDays as logs.RetentionDays,
      encryptionKey: props.encryptionKey,
    });
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.function,
      logGroup: providerLogGroup,
      providerFunctionEnvEncryption: props.encryptionKey,
    });
    acknowledgeProvider(provider, this.function);
    this.node.addValidation({ validate: () => environmentTooLarge(stack, settings) });
    this.resource = new CustomResource(this, 'Sweep', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::LogLakePrefixSubscriptions',
      properties: { [SETTINGS_PROPERTY]: settings },
    });
  }

  /**
   * `CreateLogGroup` events waiting in the dead-letter queue: new log groups left unsubscribed after
   * Lambda's retries, their logs not reaching the lake until the event is redriven (Maximum over 5 minutes).
   */
  metricDeadLetters(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return metricDeadLetters(this.deadLetterQueue, props);
  }

  /** Seconds the oldest event has waited in the dead-letter queue; SQS deletes it at 14 days. */
  metricOldestDeadLetterAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return metricOldestDeadLetterAge(this.deadLetterQueue, props);
  }

  /** Log groups under a prefix left unsubscribed because they already have two filters of others. */
  metricAtFilterLimit(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: SUBSCRIBER_METRICS.namespace,
      metricName: SUBSCRIBER_METRICS.names.full,
      dimensionsMap: { service: SUBSCRIBER_METRICS.service },
      statistic: 'Sum',
      period: Duration.minutes(5),
      ...props,
    });
  }
}

/** Bytes kept per deploy-time value (a log group name behind a token). */
const BYTES_PER_DEPLOY_TIME_VALUE = 200;

/** The settings' size in the function's environment, over Lambda's limit, as a synth error. */
function environmentTooLarge(stack: Stack, settings: string): string[] {
  const bytes = deployedEnvironmentBytes(
    stack,
    { [SUBSCRIBER_ENV.settings]: settings },
    BYTES_PER_DEPLOY_TIME_VALUE,
  );
  return bytes <= LAMBDA_ENVIRONMENT_LIMIT_BYTES
    ? []
    : [
        `sources.cloudWatchLogs.logGroupPrefixes: the subscriber's settings need about ${bytes} bytes of Lambda environment, over Lambda's limit of ${LAMBDA_ENVIRONMENT_LIMIT_BYTES}; use fewer or shorter prefixes, or fewer named log groups under them`,
      ];
}

/** CDK's Provider framework function: its findings are CDK's, acknowledged on it with the reason. */
function acknowledgeProvider(provider: cr.Provider, onEvent: LogLakeFunction): void {
  acknowledge(
    provider,
    'CDK’s custom-resources Provider framework function: it only relays CloudFormation requests to the subscriber function during deployments, with the AWS managed basic execution role CDK gives it, and holds no data.',
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'NIST.800.53.R5-LambdaConcurrency',
    'NIST.800.53.R5-LambdaDLQ',
    'NIST.800.53.R5-LambdaInsideVPC',
    'NIST.800.53.R5-IAMNoInlinePolicy',
  );
  acknowledge(
    provider,
    'CDK’s Provider framework may invoke the subscriber function and its versions (`<arn>:*`), nothing else.',
    wildcardResource(provider, `${onEvent.functionArn}:*`),
  );
}
