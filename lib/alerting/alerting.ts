import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
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
import {
  type AlertsConfig,
  type PipelineAlarm,
  SECURITY_CHANNEL,
  SEVERITIES,
  type Severity,
} from '../../src/alerts/config';
import { alarmSettings, encodeAlarmSettings } from '../../src/alerts/settings';
import { ruleStateKey } from '../../src/alerts/state-table';
import { pascalCase } from '../../src/outputs';
import { CATEGORIES, type StreamName } from '../../src/schema';
import type { LogLakeAccessLogs } from '../access-logs';
import { LogLakeFunction, type LogRetentionDays } from '../function';
import type { ILogLake } from '../log-lake';
import { deployedEnvironmentBytes, LAMBDA_ENVIRONMENT_LIMIT_BYTES } from '../private/environment-size';
import { grantKeyVia } from '../private/grants';
import { acknowledge, acknowledgeGrantWildcards, wildcardAction } from '../private/nag';
import { createDashboard } from './dashboard';
import {
  accessLogsDeadLetters,
  createDeadLetterAlarms,
  createPipelineAlarms,
  type PipelineAlarmSpec,
} from './pipeline-alarms';
import { type ChannelTopic, createChannel, subscribe } from './subscriptions';
import { createAlarmTriggers } from './triggers';

