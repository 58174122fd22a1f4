import { Stack } from 'aws-cdk-lib';
import type * as athena from 'aws-cdk-lib/aws-athena';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { PersonaGrant } from '../src/config';
import { type Category, categoryPrefix, ERROR_PREFIX, type Persona, type StreamName } from '../src/schema';
import type { LogLakeCatalog } from './catalog';
import { acknowledge, wildcardResource } from './nag';
import { pascal, resultsPrefix } from './query';

/** Where each category lives: the stream (and so bucket and table) carrying it. */
export type CategoryPlacement = Readonly<Record<Category, StreamName>>;

export interface LogLakeAccessProps {
  readonly personas: Readonly<Record<Persona, PersonaGrant>>;
  readonly placement: CategoryPlacement;
  readonly buckets: Partial<Record<StreamName, s3.IBucket>> & { logs: s3.IBucket };
  readonly resultsBucket: s3.IBucket;
  readonly encryptionKey: kms.IKey;
  readonly catalog: LogLakeCatalog;
  readonly workGroups: Readonly<Partial<Record<Persona, athena.CfnWorkGroup>>>;
  readonly workGroupArn: (wg: athena.CfnWorkGroup) => string;
  readonly streams: ReadonlyArray<firehose.IDeliveryStream>;
  /** Roles that write error output (the Firehose destination roles); they keep access to `errors/`. */
  readonly errorWriters: ReadonlyArray<iam.IRole>;
  readonly pseudonymSecret: secretsmanager.ISecret;
  /**
   * Who may assume each persona role.
   * @default the account (any principal of this account that its own IAM policy allows to assume it)
   */
  readonly principals?: Partial<Record<Persona, iam.IPrincipal>>;
}

/**
 * IAM for people and producers: one role per persona that reads only its categories (S3 prefixes and
 * Glue tables) and queries only through its own Athena workgroup; a managed policy for producers that
 * allows nothing but PutRecord/PutRecordBatch on the streams; and bucket policies that keep everyone
 * but the security persona (and Firehose) out of the raw, unredacted error output.
 *
 * "Write" on a category (ops on runtime/framework by default) means S3 put and delete of objects under
 * that category's prefix in the logs bucket, for operational fixes such as removing a bad batch or
 * re-delivering a repaired one. It is never granted on the Object Lock bucket.
 */
export class LogLakeAccess extends Construct {
  readonly roles: Record<Persona, iam.Role>;
  readonly producerPolicy: iam.ManagedPolicy;

