import { Duration, RemovalPolicy, Size, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { TRANSFORM_ENV } from '../lambdas/transform/constants';
import { type LogLakeConfig, streamBufferingOf } from '../src/config';
import { PROCESSING_FAILED, TRANSFORM_METRICS } from '../src/metrics';
import { pascalCase } from '../src/outputs';
import { DATA_PREFIX, ERROR_PREFIX, type StreamName } from '../src/schema';
import { LogLakeFunction, type LogRetentionDays } from './function';
import { checkEnvironmentSize } from './private/environment-size';
import { combineGrants, grantKeyVia } from './private/grants';
import { acknowledge, wildcardAction, wildcardResource } from './private/nag';
import { TransformProcessor } from './private/transform-processor';
import type { MetricStream, StreamMetricOptions, StreamMetrics } from './stream-metrics';
import { LogLakeSubjectKeys } from './subject-keys';

/** Where Firehose writes delivered Parquet: the layout of docs/design.md, keys from the transform Lambda. */
export const DATA_OUTPUT_PREFIX =
  `${DATA_PREFIX}/category=!{partitionKeyFromLambda:category}/` +
  'dt=!{partitionKeyFromLambda:dt}/hour=!{partitionKeyFromLambda:hour}/';
/** Raw bytes of records that failed processing or conversion, by failure type and day. */
export const ERROR_OUTPUT_PREFIX = `${ERROR_PREFIX}/!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/`;

/** The config slice the transform Lambda receives as `LOGLAKE_TRANSFORM_SETTINGS`. */
export type TransformSettingsSlice = Pick<LogLakeConfig, 'categories' | 'transform' | 'redaction'>;

export interface StreamDestination {
  readonly bucket: s3.IBucket;
  /** Glue table whose columns define the Parquet schema. */
  readonly table: glue.CfnTable;
}

export interface LogLakeIngestProps {
  /** Prefix of the delivery stream names: `<name>-logs`, `<name>-audit`. */
  readonly name: string;
  readonly encryptionKey: kms.IKey;
  /** Destination per stream; `audit` only when a category is locked. */
  readonly destinations: Partial<Record<StreamName, StreamDestination>> & { logs: StreamDestination };
  readonly transformSettings: TransformSettingsSlice;
  readonly buffering: LogLakeConfig['firehose'];
  /** Parquet page compression. */
  readonly compression: LogLakeConfig['output']['compression'];
  readonly logRetentionDays: LogRetentionDays;
  /**
   * Deliver Firehose's own error logs (delivery and processing failures) to CloudWatch Logs.
   * @default true
   */
  readonly streamLogging?: boolean;
}

/** One delivery stream with its transform function. */
export interface IngestLane {
  readonly stream: firehose.DeliveryStream;
  readonly transform: LogLakeFunction;
  /** Role Firehose assumes to invoke the transform, read the Glue schema and write to the bucket. */
  readonly deliveryRole: iam.Role;
  /** Where the stream delivers (bucket and Glue table). */
  readonly destination: StreamDestination;
}

/**
 * Ingestion: the pseudonym secret, then per stream a transform function and a Direct PUT delivery
 * stream (SSE with the key) that runs it, partitions dynamically by the keys it returns, converts to
 * Parquet with the Glue table's schema, and writes raw failures under the error prefix.
 *
 * Producers get access with {@link grantPutRecords}; the metrics the pipeline alarms watch come from the
 * `metricXxx` methods, per stream.
 */
export class LogLakeIngest extends Construct implements StreamMetrics {
  /** HMAC key for user-id pseudonyms (generated, encrypted with the lake key). */
  readonly pseudonymSecret: secretsmanager.Secret;
  /** Per-subject pseudonym keys (crypto-shredding); the secret above is the lake key that finds them. */
  readonly subjectKeys: LogLakeSubjectKeys;
  readonly lanes: Partial<Record<StreamName, IngestLane>> & { logs: IngestLane };
  private readonly encryptionKey: kms.IKey;
  private readonly props: LogLakeIngestProps;
  /** Streams added with {@link addDeliveryStream}, by metric name, with the lane whose transform they run. */
  private readonly addedStreams = new Map<
    MetricStream,
    { stream: firehose.DeliveryStream; lane: StreamName }
  >();

  constructor(scope: Construct, id: string, props: LogLakeIngestProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    this.props = props;
    this.pseudonymSecret = new secretsmanager.Secret(this, 'PseudonymKey', {
      description: 'loglake: HMAC-SHA256 key turning user ids into pseudonyms',
      encryptionKey: props.encryptionKey,
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      // Losing the key would orphan every pseudonym (no search or erasure by user); keep it.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      this.pseudonymSecret,
      'Rotating the HMAC key would change every user pseudonym, breaking search and erasure by user across retained data.',
      'AwsSolutions-SMG4',
      'NIST.800.53.R5-SecretsManagerRotationEnabled',
    );

    this.subjectKeys = new LogLakeSubjectKeys(this, 'SubjectKeys', { encryptionKey: props.encryptionKey });

    // The audit lane first: the logs transform forwards locked-category events to it.
    const audit = props.destinations.audit
      ? this.createLane('audit', props.destinations.audit, props, undefined)
      : undefined;
    const logsLane = this.createLane('logs', props.destinations.logs, props, audit?.stream);
    this.lanes = { logs: logsLane, ...(audit && { audit }) };
  }

  /**
   * Put records (PutRecord, PutRecordBatch) on the delivery streams, nothing else.
   * @default streams every stream of this lake
   */
  grantPutRecords(grantee: iam.IGrantable, streams?: readonly StreamName[]): iam.Grant {
    const names = streams ?? (Object.keys(this.lanes) as StreamName[]);
    return combineGrants(
      grantee,
      'put records on no stream',
      names.map((s) => this.lane(s).stream.grantPutRecords(grantee)),
    );
  }

  /** Read the pseudonym HMAC key, decrypting it through Secrets Manager only (to search by raw user id). */
  grantReadPseudonymKey(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      resourceArns: [this.pseudonymSecret.secretArn],
    }).combine(grantKeyVia(grantee, this.encryptionKey, 'secretsmanager', ['kms:Decrypt']));
  }

  /** The lane (stream, transform, delivery role) of `stream`. @throws Error when this lake has no such stream. */
  lane(stream: StreamName): IngestLane {
    const lane = this.lanes[stream];
    if (!lane) throw new Error(`LogLakeIngest: no ${stream} stream (no category is locked)`);
    return lane;
  }

  metricIncomingRecords(options?: StreamMetricOptions): cloudwatch.Metric {
    const [lane, props] = this.metricTarget(options);
    return lane.deliveryStream.metricIncomingRecords({ statistic: 'Sum', ...props });
  }

  metricIncomingBytes(options?: StreamMetricOptions): cloudwatch.Metric {
    const [lane, props] = this.metricTarget(options);
    return lane.deliveryStream.metricIncomingBytes({ statistic: 'Sum', ...props });
  }

  metricThrottledRecords(options?: StreamMetricOptions): cloudwatch.Metric {
    const [lane, props] = this.metricTarget(options);
    return lane.deliveryStream.metric('ThrottledRecords', { statistic: 'Sum', ...props });
  }

  metricDeliverySuccess(options?: StreamMetricOptions): cloudwatch.Metric {
    const [lane, props] = this.metricTarget(options);
    return lane.deliveryStream.metric('DeliveryToS3.Success', { statistic: 'Minimum', ...props });
  }

  metricDeliveryFreshness(options?: StreamMetricOptions): cloudwatch.Metric {
    const [lane, props] = this.metricTarget(options);
    return lane.deliveryStream.metric('DeliveryToS3.DataFreshness', { statistic: 'Maximum', ...props });
  }

  metricTransformErrors(options?: StreamMetricOptions): cloudwatch.Metric {
    const [lane, props] = this.metricTarget(options);
    return lane.transform.metricErrors(props);
  }

  metricTransformThrottles(options?: StreamMetricOptions): cloudwatch.Metric {
    const [lane, props] = this.metricTarget(options);
    return lane.transform.metricThrottles(props);
  }

  metricTransformDuration(options?: StreamMetricOptions): cloudwatch.Metric {
    const [lane, props] = this.metricTarget(options);
    return lane.transform.metricDuration(props);
  }

  /** The transform's own EMF metric, names shared with the handler through `src/metrics.ts`. */
  metricProcessingFailed(options?: StreamMetricOptions): cloudwatch.Metric {
    const { names, dimensions } = TRANSFORM_METRICS;
    return this.transformMetric(names.records, options, { [dimensions.result]: PROCESSING_FAILED });
  }

  metricReingestFailed(options?: StreamMetricOptions): cloudwatch.Metric {
    return this.transformMetric(TRANSFORM_METRICS.names.reingestFailed, options);
  }

  metricAuditForwardFailed(options?: StreamMetricOptions): cloudwatch.Metric {
    return this.transformMetric(TRANSFORM_METRICS.names.auditForwardFailed, options);
  }

  /** A metric the transform handler emits (EMF, through Powertools), summed over 5 minutes by default. */
  private transformMetric(
    metricName: string,
    options: StreamMetricOptions | undefined,
    extra: Record<string, string> = {},
  ): cloudwatch.Metric {
    // The handler's `Stream` dimension is its lane: the WAF stream's records count under `logs`.
    const [target, props] = this.metricTarget(options);
    const { namespace, dimensions, service } = TRANSFORM_METRICS;
    return new cloudwatch.Metric({
      namespace,
      metricName,
      // Powertools adds `service`; the handler sets `Stream` as default dimension, and `Result` per metric.
      dimensionsMap: { [dimensions.service]: service, [dimensions.stream]: target.laneName, ...extra },
      statistic: 'Sum',
      period: Duration.minutes(5),
      ...props,
    });
  }

  private metricTarget(
    options: StreamMetricOptions = {},
  ): [
    IngestLane & { deliveryStream: firehose.DeliveryStream; laneName: StreamName },
    cloudwatch.MetricOptions,
  ] {
    const { stream = 'logs', ...props } = options;
    const added = this.addedStreams.get(stream);
    if (added)
      return [{ ...this.lane(added.lane), deliveryStream: added.stream, laneName: added.lane }, props];
    if (stream === 'waf') throw new Error('LogLakeIngest: no waf stream (sources.waf.enabled is false)');
    const lane = this.lane(stream);
    return [{ ...lane, deliveryStream: lane.stream, laneName: stream }, props];
  }

  /**
   * One more Direct PUT stream into a lane's destination through its transform (the same processor,
   * partitioning, conversion and error prefix), for a producer that requires its own stream name:
   * AWS WAF delivers only to a stream named `aws-waf-logs-…`.
   * @param metricName - the name its Firehose metrics answer to (`metricXxx({ stream })`)
   * @default lane `logs`; metricName: none (no per-stream metrics)
   */
  addDeliveryStream(
    id: string,
    deliveryStreamName: string,
    lane: StreamName = 'logs',
    metricName?: MetricStream,
  ): firehose.DeliveryStream {
    const { transform, destination } = this.lane(lane);
    const { deliveryStream } = this.deliveryStream(
      id,
      deliveryStreamName,
      lane,
      transform,
      destination,
      this.props,
    );
    if (metricName !== undefined) this.addedStreams.set(metricName, { stream: deliveryStream, lane });
    // The shared transform re-ingests (oversized, split) records into the stream they arrived on, this
    // one included; without the grant the denial would also stop re-ingestion for the lane's own stream
    // in that container. The ARN is built from the name, as for the lane's stream (no cycle).
    transform.addToRolePolicy(
      new iam.PolicyStatement({
        sid: `Reingest${id.replace(/[^A-Za-z0-9]/g, '')}Records`,
        actions: ['firehose:PutRecordBatch'],
        resources: [
          Stack.of(this).formatArn({
            service: 'firehose',
            resource: 'deliverystream',
            resourceName: deliveryStreamName,
          }),
        ],
      }),
    );
    return deliveryStream;
  }

  private deliveryStream(
    id: string,
    deliveryStreamName: string,
    stream: StreamName,
    transform: LogLakeFunction,
    destination: StreamDestination,
    props: LogLakeIngestProps,
  ): { deliveryStream: firehose.DeliveryStream; deliveryRole: iam.Role } {
    const logging = props.streamLogging ?? true;
    const logGroup = logging
      ? new logs.LogGroup(this, `${id}StreamLogGroup`, {
          retention: props.logRetentionDays as logs.RetentionDays,
          encryptionKey: props.encryptionKey,
          removalPolicy: RemovalPolicy.DESTROY,
        })
      : undefined;

    const deliveryRole = new iam.Role(this, `${id}DeliveryRole`, {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com'),
      description: `Firehose ${deliveryStreamName}: transform, convert, deliver`,
    });
    const deliveryStream = new firehose.DeliveryStream(this, `${id}Stream`, {
      deliveryStreamName,
      encryption: firehose.StreamEncryption.customerManagedKey(props.encryptionKey),
      destination: new firehose.S3Bucket(destination.bucket, {
        role: deliveryRole,
        encryptionKey: props.encryptionKey,
        dataOutputPrefix: DATA_OUTPUT_PREFIX,
        errorOutputPrefix: ERROR_OUTPUT_PREFIX,
        bufferingInterval: Duration.seconds(streamBufferingOf(props.buffering, stream).bufferIntervalSeconds),
        bufferingSize: Size.mebibytes(streamBufferingOf(props.buffering, stream).bufferSizeMiB),
        processors: [
          new TransformProcessor(transform, {
            bufferSizeMiB: props.buffering.processorBufferSizeMiB,
            bufferIntervalSeconds: props.buffering.processorBufferIntervalSeconds,
          }),
        ],
        dynamicPartitioning: { enabled: true },
        dataFormatConversion: {
          schemaConfiguration: firehose.SchemaConfiguration.fromCfnTable(destination.table),
          // The transform emits ISO-8601 `…Z` timestamps, which the OpenX SerDe reads natively. Its default
          // lowercases every key, map keys included: `Color` and `color` of one event's attributes would
          // fail the row as a duplicate. The columns' names are lowercase already.
          inputFormat: new firehose.OpenXJsonInputFormat({ lowercaseColumnNames: false }),
          outputFormat: new firehose.ParquetOutputFormat({
            compression: firehose.ParquetCompression.of(props.compression),
          }),
        },
        loggingConfig: logGroup ? new firehose.EnableLogging(logGroup) : new firehose.DisableLogging(),
      }),
    });
    // The L2 grants the destination role read-write on the bucket; Firehose only ever puts objects.
    // Deny the destructive rest, above all on the Object Lock bucket (legal holds, retention, deletes).
    deliveryRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'FirehoseNeverDeletesOrLocks',
        effect: iam.Effect.DENY,
        actions: [
          's3:DeleteObject*',
          's3:PutObjectLegalHold',
          's3:PutObjectRetention',
          's3:PutObjectVersionTagging',
          's3:BypassGovernanceRetention',
        ],
        resources: [destination.bucket.arnForObjects('*')],
      }),
    );
    acknowledge(
      deliveryRole,
      'Granted by the Firehose L2 (bucket read-write, KMS data keys, Lambda versions, Glue schema registry); Firehose names objects at delivery, and the destructive S3 actions are explicitly denied above.',
      ...['s3:Abort*', 's3:DeleteObject*', 's3:GetBucket*', 's3:GetObject*', 's3:List*'].map(wildcardAction),
      ...['kms:GenerateDataKey*', 'kms:ReEncrypt*'].map(wildcardAction),
      'AwsSolutions-IAM5[Resource::*]',
      wildcardResource(deliveryRole, destination.bucket.arnForObjects('*')),
      wildcardResource(deliveryRole, `${transform.functionArn}:*`),
    );
    const inlineReason =
      'Grant-generated policy bound to this one role and its own resources; a managed policy could be attached elsewhere.';
    acknowledge(deliveryRole, inlineReason, 'NIST.800.53.R5-IAMNoInlinePolicy');
    acknowledge(deliveryStream, inlineReason, 'NIST.800.53.R5-IAMNoInlinePolicy');
    acknowledge(
      deliveryStream,
      'Stream SSE with the customer-managed key: Firehose generates and re-encrypts data keys (kms:GenerateDataKey*, kms:ReEncrypt*) on that one key.',
      ...['kms:GenerateDataKey*', 'kms:ReEncrypt*'].map(wildcardAction),
    );
    return { deliveryStream, deliveryRole };
  }

  private createLane(
    stream: StreamName,
    destination: StreamDestination,
    props: LogLakeIngestProps,
    auditStream: firehose.DeliveryStream | undefined,
  ): IngestLane {
    const id = pascalCase(stream);
    const environment = {
      [TRANSFORM_ENV.settings]: JSON.stringify(props.transformSettings),
      [TRANSFORM_ENV.stream]: stream,
      [TRANSFORM_ENV.pseudonymSecretArn]: this.pseudonymSecret.secretArn,
      [TRANSFORM_ENV.subjectKeyTable]: this.subjectKeys.table.tableName,
      ...(auditStream && { [TRANSFORM_ENV.auditStreamName]: auditStream.deliveryStreamName }),
    };
    checkEnvironmentSize(environment);
    const transform = new LogLakeFunction(this, `${id}Transform`, {
      entry: 'lambdas/transform/index.ts',
      description: `loglake transform for the ${stream} stream`,
      logRetentionDays: props.logRetentionDays,
      encryptionKey: props.encryptionKey,
      // Firehose allows a processor up to 5 minutes; a full processor buffer takes well under one.
      timeout: Duration.minutes(2),
      environment,
    });
    this.pseudonymSecret.grantRead(transform);
    this.subjectKeys.grantResolve(transform);
    if (auditStream) auditStream.grantPutRecords(transform);
    // Records deferred to keep a response under Lambda's 6 MB go back into this lane's own stream. The
    // ARN is built from the name: referencing the stream would make a cycle (stream -> function -> stream).
    transform.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReingestDeferredRecords',
        actions: ['firehose:PutRecordBatch'],
        resources: [
          Stack.of(this).formatArn({
            service: 'firehose',
            resource: 'deliverystream',
            resourceName: `${props.name}-${stream}`,
          }),
        ],
      }),
    );
    acknowledge(
      transform,
      `The transform calls only regional AWS APIs (Secrets Manager for the pseudonym key, DynamoDB for subject keys, Firehose to re-ingest deferred records${auditStream ? ' and to forward locked categories to the audit stream' : ''}); a VPC would add NAT or endpoint cost and no data path.`,
      'NIST.800.53.R5-LambdaInsideVPC',
    );
    acknowledge(
      transform,
      'Firehose invokes the processor synchronously, retries it, then writes the raw records under the error prefix; a DLQ applies only to asynchronous invocations.',
      'NIST.800.53.R5-LambdaDLQ',
    );
    acknowledge(
      transform,
      'Firehose sizes invocation concurrency to the stream; a reserved limit would throttle ingestion instead of protecting it.',
      'NIST.800.53.R5-LambdaConcurrency',
    );

    const { deliveryStream, deliveryRole } = this.deliveryStream(
      id,
      `${props.name}-${stream}`,
      stream,
      transform,
      destination,
      props,
    );
    return { stream: deliveryStream, transform, deliveryRole, destination };
  }
}