export interface AlertingProps {
  /** The lake to watch: its streams' metrics, its buckets' error output, its tables through Athena. */
  readonly lake: ILogLake;
  /** The `alerts` slice of the config: rules, schedule, pipeline alarms, subscriptions. */
  readonly alerts: AlertsConfig;
  /**
   * Encrypts the state table and the function's logs and environment (the dead-letter queue is on
   * `topicKey`, which EventBridge may use).
   * @default the lake's key
   */
  readonly encryptionKey?: kms.IKey;
  /** Days the alarm Lambda's own log group keeps events. */
  readonly logRetentionDays: LogRetentionDays;
  /**
   * Delay of rules reading a stream that buffers longer than `alerts.delayMinutes` allows for (see
   * `streamDelays`), so a rule's window ends only after that stream's events have arrived.
   * @default `alerts.delayMinutes` for every stream
   */
  readonly streamDelayMinutes?: Partial<Record<StreamName, number>>;
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
   * Record the rules' queries as access events (`alert-evaluate`, as the function's role) on this
   * delivery stream: the stream of the `audit` category.
   * @default no access events from the alarm Lambda
   */
  readonly accessAudit?: { readonly stream: firehose.IDeliveryStream; readonly bulkReadRows: number };
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
 *   `critical`). One more topic per channel a rule may name (`alerts.channels`: email, chat webhook,
 *   AWS Chatbot, paging), on the same key; a rule's `escalation` re-sends to a more urgent severity.
 * - A security topic (the built-in `security` channel) for the security rules: bulk reads of the lake,
 *   CRITICAL security events.
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
  /**
   * The rules' own channels (`alerts.channels`), by name: a topic each, encrypted with `topicKey`; the
   * built-in `security` channel among them.
   */
  readonly channels: Readonly<Record<string, ChannelTopic>>;
  /**
   * The topic of security alerts: the rules routed to the `security` channel (by default `bulk-read` and
   * `security-critical`) publish here besides their severity's topic. KMS-encrypted, TLS only.
   */
  readonly securityTopic: sns.Topic;
  /** Encrypts the topics and the dead-letter queue. */
  readonly topicKey: kms.Key;
  /** The rules' state (`src/alerts/state-table.ts`), encrypted with the lake's key or `encryptionKey`. */
  readonly table: dynamodb.Table;
  /** The rules of the config, enabled or not, by name: their filters say whose their state is. */
  readonly rules: AlertsConfig['rules'];
  readonly function: lambda.IFunction;
  readonly schedule: events.Rule;
  readonly deadLetterQueue: sqs.Queue;
  readonly dashboard: cloudwatch.Dashboard;
  private readonly pipeline: AlertsConfig['pipeline'];
  private readonly pipelineAlarms: PipelineAlarmSpec[] = [];
  private readonly selfAlarms: ReadonlyArray<{
    readonly kind: PipelineAlarm;
    readonly alarm: cloudwatch.Alarm;
  }>;
  private readonly watchedAccessLogs = new Set<LogLakeAccessLogs>();

  constructor(scope: Construct, id: string, props: AlertingProps) {
    super(scope, id);
    const { alerts, lake } = props;
    const key = props.encryptionKey ?? lake.key;
    this.rules = alerts.rules;
    const streamBuckets = (
      Object.entries(lake.dataBuckets) as [StreamName, s3.IBucket | undefined][]
    ).flatMap(([stream, bucket]) => (bucket ? [{ stream, bucket }] : []));
    const streams = streamBuckets.map((s) => s.stream);
    const buckets = streamBuckets.map((s) => s.bucket);
    const lockedCategories = CATEGORIES.filter((c) => lake.placement[c] !== 'logs');
    const stack = Stack.of(this);

    // The topics and the dead-letter queue have a key of their own: CloudWatch (the alarm Lambda's own
    // alarm publishes directly) and EventBridge (it parks undelivered events) must be allowed to use it,
    // and those grants have no business on the key of the log data.
    this.topicKey = new kms.Key(this, 'TopicKey', {
      description: 'loglake alert topics and the alarm Lambda dead-letter queue',
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
    const channels: Record<string, ChannelTopic> = Object.fromEntries(
      Object.entries(alerts.channels).map(([name, c]) => [name, createChannel(this, name, c, this.topicKey)]),
    );
    // Security rules (bulk reads, security events) have a topic of their own, so who reads the lake reaches
    // the security team without being every on-call's business; defined as a channel, it has its endpoints.
    channels[SECURITY_CHANNEL] ??= {
      topic: new sns.Topic(this, 'SecurityTopic', {
        displayName: 'loglake security alerts',
        masterKey: this.topicKey,
        enforceSSL: true,
      }),
      format: 'sns',
    };
    this.channels = channels;
    this.securityTopic = channels[SECURITY_CHANNEL].topic;

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
      encryptionMasterKey: this.topicKey,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    // Pipeline alarms first: their names go into the function's environment.
    this.pipeline = alerts.pipeline;
    for (const source of lake.accessLogs) this.watchedAccessLogs.add(source);
    const subscriberDeadLetters = lake.metricSubscriberDeadLetters();
    const subscriberOldestDeadLetter = lake.metricSubscriberOldestDeadLetterAge();
    const pipelineAlarms = this.pipelineAlarms;
    if (alerts.pipeline.enabled) {
      pipelineAlarms.push(
        ...createPipelineAlarms(this, alerts.pipeline, lake, streams, {
          addedStreams: lake.wafStream ? ['waf'] : [],
          logGroupsAtFilterLimit: lake.metricLogGroupsAtFilterLimit(),
          deadLetters: [
            ...lake.accessLogs.map(accessLogsDeadLetters),
            ...(subscriberDeadLetters && subscriberOldestDeadLetter
              ? [
                  {
                    kind: 'subscriberDeadLetters' as const,
                    id: 'Subscriber',
                    what: 'Log group prefix subscriber: new log groups left unsubscribed after three attempts; their logs do not reach the lake',
                    messages: subscriberDeadLetters,
                    oldestAge: subscriberOldestDeadLetter,
                  },
                ]
              : []),
          ],
          erasureFailedRuns: lake.metricErasureFailedRuns(),
          compactionFailedRuns: lake.metricCompactionFailedRuns(),
        }),
      );
    }
    // Alarms of access-log sources added later (`watchAccessLogs`) join the state change rule and the
    // dashboard; the environment names severities by kind (each alarm's description ends with its
    // kind), so it stays the same size however many alarms there are.

    const fn = this.createFunction(props, key, {
      [ALARM_ENV.settings]: encodeAlarmSettings(
        alarmSettings(alerts, lockedCategories, props.streamDelayMinutes),
      ),
      [ALARM_ENV.table]: this.table.tableName,
      [ALARM_ENV.topics]: stack.toJsonString(
        Object.fromEntries(SEVERITIES.map((s) => [s, this.topics[s].topicArn])),
      ),
      [ALARM_ENV.workgroup]: lake.workGroupName,
      [ALARM_ENV.database]: lake.databaseName,
      // Tables are named after their streams.
      [ALARM_ENV.tables]: stack.toJsonString(Object.fromEntries(streams.map((s) => [s, s]))),
      [ALARM_ENV.buckets]: stack.toJsonString(
        Object.fromEntries(streamBuckets.map((s) => [s.bucket.bucketName, s.stream])),
      ),
      [ALARM_ENV.pipelineSeverities]: JSON.stringify(alerts.pipeline.severities),
      [ALARM_ENV.channels]: stack.toJsonString(
        Object.fromEntries(
          Object.entries(this.channels).map(([name, c]) => [
            name,
            { topicArn: c.topic.topicArn, format: c.format },
          ]),
        ),
      ),
      [ALARM_ENV.searchTarget]: props.searchTarget ?? `--athena --stack ${stack.stackName}`,
    });
    this.function = fn;
    // Lambda refuses an environment over 4 KB at deploy time, with a generic error; the rules' settings
    // are what grows (custom rules, long queries), so synth fails naming them.
    this.node.addValidation({
      validate: () => {
        const cfn = fn.node.defaultChild as lambda.CfnFunction;
        const resolved = stack.resolve(cfn.environment) as
          | { variables?: Record<string, unknown> }
          | undefined;
        const bytes = deployedEnvironmentBytes(stack, resolved?.variables ?? {});
        return bytes <= LAMBDA_ENVIRONMENT_LIMIT_BYTES
          ? []
          : [
              `alerts.rules: the alarm Lambda's environment needs about ${bytes} bytes as deployed (the rules' settings ${Buffer.byteLength(String(resolved?.variables?.[ALARM_ENV.settings] ?? ''))} of them), over Lambda's limit of ${LAMBDA_ENVIRONMENT_LIMIT_BYTES}; use fewer or shorter rules (queries, descriptions, where clauses)`,
            ];
      },
    });
    this.grantLambda(fn, lake);
    if (props.accessAudit) {
      const { stream, bulkReadRows } = props.accessAudit;
      const role = fn.role;
      if (!role) throw new Error('alarm Lambda has no role');
      fn.addEnvironment(
        ALARM_ENV.accessAudit,
        stack.toJsonString({ stream: stream.deliveryStreamName, principal: role.roleArn, bulkReadRows }),
      );
      stream.grantPutRecords(fn);
    }

    this.schedule = createAlarmTriggers(this, {
      target: fn,
      deadLetterQueue: this.deadLetterQueue,
      scheduleMinutes: alerts.scheduleMinutes,
      alarms: () => pipelineAlarms.map((a) => a.alarm),
      buckets,
      enableBucketEvents: props.enableBucketEvents ?? true,
    });

    allowEventBridgeDeadLetters(this.topicKey);

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
    const selfAlarmTopic = this.topics[alerts.pipeline.severities.alertingErrors];
    const selfTopic = new cwActions.SnsAction(selfAlarmTopic);
    for (const a of [selfAlarm, dlqAlarm]) {
      a.addAlarmAction(selfTopic);
      a.addOkAction(selfTopic);
    }
    // The TLS-only topic policy replaces SNS's default policy, which let the account's alarms publish:
    // without this allow CloudWatch's action is refused. Bound to these two alarms of this account.
    selfAlarmTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AlertingAlarmsPublish',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [selfAlarmTopic.topicArn],
        conditions: {
          ArnEquals: { 'aws:SourceArn': [selfAlarm.alarmArn, dlqAlarm.alarmArn] },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );

    this.selfAlarms = [
      { kind: 'alertingErrors' as const, alarm: selfAlarm },
      { kind: 'alertingErrors' as const, alarm: dlqAlarm },
    ];
    this.dashboard = createDashboard(this, {
      metrics: lake,
      streams,
      alarmFunction: fn,
      freshnessThresholdSeconds: alerts.pipeline.freshnessThresholdSeconds,
      alarms: () => this.alarms.map((a) => a.alarm),
    });
  }

  /** The pipeline's CloudWatch alarms, by kind and stream. */
  get alarms(): ReadonlyArray<{ readonly kind: PipelineAlarm; readonly alarm: cloudwatch.Alarm }> {
    return [...this.pipelineAlarms.map(({ kind, alarm }) => ({ kind, alarm })), ...this.selfAlarms];
  }

  /**
   * Alarm on the dead-letter queue of an access-log source added after this construct, like on those
   * the lake had when it was built (`LogLake.ingestAccessLogs` calls it for the lake's own alerting).
   * Once per source; nothing when the pipeline alarms are disabled.
   */
  watchAccessLogs(source: LogLakeAccessLogs): void {
    if (!this.pipeline.enabled || this.watchedAccessLogs.has(source)) return;
    this.watchedAccessLogs.add(source);
    this.pipelineAlarms.push(...createDeadLetterAlarms(this, this.pipeline, accessLogsDeadLetters(source)));
  }

  /**
   * Read the stored state of these rules and no other: `dynamodb:GetItem` on the state table only for
   * their items' partition keys (`dynamodb:LeadingKeys`), and the table's key through DynamoDB to decrypt
   * them. A persona gets the rules over the categories it reads (`rulesReadableWith`): a rule's state
   * names groups (services, categories) and values of those records. No rules, no statement.
   */
  grantReadRuleState(grantee: iam.IGrantable, ruleNames: readonly string[]): iam.Grant {
    if (ruleNames.length === 0) return iam.Grant.drop(grantee, 'no rules');
    const items = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem'],
      resourceArns: [this.table.tableArn],
      conditions: {
        // ForAllValues holds for a request without the key too; a GetItem always carries its partition key.
        'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [...ruleNames].sort().map(ruleStateKey) },
      },
    });
    const key = this.table.encryptionKey;
    return key ? items.combine(grantKeyVia(grantee, key, 'dynamodb', ['kms:Decrypt'])) : items;
  }

  private createFunction(
    props: AlertingProps,
    key: kms.IKey,
    environment: Record<string, string>,
  ): lambda.Function {
    const fn = new LogLakeFunction(this, 'Function', {
      entry: 'lambdas/alarm/index.ts',
      description: 'loglake alarm Lambda: scheduled rules, pipeline alarms, error objects to SNS',
      logRetentionDays: props.logRetentionDays,
      encryptionKey: key,
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

  /**
   * Least privilege: query through the lake's main workgroup (reading its tables and category prefixes,
   * never the raw error output), keep state in the table, publish to the topics.
   */
  private grantLambda(fn: lambda.Function, lake: ILogLake): void {
    const role = fn.role;
    if (!role) throw new Error('alarm Lambda has no role');
    this.table.grantReadWriteData(fn);
    for (const t of Object.values(this.topics)) t.grantPublish(fn);
    for (const c of Object.values(this.channels)) c.topic.grantPublish(fn);
    const query = lake.grantQuery(fn);
    acknowledgeGrantWildcards(
      role,
      'Athena reads every partition file under the category prefixes and writes its results under the workgroup prefix; nothing else in the buckets (errors/ holds raw data) is granted.',
      query,
    );
    acknowledge(
      role,
      'The CDK grants use these action families on two keys only: the lake key (state table, dead-letter queue) and the topic key (publishing).',
      wildcardAction('kms:GenerateDataKey*'),
      wildcardAction('kms:ReEncrypt*'),
    );
  }
}

/**
 * EventBridge puts the events it could not deliver on the dead-letter queue as `events.amazonaws.com`,
 * and SQS encrypts them with the queue's key on its behalf: the queue policy the targets add allows
 * `sqs:SendMessage` only, so without this statement the events are dropped (aws/aws-cdk#20804). Bound to
 * this account's rules and queues: the rules' own ARNs would make the key depend on the rules, which
 * depend on the function whose role the key's grants name (a cycle).
 */
function allowEventBridgeDeadLetters(key: kms.Key): void {
  const stack = Stack.of(key);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'EventBridgeDeadLettersForThisAccount',
      principals: [new iam.ServicePrincipal('events.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['*'],
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: {
          'aws:SourceArn': stack.formatArn({ service: 'events', resource: 'rule', resourceName: '*' }),
          'kms:EncryptionContext:aws:sqs:arn': stack.formatArn({
            service: 'sqs',
            resource: '*',
            arnFormat: ArnFormat.NO_RESOURCE_NAME,
          }),
        },
      },
    }),
  );
}
