import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ACCESS_LOGS_ENV } from '../lambdas/access-logs/constants';
import type { Category } from '../src/schema';
import { ACCESS_LOG_LEDGER_ATTRIBUTES } from '../src/sources/access-log-ledger';
import type { AccessLogRules } from '../src/sources/access-logs';
import type { AccessLogFormat } from '../src/transform/sources/access-logs';
import { LogLakeFunction, type LogRetentionDays } from './function';
import { DEAD_LETTER_RETENTION, metricDeadLetters, metricOldestDeadLetterAge } from './private/dead-letters';
import { checkEnvironmentSize } from './private/environment-size';
import { grantKeyVia } from './private/grants';
import { acknowledge, acknowledgeGrantWildcards, wildcardAction } from './private/nag';

/** Options of `LogLake.ingestAccessLogs`. */
export interface AccessLogsOptions {
  /** What the bucket's objects hold: ALB access logs, CloudFront standard logs (legacy) or S3 server access logs. */
  readonly format: AccessLogFormat;
  /**
   * Only objects whose key starts with this are read (and the function may read only those).
   * @default every object of the bucket
   */
  readonly prefix?: string;
  /**
   * Put every event in this category.
   * @default categorized by the rules, as any event (requests land in `api_access`, S3 AccessDenied in `security`)
   */
  readonly category?: Category;
}

export interface LogLakeAccessLogsProps extends AccessLogsOptions {
  /** The bucket the service delivers its access logs to. */
  readonly bucket: s3.IBucket;
  /** The lake's `logs` stream. */
  readonly stream: firehose.IDeliveryStream;
  /** Encrypts the function's environment and log group, the dead-letter queue and the ledger table. */
  readonly encryptionKey: kms.IKey;
  /** The transform's category rules: lines are packed per partition the transform will give them. */
  readonly rules: AccessLogRules;
  readonly logRetentionDays: LogRetentionDays;
}

/**
 * Access logs delivered to S3 into the lake: an S3 event notification (Object Created, under the prefix)
 * invokes a function that streams the new object, parses its lines and puts them on the `logs` stream
 * (`lambdas/access-logs`). The function may read only the bucket's objects under the prefix and put
 * records only on that stream.
 *
 * Each object is shipped once through a ledger table (DynamoDB, one record per object write, on demand,
 * encrypted with the lake key, point-in-time recovery, records expiring 30 days after their last write):
 * a second notification of a done object sends nothing, and a retry resumes after the last acknowledged
 * commit; only the commit a failed attempt had in flight may arrive twice
 * (`src/sources/access-log-ledger.ts`).
 *
 * S3 invokes the function asynchronously: an object that could not be delivered whole is retried twice
 * by Lambda, then its event goes to the dead-letter queue (KMS-encrypted, 14 days), from where it can be
 * invoked again (it resumes from its checkpoint).
 */
export class LogLakeAccessLogs extends Construct {
  readonly function: LogLakeFunction;
  /** Events of objects not delivered after Lambda's retries. */
  readonly deadLetterQueue: sqs.Queue;
  /** The objects shipped, in progress (with their checkpoint) or done: one record per object write. */
  readonly ledger: dynamodb.Table;
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: LogLakeAccessLogsProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    this.ledger = new dynamodb.Table(this, 'Ledger', {
      partitionKey: { name: ACCESS_LOG_LEDGER_ATTRIBUTES.object, type: dynamodb.AttributeType.STRING },
      sortKey: { name: ACCESS_LOG_LEDGER_ATTRIBUTES.delivery, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: ACCESS_LOG_LEDGER_ATTRIBUTES.expiresAt,
      // Losing it costs at most one more copy of objects notified again within 30 days, never a line.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(
      this.ledger,
      'Point-in-time recovery is on; the table holds only which access-log objects were shipped in the last 30 days, and losing it costs at most a duplicate of an object notified again, never a line.',
      'NIST.800.53.R5-DynamoDBInBackupPlan',
    );
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: DEAD_LETTER_RETENTION,
    });

