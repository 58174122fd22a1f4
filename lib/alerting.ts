import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ALARM_ENV } from '../lambdas/alarm/constants';
import {
  type AlertsConfig,
  type PipelineAlarm,
  SEVERITIES,
  type Severity,
  type Subscription,
  severitiesAtOrAbove,
} from '../src/alerts/config';
import { alarmSettings, encodeAlarmSettings } from '../src/alerts/settings';
import { type Category, DATA_PREFIX, ERROR_PREFIX, type StreamName } from '../src/schema';
import { LogLakeFunction, type LogRetentionDays } from './function';
import { acknowledge, wildcardAction, wildcardResource } from './nag';

/** Where the alarm Lambda runs its queries. */
export interface AlertingLake {
  /** Athena workgroup (its enforced settings decide the results location, encryption and scan cutoff). */
  readonly workGroupName: string;
  /** Bucket and key prefix the workgroup writes results to (the Lambda reads them back). */
  readonly resultsBucket: s3.IBucket;
  /** @default '' (the whole bucket) */
  readonly resultsPrefix?: string;
  readonly databaseName: string;
  /** Glue table of each stream (`audit` only when some category is locked). */
  readonly tables: Readonly<Partial<Record<StreamName, string>>> & { readonly logs: string };
}

/** One Firehose stream of the lake: what is watched and where its objects land. */
export interface AlertingStream {
  readonly name: StreamName;
  readonly deliveryStream: firehose.IDeliveryStream;
  /** The transform Lambda processing this stream. */
  readonly transform: lambda.IFunction;
  /** The bucket this stream delivers to (data under `logs/`, failures under `errors/`). */
  readonly bucket: s3.IBucket;
}

export interface AlertingProps {
  /** The `alerts` slice of the config: rules, schedule, pipeline alarms, subscriptions. */
  readonly alerts: AlertsConfig;
  /** The lake's key: encrypts the state table, the dead-letter queue and the function's logs and environment. */
  readonly encryptionKey: kms.IKey;
  readonly lake: AlertingLake;
  readonly streams: readonly AlertingStream[];
  /** Categories delivered through the `audit` stream (rules over them query its table). */
  readonly lockedCategories: readonly Category[];
  /**
   * Delay of rules reading a stream that buffers longer than `alerts.delayMinutes` allows for.
   * @default `alerts.delayMinutes` for every stream
   */
  readonly streamDelayMinutes?: Partial<Record<StreamName, number>>;
  /** Days the alarm Lambda's own log group keeps events. */
  readonly logRetentionDays: LogRetentionDays;
  /**
   * Appended to the `loglake search` command in alert messages.
   * @default `--athena --stack <this stack's name>`
   */
  readonly searchTarget?: string;
  /**
   * Turn on EventBridge notifications on the stream buckets so new error objects reach the alarm
   * Lambda. Off only when the buckets' notifications are managed elsewhere (then enable them there).
   * @default true
   */
  readonly enableBucketEvents?: boolean;
  /**
   * Metric of records the transform marked ProcessingFailed, per stream (the transform's EMF metric).
   * @default `LogLake` / `Records` with `Result = ProcessingFailed`, `Stream`, `service = loglake-transform`
   */
  readonly processingFailedMetric?: (stream: StreamName) => cloudwatch.IMetric;
  /**
   * Removal policy of the state table.
   * @default RemovalPolicy.DESTROY: state rebuilds itself within one evaluation
   */
  readonly removalPolicy?: RemovalPolicy;
}

