import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { streamDelays } from '../src/alerts/settings';
import {
  type LogLakeConfig,
  type LogLakeConfigOverride,
  lockedCategories,
  objectLockRetentionDays,
  resolveConfig,
  streamBufferingOf,
} from '../src/config';
import { CATEGORIES, type Category, PERSONAS, type StreamName } from '../src/schema';
import { type CategoryPlacement, LogLakeAccess } from './access';
import { Alerting } from './alerting';
import { LogLakeCatalog } from './catalog';
import { LogLakeCompaction } from './compaction';
import type { DeploymentTarget } from './config';
import { type IngestLane, LogLakeIngest } from './ingest';
import { acknowledge } from './nag';
import { LogLakeQuery, resultsPrefix } from './query';
import { LogLakeStorage } from './storage';

const S3_ACCESS_LOGS_VIA_POLICY = '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy';

export interface LogLakeProps {
  /**
   * Overrides of the defaults in DESIGN.md, validated like the `loglake` context key of `cdk.json`.
   * A fully resolved {@link LogLakeConfig} is accepted as well.
   * @default the DESIGN defaults
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
 * The whole log lake as one construct: a KMS key, the buckets, the Glue catalog, the Firehose streams
 * with their transform functions, Athena workgroups and the IAM roles of the personas and producers.
 * Every layer is driven by the per-category policy in the config.
 *
 * Alerting (alarm Lambda, SNS topics by severity, schedules, CloudWatch alarms) slots in as one more
 * child built from the parts exposed here: `key`, `query.workGroup`, `catalog`, `ingest.lanes`.
 */
export class LogLake extends Construct {
  readonly config: LogLakeConfig;
  readonly key: kms.Key;
  readonly storage: LogLakeStorage;
  readonly catalog: LogLakeCatalog;
  readonly ingest: LogLakeIngest;
  readonly query: LogLakeQuery;
  readonly access: LogLakeAccess;
  /** Rules, pipeline alarms and SNS topics by severity; absent when `alerts.enabled` is false. */
  readonly alerting?: Alerting;
  /** Scheduled compaction of the `logs` bucket; absent when `compaction.enabled` is false. */
  readonly compaction?: LogLakeCompaction;
  /** Which stream (bucket, table) carries each category. */
  readonly placement: CategoryPlacement;

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
    this.placement = Object.fromEntries(
      CATEGORIES.map((c) => [c, config.categories[c].locked ? 'audit' : 'logs']),
    ) as Record<Category, StreamName>;

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

    const maxExpiry = (cs: readonly Category[]) =>
      Math.max(...cs.map((c) => config.categories[c].expiryDays));
    this.catalog = new LogLakeCatalog(this, 'Catalog', {
      databaseName: config.name.replace(/-/g, '_'),
      tables: {
        logs: { bucket: buckets.logs, categories: unlocked, retentionDays: maxExpiry(unlocked) },
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

    this.query = new LogLakeQuery(this, 'Query', {
      name: config.name,
      resultsBucket: this.storage.resultsBucket,
      encryptionKey: this.key,
      bytesScannedCutoffPerQuery: config.athena.bytesScannedCutoffPerQuery,
      databaseName: this.catalog.databaseName,
      personas: PERSONAS.map((persona) => ({
        persona,
        readsLogsTable: config.personas[persona].read.some((c) => this.placement[c] === 'logs'),
      })),
      namedQueries: target !== 'emulator',
    });

    // The Firehose L2 adds a CIDR mapping for Redshift/Splunk destinations to the stack; unused with S3.
    acknowledge(
      stack,
      'Mapping added by the Firehose L2 for Redshift and Splunk destinations; this stack delivers to S3 only.',
      'CloudFormation-Validate::W7001',
    );

    const lanes = Object.values(this.ingest.lanes).filter((l) => l !== undefined);
    this.access = new LogLakeAccess(this, 'Access', {
      personas: config.personas,
      placement: this.placement,
      buckets,
      resultsBucket: this.storage.resultsBucket,
      encryptionKey: this.key,
      catalog: this.catalog,
      workGroups: this.query.personaWorkGroups,
      workGroupArn: (wg) => this.query.workGroupArn(wg),
      streams: lanes.map((l) => l.stream),
      errorWriters: lanes.map((l) => l.deliveryRole),
      pseudonymSecret: this.ingest.pseudonymSecret,
      principals: props.personaPrincipals,
    });

    if (config.compaction.enabled && unlocked.length > 0) {
      this.compaction = new LogLakeCompaction(this, 'Compaction', {
        bucket: buckets.logs,
        encryptionKey: this.key,
        categories: unlocked,
        databaseName: this.catalog.databaseName,
        tableName: 'logs',
        workGroupName: this.query.workGroup.name,
        resultsBucket: this.storage.resultsBucket,
        resultsPrefix: resultsPrefix(),
        settings: config.compaction,
        logRetentionDays: config.lambdaLogRetentionDays,
      });
    }

    if (config.alerts.enabled) {
      this.alerting = new Alerting(this, 'Alerting', {
        alerts: config.alerts,
        encryptionKey: this.key,
        lake: {
          workGroupName: this.query.workGroup.name,
          resultsBucket: this.storage.resultsBucket,
          resultsPrefix: resultsPrefix(),
          databaseName: this.catalog.databaseName,
          tables: { logs: 'logs', ...(this.catalog.tables.audit ? { audit: 'audit' } : {}) },
        },
        streams: (Object.entries(this.ingest.lanes) as [StreamName, IngestLane | undefined][]).flatMap(
          ([name, lane]) => {
            const bucket = buckets[name];
            return lane && bucket
              ? [{ name, deliveryStream: lane.stream, transform: lane.transform, bucket }]
              : [];
          },
        ),
        lockedCategories: locked,
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
      });
    }
  }
}
