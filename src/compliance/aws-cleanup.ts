/**
 * `loglake cleanup --dry-run --stack`: on AWS, S3 lifecycle rules expire the objects; this shows the
 * rules in force in each data bucket, the objects already past their category's expiry that S3 has not
 * removed yet (lifecycle runs asynchronously, usually within a day or two), and the next object each
 * category's rule will expire. S3 counts from the object's creation and expires at the next midnight UTC.
 */
import { type _Object, type LifecycleRule, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { LogLakeConfig } from '../config';
import { CATEGORIES, type Category, categoryPrefix } from '../schema';
import { bucketOf, type DeployedLake, lifecycleRules } from './aws';
import type { ExpiredObject } from './cleanup';

const DAY = 86_400_000;

export interface LifecycleRuleInForce {
  readonly bucket: string;
  readonly id: string;
  readonly prefix: string | null;
  readonly status: string;
  readonly expirationDays: number | null;
  /** `STANDARD_IA after 30 d, GLACIER_IR after 90 d` */
  readonly transitions: string;
  readonly noncurrentVersionDays: number | null;
}

export interface StackCleanupPlan {
  readonly now: string;
  readonly stack: string;
  readonly rules: readonly LifecycleRuleInForce[];
  /** Past their expiry and still present (`key` is `bucket/key`): lifecycle has not run on them yet. */
  readonly expired: readonly ExpiredObject[];
  /** Per category, the next object its rule expires. */
  readonly next: ReadonlyArray<{
    readonly category: Category;
    readonly key: string;
    readonly expiresAt: string;
  }>;
  /** Categories no enabled rule expires in the bucket they are delivered to: kept forever. */
  readonly withoutRule: readonly Category[];
}

/** When S3 lifecycle expires an object created at `created` under a rule of `days`. */
export function lifecycleExpiry(created: Date, days: number): Date {
  const due = created.getTime() + days * DAY;
  return new Date(Math.ceil(due / DAY) * DAY);
}

function prefixOf(rule: LifecycleRule): string | undefined {
  return rule.Filter?.Prefix ?? rule.Filter?.And?.Prefix ?? rule.Prefix;
}

async function* listAll(
  s3: S3Client,
  input: { Bucket: string; Prefix: string; Delimiter?: string },
): AsyncIterable<{ objects: _Object[]; prefixes: string[] }> {
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ ...input, ContinuationToken: token }));
    yield {
      objects: page.Contents ?? [],
      prefixes: (page.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''),
    };
    token = page.NextContinuationToken;
  } while (token);
}

export async function planStackCleanup(
  s3: S3Client,
  lake: DeployedLake,
  config: LogLakeConfig,
  now: Date,
): Promise<StackCleanupPlan> {
  const buckets = [lake.buckets.logs, ...(lake.buckets.audit ? [lake.buckets.audit] : [])];
  const byBucket = new Map<string, LifecycleRule[]>();
  for (const b of buckets) byBucket.set(b, await lifecycleRules(s3, b));
  const rules: LifecycleRuleInForce[] = buckets.flatMap((bucket) =>
    (byBucket.get(bucket) ?? []).map((r) => ({
      bucket,
      id: r.ID ?? '',
      prefix: prefixOf(r) ?? null,
      status: r.Status ?? '',
      expirationDays: r.Expiration?.Days ?? null,
      transitions: (r.Transitions ?? []).map((t) => `${t.StorageClass} after ${t.Days} d`).join(', '),
      noncurrentVersionDays: r.NoncurrentVersionExpiration?.NoncurrentDays ?? null,
    })),
  );
  const expired: ExpiredObject[] = [];
  const next: Array<{ category: Category; key: string; expiresAt: string }> = [];
  const withoutRule: Category[] = [];
  for (const category of CATEGORIES) {
    const bucket = bucketOf(lake, config, category);
    const prefix = categoryPrefix(category);
    const days = (byBucket.get(bucket) ?? []).find(
      (r) => r.Status === 'Enabled' && prefixOf(r) === prefix && r.Expiration?.Days !== undefined,
    )?.Expiration?.Days;
    if (days === undefined) {
      withoutRule.push(category);
      continue;
    }
    // Partitions list oldest first; one created after `now - days` (two days' slack for late events)
    // holds nothing expired, and the first unexpired object found is the category's next.
    const newestExpirable = new Date(now.getTime() - (days - 2) * DAY).toISOString().slice(0, 10);
    let first: { key: string; at: Date } | undefined;
    scan: for await (const page of listAll(s3, { Bucket: bucket, Prefix: prefix, Delimiter: '/' })) {
      for (const partition of page.prefixes) {
        const dt = /dt=(\d{4}-\d{2}-\d{2})\/$/.exec(partition)?.[1] ?? '';
        if (dt > newestExpirable && first) break scan;
        for await (const objects of listAll(s3, { Bucket: bucket, Prefix: partition })) {
          for (const o of objects.objects) {
            const at = lifecycleExpiry(o.LastModified ?? now, days);
            if (at <= now) {
              expired.push({
                key: `${bucket}/${o.Key}`,
                category,
                partition: `${bucket}/${partition.replace(/\/$/, '')}`,
                expiredAt: at.toISOString(),
                bytes: o.Size ?? 0,
              });
            } else if (!first || at < first.at) {
              first = { key: `${bucket}/${o.Key}`, at };
            }
          }
        }
        if (dt > newestExpirable) break scan;
      }
    }
    if (first) next.push({ category, key: first.key, expiresAt: first.at.toISOString() });
  }
  return { now: now.toISOString(), stack: lake.stack, rules, expired, next, withoutRule };
}
