import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';
import { streamDelays } from '../src/alerts/settings';
import {
  type LogLakeConfig,
  type LogLakeConfigOverride,
  lockedCategories,
  objectLockRetentionDays,
  resolveConfig,
  streamBufferingOf,
} from '../src/config';
import { CATEGORIES, type Category, PERSONAS, type Persona, type StreamName } from '../src/schema';
import { prefixSubscriptionOf, subscriptionOf } from '../src/sources/config';
import { wafStreamName } from '../src/sources/names';
import { LogLakeAccess } from './access';
import { type AccessLogsOptions, LogLakeAccessLogs } from './access-logs';
import { LogLakeAccessRecorder } from './access-recorder';
import { Alerting } from './alerting';
import { LogLakeCatalog } from './catalog';
import { LogLakeCompaction } from './compaction';
import type { DeploymentTarget } from './config';
import { LogLakeErasures } from './erasures';
import { LogLakeIngest } from './ingest';
import { grantLakeQuery, grantLakeRead } from './private/lake-grants';
import { acknowledge } from './private/nag';
import { LogLakeQuery } from './query';
import { type CategoryPlacement, LogLakeStorage } from './storage';
import type { StreamMetricOptions, StreamMetrics } from './stream-metrics';
import { LogLakeSubscriptions, type SubscribeOptions } from './subscriptions';
import { LogLakeTrail } from './trail';

const S3_ACCESS_LOGS_VIA_POLICY = '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy';

export interface LogLakeProps {
  /**
   * Overrides of the defaults (docs/design.md, "Categories"), validated like the `loglake` context key of `cdk.json`.
   * A fully resolved {@link LogLakeConfig} is accepted as well.
   * @default the defaults of docs/design.md (`DEFAULT_CONFIG`)
   */
  readonly config?: LogLakeConfigOverride | LogLakeConfig;
  /**
   * `emulator` leaves out what MiniStack cannot create (Athena named queries); everything else is
   * identical. See the README's test matrix for how the omitted parts are covered.
   * @default 'aws'
   */
  readonly target?: DeploymentTarget;
  /**
   * Who may assume each persona role.
   * @default this account: any of its principals whose own IAM policy allows sts:AssumeRole on the role
   */
  readonly personaPrincipals?: Partial<Record<(typeof PERSONAS)[number], iam.IPrincipal>>;
  /**
   * Removal policy of the data buckets and the KMS key.
   * @default RemovalPolicy.RETAIN: deleting the stack never deletes logs
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A log lake: where producers put records, what can be queried, and the metrics of its pipeline.
 * Constructs that use a lake (alerting, a producer's role, a dashboard) depend on this interface.
 */
export interface ILogLake extends IConstruct, StreamMetrics {
  /** Encrypts the data, query results, the pseudonym secret, Lambda environments and log groups. */
  readonly key: kms.IKey;
  /** Which stream (and so bucket and Glue table) carries each category. */
  readonly placement: CategoryPlacement;
  /** Data bucket of each stream: `logs`, and `audit` when some category is locked. */
  readonly dataBuckets: Readonly<Partial<Record<StreamName, s3.IBucket>>> & { readonly logs: s3.IBucket };
  /** Glue database of the tables; each table is named after its stream (`logs`, `audit`). */
  readonly databaseName: string;
  /** The main Athena workgroup (operators, scheduled jobs). */
  readonly workGroupName: string;

