/**
 * The `sources` slice of the config model (mounted as `sources` in `src/config.ts`): the logs AWS
 * already has and how they reach the lake (`lib/sources.ts`). Pure (zod only).
 */
import { z } from 'zod';
import { CATEGORIES } from '../schema';
import { ACCESS_LOG_FORMATS } from '../transform/sources/access-logs';

/** A CloudWatch Logs log group name (CloudWatch Logs: 1-512 of `[.\-_/#A-Za-z0-9]`). */
const logGroupName = z
  .string()
  .regex(/^[.\-_/#A-Za-z0-9]{1,512}$/, 'a CloudWatch Logs log group name: 1-512 of . - _ / # A-Z a-z 0-9');

/** One log group to subscribe: its name, and optionally a filter pattern and a category. */
export const logGroupSubscriptionSchema = z.strictObject({
  name: logGroupName,
  /** CloudWatch Logs filter pattern; empty sends every event. */
  filterPattern: z.string().max(1024).optional(),
  /** Every event of the log group lands in this category (an event's own valid `category` still wins). */
  category: z.enum(CATEGORIES).optional(),
});
export type LogGroupSubscription = z.infer<typeof logGroupSubscriptionSchema>;

/**
 * Log groups named with a prefix, subscribed by the subscriber function (`lib/prefix-subscriptions.ts`):
 * the existing ones at deploy time, new ones as CloudTrail records their `CreateLogGroup`.
 */
export const logGroupPrefixSchema = z.strictObject({
  /** E.g. `/aws/lambda/orders-`: every log group whose name starts with it. */
  prefix: logGroupName,
  /** CloudWatch Logs filter pattern; empty sends every event. */
  filterPattern: z.string().max(1024).optional(),
  /** Every event of these log groups lands in this category (an event's own valid `category` still wins). */
  category: z.enum(CATEGORIES).optional(),
});
export type LogGroupPrefix = z.infer<typeof logGroupPrefixSchema>;

/** An S3 bucket name (S3's general purpose bucket rules: 3-63 of lowercase letters, digits, `.` and `-`). */
const bucketName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    'an S3 bucket name: 3-63 of a-z 0-9 . -, starting and ending with a letter or digit',
  );

/** A bucket receiving access logs, streamed into the lake as new objects arrive (`lib/access-logs.ts`). */
export const accessLogSourceSchema = z.strictObject({
  bucket: bucketName,
  /** What the objects hold: `alb`, `cloudfront` (standard logs, legacy) or `s3` (server access logs). */
  format: z.enum(ACCESS_LOG_FORMATS),
  /** Only objects whose key starts with this (e.g. `AWSLogs/123456789012/elasticloadbalancing/`). */
  prefix: z.string().max(1024).optional(),
  /** Every event in this category (else the transform's rules decide: requests land in `api_access`). */
  category: z.enum(CATEGORIES).optional(),
});
export type AccessLogSourceConfig = z.infer<typeof accessLogSourceSchema>;

export const sourcesSchema = z.strictObject({
  cloudWatchLogs: z.strictObject({
    /** Log groups subscribed to the `logs` stream (the lake's own are refused). */
    logGroups: z.array(z.union([logGroupName, logGroupSubscriptionSchema])).max(500),
    /**
     * Log group name prefixes: every log group whose name starts with one is subscribed, those that exist
     * at deploy time and those created later (seen through CloudTrail's `CreateLogGroup` in EventBridge,
     * which needs a trail in the account). The lake's own log groups, the ones named in `logGroups` or
     * subscribed with `lake.subscribe`, and the ones the account policy covers are left alone.
     */
    logGroupPrefixes: z.array(z.union([logGroupName, logGroupPrefixSchema])).max(50),
    /**
     * An account-level subscription filter policy (`AWS::Logs::AccountPolicy`,
     * SUBSCRIPTION_FILTER_POLICY): every log group of the account and region, except the lake's own and
     * `exclude`. One such policy may exist per account and region.
     */
    accountPolicy: z.strictObject({
      enabled: z.boolean(),
      /** CloudWatch Logs filter pattern; empty sends every event. */
      filterPattern: z.string().max(1024),
      /** Log groups never subscribed, besides the lake's own (which are always excluded). */
      exclude: z.array(logGroupName).max(500),
    }),
  }),
  /** Buckets receiving ALB, CloudFront or S3 server access logs, each read by an S3-notified function. */
  accessLogs: z.array(accessLogSourceSchema).max(100),
  waf: z.strictObject({
    /** Deploy the `aws-waf-logs-<name>` delivery stream (an idle stream costs nothing). */
    enabled: z.boolean(),
  }),
});
export type SourcesConfig = z.infer<typeof sourcesSchema>;

export const DEFAULT_SOURCES: SourcesConfig = {
  cloudWatchLogs: {
    logGroups: [],
    logGroupPrefixes: [],
    accountPolicy: { enabled: false, filterPattern: '', exclude: [] },
  },
  accessLogs: [],
  waf: { enabled: true },
};

/** A configured log group as a subscription (a bare name subscribes every event, no category). */
export function subscriptionOf(entry: string | LogGroupSubscription): LogGroupSubscription {
  return typeof entry === 'string' ? { name: entry } : entry;
}

/** A configured prefix as a subscription (a bare prefix subscribes every event, no category). */
export function prefixSubscriptionOf(entry: string | LogGroupPrefix): LogGroupPrefix {
  return typeof entry === 'string' ? { prefix: entry } : entry;
}
