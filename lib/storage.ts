import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { CategoryPolicy, StorageClassName } from '../src/config';
import { type Category, categoryPrefix, ERROR_PREFIX, type StreamName } from '../src/schema';
import { combineGrants, grantKeyVia, grantReadPrefixes } from './private/grants';
import { acknowledge } from './private/nag';

/** Access logs are kept this long: a year of who-read-what covers the usual audit look-back. */
const ACCESS_LOG_EXPIRY_DAYS = 365;
/** Old object versions (overwritten or deleted objects) linger this long before S3 removes them. */
const NONCURRENT_VERSION_DAYS = 7;
/** Incomplete multipart uploads are aborted after this many days. */
const ABORT_MULTIPART_DAYS = 1;

const STORAGE_CLASS: Record<StorageClassName, s3.StorageClass> = {
  STANDARD_IA: s3.StorageClass.INFREQUENT_ACCESS,
  INTELLIGENT_TIERING: s3.StorageClass.INTELLIGENT_TIERING,
  GLACIER_IR: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
  GLACIER: s3.StorageClass.GLACIER,
  DEEP_ARCHIVE: s3.StorageClass.DEEP_ARCHIVE,
};

export interface ObjectLockOptions {
  readonly mode: 'GOVERNANCE' | 'COMPLIANCE';
  /** Default retention of every new object version in the audit bucket. */
  readonly retentionDays: number;
}

export interface LogLakeStorageProps {
  /** Customer-managed key for SSE-KMS on the data and results buckets. */
  readonly encryptionKey: kms.IKey;
  /** Per-category lifecycle policy (expiry, transitions, locked). */
  readonly categories: Readonly<Record<Category, CategoryPolicy>>;
  /** Object Lock of the audit bucket; `undefined` when no category is locked (no audit bucket). */
  readonly objectLock?: ObjectLockOptions;
  /** Days raw Firehose error output (unredacted bytes) is kept. */
  readonly errorOutputExpiryDays: number;
  /** Days Athena query results are kept. */
  readonly resultsExpiryDays: number;
  /**
   * What happens to the buckets when the stack is deleted.
   * @default RemovalPolicy.RETAIN: log data outlives the stack
   */
  readonly removalPolicy?: RemovalPolicy;
}

/** Where each category lives: the stream (and so bucket and table) carrying it. */
export type CategoryPlacement = Readonly<Record<Category, StreamName>>;

/**
 * The lake's buckets: `logs` (unlocked categories), `audit` (Object Lock, locked categories), Athena
 * query results, and a separate bucket receiving the server access logs of all three.
 *
 * Access to log objects goes through the grant methods, which know where each category's objects live.
 */
export class LogLakeStorage extends Construct {
  readonly accessLogsBucket: s3.Bucket;
  /** Data bucket of each delivery stream: `logs`, and `audit` when a category is locked. */
  readonly dataBuckets: Partial<Record<StreamName, s3.Bucket>> & { logs: s3.Bucket };
  readonly resultsBucket: s3.Bucket;
  /** The bucket (by stream) each category is delivered to: locked ones to `audit` when it exists. */
  readonly placement: CategoryPlacement;
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: LogLakeStorageProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const categories = Object.keys(props.categories) as Category[];
    const locked = categories.filter((c) => props.categories[c].locked);

