import { Annotations, Duration } from 'aws-cdk-lib';
import type * as athena from 'aws-cdk-lib/aws-athena';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { COMPACT_ENV } from '../lambdas/compact/constants';
import { COMPACTION_PREFIX } from '../src/compaction/objects';
import type { LogLakeConfig } from '../src/config';
import type { Category } from '../src/schema';
import { LogLakeFunction, type LogRetentionDays } from './function';
import type { ILogLake } from './log-lake';
import { acknowledge } from './private/nag';
import {
  COMPACTION_STAGING_EXPIRY_DAYS,
  grantObjectRewrite,
  RewriteWorkGroup,
} from './private/object-rewrite';

/** Where the compaction workgroup's query results go, under {@link COMPACTION_PREFIX}. */
const RESULTS_PREFIX = `${COMPACTION_PREFIX}results/`;

export interface LogLakeCompactionProps {
  /** The lake whose `logs` bucket is compacted: its key, main workgroup, database and grants. */
  readonly lake: ILogLake;
  /**
   * Categories to compact. Only unlocked ones: the objects of a locked category are under Object Lock
   * and cannot be deleted (`grantWriteCategories` refuses them).
   */
  readonly categories: readonly Category[];
  /** Schedule and thresholds (`compaction` in the config). */
  readonly settings: LogLakeConfig['compaction'];
  /** Days the function's own log group keeps events. */
  readonly logRetentionDays: LogRetentionDays;
}

/**
 * Scheduled compaction of the lake on S3 (`src/compaction/objects.ts`): a Lambda that has Athena rewrite
 * each closed hour of the given categories into one Parquet object, checks the row counts, copies
 * it into the partition and deletes the small objects Firehose delivered. Runs every
 * `settings.scheduleMinutes`; the run's lock, journal and staging area live under `compaction/` of the
 * `logs` bucket (staging expires after {@link COMPACTION_STAGING_EXPIRY_DAYS} days).
 *
 * Cost per category-hour compacted: two Athena queries (the rewrite scans the hour once, $5/TB, 10 MB
 * minimum each: about $0.0001 for a small hour), a handful of S3 requests, ~10-30 s of a 256 MB Lambda.
 */
export class LogLakeCompaction extends Construct {
  readonly function: LogLakeFunction;
  readonly schedule: events.Rule;
  /**
   * The rewrites' own workgroup. Its settings do not override the client's, because a CTAS may name its
   * `external_location` only then (in a workgroup that enforces its results location, Athena writes the
   * table under `<results>/tables/<query id>/` instead); only the compaction Lambda may use it.
   */
  readonly workGroup: athena.CfnWorkGroup;

  constructor(scope: Construct, id: string, props: LogLakeCompactionProps) {
    super(scope, id);
    const { lake } = props;
    if (props.categories.length === 0) throw new Error('LogLakeCompaction: no category to compact');
    const locked = props.categories.filter((c) => lake.placement[c] !== 'logs');
    if (locked.length > 0) {
      throw new Error(
        `LogLakeCompaction: ${locked.join(', ')} are under Object Lock and cannot be compacted (their stream buffers longer instead)`,
      );
    }
    const bucket = lake.dataBuckets.logs;
    const workGroup = new RewriteWorkGroup(this, 'WorkGroup', {
      lake,
      name: `${lake.workGroupName}-compaction`,
      description: 'loglake compaction: the rewrites of closed hours (CTAS into compaction/staging/)',
      resultsPrefix: RESULTS_PREFIX,
    });
    this.workGroup = workGroup.resource;
    this.function = new LogLakeFunction(this, 'Function', {
      entry: 'lambdas/compact/index.ts',
      description: 'loglake compaction: closed hours rewritten into one Parquet object each (Athena)',
      logRetentionDays: props.logRetentionDays,
      encryptionKey: lake.key,
      memorySize: 256,
      // Lambda's maximum; a run stops starting partitions when 5 minutes are left.
      timeout: Duration.minutes(15),
      environment: {
        [COMPACT_ENV.bucket]: bucket.bucketName,
        [COMPACT_ENV.workgroup]: this.workGroup.name,
        [COMPACT_ENV.database]: lake.databaseName,
        // Tables are named after their streams.
        [COMPACT_ENV.table]: 'logs',
        [COMPACT_ENV.settings]: JSON.stringify({
          categories: props.categories,
          closedAfterMinutes: props.settings.closedAfterMinutes,
          lookbackHours: props.settings.lookbackHours,
          targetFileMiB: props.settings.targetFileMiB,
        }),
      },
    });
    // A failed run is retried by the next scheduled one (it re-plans everything in its look-back);
    // retrying at once would only repeat a failure that is probably not transient.
    this.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.hours(1) });
    this.schedule = new events.Rule(this, 'Schedule', {
      description: `loglake compaction of closed hours, every ${props.settings.scheduleMinutes} min`,
      schedule: events.Schedule.rate(Duration.minutes(props.settings.scheduleMinutes)),
      targets: [
        new targets.LambdaFunction(this.function, { retryAttempts: 0, maxEventAge: Duration.hours(1) }),
      ],
    });
    if (bucket instanceof s3.Bucket) {
      for (const [id, prefix] of [
        ['ExpireCompactionStaging', `${COMPACTION_PREFIX}staging/`],
        ['ExpireCompactionResults', RESULTS_PREFIX],
      ]) {
        bucket.addLifecycleRule({ id, prefix, expiration: Duration.days(COMPACTION_STAGING_EXPIRY_DAYS) });
      }
    } else {
      Annotations.of(this).addWarningV2(
        'loglake:compactionStagingExpiry',
        `The logs bucket is imported: add lifecycle rules expiring ${COMPACTION_PREFIX}staging/ and ${RESULTS_PREFIX} (what interrupted runs could not clean up).`,
      );
    }
    grantObjectRewrite(this.function, lake, props.categories, workGroup);
    acknowledge(
      this.function,
      'The compaction calls only regional AWS APIs (Athena, Glue, S3, KMS); a VPC would add NAT or endpoint cost and no data path.',
      'NIST.800.53.R5-LambdaInsideVPC',
    );
    acknowledge(
      this.function,
      'Invoked only by its schedule; a failed run is redone by the next one, which re-plans every closed hour of its look-back, so a dead-letter queue would hold nothing to act on. Failures show in the function’s Errors metric.',
      'NIST.800.53.R5-LambdaDLQ',
    );
    acknowledge(
      this.function,
      'Runs exclude each other with a lock object (S3 conditional write), not reserved concurrency, which would take from the account’s unreserved pool (10 on new accounts) and can fail the deploy.',
      'NIST.800.53.R5-LambdaConcurrency',
    );
  }

  /** Runs that ended in an error (a partition failed, or the run itself). */
  metricFailedRuns(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.function.metricErrors({ statistic: 'Sum', period: Duration.hours(1), ...props });
  }
}
