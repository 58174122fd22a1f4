import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ALARM_ENV } from '../../lambdas/alarm/constants';
import { type AlertsConfig, type PipelineAlarm, SEVERITIES, type Severity } from '../../src/alerts/config';
import { alarmSettings, encodeAlarmSettings } from '../../src/alerts/settings';
import { PROCESSING_FAILED, TRANSFORM_METRICS } from '../../src/metrics';
import { pascalCase } from '../../src/outputs';
import { type Category, DATA_PREFIX, type StreamName } from '../../src/schema';
import { LogLakeFunction, type LogRetentionDays } from '../function';
import { acknowledge, wildcardAction, wildcardResource } from '../nag';
import { createDashboard } from './dashboard';
import { createPipelineAlarms } from './pipeline-alarms';
import type { StreamMetricOptions, StreamMetrics } from './stream-metrics';
import { subscribe } from './subscriptions';
import { createAlarmTriggers } from './triggers';

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
        new sns.Topic(this, `${pascalCase(s)}Topic`, {
          displayName: `loglake ${s} alerts`,
          masterKey: this.topicKey,
          enforceSSL: true,
        }),
      ]),
    ) as Record<Severity, sns.Topic>;
    for (const subscription of alerts.subscriptions) subscribe(this, this.topics, subscription);

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
    const metrics = streamMetrics(props.streams, props.processingFailedMetric);
    const streamNames = props.streams.map((s) => s.name);
    const pipelineAlarms = alerts.pipeline.enabled
      ? createPipelineAlarms(this, alerts.pipeline, metrics, streamNames)
      : [];
    const alarmInfo = Object.fromEntries(
      pipelineAlarms.map(({ alarm, severity, description }) => [alarm.alarmName, { severity, description }]),
    );

    const fn = this.createFunction(props, {
      [ALARM_ENV.settings]: encodeAlarmSettings(alarmSettings(alerts, props.lockedCategories)),
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

    this.schedule = createAlarmTriggers(this, {
      target: fn,
      deadLetterQueue: this.deadLetterQueue,
      scheduleMinutes: alerts.scheduleMinutes,
      alarms: pipelineAlarms.map((a) => a.alarm),
      buckets: props.streams.map((s) => s.bucket),
      enableBucketEvents: props.enableBucketEvents ?? true,
    });

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
    this.dashboard = createDashboard(this, {
      metrics,
      streams: streamNames,
      alarmFunction: fn,
      freshnessThresholdSeconds: alerts.pipeline.freshnessThresholdSeconds,
      alarms: this.alarms.map((a) => a.alarm),
    });
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
      // EventBridge invokes asynchronously: two retries, then the event is parked in the dead-letter queue.
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 2,
    });
    // The function grants itself sqs:SendMessage; the queue's grant adds the use of its KMS key.
    this.deadLetterQueue.grantSendMessages(fn);
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
}

/** The per-stream metrics of the given streams, for the alarms and the dashboard. */
function streamMetrics(
  streams: readonly AlertingStream[],
  processingFailed: AlertingProps['processingFailedMetric'],
): StreamMetrics {
  const of = (options: StreamMetricOptions = {}) => {
    const name = options.stream ?? 'logs';
    const s = streams.find((x) => x.name === name);
    if (!s) throw new Error(`Alerting: no stream ${name}`);
    const { stream: _, ...props } = options;
    return { s, props };
  };
  return {
    metricIncomingRecords: (o) => {
      const { s, props } = of(o);
      return s.deliveryStream.metricIncomingRecords(props);
    },
    metricIncomingBytes: (o) => {
      const { s, props } = of(o);
      return s.deliveryStream.metricIncomingBytes(props);
    },
    metricThrottledRecords: (o) => {
      const { s, props } = of(o);
      return s.deliveryStream.metric('ThrottledRecords', props);
    },
    metricDeliverySuccess: (o) => {
      const { s, props } = of(o);
      return s.deliveryStream.metric('DeliveryToS3.Success', props);
    },
    metricDeliveryFreshness: (o) => {
      const { s, props } = of(o);
      return s.deliveryStream.metric('DeliveryToS3.DataFreshness', props);
    },
    metricTransformErrors: (o) => {
      const { s, props } = of(o);
      return s.transform.metricErrors(props);
    },
    metricTransformThrottles: (o) => {
      const { s, props } = of(o);
      return s.transform.metricThrottles(props);
    },
    metricTransformDuration: (o) => {
      const { s, props } = of(o);
      return s.transform.metricDuration(props);
    },
    metricProcessingFailed: (o) => {
      const { s, props } = of(o);
      return (
        processingFailed?.(s.name) ??
        // The transform's EMF metric (Powertools: `service` default dimension, `Stream` default, `Result` per metric).
        new cloudwatch.Metric({
          namespace: TRANSFORM_METRICS.namespace,
          metricName: TRANSFORM_METRICS.names.records,
          dimensionsMap: {
            [TRANSFORM_METRICS.dimensions.service]: TRANSFORM_METRICS.service,
            [TRANSFORM_METRICS.dimensions.stream]: s.name,
            [TRANSFORM_METRICS.dimensions.result]: PROCESSING_FAILED,
          },
          ...props,
        })
      );
    },
  };
}