    // Server access logs can only be delivered to SSE-S3 buckets, hence S3-managed encryption here.
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      ...hardened(removalPolicy),
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [
        { id: 'ExpireAccessLogs', expiration: Duration.days(ACCESS_LOG_EXPIRY_DAYS) },
        ...housekeepingRules(),
      ],
    });
    acknowledge(
      this.accessLogsBucket,
      'S3 server access log delivery supports only SSE-S3 on the target bucket; it holds request metadata, not log data.',
      'NIST.800.53.R5-S3DefaultEncryptionKMS',
    );

    const logs = this.dataBucket('LogsBucket', 'logs/', props, removalPolicy, [
      // Every category has a rule here, locked ones too: if forwarding to the audit stream fails, the
      // transform keeps those events in this bucket rather than losing them, and they must still expire.
      ...categories.map((c) => categoryRule(c, props.categories[c])),
    ]);
    this.dataBuckets = { logs };
    if (props.objectLock && locked.length > 0) {
      this.dataBuckets.audit = this.dataBucket(
        'AuditBucket',
        'audit/',
        props,
        removalPolicy,
        // Every category, not only the locked ones: a category unlocked later keeps the objects it had
        // here, and without a rule they would never expire.
        categories.map((c) => categoryRule(c, props.categories[c])),
        props.objectLock,
      );
    }

    this.placement = Object.fromEntries(
      categories.map((c) => [c, this.dataBuckets.audit && props.categories[c].locked ? 'audit' : 'logs']),
    ) as Record<Category, StreamName>;

    this.resultsBucket = new s3.Bucket(this, 'QueryResultsBucket', {
      ...secureDefaults(props.encryptionKey, removalPolicy),
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'query-results/',
      lifecycleRules: [
        { id: 'ExpireQueryResults', expiration: Duration.days(props.resultsExpiryDays) },
        ...housekeepingRules(),
      ],
    });
    acknowledgeReplication(this);
  }

  /**
   * Read the objects of `categories`: get and list them under their category prefixes, in the bucket
   * they are delivered to and, for a locked category, in the logs bucket too (where the transform keeps
   * what it could not forward rather than lose it), decrypting through S3 only.
   */
  grantReadCategories(grantee: iam.IGrantable, categories: readonly Category[]): iam.Grant {
    const prefixes = new Map<StreamName, string[]>();
    const add = (stream: StreamName, c: Category) =>
      prefixes.set(stream, [...(prefixes.get(stream) ?? []), categoryPrefix(c)]);
    for (const c of categories) add(this.placement[c], c);
    for (const c of categories) if (this.placement[c] !== 'logs') add('logs', c);
    const reads = [...prefixes].map(([stream, p]) => grantReadPrefixes(grantee, this.bucket(stream), p));
    if (reads.length === 0) return iam.Grant.drop(grantee, 'read no category');
    return combineGrants(grantee, 'read categories', [
      ...reads,
      grantKeyVia(grantee, this.encryptionKey, 's3', ['kms:Decrypt']),
    ]);
  }

  /**
   * Put and delete objects under the prefixes of `categories` in the logs bucket, for operational fixes
   * (removing a bad batch, re-delivering a repaired one).
   * @throws Error for a category delivered to the Object Lock bucket: it is never writable.
   */
  grantWriteCategories(grantee: iam.IGrantable, categories: readonly Category[]): iam.Grant {
    const locked = categories.filter((c) => this.placement[c] !== 'logs');
    if (locked.length > 0) {
      throw new Error(
        `LogLakeStorage: ${locked.join(', ')} live in the Object Lock bucket and are never writable`,
      );
    }
    if (categories.length === 0) return iam.Grant.drop(grantee, 'write no category');
    return combineGrants(grantee, 'write categories', [
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:AbortMultipartUpload'],
        resourceArns: categories.map((c) => this.dataBuckets.logs.arnForObjects(`${categoryPrefix(c)}*`)),
      }),
      grantKeyVia(grantee, this.encryptionKey, 's3', ['kms:Decrypt', 'kms:GenerateDataKey']),
    ]);
  }

  /** Read (and list) the raw, unredacted error output of every data bucket: for the security persona. */
  grantReadErrorOutput(grantee: iam.IGrantable): iam.Grant {
    return combineGrants(grantee, 'read error output', [
      ...Object.values(this.dataBuckets).map((b) => grantReadPrefixes(grantee, b, [`${ERROR_PREFIX}/`])),
      grantKeyVia(grantee, this.encryptionKey, 's3', ['kms:Decrypt']),
    ]);
  }

  private bucket(stream: StreamName): s3.Bucket {
    const bucket = this.dataBuckets[stream];
    if (!bucket) throw new Error(`LogLakeStorage: no ${stream} bucket`);
    return bucket;
  }

  private dataBucket(
    id: string,
    accessLogPrefix: string,
    props: LogLakeStorageProps,
    removalPolicy: RemovalPolicy,
    categoryRules: s3.LifecycleRule[],
    objectLock?: ObjectLockOptions,
  ): s3.Bucket {
    const lifecycleRules: s3.LifecycleRule[] = [
      ...categoryRules,
      {
        id: 'ExpireErrorOutput',
        prefix: `${ERROR_PREFIX}/`,
        expiration: Duration.days(props.errorOutputExpiryDays),
      },
      ...housekeepingRules(),
    ];
    const bucket = new s3.Bucket(this, id, {
      ...secureDefaults(props.encryptionKey, removalPolicy),
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: accessLogPrefix,
      // Parquet files of a quiet partition-hour are often under 128 KB; without a size filter S3 would
      // keep them in STANDARD forever. The filter in each rule overrides this bucket default.
      transitionDefaultMinimumObjectSize: s3.TransitionDefaultMinimumObjectSize.VARIES_BY_STORAGE_CLASS,
      lifecycleRules,
      ...(objectLock && {
        objectLockEnabled: true,
        objectLockDefaultRetention:
          objectLock.mode === 'COMPLIANCE'
            ? s3.ObjectLockRetention.compliance(Duration.days(objectLock.retentionDays))
            : s3.ObjectLockRetention.governance(Duration.days(objectLock.retentionDays)),
      }),
    });
    // CloudFormation types ObjectSizeGreaterThan as a string; the L2 renders a number.
    lifecycleRules.forEach((rule, i) => {
      if (rule.objectSizeGreaterThan !== undefined) {
        (bucket.node.defaultChild as s3.CfnBucket).addPropertyOverride(
          `LifecycleConfiguration.Rules.${i}.ObjectSizeGreaterThan`,
          String(rule.objectSizeGreaterThan),
        );
      }
    });
    return bucket;
  }
}