  /** Put records on every delivery stream (PutRecord, PutRecordBatch), nothing else. */
  grantPutRecords(grantee: iam.IGrantable): iam.Grant;
  /**
   * Query with Athena: run queries in a workgroup and read their results, and read the tables and
   * objects of the categories queried. With a persona, its own workgroup and results prefix and its
   * categories; without, the main workgroup and every category.
   */
  grantQuery(grantee: iam.IGrantable, persona?: Persona): iam.Grant;
  /** Read the objects (S3, through the key) and the tables (Glue) of `categories`, without a workgroup. */
  grantReadCategories(grantee: iam.IGrantable, categories: readonly Category[]): iam.Grant;
  /**
   * Put and delete the objects of `categories` (operational fixes, the compaction).
   * @throws Error for a locked category: its objects are under Object Lock and never writable.
   */
  grantWriteCategories(grantee: iam.IGrantable, categories: readonly Category[]): iam.Grant;
  /**
   * Send a CloudWatch Logs log group's events to the lake (a subscription filter on the `logs` stream).
   * @throws Error for one of the lake's own log groups: the lake would feed on its own output
   */
  subscribe(logGroup: logs.ILogGroup, options?: SubscribeOptions): logs.SubscriptionFilter;
  /** The `aws-waf-logs-<name>` stream (metrics with `stream: 'waf'`); absent when `sources.waf.enabled` is false. */
  readonly wafStream?: firehose.IDeliveryStream;
  /**
   * The `logs` delivery stream, for sources that deliver to a stream ARN (VPC Flow Logs to Firehose,
   * a CloudWatch Logs destination of your own). Producers get access with {@link grantPutRecords}.
   */
  readonly logsStream: firehose.IDeliveryStream;
  /**
   * Log groups under a configured prefix left unsubscribed because they already have CloudWatch Logs'
   * two subscription filters, of others (Sum over 5 minutes).
   * @returns undefined when no log group prefix is subscribed: nothing emits the metric
   */
  metricLogGroupsAtFilterLimit(props?: cloudwatch.MetricOptions): cloudwatch.Metric | undefined;
  /**
   * New log groups under a configured prefix whose event waits in the subscriber's dead-letter queue
   * (Maximum over 5 minutes).
   * @returns undefined when no log group prefix is subscribed: there is no subscriber
   */
  metricSubscriberDeadLetters(props?: cloudwatch.MetricOptions): cloudwatch.Metric | undefined;
  /**
   * Seconds the oldest event has waited in the subscriber's dead-letter queue (SQS deletes it at 14 days).
   * @returns undefined when no log group prefix is subscribed: there is no subscriber
   */
  metricSubscriberOldestDeadLetterAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric | undefined;
  /**
   * Runs of the erasure executor that ended in an error (Sum over 1 hour); the next run retries.
   * @returns undefined when the lake has no erasure executor
   */
  metricErasureFailedRuns(props?: cloudwatch.MetricOptions): cloudwatch.Metric | undefined;
  /**
   * Runs of the compaction that ended in an error (Sum over 1 hour); the next run retries.
   * @returns undefined when `compaction.enabled` is false: there is no compaction
   */
  metricCompactionFailedRuns(props?: cloudwatch.MetricOptions): cloudwatch.Metric | undefined;
  /**
   * The access-log sources (`ingestAccessLogs`, `sources.accessLogs`), in the order they were added;
   * each has its dead-letter queue's metrics.
   */
  readonly accessLogs: readonly LogLakeAccessLogs[];
  /**
   * Stream the access logs a service delivers to `bucket` (ALB, CloudFront standard logs, S3 server
   * access logs) into the lake: an S3 notification per new object invokes a function that ships its lines.
   * @throws Error for one of the lake's own buckets: the lake's writes would log themselves without end
   */
  ingestAccessLogs(bucket: s3.IBucket, options: AccessLogsOptions): LogLakeAccessLogs;
}

/**
 * The whole log lake as one construct: a KMS key, the buckets, the Glue catalog, the Firehose streams
 * with their transform functions, Athena workgroups and the IAM roles of the personas and producers.
 * Every layer is driven by the per-category policy in the config.
 *
 * Alerting (alarm Lambda, SNS topics by severity, schedules, CloudWatch alarms), the compaction and the
 * erasures' purge are children built from this lake as an {@link ILogLake}: they reach its resources
 * through its grants and metrics (`grantQuery`, `grantReadCategories`, `metricXxx` …); the trail takes
 * the buckets and key it watches.
 */
export class LogLake extends Construct implements ILogLake {
  readonly config: LogLakeConfig;
  readonly key: kms.Key;
  readonly storage: LogLakeStorage;
  readonly catalog: LogLakeCatalog;
  readonly ingest: LogLakeIngest;
  readonly query: LogLakeQuery;
  readonly access: LogLakeAccess;
  /**
   * The access recorder: where the persona roles record their access and privacy events (a function URL
   * with `AWS_IAM` auth). Absent when the lake has no audit stream.
   */
  readonly accessRecorder?: LogLakeAccessRecorder;
  /** Rules, pipeline alarms and SNS topics by severity; absent when `alerts.enabled` is false. */
  readonly alerting?: Alerting;
  /** Scheduled erasure: the request table and its executor (`loglake subject erase --after --stack`). */
  readonly erasures: LogLakeErasures;
  /** Scheduled compaction of the `logs` bucket; absent when `compaction.enabled` is false. */
  readonly compaction?: LogLakeCompaction;
  /** Which stream (bucket, table) carries each category. */
  readonly placement: CategoryPlacement;
  /** CloudWatch Logs subscriptions (`subscribe`) and the optional account-level policy. */
  readonly subscriptions: LogLakeSubscriptions;
  /** The `aws-waf-logs-<name>` stream a web ACL logs to; absent when `sources.waf.enabled` is false. */
  readonly wafStream?: firehose.DeliveryStream;
  /** The `logs` delivery stream (VPC Flow Logs and other sources that take a stream ARN). */
  get logsStream(): firehose.DeliveryStream {
    return this.ingest.lanes.logs.stream;
  }
  /** The access-log sources (`ingestAccessLogs`, `sources.accessLogs`), in the order they were added. */
  readonly accessLogs: LogLakeAccessLogs[] = [];
  /** The CloudTrail trail over the lake's buckets; absent unless `accessAudit.trail.enabled`. */
  readonly trail?: LogLakeTrail;

