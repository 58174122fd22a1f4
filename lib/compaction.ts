import { Annotations, Duration, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { COMPACT_ENV } from '../lambdas/compact/constants';
import type { LogLakeConfig } from '../src/config';
import { type Category, categoryPrefix } from '../src/schema';
import { LogLakeFunction, type LogRetentionDays } from './function';
import type { ILogLake } from './log-lake';
import { combineGrants, grantKeyVia, grantListPrefixes, grantReadPrefixes } from './private/grants';
import { acknowledge, acknowledgeGrantWildcards, wildcardResource } from './private/nag';

/** Prefix of the compaction's journal, staging area and lock in the `logs` bucket (outside `logs/`). */
export const COMPACTION_PREFIX = 'compaction/';
/** Staged rewrites and query results an interrupted run could not clean up expire after this many days. */
export const COMPACTION_STAGING_EXPIRY_DAYS = 7;
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
    this.workGroup = rewriteWorkGroup(this, 'WorkGroup', {
      lake,
      name: `${lake.workGroupName}-compaction`,
      description: 'loglake compaction: the rewrites of closed hours (CTAS into compaction/staging/)',
      resultsPrefix: RESULTS_PREFIX,
    });
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
    grantObjectRewrite(this.function, lake, props.categories, this.workGroup);
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

/**
 * An Athena workgroup for the journaled rewrites (`src/compaction/objects.ts`) of the compaction or the
 * purge. Its settings do not override the client's, because a CTAS may name its `external_location`
 * only then (in a workgroup that enforces its results location, Athena writes the table under
 * `<results>/tables/<query id>/` instead); only the function it is granted to may use it.
 */
export function rewriteWorkGroup(
  scope: Construct,
  id: string,
  props: {
    readonly lake: ILogLake;
    readonly name: string;
    readonly description: string;
    readonly resultsPrefix: string;
  },
): athena.CfnWorkGroup {
  const { lake } = props;
  return new athena.CfnWorkGroup(scope, id, {
    name: props.name,
    description: props.description,
    state: 'ENABLED',
    recursiveDeleteOption: true,
    workGroupConfiguration: {
      enforceWorkGroupConfiguration: false,
      publishCloudWatchMetricsEnabled: true,
      requesterPaysEnabled: false,
      engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
      resultConfiguration: {
        outputLocation: `s3://${lake.dataBuckets.logs.bucketName}/${props.resultsPrefix}`,
        encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: lake.key.keyArn },
        expectedBucketOwner: Stack.of(scope).account,
        aclConfiguration: { s3AclOption: 'BUCKET_OWNER_FULL_CONTROL' },
      },
    },
  });
}

/**
 * Least privilege for a function running the journaled rewrites (the compaction, the purge), through the
 * lake's grants: read, replace and delete the given categories' objects and their old versions (a
 * purge's journal, finished by either, deletes them), never a locked category's; run queries only in
 * `workGroup`; the compaction prefix for the journal, lock, staged rewrites and query results; create
 * and drop only `compaction_*` tables (Athena CTAS).
 */
export function grantObjectRewrite(
  fn: LogLakeFunction,
  lake: ILogLake,
  categories: readonly Category[],
  workGroup: athena.CfnWorkGroup,
): void {
  const scope = fn;
  const role = fn.role;
  if (!role) throw new Error(`${fn.node.path} has no role`);
  const bucket = lake.dataBuckets.logs;
  const read = lake.grantReadCategories(fn, categories);
  const stack = Stack.of(scope);
  iam.Grant.addToPrincipal({
    grantee: fn,
    actions: [
      'athena:StartQueryExecution',
      'athena:GetQueryExecution',
      'athena:GetQueryResults',
      'athena:StopQueryExecution',
      'athena:GetWorkGroup',
    ],
    resourceArns: [
      stack.formatArn({ service: 'athena', resource: 'workgroup', resourceName: workGroup.name }),
    ],
  });
  const rewrite = lake.grantWriteCategories(fn, categories);
  grantListPrefixes(fn, bucket, categories.map(categoryPrefix), ['s3:ListBucketVersions']);
  const own = combineGrants(fn, 'compaction journal, lock and staging', [
    grantReadPrefixes(fn, bucket, [COMPACTION_PREFIX]),
    iam.Grant.addToPrincipal({
      grantee: fn,
      actions: ['s3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
      resourceArns: [bucket.arnForObjects(`${COMPACTION_PREFIX}*`)],
    }),
    grantKeyVia(fn, lake.key, 's3', ['kms:Decrypt', 'kms:GenerateDataKey']),
  ]);
  const glueArn = (resource: string, resourceName?: string) =>
    stack.formatArn({ service: 'glue', resource, ...(resourceName ? { resourceName } : {}) });
  const tempTables = glueArn('table', `${lake.databaseName}/compaction_*`);
  iam.Grant.addToPrincipal({
    grantee: fn,
    actions: ['glue:CreateTable', 'glue:DeleteTable', 'glue:GetTable'],
    resourceArns: [glueArn('catalog'), glueArn('database', lake.databaseName), tempTables],
  });
  acknowledgeGrantWildcards(
    role,
    'Object wildcards are the rewritten categories’ prefixes (their objects are named by Firehose at delivery) and the compaction’s own prefix (journal, lock, staging, its workgroup’s results); errors/ and locked categories are not granted.',
    read,
    rewrite,
    own,
  );
  acknowledge(
    role,
    'Each run creates and drops one temporary table named compaction_<run> per hour it rewrites (Athena CTAS); only that name pattern is granted.',
    wildcardResource(scope, tempTables),
  );
}