/** Settings every bucket of the lake shares: no public access, TLS 1.2+ only, versions kept. */
function hardened(removalPolicy: RemovalPolicy): s3.BucketProps {
  return {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    versioned: true,
    removalPolicy,
  };
}

function secureDefaults(key: kms.IKey, removalPolicy: RemovalPolicy): s3.BucketProps {
  return {
    ...hardened(removalPolicy),
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: key,
    // S3 Bucket Keys reuse a bucket-level data key instead of calling KMS per object: up to 99% fewer
    // KMS requests (and their cost).
    bucketKeyEnabled: true,
  };
}

/** One rule per category prefix: its tiers and its expiry. */
function categoryRule(category: Category, policy: CategoryPolicy): s3.LifecycleRule {
  return {
    id: `Category-${category}`,
    prefix: categoryPrefix(category),
    expiration: Duration.days(policy.expiryDays),
    transitions: policy.transitions.map((t) => ({
      storageClass: STORAGE_CLASS[t.storageClass],
      transitionAfter: Duration.days(t.afterDays),
    })),
    // A custom size filter takes precedence over S3's 128 KB default minimum, so small files tier too.
    ...(policy.transitions.length > 0 && { objectSizeGreaterThan: 0 }),
  };
}

function housekeepingRules(): s3.LifecycleRule[] {
  return [
    {
      id: 'CleanUpVersionsAndUploads',
      noncurrentVersionExpiration: Duration.days(NONCURRENT_VERSION_DAYS),
      abortIncompleteMultipartUploadAfter: Duration.days(ABORT_MULTIPART_DAYS),
    },
    // S3 refuses ExpiredObjectDeleteMarker next to a day-based expiration, so it has a rule of its own.
    { id: 'RemoveExpiredDeleteMarkers', expiredObjectDeleteMarker: true },
  ];
}

function acknowledgeReplication(scope: Construct): void {
  acknowledge(
    scope,
    'Cross-region replication is a deployment choice (second region, cost per GB); versioning and Object Lock protect against loss in-region.',
    'NIST.800.53.R5-S3BucketReplicationEnabled',
  );
}