  constructor(scope: Construct, id: string, props: LogLakeProps = {}) {
    super(scope, id);
    // Server access logs must be granted by bucket policy: the ACL alternative conflicts with the
    // BucketOwnerEnforced ownership of every bucket here. Set for this subtree so the construct works in
    // apps that do not enable the flag themselves.
    this.node.setContext(S3_ACCESS_LOGS_VIA_POLICY, true);
    const config = resolveConfig(props.config ?? {});
    this.config = config;
    const target = props.target ?? 'aws';
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const locked = lockedCategories(config);
    const unlocked = CATEGORIES.filter((c) => !config.categories[c].locked);

    this.key = new kms.Key(this, 'Key', {
      description: `${config.name}: encrypts log data, query results, secrets and log groups`,
      enableKeyRotation: true,
      removalPolicy,
    });
    const stack = Stack.of(this);
    // CloudWatch Logs is the one service that uses the key as itself (not through a caller's role),
    // so it is the only service principal in the key policy, bound to this account's log groups.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsForThisAccount',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );

    this.storage = new LogLakeStorage(this, 'Storage', {
      encryptionKey: this.key,
      categories: config.categories,
      objectLock:
        locked.length > 0
          ? { mode: config.objectLock.mode, retentionDays: objectLockRetentionDays(config) }
          : undefined,
      errorOutputExpiryDays: config.errorOutput.expiryDays,
      resultsExpiryDays: config.athena.resultsExpiryDays,
      removalPolicy,
    });
    const buckets = this.storage.dataBuckets;
    this.placement = this.storage.placement;

    const maxExpiry = (cs: readonly Category[]) =>
      Math.max(...cs.map((c) => config.categories[c].expiryDays));
    this.catalog = new LogLakeCatalog(this, 'Catalog', {
      databaseName: config.name.replace(/-/g, '_'),
      tables: {
        // Every category: the transform keeps a locked record it could not forward to the audit stream
        // here, under its own category, rather than lose it.
        logs: { bucket: buckets.logs, categories: CATEGORIES, retentionDays: maxExpiry(CATEGORIES) },
        ...(buckets.audit && {
          audit: { bucket: buckets.audit, categories: locked, retentionDays: maxExpiry(locked) },
        }),
      },
    });

    this.ingest = new LogLakeIngest(this, 'Ingest', {
      name: config.name,
      encryptionKey: this.key,
      destinations: {
        logs: { bucket: buckets.logs, table: this.catalog.tables.logs },
        ...(buckets.audit &&
          this.catalog.tables.audit && {
            audit: { bucket: buckets.audit, table: this.catalog.tables.audit },
          }),
      },
      transformSettings: {
        categories: config.categories,
        transform: config.transform,
        redaction: config.redaction,
      },
      buffering: config.firehose,
      compression: config.output.compression,
      logRetentionDays: config.lambdaLogRetentionDays,
    });

    // AWS WAF delivers only to a stream whose name starts with `aws-waf-logs-`; same transform and table.
    if (config.sources.waf.enabled) {
      this.wafStream = this.ingest.addDeliveryStream('Waf', wafStreamName(config.name), 'logs', 'waf');
    }
    this.subscriptions = new LogLakeSubscriptions(this, 'Subscriptions', {
      name: config.name,
      stream: this.ingest.lanes.logs.stream,
      lakeStreams: () => [
        ...Object.values(this.ingest.lanes).map((lane) => lane.stream),
        ...(this.wafStream ? [this.wafStream] : []),
      ],
      lake: this,
      accountPolicy: config.sources.cloudWatchLogs.accountPolicy,
    });
    config.sources.cloudWatchLogs.logGroups.map(subscriptionOf).forEach((s, i) => {
      const logGroup = logs.LogGroup.fromLogGroupName(this.subscriptions, `Configured${i}`, s.name);
      this.subscribe(logGroup, {
        ...(s.filterPattern ? { filterPattern: logs.FilterPattern.literal(s.filterPattern) } : {}),
        ...(s.category ? { category: s.category } : {}),
      });
    });

    const prefixes = config.sources.cloudWatchLogs.logGroupPrefixes.map(prefixSubscriptionOf);
    if (prefixes.length > 0) {
      this.subscriptions.subscribePrefixes(prefixes, {
        encryptionKey: this.key,
        logRetentionDays: config.lambdaLogRetentionDays,
      });
    }

    config.sources.accessLogs.forEach((source, i) => {
      const { bucket, ...options } = source;
      this.ingestAccessLogs(s3.Bucket.fromBucketName(this, `AccessLogBucket${i}`, bucket), options);
    });

    this.query = new LogLakeQuery(this, 'Query', {
      name: config.name,
      resultsBucket: this.storage.resultsBucket,
      encryptionKey: this.key,
      bytesScannedCutoffPerQuery: config.athena.bytesScannedCutoffPerQuery,
      databaseName: this.catalog.databaseName,
      personas: PERSONAS.map((persona) => ({
        persona,
        // The logs table projects every category (locked ones: what the transform could not forward).
        readsLogsTable: config.personas[persona].read.length > 0,
        categories: config.personas[persona].read,
      })),
      namedQueries: target !== 'emulator',
    });

    // The Firehose L2 adds a CIDR mapping for Redshift/Splunk destinations to the stack; unused with S3.
    acknowledge(
      stack,
      'Mapping added by the Firehose L2 for Redshift and Splunk destinations; this stack delivers to S3 only.',
      'CloudFormation-Validate::W7001',
    );

    if (config.accessAudit.trail.enabled) {
      this.trail = new LogLakeTrail(this, 'Trail', {
        trailName: `${config.name}-access`,
        // Locked like the audit records when the lake has the Object Lock bucket.
        bucket: buckets.audit ?? buckets.logs,
        encryptionKey: this.key,
        watchedBuckets: [...Object.values(buckets), this.storage.resultsBucket],
        managementEvents: config.accessAudit.trail.managementEvents,
        databaseName: this.catalog.databaseName,
        retentionDays: config.categories.audit.expiryDays,
      });
    }

    this.erasures = new LogLakeErasures(this, 'Erasures', {
      encryptionKey: this.key,
      subjectKeys: this.ingest.subjectKeys,
      auditStream: (this.ingest.lanes.audit ?? this.ingest.lanes.logs).stream,
      logRetentionDays: config.lambdaLogRetentionDays,
      purge: {
        lake: this,
        categories: unlocked,
        locked: CATEGORIES.filter((c) => !unlocked.includes(c)),
        searchDays: Object.fromEntries(unlocked.map((c) => [c, config.categories[c].expiryDays + 1])),
      },
    });

    if (this.ingest.lanes.audit) {
      this.accessRecorder = new LogLakeAccessRecorder(this, 'Recorder', {
        auditStream: this.ingest.lanes.audit.stream,
        encryptionKey: this.key,
        logRetentionDays: config.lambdaLogRetentionDays,
      });
    }

    if (config.compaction.enabled && unlocked.length > 0) {
      this.compaction = new LogLakeCompaction(this, 'Compaction', {
        lake: this,
        categories: unlocked,
        settings: config.compaction,
        logRetentionDays: config.lambdaLogRetentionDays,
      });
    }

    if (config.alerts.enabled) {
      this.alerting = new Alerting(this, 'Alerting', {
        lake: this,
        alerts: config.alerts,
        streamDelayMinutes: streamDelays(
          config.alerts.delayMinutes,
          Object.fromEntries(
            Object.keys(this.ingest.lanes).map((s) => [
              s,
              streamBufferingOf(config.firehose, s as StreamName).bufferIntervalSeconds,
            ]),
          ),
        ),
        logRetentionDays: config.lambdaLogRetentionDays,
        ...(config.accessAudit.enabled && {
          accessAudit: {
            stream: (this.ingest.lanes.audit ?? this.ingest.lanes.logs).stream,
            bulkReadRows: config.accessAudit.bulkReadRows,
          },
        }),
      });
    }

    // After alerting: the persona roles read the state of the rules over their categories.
    this.access = new LogLakeAccess(this, 'Access', {
      erasures: this.erasures,
      personas: config.personas,
      storage: this.storage,
      catalog: this.catalog,
      query: this.query,
      ingest: this.ingest,
      principals: props.personaPrincipals,
      privacyPersonas: config.privacy.personas,
      ...(this.trail && { trail: this.trail }),
      ...(this.alerting && { alerting: this.alerting }),
      ...(this.accessRecorder && { recorder: this.accessRecorder }),
    });
  }