    const environment = {
      [ACCESS_LOGS_ENV.stream]: props.stream.deliveryStreamName,
      [ACCESS_LOGS_ENV.source]: JSON.stringify({
        format: props.format,
        ...(props.category !== undefined && { category: props.category }),
      }),
      [ACCESS_LOGS_ENV.rules]: JSON.stringify(props.rules),
      [ACCESS_LOGS_ENV.ledger]: this.ledger.tableName,
    };
    checkEnvironmentSize(environment);
    this.function = new LogLakeFunction(this, 'Function', {
      entry: 'lambdas/access-logs/index.ts',
      description: `loglake: ${props.format} access logs from S3 into the logs stream`,
      encryptionKey: props.encryptionKey,
      logRetentionDays: props.logRetentionDays,
      // A CloudFront or S3 log object of a busy hour runs to tens of MB; streamed, memory stays small.
      timeout: Duration.minutes(5),
      environment,
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
    });
    const read = props.bucket.grantRead(this.function, props.prefix === undefined ? '*' : `${props.prefix}*`);
    props.stream.grantPutRecords(this.function);
    this.grantLedger(this.function);
    acknowledgeGrantWildcards(
      this,
      'The function reads the objects the service names at delivery, under the configured prefix only.',
      read,
    );
    acknowledge(
      this,
      'Granted by bucket.grantRead: the object reads (GetObject*, e.g. GetObjectVersion) and listings S3 needs, on this bucket and prefix only.',
      ...['s3:GetBucket*', 's3:GetObject*', 's3:List*'].map(wildcardAction),
    );
    acknowledge(
      this.function,
      'The function calls only regional AWS APIs (S3, Firehose, DynamoDB, KMS); a VPC would add NAT or endpoint cost and no data path.',
      'NIST.800.53.R5-LambdaInsideVPC',
    );
    acknowledge(
      this.function,
      'Invoked by S3 per new object; reserved concurrency would take from the account’s unreserved pool (10 on new accounts) and can fail the deploy, and Firehose throttling is retried by the function.',
      'NIST.800.53.R5-LambdaConcurrency',
    );

    props.bucket.addEventNotification(
      s3.EventType.OBJECT_CREATED,
      new s3n.LambdaDestination(this.function),
      ...(props.prefix === undefined ? [] : [{ prefix: props.prefix }]),
    );
    acknowledgeNotificationsHandler(Stack.of(this));
    const notifications = props.bucket.node.tryFindChild('Notifications');
    if (notifications) {
      acknowledge(
        notifications,
        'CDK’s policy letting its notifications handler put this bucket’s notification configuration; bound to the handler’s role and this bucket.',
        'NIST.800.53.R5-IAMNoInlinePolicy',
      );
    }
  }

  /**
   * Objects whose event waits in the dead-letter queue: not shipped after Lambda's retries, their lines
   * not in the lake until the event is redriven (Maximum over 5 minutes).
   */
  metricDeadLetters(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return metricDeadLetters(this.deadLetterQueue, props);
  }

  /** Seconds the oldest event has waited in the dead-letter queue; SQS deletes it at 14 days. */
  metricOldestDeadLetterAge(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return metricOldestDeadLetterAge(this.deadLetterQueue, props);
  }

  /**
   * Claim, checkpoint and close ledger records (the function): conditional updates and the read of a
   * refused claim's record, on this table only, with the lake key through DynamoDB only.
   */
  grantLedger(grantee: iam.IGrantable): iam.Grant {
    return this.ledger
      .grant(grantee, 'dynamodb:GetItem', 'dynamodb:UpdateItem')
      .combine(
        grantKeyVia(grantee, this.encryptionKey, 'dynamodb', [
          'kms:Decrypt',
          'kms:DescribeKey',
          'kms:Encrypt',
          'kms:GenerateDataKey',
        ]),
      );
  }
}

/**
 * The singleton function CDK adds to apply bucket notifications (`BucketNotificationsHandler…`): its
 * findings are CDK's, acknowledged on it with the reason.
 */
function acknowledgeNotificationsHandler(stack: Stack): void {
  for (const child of stack.node.children) {
    if (!child.node.id.startsWith('BucketNotificationsHandler')) continue;
    acknowledge(
      child,
      'CDK’s own handler that applies S3 bucket notification configurations at deploy time (custom resource); it runs only during deployments, with the AWS managed basic execution role CDK gives it, and holds no data.',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    );
  }
}
