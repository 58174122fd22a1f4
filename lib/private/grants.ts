import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';

/** One grant of several (or a dropped grant naming `intent` when there are none). */
export function combineGrants(
  grantee: iam.IGrantable,
  intent: string,
  grants: readonly iam.Grant[],
): iam.Grant {
  const [first, ...rest] = grants;
  return first ? rest.reduce((all, g) => all.combine(g), first) : iam.Grant.drop(grantee, intent);
}

/**
 * Read the objects under `prefixes` (each ends with `/`) of `bucket`: get them, list those prefixes only,
 * and locate the bucket (GetBucketLocation carries no prefix, so a prefix condition would deny it).
 */
export function grantReadPrefixes(
  grantee: iam.IGrantable,
  bucket: s3.IBucket,
  prefixes: readonly string[],
): iam.Grant {
  if (prefixes.length === 0) return iam.Grant.drop(grantee, 'read no prefix');
  return iam.Grant.addToPrincipal({
    grantee,
    actions: ['s3:GetObject', 's3:GetObjectVersion'],
    resourceArns: prefixes.map((p) => bucket.arnForObjects(`${p}*`)),
  }).combine(grantListPrefixes(grantee, bucket, prefixes, ['s3:ListBucket']));
}

/** List actions on `bucket` limited to keys under `prefixes`, and GetBucketLocation. */
export function grantListPrefixes(
  grantee: iam.IGrantable,
  bucket: s3.IBucket,
  prefixes: readonly string[],
  actions: readonly string[],
): iam.Grant {
  return iam.Grant.addToPrincipal({
    grantee,
    actions: [...actions],
    resourceArns: [bucket.bucketArn],
    conditions: { StringLike: { 's3:prefix': prefixes.flatMap((p) => [p, `${p}*`]) } },
  }).combine(
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetBucketLocation'],
      resourceArns: [bucket.bucketArn],
    }),
  );
}

/**
 * Use of `key` only through `service` in this region (S3 for SSE-KMS objects, Secrets Manager for a
 * secret): the caller can never call KMS with it directly.
 */
export function grantKeyVia(
  grantee: iam.IGrantable,
  key: kms.IKey,
  service: 's3' | 'secretsmanager' | 'dynamodb',
  actions: readonly string[],
): iam.Grant {
  return iam.Grant.addToPrincipal({
    grantee,
    actions: [...actions],
    resourceArns: [key.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `${service}.${Stack.of(key).region}.amazonaws.com` } },
  });
}