  get dataBuckets(): LogLakeStorage['dataBuckets'] {
    return this.storage.dataBuckets;
  }

  get databaseName(): string {
    return this.catalog.databaseName;
  }

  get workGroupName(): string {
    return this.query.workGroup.name;
  }

  grantPutRecords(grantee: iam.IGrantable): iam.Grant {
    return this.ingest.grantPutRecords(grantee);
  }

  grantQuery(grantee: iam.IGrantable, persona?: Persona): iam.Grant {
    const categories = persona ? this.config.personas[persona].read : CATEGORIES;
    return grantLakeQuery(this, grantee, categories, persona);
  }

  grantReadCategories(grantee: iam.IGrantable, categories: readonly Category[]): iam.Grant {
    return grantLakeRead(this, grantee, categories);
  }

  grantWriteCategories(grantee: iam.IGrantable, categories: readonly Category[]): iam.Grant {
    return this.storage.grantWriteCategories(grantee, categories);
  }

  subscribe(logGroup: logs.ILogGroup, options?: SubscribeOptions): logs.SubscriptionFilter {
    return this.subscriptions.subscribe(logGroup, options);
  }

  ingestAccessLogs(bucket: s3.IBucket, options: AccessLogsOptions): LogLakeAccessLogs {
    if (this.isOwnBucket(bucket)) {
      throw new Error(
        `LogLake.ingestAccessLogs: ${bucket.node.path} is one of the lake's own buckets; its access logs would record the lake's writes of them without end`,
      );
    }
    const source = new LogLakeAccessLogs(this, `AccessLogs${this.accessLogs.length}`, {
      ...options,
      bucket,
      stream: this.ingest.lanes.logs.stream,
      encryptionKey: this.key,
      rules: { rules: this.config.transform.rules, defaultCategory: this.config.transform.defaultCategory },
      logRetentionDays: this.config.lambdaLogRetentionDays,
    });
    this.accessLogs.push(source);
    // Sources added before the alerting are watched from its start; those added later, from here.
    this.alerting?.watchAccessLogs(source);
    return source;
  }

