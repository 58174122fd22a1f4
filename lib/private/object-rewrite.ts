/**
 * What the compaction (`lib/compaction.ts`) and the erasure purge (`lib/erasures.ts`) share: the Athena
 * workgroup their journaled rewrites (`src/compaction/objects.ts`) run in, and the least privilege a
 * function needs to run them.
 */
import { Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { COMPACTION_PREFIX } from '../../src/compaction/objects';
import { type Category, categoryPrefix } from '../../src/schema';
import type { LogLakeFunction } from '../function';
import type { ILogLake } from '../log-lake';
import { combineGrants, grantKeyVia, grantListPrefixes, grantReadPrefixes } from './grants';
import { acknowledge, acknowledgeGrantWildcards, wildcardResource } from './nag';

/** Staged rewrites and query results an interrupted run could not clean up expire after this many days. */
export const COMPACTION_STAGING_EXPIRY_DAYS = 7;

/** What a rewrite runs in its workgroup: start, follow, read and stop its queries. */
const REWRITE_QUERY_ACTIONS = [
  'athena:StartQueryExecution',
  'athena:GetQueryExecution',
  'athena:GetQueryResults',
  'athena:StopQueryExecution',
  'athena:GetWorkGroup',
];

export interface RewriteWorkGroupProps {
  readonly lake: ILogLake;
  readonly name: string;
  readonly description: string;
  /** Where its query results go in the `logs` bucket (under {@link COMPACTION_PREFIX}). */
  readonly resultsPrefix: string;
}

/**
 * An Athena workgroup for the journaled rewrites of the compaction or the purge. Its settings do not
 * override the client's, because a CTAS may name its `external_location` only then (in a workgroup that
 * enforces its results location, Athena writes the table under `<results>/tables/<query id>/`
 * instead); only a function granted {@link RewriteWorkGroup.grantQuery} may use it.
 */
export class RewriteWorkGroup extends Construct {
  readonly resource: athena.CfnWorkGroup;

  constructor(scope: Construct, id: string, props: RewriteWorkGroupProps) {
    super(scope, id);
    const { lake } = props;
    // `Default` is left out of the logical id: the workgroup keeps the id it had as a direct child of
    // its owner, so an update does not replace it (its name is fixed, a replacement would fail).
    this.resource = new athena.CfnWorkGroup(this, 'Default', {
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

  /** Run, follow, read and stop queries in this workgroup (its results are under the rewrite's own prefix). */
  grantQuery(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: REWRITE_QUERY_ACTIONS,
      resourceArns: [
        Stack.of(this).formatArn({
          service: 'athena',
          resource: 'workgroup',
          resourceName: this.resource.name,
        }),
      ],
    });
  }
}

/**
 * Least privilege for a function running the journaled rewrites (the compaction, the purge), through the
 * grants of what owns each resource: read, replace and delete the given categories' objects and their
 * old versions (a purge's journal, finished by either, deletes them), never a locked category's (the
 * lake's grants); run queries only in `workGroup` (its grant); the compaction prefix for the journal,
 * lock, staged rewrites and query results; create and drop only `compaction_*` tables (Athena CTAS).
 */
export function grantObjectRewrite(
  fn: LogLakeFunction,
  lake: ILogLake,
  categories: readonly Category[],
  workGroup: RewriteWorkGroup,
): void {
  const scope = fn;
  const role = fn.role;
  if (!role) throw new Error(`${fn.node.path} has no role`);
  const bucket = lake.dataBuckets.logs;
  const read = lake.grantReadCategories(fn, categories);
  const stack = Stack.of(scope);
  workGroup.grantQuery(fn);
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
