import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import type * as athena from 'aws-cdk-lib/aws-athena';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ERASE_ENV } from '../lambdas/erase/constants';
import { COMPACTION_PREFIX } from '../src/compaction/objects';
import { SUBJECT_REQUEST_PARTITION_KEY } from '../src/privacy/store';
import type { Category } from '../src/schema';
import { LogLakeFunction, type LogRetentionDays } from './function';
import type { ILogLake } from './log-lake';
import { grantKeyVia } from './private/grants';
import { acknowledge } from './private/nag';
import {
  COMPACTION_STAGING_EXPIRY_DAYS,
  grantObjectRewrite,
  RewriteWorkGroup,
} from './private/object-rewrite';
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
  /** Where `--purge` requests rewrite: the lake, and its unlocked and locked categories. */
  readonly purge: {
    readonly lake: ILogLake;
    /** Rewritten without the person's rows (the `logs` bucket's categories). */
    readonly categories: readonly Category[];
    /** Never rewritten (Object Lock); named in the request's outcome. */
    readonly locked: readonly Category[];
    /**
     * Days back the purge looks for the person's rows in each of `categories` (its expiry, plus a day):
     * one find query per category, over its own days.
     */
    readonly searchDays: Readonly<Partial<Record<Category, number>>>;
  };
}

/** Where the purge workgroup's query results go (expired like the compaction's). */
const PURGE_RESULTS_PREFIX = `${COMPACTION_PREFIX}purge-results/`;

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
 *
 * A `--purge` request is purged by the executor when it is due, before the key is destroyed: it has
 * Athena rewrite the unlocked categories' objects holding the person's rows without them, in its own
 * workgroup, with the compaction's journal and lock (`src/compaction/purge.ts`), and deletes the old
 * versions of the hours it rewrote. So a cancelled request purges nothing, and `--after 7d` purges at
 * destruction time.
 */
export class LogLakeErasures extends Construct {
  readonly requestTable: dynamodb.Table;
  readonly function: LogLakeFunction;
  readonly schedule: events.Rule;
  /** The purge's Athena workgroup (its CTAS names its own location; only the executor may use it). */
  readonly purgeWorkGroup: athena.CfnWorkGroup;
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
      description:
        'loglake scheduled erasure: purges (--purge) and destroys the subject keys of due requests',
      logRetentionDays: props.logRetentionDays,
      encryptionKey: props.encryptionKey,
      memorySize: 256,
      // Lambda's maximum: a purge stops starting hours when 5 minutes are left, and goes on next run.
      timeout: Duration.minutes(15),
      environment: {
        [ERASE_ENV.requestTable]: this.requestTable.tableName,
        [ERASE_ENV.keyTable]: props.subjectKeys.table.tableName,
        [ERASE_ENV.auditStream]: props.auditStream.deliveryStreamName,
      },
    });
    const { lake } = props.purge;
    const purgeWorkGroup = new RewriteWorkGroup(this, 'PurgeWorkGroup', {
      lake,
      name: `${lake.workGroupName}-purge`,
      description:
        'loglake subject erase --purge: the rewrites without a person’s rows (CTAS into compaction/staging/)',
      resultsPrefix: PURGE_RESULTS_PREFIX,
    });
    this.purgeWorkGroup = purgeWorkGroup.resource;
    this.function.addEnvironment(
      ERASE_ENV.purge,
      Stack.of(this).toJsonString({
        bucket: lake.dataBuckets.logs.bucketName,
        workgroup: this.purgeWorkGroup.name,
        database: lake.databaseName,
        // Tables are named after their streams.
        table: 'logs',
        categories: props.purge.categories,
        locked: props.purge.locked,
        searchDays: props.purge.searchDays,
      }),
    );
    const bucket = lake.dataBuckets.logs;
    if (bucket instanceof s3.Bucket) {
      bucket.addLifecycleRule({
        id: 'ExpirePurgeResults',
        prefix: PURGE_RESULTS_PREFIX,
        expiration: Duration.days(COMPACTION_STAGING_EXPIRY_DAYS),
      });
    } else {
      Annotations.of(this).addWarningV2(
        'loglake:purgeResultsExpiry',
        `The logs bucket is imported: add a lifecycle rule expiring ${PURGE_RESULTS_PREFIX} (the purge's Athena results).`,
      );
    }
    if (props.purge.categories.length > 0)
      grantObjectRewrite(this.function, lake, props.purge.categories, purgeWorkGroup);
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
      'The executor calls only regional AWS APIs (DynamoDB, Firehose, KMS, Athena, Glue, S3); a VPC would add NAT or endpoint cost and no data path.',
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