  /** A bucket of the lake (created here, or imported by one of their names). */
  private isOwnBucket(bucket: s3.IBucket): boolean {
    if (bucket.node.scopes.includes(this.storage)) return true;
    const stack = Stack.of(this);
    const name = JSON.stringify(stack.resolve(bucket.bucketName));
    return this.storage.node
      .findAll()
      .filter((c): c is s3.CfnBucket => c instanceof s3.CfnBucket)
      .some((b) => JSON.stringify(stack.resolve(b.ref)) === name);
  }

  metricIncomingRecords(options?: StreamMetricOptions): cloudwatch.Metric {
    return this.ingest.metricIncomingRecords(options);
  }

  metricIncomingBytes(options?: StreamMetricOptions): cloudwatch.Metric {
    return this.ingest.metricIncomingBytes(options);
  }

  metricThrottledRecords(options?: StreamMetricOptions): cloudwatch.Metric {
    return this.ingest.metricThrottledRecords(options);
  }

  metricDeliverySuccess(options?: StreamMetricOptions): cloudwatch.Metric {
    return this.ingest.metricDeliverySuccess(options);
  }

  metricDeliveryFreshness(options?: StreamMetricOptions): cloudwatch.Metric {
    return this.ingest.metricDeliveryFreshness(options);
  }