  constructor(scope: Construct, id: string, props: LogLakeAccessProps) {
    super(scope, id);
    const personas = Object.keys(props.personas) as Persona[];
    this.roles = Object.fromEntries(personas.map((p) => [p, this.personaRole(p, props)])) as Record<
      Persona,
      iam.Role
    >;

    this.producerPolicy = new iam.ManagedPolicy(this, 'ProducerPolicy', {
      description: 'loglake producers: put records on the delivery streams, nothing else',
      statements: [
        new iam.PolicyStatement({
          sid: 'PutLogRecords',
          actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
          resources: props.streams.map((s) => s.deliveryStreamArn),
        }),
      ],
    });

    const errorReaders = [this.roles.security, ...props.errorWriters].map((r) => r.roleArn);
    for (const bucket of Object.values(props.buckets)) {
      if (!bucket) continue;
      // Deny overrides any allow, including an administrator's; only the listed roles read raw bytes.
      bucket.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'ErrorOutputOnlyForSecurity',
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions: ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAttributes', 's3:RestoreObject'],
          resources: [bucket.arnForObjects(`${ERROR_PREFIX}/*`)],
          conditions: { ArnNotEquals: { 'aws:PrincipalArn': errorReaders } },
        }),
      );
    }
  }

  private personaRole(persona: Persona, props: LogLakeAccessProps): iam.Role {
    const grant = props.personas[persona];
    const role = new iam.Role(this, `${pascal(persona)}Role`, {
      assumedBy: props.principals?.[persona] ?? new iam.AccountRootPrincipal(),
      description: `loglake ${persona}: reads ${grant.read.join(', ') || 'nothing'}${
        grant.write.length > 0 ? `; writes ${grant.write.join(', ')}` : ''
      }`,
    });
    const statements: iam.PolicyStatement[] = [];
    const byStream = groupByStream(grant.read, props.placement);

    for (const [stream, categories] of objectReadsByBucket(grant.read, props.placement)) {
      const bucket = props.buckets[stream];
      if (!bucket) continue;
      statements.push(
        new iam.PolicyStatement({
          sid: `Read${pascal(stream)}Objects`,
          actions: ['s3:GetObject', 's3:GetObjectVersion'],
          resources: categories.map((c) => bucket.arnForObjects(`${categoryPrefix(c)}*`)),
        }),
        new iam.PolicyStatement({
          sid: `List${pascal(stream)}Categories`,
          actions: ['s3:ListBucket', 's3:GetBucketLocation'],
          resources: [bucket.bucketArn],
          conditions: {
            StringLike: {
              's3:prefix': categories.flatMap((c) => [categoryPrefix(c), `${categoryPrefix(c)}*`]),
            },
          },
        }),
      );
    }
    const tables = [...byStream.keys()].filter((s) => props.catalog.tables[s]);
    if (tables.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'ReadCatalog',
          actions: [
            'glue:GetDatabase',
            'glue:GetTable',
            'glue:GetTables',
            'glue:GetPartition',
            'glue:GetPartitions',
          ],
          resources: [
            props.catalog.catalogArn,
            props.catalog.databaseArn,
            ...tables.map((s) => props.catalog.tableArn(s)),
          ],
        }),
      );
    }

    const writable = grant.write.filter((c) => props.placement[c] === 'logs');
    if (writable.length > 0) {
      statements.push(
        new iam.PolicyStatement({
          sid: 'FixCategoryObjects',
          actions: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion', 's3:AbortMultipartUpload'],
          resources: writable.map((c) => props.buckets.logs.arnForObjects(`${categoryPrefix(c)}*`)),
        }),
      );
    }

    const wg = props.workGroups[persona];
    if (wg) {
      const prefix = resultsPrefix(persona);
      statements.push(
        new iam.PolicyStatement({
          sid: 'QueryInOwnWorkGroup',
          actions: [
            'athena:StartQueryExecution',
            'athena:StopQueryExecution',
            'athena:GetQueryExecution',
            'athena:GetQueryResults',
            'athena:GetQueryResultsStream',
            'athena:GetQueryRuntimeStatistics',
            'athena:ListQueryExecutions',
            'athena:BatchGetQueryExecution',
            'athena:GetWorkGroup',
            'athena:ListNamedQueries',
            'athena:GetNamedQuery',
            'athena:BatchGetNamedQuery',
          ],
          resources: [props.workGroupArn(wg)],
        }),
        new iam.PolicyStatement({
          sid: 'OwnQueryResults',
          actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
          resources: [props.resultsBucket.arnForObjects(`${prefix}*`)],
        }),
        new iam.PolicyStatement({
          sid: 'ListOwnQueryResults',
          actions: ['s3:ListBucket', 's3:GetBucketLocation', 's3:ListBucketMultipartUploads'],
          resources: [props.resultsBucket.bucketArn],
          conditions: { StringLike: { 's3:prefix': [prefix, `${prefix}*`] } },
        }),
      );
    }

    // S3 performs SSE-KMS on the caller's behalf; the key can be used only through S3 in this region.
    statements.push(
      new iam.PolicyStatement({
        sid: 'UseKeyThroughS3',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [props.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );

    if (persona === 'security') {
      // Raw user ids are pseudonymized with this key before a search by user; only security may.
      statements.push(
        new iam.PolicyStatement({
          sid: 'ReadPseudonymKey',
          actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
          resources: [props.pseudonymSecret.secretArn],
        }),
        new iam.PolicyStatement({
          sid: 'DecryptPseudonymKey',
          actions: ['kms:Decrypt'],
          resources: [props.encryptionKey.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
          },
        }),
      );
      for (const bucket of Object.values(props.buckets)) {
        if (!bucket) continue;
        statements.push(
          new iam.PolicyStatement({
            actions: ['s3:GetObject', 's3:GetObjectVersion'],
            resources: [bucket.arnForObjects(`${ERROR_PREFIX}/*`)],
          }),
        );
      }
    }

    const policy = new iam.ManagedPolicy(this, `${pascal(persona)}Policy`, {
      description: `loglake ${persona} persona`,
      statements,
      roles: [role],
    });
    acknowledge(
      policy,
      'Object keys are chosen at delivery (Firehose) or query time (Athena); each wildcard is bounded by one category, error or query-results prefix.',
      ...statements
        .flatMap((st) => (st.effect === iam.Effect.ALLOW ? st.resources : []))
        .filter((arn) => arn.endsWith('/*'))
        .map((arn) => wildcardResource(policy, arn)),
    );
    return role;
  }
}

/**
 * Buckets whose category prefixes a reader needs. A locked category lives in the audit bucket, and
 * also in the logs bucket when the transform could not forward it (kept there rather than lost).
 */
function objectReadsByBucket(
  categories: readonly Category[],
  placement: CategoryPlacement,
): Map<StreamName, Category[]> {
  const out = groupByStream(categories, placement);
  const fallback = categories.filter((c) => placement[c] !== 'logs');
  if (fallback.length > 0) out.set('logs', [...(out.get('logs') ?? []), ...fallback]);
  return out;
}

function groupByStream(
  categories: readonly Category[],
  placement: CategoryPlacement,
): Map<StreamName, Category[]> {
  const out = new Map<StreamName, Category[]>();
  for (const c of categories) {
    const stream = placement[c];
    out.set(stream, [...(out.get(stream) ?? []), c]);
  }
  return out;
}
