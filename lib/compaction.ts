import { Duration, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { COMPACT_ENV } from '../lambdas/compact/constants';
import type { LogLakeConfig } from '../src/config';
import { type Category, categoryPrefix } from '../src/schema';
import { LogLakeFunction, type LogRetentionDays } from './function';
import { acknowledge, wildcardAction, wildcardResource } from './nag';

/** Prefix of the compaction's journal, staging area and lock in the bucket (outside `logs/`). */
export const COMPACTION_PREFIX = 'compaction/';
/** Staged rewrites an interrupted run could not clean up are expired after this many days. */
export const COMPACTION_STAGING_EXPIRY_DAYS = 7;

export interface LogLakeCompactionProps {
  /** The bucket whose categories are compacted (the `logs` bucket: no Object Lock). */
  readonly bucket: s3.Bucket;
  /** The lake key (bucket encryption, Athena results, the function's log group and environment). */
  readonly encryptionKey: kms.IKey;
  /** Categories to compact: only unlocked ones (the construct refuses none). */
  readonly categories: readonly Category[];
  readonly databaseName: string;
  /** Glue table over the bucket's `logs/` prefix. */
  readonly tableName: string;
  /** Athena workgroup the rewrites run in; its results location is `resultsBucket`/`resultsPrefix`. */
  readonly workGroupName: string;
  readonly resultsBucket: s3.IBucket;
  readonly resultsPrefix: string;
  /** Schedule and thresholds (`compaction` in the config). */
  readonly settings: LogLakeConfig['compaction'];
  readonly logRetentionDays: LogRetentionDays;
}

/**
 * Scheduled compaction of the lake on S3 (`src/compaction/objects.ts`): a Lambda that has Athena rewrite
 * each closed hour of the given categories into one sorted Parquet object, checks the row counts, copies
 * it into the partition and deletes the small objects Firehose delivered. Runs every
 * `settings.scheduleMinutes`; the run's lock, journal and staging area live under `compaction/`.
 *
 * Cost per category-hour compacted: two Athena queries (the rewrite scans the hour once, $5/TB, 10 MB
 * minimum each: about $0.0001 for a small hour), a handful of S3 requests, ~10-30 s of a 256 MB Lambda.
 */
export class LogLakeCompaction extends Construct {
  readonly function: LogLakeFunction;
  readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: LogLakeCompactionProps) {
    super(scope, id);
    if (props.categories.length === 0) throw new Error('LogLakeCompaction: no category to compact');
    const stack = Stack.of(this);
    this.function = new LogLakeFunction(this, 'Function', {
      entry: 'lambdas/compact/index.ts',
      description: 'loglake compaction: closed hours rewritten into one sorted Parquet object each (Athena)',
      logRetentionDays: props.logRetentionDays,
      encryptionKey: props.encryptionKey,
      memorySize: 256,
      // Lambda's maximum; a run stops starting partitions when 5 minutes are left.
      timeout: Duration.minutes(15),
      environment: {
        [COMPACT_ENV.bucket]: props.bucket.bucketName,
        [COMPACT_ENV.workgroup]: props.workGroupName,
        [COMPACT_ENV.database]: props.databaseName,
        [COMPACT_ENV.table]: props.tableName,
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
    props.bucket.addLifecycleRule({
      id: 'ExpireCompactionStaging',
      prefix: `${COMPACTION_PREFIX}staging/`,
      expiration: Duration.days(COMPACTION_STAGING_EXPIRY_DAYS),
    });
    this.grant(props, stack);
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

  /**
   * Least privilege: read, replace and delete objects only under the given categories' prefixes and the
   * compaction's own prefix; query through one workgroup; create and drop only `compaction_*` tables.
   */
  private grant(props: LogLakeCompactionProps, stack: Stack): void {
    const fn = this.function;
    const role = fn.role;
    if (!role) throw new Error('compaction Lambda has no role');
    const prefixes = [...props.categories.map((c) => categoryPrefix(c)), COMPACTION_PREFIX];
    const objects = prefixes.map((p) => props.bucket.arnForObjects(`${p}*`));
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RewriteCompactableObjects',
        actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
        resources: objects,
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListCompactablePrefixes',
        actions: ['s3:ListBucket'],
        resources: [props.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': prefixes.map((p) => `${p}*`) } },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'LocateBuckets',
        actions: ['s3:GetBucketLocation'],
        resources: [props.bucket.bucketArn, props.resultsBucket.bucketArn],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'AthenaResults',
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
        resources: [props.resultsBucket.arnForObjects(`${props.resultsPrefix}*`)],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListAthenaResults',
        actions: ['s3:ListBucket'],
        resources: [props.resultsBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${props.resultsPrefix}*`] } },
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'RunRewritesInTheWorkgroup',
        actions: [
          'athena:StartQueryExecution',
          'athena:GetQueryExecution',
          'athena:GetQueryResults',
          'athena:StopQueryExecution',
        ],
        resources: [
          stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: props.workGroupName }),
        ],
      }),
    );
    const glueTable = (name: string) =>
      stack.formatArn({ service: 'glue', resource: 'table', resourceName: `${props.databaseName}/${name}` });
    const catalog = stack.formatArn({ service: 'glue', resource: 'catalog' });
    const database = stack.formatArn({
      service: 'glue',
      resource: 'database',
      resourceName: props.databaseName,
    });
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadTheLakeTable',
        actions: ['glue:GetDatabase', 'glue:GetTable'],
        resources: [catalog, database, glueTable(props.tableName)],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'TemporaryRewriteTables',
        actions: ['glue:CreateTable', 'glue:DeleteTable', 'glue:GetTable'],
        resources: [catalog, database, glueTable('compaction_*')],
      }),
    );
    props.encryptionKey.grantEncryptDecrypt(fn);
    acknowledge(
      role,
      'Object wildcards are the compactable categories’ prefixes (their objects are named by Firehose at delivery), the compaction’s own prefix and the workgroup’s results prefix; errors/ and locked categories are not granted.',
      ...objects.map((arn) => wildcardResource(this, arn)),
      wildcardResource(this, props.resultsBucket.arnForObjects(`${props.resultsPrefix}*`)),
    );
    acknowledge(
      role,
      'Each run creates and drops one temporary table named compaction_<run> per hour it rewrites (Athena CTAS); only that name pattern is granted.',
      wildcardResource(this, glueTable('compaction_*')),
    );
    acknowledge(
      role,
      'The CDK key grant uses these action families on the lake key only (reading sources, writing rewrites and Athena results).',
      wildcardAction('kms:GenerateDataKey*'),
      wildcardAction('kms:ReEncrypt*'),
    );
  }
}