  metricTransformErrors(options?: StreamMetricOptions): cloudwatch.Metric {
    return this.ingest.metricTransformErrors(options);
  }

  metricTransformThrottles(options?: StreamMetricOptions): cloudwatch.Metric {
    return this.ingest.metricTransformThrottles(options);
  }

  metricTransformDuration(options?: StreamMetricOptions): cloudwatch.Metric {
    return this.ingest.metricTransformDuration(options);
  }

  metricProcessingFailed(options?: StreamMetricOptions): cloudwatch.Metric {
    return this.ingest.metricProcessingFailed(options);
  }

  metricReingestFailed(options?: StreamMetricOptions): cloudwatch.Metric {
    return this.ingest.metricReingestFailed(options);
  }

  metricAuditForwardFailed(options?: StreamMetricOptions): cloudwatch.Metric {
    return this.ingest.metricAuditForwardFailed(options);
  }

  metricLogGroupsAtFilterLimit(props?: cloudwatch.MetricOptions): cloudwatch.Metric | undefined {
    return this.subscriptions.prefixes?.metricAtFilterLimit(props);
  }

  metricSubscriberDeadLetters(props?: cloudwatch.MetricOptions): cloudwatch.Metric | undefined {
    return this.subscriptions.prefixes?.metricDeadLetters(props);
  }

  metricSubscriberOldestDeadLetterAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric | undefined {
    return this.subscriptions.prefixes?.metricOldestDeadLetterAge(props);
  }

  metricErasureFailedRuns(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.erasures.metricFailedRuns(props);
  }

  metricCompactionFailedRuns(props?: cloudwatch.MetricOptions): cloudwatch.Metric | undefined {
    return this.compaction?.metricFailedRuns(props);
  }
}