const PASCAL: Record<Severity, string> = { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low' };

/**
 * Alerting for a log lake: rules over the logs on a schedule, the pipeline's own alarms, SNS by severity.
 *
 * - One KMS-encrypted SNS topic per severity; subscriptions escalate (a `high` subscription also gets
 *   `critical`).
 * - An EventBridge schedule invokes the alarm Lambda, which runs the rules on Athena, keeps their state
 *   in DynamoDB and publishes alerts.
 * - CloudWatch alarms on Firehose (delivery, throttling, freshness) and the transform (errors, throttles,
 *   ProcessingFailed records) reach the same Lambda through EventBridge and leave in the same message
 *   shape; new objects under the error prefix arrive as S3 events and feed the `error_output` rules.
 * - The alarm Lambda's own errors alarm straight to SNS: it cannot report its own failure.
 * - A CloudWatch dashboard of the pipeline.
 */
export class Alerting extends Construct {
  readonly topics: Readonly<Record<Severity, sns.Topic>>;
  /** Encrypts the topics. */
  readonly topicKey: kms.Key;
  readonly table: dynamodb.Table;
  readonly function: lambda.IFunction;
  readonly schedule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;
  /** The pipeline's CloudWatch alarms, by kind and stream. */
  readonly alarms: ReadonlyArray<{ readonly kind: PipelineAlarm; readonly alarm: cloudwatch.Alarm }>;
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: AlertingProps) {
    super(scope, id);
    const { alerts, encryptionKey: key, lake } = props;
    const stack = Stack.of(this);

    // The topics have a key of their own: CloudWatch must be allowed to use it (the alarm Lambda's own
    // alarm publishes directly), and that grant has no business on the key of the log data.
    this.topicKey = new kms.Key(this, 'TopicKey', {
      description: 'loglake alert topics',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.topicKey.grant(
      new iam.ServicePrincipal('cloudwatch.amazonaws.com'),
      'kms:Decrypt',
      'kms:GenerateDataKey*',
    );
    this.topics = Object.fromEntries(
      SEVERITIES.map((s) => [
        s,
        new sns.Topic(this, `${PASCAL[s]}Topic`, {
          displayName: `loglake ${s} alerts`,
          masterKey: this.topicKey,
          enforceSSL: true,
        }),
      ]),
    ) as Record<Severity, sns.Topic>;
    for (const subscription of alerts.subscriptions) this.subscribe(subscription);

    this.table = new dynamodb.Table(this, 'StateTable', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    Validations.of(this.table).acknowledge({
      id: 'NIST.800.53.R5-DynamoDBInBackupPlan',
      reason:
        'Point-in-time recovery is on; the table holds only alert state and recent arrivals, which rebuild themselves within one evaluation window.',
    });

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    // Pipeline alarms first: their names go into the function's environment.
    const pipelineAlarms = alerts.pipeline.enabled ? this.createPipelineAlarms(props) : [];
    const alarmInfo = Object.fromEntries(
      pipelineAlarms.map(({ alarm, severity, description }) => [alarm.alarmName, { severity, description }]),
    );

    const fn = this.createFunction(props, {
      [ALARM_ENV.settings]: encodeAlarmSettings(
        alarmSettings(alerts, props.lockedCategories, props.streamDelayMinutes),
      ),
      [ALARM_ENV.table]: this.table.tableName,
      [ALARM_ENV.topics]: stack.toJsonString(
        Object.fromEntries(SEVERITIES.map((s) => [s, this.topics[s].topicArn])),
      ),
      [ALARM_ENV.workgroup]: lake.workGroupName,
      [ALARM_ENV.database]: lake.databaseName,
      [ALARM_ENV.tables]: stack.toJsonString(lake.tables),
      [ALARM_ENV.buckets]: stack.toJsonString(
        Object.fromEntries(props.streams.map((s) => [s.bucket.bucketName, s.name])),
      ),
      [ALARM_ENV.pipelineAlarms]: stack.toJsonString(alarmInfo),
      [ALARM_ENV.searchTarget]: props.searchTarget ?? `--athena --stack ${stack.stackName}`,
    });
    this.function = fn;
    this.grantLambda(fn, props);

    const target = new targets.LambdaFunction(fn, {
      deadLetterQueue: this.deadLetterQueue,
      maxEventAge: Duration.hours(1),
      retryAttempts: 4,
    });
    this.schedule = new events.Rule(this, 'Schedule', {
      description: `Evaluates the loglake alert rules every ${alerts.scheduleMinutes} min`,
      schedule: events.Schedule.rate(Duration.minutes(alerts.scheduleMinutes)),
      targets: [target],
    });
    if (pipelineAlarms.length > 0) {
      new events.Rule(this, 'AlarmStateChangeRule', {
        description: 'State changes of the loglake pipeline alarms → alarm Lambda',
        eventPattern: {
          source: ['aws.cloudwatch'],
          detailType: ['CloudWatch Alarm State Change'],
          resources: pipelineAlarms.map((a) => a.alarm.alarmArn),
        },
        targets: [target],
      });
    }
    if (props.streams.length > 0) {
      if (props.enableBucketEvents ?? true) {
        for (const s of props.streams) {
          const cfn = s.bucket.node.defaultChild;
          if (cfn instanceof s3.CfnBucket) {
            // Native CloudFormation property: no BucketNotifications custom resource (and its Lambda) needed.
            cfn.addPropertyOverride(
              'NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled',
              true,
            );
          } else {
            s.bucket.enableEventBridgeNotification();
          }
        }
      }
      new events.Rule(this, 'ErrorObjectRule', {
        description: `New objects under ${ERROR_PREFIX}/ (records Firehose could not process) → alarm Lambda`,
        eventPattern: {
          source: ['aws.s3'],
          detailType: ['Object Created'],
          detail: {
            bucket: { name: props.streams.map((s) => s.bucket.bucketName) },
            object: { key: [{ prefix: `${ERROR_PREFIX}/` }] },
          },
        },
        targets: [target],
      });
    }

    // The alarm Lambda cannot report its own failures: this alarm goes straight to SNS.
    const selfAlarm = new cloudwatch.Alarm(this, 'AlertingErrorsAlarm', {
      alarmDescription: 'The loglake alarm Lambda failed (rules may not be evaluated)',
      metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const dlqAlarm = new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
      alarmDescription: 'Events the loglake alarm Lambda could not handle are in its dead-letter queue',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const selfTopic = new cwActions.SnsAction(this.topics[alerts.pipeline.severities.alertingErrors]);
    for (const a of [selfAlarm, dlqAlarm]) {
      a.addAlarmAction(selfTopic);
      a.addOkAction(selfTopic);
    }

    this.alarms = [
      ...pipelineAlarms.map(({ kind, alarm }) => ({ kind, alarm })),
      { kind: 'alertingErrors' as const, alarm: selfAlarm },
      { kind: 'alertingErrors' as const, alarm: dlqAlarm },
    ];
    this.dashboard = this.createDashboard(props, fn);
  }

  /** Subscribe an endpoint to every topic at or above its minimum severity. */
  private subscribe(s: Subscription): void {
    const filterPolicy = s.firingOnly
      ? { status: sns.SubscriptionFilter.stringFilter({ allowlist: ['firing'] }) }
      : undefined;
    const opts = filterPolicy ? { filterPolicy } : {};
    for (const severity of severitiesAtOrAbove(s.minSeverity)) {
      const topic = this.topics[severity];
      switch (s.protocol) {
        case 'email':
          topic.addSubscription(new subs.EmailSubscription(s.endpoint, opts));
          break;
        case 'https':
          topic.addSubscription(
            new subs.UrlSubscription(s.endpoint, { ...opts, protocol: sns.SubscriptionProtocol.HTTPS }),
          );
          break;
        case 'sms':
          topic.addSubscription(new subs.SmsSubscription(s.endpoint, opts));
          break;
        case 'sqs':
          topic.addSubscription(
            new subs.SqsSubscription(
              sqs.Queue.fromQueueArn(this, `Sub${PASCAL[severity]}${hash(s.endpoint)}`, s.endpoint),
              {
                ...opts,
                rawMessageDelivery: true,
              },
            ),
          );
          break;
        case 'lambda':
          topic.addSubscription(
            new subs.LambdaSubscription(
              lambda.Function.fromFunctionArn(this, `Sub${PASCAL[severity]}${hash(s.endpoint)}`, s.endpoint),
              opts,
            ),
          );
          break;
      }
    }
  }

  private createPipelineAlarms(
    props: AlertingProps,
  ): Array<{ kind: PipelineAlarm; alarm: cloudwatch.Alarm; severity: Severity; description: string }> {
    const { pipeline } = props.alerts;
    const out: Array<{
      kind: PipelineAlarm;
      alarm: cloudwatch.Alarm;
      severity: Severity;
      description: string;
    }> = [];
    const five = Duration.minutes(5);
    const add = (
      kind: PipelineAlarm,
      id: string,
      description: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      comparison: cloudwatch.ComparisonOperator,
      evaluationPeriods = 1,
    ) => {
      const alarm = new cloudwatch.Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold,
        comparisonOperator: comparison,
        evaluationPeriods,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      Validations.of(alarm).acknowledge({
        id: 'NIST.800.53.R5-CloudWatchAlarmAction',
        reason:
          'State changes of this alarm reach SNS through EventBridge and the alarm Lambda (one message shape, deduplicated); a direct action would notify twice.',
      });
      out.push({ kind, alarm, severity: pipeline.severities[kind], description });
    };
    const GT = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;
    for (const s of props.streams) {
      const P = s.name === 'logs' ? 'Logs' : 'Audit';
      const ds = s.deliveryStream;
      add(
        'firehoseDelivery',
        `${P}DeliveryAlarm`,
        `Firehose ${s.name}: deliveries to S3 are failing`,
        ds.metric('DeliveryToS3.Success', { statistic: 'Minimum', period: five }),
        1,
        cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        2,
      );
      add(
        'firehoseThrottling',
        `${P}ThrottlingAlarm`,
        `Firehose ${s.name}: producers are throttled (records rejected)`,
        ds.metric('ThrottledRecords', { statistic: 'Sum', period: five }),
        0,
        GT,
      );
      add(
        'firehoseFreshness',
        `${P}FreshnessAlarm`,
        `Firehose ${s.name}: the oldest undelivered record is older than ${pipeline.freshnessThresholdSeconds} s`,
        ds.metric('DeliveryToS3.DataFreshness', { statistic: 'Maximum', period: five }),
        pipeline.freshnessThresholdSeconds,
        GT,
      );
      add(
        'transformErrors',
        `${P}TransformErrorsAlarm`,
        `Transform Lambda (${s.name}): invocations failed; Firehose retries, then writes raw records to ${ERROR_PREFIX}/`,
        s.transform.metricErrors({ statistic: 'Sum', period: five }),
        0,
        GT,
      );
      add(
        'transformThrottles',
        `${P}TransformThrottlesAlarm`,
        `Transform Lambda (${s.name}): invocations throttled`,
        s.transform.metricThrottles({ statistic: 'Sum', period: five }),
        0,
        GT,
      );
      const failed =
        props.processingFailedMetric?.(s.name) ??
        // The transform's EMF metric (Powertools: `service` default dimension, `Stream` default, `Result` per metric).
        new cloudwatch.Metric({
          namespace: 'LogLake',
          metricName: 'Records',
          dimensionsMap: { service: 'loglake-transform', Stream: s.name, Result: 'ProcessingFailed' },
          statistic: 'Sum',
          period: five,
        });
      add(
        'processingFailed',
        `${P}ProcessingFailedAlarm`,
        `Transform (${s.name}): records marked ProcessingFailed (kept raw under ${ERROR_PREFIX}/)`,
        failed,
        0,
        GT,
      );
    }
    return out;
  }

  private createFunction(props: AlertingProps, environment: Record<string, string>): lambda.Function {
    const fn = new LogLakeFunction(this, 'Function', {
      entry: 'lambdas/alarm/index.ts',
      description: 'loglake alarm Lambda: scheduled rules, pipeline alarms, error objects to SNS',
      logRetentionDays: props.logRetentionDays,
      encryptionKey: props.encryptionKey,
      environment,
      memorySize: 512,
      // Athena queries of a dozen rules in a row; well under the EventBridge retry window.
      timeout: Duration.minutes(5),
    });
    // EventBridge invokes asynchronously: two retries, then the event is parked in the dead-letter queue.
    (fn.node.defaultChild as lambda.CfnFunction).deadLetterConfig = {
      targetArn: this.deadLetterQueue.queueArn,
    };
    this.deadLetterQueue.grantSendMessages(fn);
    fn.configureAsyncInvoke({ retryAttempts: 2 });
    acknowledge(
      fn,
      'The alarm Lambda calls only regional AWS APIs (Athena, Glue, S3 query results, DynamoDB, SNS, KMS); a VPC would add NAT or endpoint cost and no data path.',
      'NIST.800.53.R5-LambdaInsideVPC',
    );
    acknowledge(
      fn,
      'Invoked only by its schedule and a few EventBridge rules; concurrent evaluations of one slot lose a conditional write and stop, and reserving concurrency takes from the account’s unreserved pool (10 on new accounts), which can fail the deploy.',
      'NIST.800.53.R5-LambdaConcurrency',
    );
    return fn;
  }

  /** Least privilege: query through the one workgroup, read only the data prefixes, write only state and topics. */
  private grantLambda(fn: lambda.Function, props: AlertingProps): void {
    const stack = Stack.of(this);
    const { lake } = props;
    const role = fn.role;
    if (!role) throw new Error('alarm Lambda has no role');
    this.table.grantReadWriteData(fn);
    for (const t of Object.values(this.topics)) t.grantPublish(fn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: [
          'athena:StartQueryExecution',
          'athena:GetQueryExecution',
          'athena:GetQueryResults',
          'athena:StopQueryExecution',
        ],
        resources: [
          stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: lake.workGroupName }),
        ],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartitions'],
        resources: [
          stack.formatArn({ service: 'glue', resource: 'catalog' }),
          stack.formatArn({ service: 'glue', resource: 'database', resourceName: lake.databaseName }),
          ...Object.values(lake.tables).map((t: string) =>
            stack.formatArn({
              service: 'glue',
              resource: 'table',
              resourceName: `${lake.databaseName}/${t}`,
            }),
          ),
        ],
      }),
    );
    for (const s of props.streams) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [s.bucket.arnForObjects(`${DATA_PREFIX}/*`)],
        }),
      );
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['s3:ListBucket', 's3:GetBucketLocation'],
          resources: [s.bucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [`${DATA_PREFIX}/*`, `${DATA_PREFIX}/`, ''] } },
        }),
      );
    }
    const prefix = lake.resultsPrefix ?? '';
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
        resources: [lake.resultsBucket.arnForObjects(`${prefix}*`)],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket', 's3:GetBucketLocation'],
        resources: [lake.resultsBucket.bucketArn],
      }),
    );
    props.encryptionKey.grantEncryptDecrypt(fn);
    acknowledge(
      role,
      'Athena reads every partition file under the data prefix (logs/) and writes its results under the workgroup prefix; nothing else in the buckets (errors/ holds raw data) is granted.',
      ...props.streams.map((s) => wildcardResource(this, s.bucket.arnForObjects(`${DATA_PREFIX}/*`))),
      wildcardResource(this, lake.resultsBucket.arnForObjects(`${prefix}*`)),
    );
    acknowledge(
      role,
      'The CDK grants use these action families on two keys only: the lake key (state table, dead-letter queue, Athena results, data reads) and the topic key (publishing).',
      wildcardAction('kms:GenerateDataKey*'),
      wildcardAction('kms:ReEncrypt*'),
    );
  }

  private createDashboard(props: AlertingProps, fn: lambda.IFunction): cloudwatch.Dashboard {
    const five = Duration.minutes(5);
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(6),
    });
    const perStream = (f: (s: AlertingStream) => cloudwatch.IMetric) => props.streams.map(f);
    dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: '# loglake pipeline\nIngestion (Firehose), transform, delivery to S3 and alerting.',
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Incoming records',
        left: perStream((s) =>
          s.deliveryStream.metricIncomingRecords({ statistic: 'Sum', period: five, label: s.name }),
        ),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Incoming bytes',
        left: perStream((s) =>
          s.deliveryStream.metricIncomingBytes({ statistic: 'Sum', period: five, label: s.name }),
        ),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Throttled records',
        left: perStream((s) =>
          s.deliveryStream.metric('ThrottledRecords', { statistic: 'Sum', period: five, label: s.name }),
        ),
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Delivery to S3 success (min)',
        left: perStream((s) =>
          s.deliveryStream.metric('DeliveryToS3.Success', {
            statistic: 'Minimum',
            period: five,
            label: s.name,
          }),
        ),
        leftYAxis: { min: 0, max: 1 },
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Data freshness (s, max)',
        left: perStream((s) =>
          s.deliveryStream.metric('DeliveryToS3.DataFreshness', {
            statistic: 'Maximum',
            period: five,
            label: s.name,
          }),
        ),
        leftAnnotations: [{ value: props.alerts.pipeline.freshnessThresholdSeconds, label: 'alarm' }],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Transform duration (p99, ms)',
        left: perStream((s) => s.transform.metricDuration({ statistic: 'p99', period: five, label: s.name })),
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Transform errors and throttles',
        left: [
          ...perStream((s) =>
            s.transform.metricErrors({ statistic: 'Sum', period: five, label: `${s.name} errors` }),
          ),
          ...perStream((s) =>
            s.transform.metricThrottles({ statistic: 'Sum', period: five, label: `${s.name} throttles` }),
          ),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Alarm Lambda',
        left: [
          fn.metricInvocations({ statistic: 'Sum', period: five }),
          fn.metricErrors({ statistic: 'Sum', period: five }),
        ],
        right: [fn.metricDuration({ statistic: 'Maximum', period: five })],
        width: 8,
      }),
      new cloudwatch.AlarmStatusWidget({
        title: 'Pipeline alarms',
        alarms: this.alarms.map((a) => a.alarm),
        width: 8,
      }),
    );
    return dashboard;
  }
}

/** Short stable suffix for construct ids derived from an ARN. */
function hash(s: string): string {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) | 0;
  return (h >>> 0).toString(36);
}
