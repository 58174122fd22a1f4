import { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ERASE_ENV } from '../lambdas/erase/constants';
import { SUBJECT_REQUEST_PARTITION_KEY } from '../src/privacy/store';
import { LogLakeFunction, type LogRetentionDays } from './function';
import { grantKeyVia } from './private/grants';
import { acknowledge } from './private/nag';
import { privacyTable } from './private/privacy-table';
import type { LogLakeSubjectKeys } from './subject-keys';

export interface LogLakeErasuresProps {
  /** The lake's KMS key: the request table, the function's environment and log group. */
  readonly encryptionKey: kms.IKey;
  /** The subject keys the executor destroys. */
  readonly subjectKeys: LogLakeSubjectKeys;
  /** The delivery stream of the `audit` category, where each erasure carried out is recorded. */
  readonly auditStream: firehose.IDeliveryStream;
  /** Days the executor's own log group keeps events. */
  readonly logRetentionDays: LogRetentionDays;
  /**
   * How often the executor looks for due requests: a request is carried out at most this long after it
   * is due.
   * @default 60
   */
  readonly scheduleMinutes?: number;
}

/**
 * Scheduled erasure on the deployed lake (`loglake subject erase --after 7d --stack`): a request table
 * (one item per subject, `src/privacy/requests.ts`, encrypted with the lake key) that only the privacy
 * personas write, and an executor Lambda on an EventBridge schedule that destroys the keys of the due
 * requests and records each on the audit stream (`lambdas/erase`).
 *
 * A table of its own rather than items in the key table: the transform may write the key table (it
 * creates keys) and must not touch requests; the executor lists requests with a scan, which on the key
 * table would read every person's key; and the privacy officer may write requests, never keys.
 *
 * No point-in-time recovery and no backup plan, like the key table: a pending `--purge` request holds
 * the person's pseudonym, and a backup would keep that link after the key is gone.
 */
export class LogLakeErasures extends Construct {
  readonly requestTable: dynamodb.Table;
  readonly function: LogLakeFunction;
  readonly schedule: events.Rule;
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: LogLakeErasuresProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    // The record of every erasure asked for, carried out or withdrawn: kept with the stack gone.
    this.requestTable = privacyTable(this, 'Requests', {
      partitionKey: SUBJECT_REQUEST_PARTITION_KEY,
      encryptionKey: props.encryptionKey,
      noBackupReason:
        'A pending --purge request holds the subject’s pseudonym until it is carried out; a point-in-time restore or a backup would keep that link after the key is destroyed (README, "Privacy"). Every request is also an event in the locked audit category.',
    });

    const scheduleMinutes = props.scheduleMinutes ?? 60;
    this.function = new LogLakeFunction(this, 'Executor', {
      entry: 'lambdas/erase/index.ts',
      description: 'loglake scheduled erasure: destroys the subject keys of due requests',
      logRetentionDays: props.logRetentionDays,
      encryptionKey: props.encryptionKey,
      memorySize: 256,
      timeout: Duration.minutes(5),
      environment: {
        [ERASE_ENV.requestTable]: this.requestTable.tableName,
        [ERASE_ENV.keyTable]: props.subjectKeys.table.tableName,
        [ERASE_ENV.auditStream]: props.auditStream.deliveryStreamName,
      },
    });
    const role = this.function.role;
    if (!role) throw new Error('erasure executor has no role');
    this.function.addEnvironment(ERASE_ENV.principal, role.roleArn);
    // A failed run is redone by the next scheduled one (it lists every due request again).
    this.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.hours(1) });
    this.schedule = new events.Rule(this, 'Schedule', {
      description: `loglake scheduled erasure: due requests carried out every ${scheduleMinutes} min`,
      schedule: events.Schedule.rate(Duration.minutes(scheduleMinutes)),
      targets: [
        new targets.LambdaFunction(this.function, { retryAttempts: 0, maxEventAge: Duration.hours(1) }),
      ],
    });

    this.grantExecute(this.function);
    props.subjectKeys.grantErase(this.function);
    props.auditStream.grantPutRecords(this.function);

    acknowledge(
      this.function,
      'The executor calls only regional AWS APIs (DynamoDB, Firehose, KMS); a VPC would add NAT or endpoint cost and no data path.',
      'NIST.800.53.R5-LambdaInsideVPC',
    );
    acknowledge(
      this.function,
      'Invoked only by its schedule; a failed run is redone by the next one, which lists every due request again, so a dead-letter queue would hold nothing to act on. Failures show in the function’s Errors metric.',
      'NIST.800.53.R5-LambdaDLQ',
    );
    acknowledge(
      this.function,
      'Overlapping runs exclude each other per request (a conditional claim in the request table), not by reserved concurrency, which would take from the account’s unreserved pool and can fail the deploy.',
      'NIST.800.53.R5-LambdaConcurrency',
    );
  }

  /** Runs that ended in an error (a request could not be carried out; the next run retries it). */
  metricFailedRuns(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.function.metricErrors({ statistic: 'Sum', period: Duration.hours(1), ...props });
  }

  /** Read, record and withdraw erasure requests (`loglake subject erase --after|cancel|status --stack`). */
  grantWriteRequests(grantee: iam.IGrantable): iam.Grant {
    return this.requestTable
      .grant(grantee, 'dynamodb:GetItem', 'dynamodb:PutItem')
      .combine(this.grantKey(grantee));
  }

  /** List, claim and close erasure requests (the executor). */
  private grantExecute(grantee: iam.IGrantable): iam.Grant {
    return this.requestTable
      .grant(grantee, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Scan')
      .combine(this.grantKey(grantee));
  }

  /** The table is encrypted with the lake key: its users need it, through DynamoDB only. */
  private grantKey(grantee: iam.IGrantable): iam.Grant {
    return grantKeyVia(grantee, this.encryptionKey, 'dynamodb', [
      'kms:Decrypt',
      'kms:DescribeKey',
      'kms:Encrypt',
      'kms:GenerateDataKey',
    ]);
  }
}
