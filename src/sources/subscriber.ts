/**
 * Subscribing log groups by name prefix (`sources.cloudWatchLogs.logGroupPrefixes`): the core of the
 * subscriber function (`lambdas/subscriber`). A sweep at deploy time puts the lake's subscription filter
 * on every existing log group under the prefixes, a `CreateLogGroup` event puts it on a new one, and a
 * removal takes the lake's filters off again. Every call is idempotent: a group already subscribed the
 * same way is left as it is, so a sweep may run any number of times.
 *
 * Never touched: the lake's own log groups and the other names in `exclude` (the groups subscribed by
 * CloudFormation, whose filters have the same names), and, when the account-level subscription filter
 * policy is on, every group it covers (it would deliver each event twice). A log group takes two
 * subscription filters: one that already has two filters of others is reported (`full`), never
 * overwritten.
 */
import {
  type CloudWatchLogsClient,
  DeleteSubscriptionFilterCommand,
  DescribeSubscriptionFiltersCommand,
  LimitExceededException,
  PutSubscriptionFilterCommand,
  paginateDescribeLogGroups,
  ResourceNotFoundException,
  type SubscriptionFilter,
} from '@aws-sdk/client-cloudwatch-logs';
import { z } from 'zod';
import { CATEGORIES } from '../schema';
import { isLakeFilterName, subscriptionFilterName } from './names';

/** CloudWatch Logs' limit of subscription filters per log group. */
export const FILTERS_PER_LOG_GROUP = 2;

/** What the subscriber needs to know, the same JSON in its environment and in the custom resource. */
export const subscriberSettingsSchema = z.strictObject({
  /** The lake's name: the filter names are derived from it (`src/sources/names.ts`). */
  lakeName: z.string().min(1),
  /** The `logs` delivery stream's ARN. */
  destinationArn: z.string().min(1),
  /** The role CloudWatch Logs assumes to put records on it. */
  roleArn: z.string().min(1),
  prefixes: z.array(
    z.strictObject({
      prefix: z.string().min(1),
      filterPattern: z.string(),
      category: z.enum(CATEGORIES).optional(),
    }),
  ),
  /** Log groups never touched: the lake's own and those subscribed by the template. */
  exclude: z.array(z.string()),
  /** The account-level subscription filter policy, when on: it covers every group but these. */
  accountPolicy: z.strictObject({ exclude: z.array(z.string()) }).optional(),
});
export type SubscriberSettings = z.infer<typeof subscriberSettingsSchema>;
export type PrefixSetting = SubscriberSettings['prefixes'][number];

/** What became of one log group. */
export type GroupOutcome =
  /** The lake's filter was put (new, or its pattern, category or destination changed). */
  | 'subscribed'
  /** It already had the lake's filter, exactly as wanted. */
  | 'unchanged'
  /** It has two subscription filters of others: left alone, reported. */
  | 'full'
  /** The lake's own, subscribed by the template, or excluded from the account policy's reach. */
  | 'excluded'
  /** The account-level policy already sends its events. */
  | 'covered'
  /** Under no configured prefix. */
  | 'unmatched'
  /** Deleted while being subscribed. */
  | 'gone';

export interface SweepReport {
  readonly groups: Readonly<Record<string, GroupOutcome>>;
  /** Groups whose subscription failed, with the error (the sweep tries every group before failing). */
  readonly failed: Readonly<Record<string, string>>;
}

/** The most specific configured prefix `name` starts with. */
export function prefixOf(settings: SubscriberSettings, name: string): PrefixSetting | undefined {
  let best: PrefixSetting | undefined;
  for (const p of settings.prefixes) {
    if (name.startsWith(p.prefix) && (best === undefined || p.prefix.length > best.prefix.length)) best = p;
  }
  return best;
}

/** Why `name` is never touched, if it is not. */
export function leftAlone(settings: SubscriberSettings, name: string): 'excluded' | 'covered' | undefined {
  if (settings.exclude.includes(name)) return 'excluded';
  if (settings.accountPolicy && !settings.accountPolicy.exclude.includes(name)) return 'covered';
  return undefined;
}

function isOurs(settings: SubscriberSettings, f: SubscriptionFilter): boolean {
  return f.filterName !== undefined && isLakeFilterName(settings.lakeName, f.filterName);
}

async function filtersOf(client: CloudWatchLogsClient, logGroupName: string): Promise<SubscriptionFilter[]> {
  // At most two per group: one page.
  const out = await client.send(new DescribeSubscriptionFiltersCommand({ logGroupName }));
  return out.subscriptionFilters ?? [];
}

/**
 * Put the lake's filter on `name` as `wanted` says, unless it is there already. A filter of the lake's
 * under another name (the category changed) is deleted first, so the group never holds two of ours.
 */
export async function subscribeGroup(
  client: CloudWatchLogsClient,
  settings: SubscriberSettings,
  name: string,
): Promise<GroupOutcome> {
  const skip = leftAlone(settings, name);
  if (skip) return skip;
  const wanted = prefixOf(settings, name);
  if (!wanted) return 'unmatched';
  const filterName = subscriptionFilterName(settings.lakeName, wanted.category);
  try {
    const filters = await filtersOf(client, name);
    const ours = filters.filter((f) => isOurs(settings, f));
    const same = ours.find(
      (f) =>
        f.filterName === filterName &&
        f.destinationArn === settings.destinationArn &&
        f.roleArn === settings.roleArn &&
        (f.filterPattern ?? '') === wanted.filterPattern,
    );
    if (same && ours.length === 1) return 'unchanged';
    if (filters.length - ours.length >= FILTERS_PER_LOG_GROUP) return 'full';
    for (const f of ours) {
      if (f.filterName !== filterName) {
        await client.send(
          new DeleteSubscriptionFilterCommand({ logGroupName: name, filterName: f.filterName }),
        );
      }
    }
    await client.send(
      new PutSubscriptionFilterCommand({
        logGroupName: name,
        filterName,
        filterPattern: wanted.filterPattern,
        destinationArn: settings.destinationArn,
        roleArn: settings.roleArn,
      }),
    );
    return 'subscribed';
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return 'gone';
    // Another filter was put between the describe and the put.
    if (error instanceof LimitExceededException) return 'full';
    throw error;
  }
}

/** Take the lake's filters (to its destination) off `name`. Returns whether one was removed. */
export async function unsubscribeGroup(
  client: CloudWatchLogsClient,
  settings: SubscriberSettings,
  name: string,
): Promise<boolean> {
  if (settings.exclude.includes(name)) return false;
  try {
    const ours = (await filtersOf(client, name)).filter(
      (f) => isOurs(settings, f) && f.destinationArn === settings.destinationArn,
    );
    for (const f of ours) {
      await client.send(
        new DeleteSubscriptionFilterCommand({ logGroupName: name, filterName: f.filterName }),
      );
    }
    return ours.length > 0;
  } catch (error) {
    if (error instanceof ResourceNotFoundException) return false;
    throw error;
  }
}

/** Every log group name under the prefixes, each once, in name order. */
export async function groupsUnder(
  client: CloudWatchLogsClient,
  prefixes: readonly string[],
): Promise<string[]> {
  const names = new Set<string>();
  for (const prefix of new Set(prefixes)) {
    for await (const page of paginateDescribeLogGroups({ client }, { logGroupNamePrefix: prefix })) {
      for (const g of page.logGroups ?? []) if (g.logGroupName) names.add(g.logGroupName);
    }
  }
  return [...names].sort();
}

/** Subscribe every existing log group under the prefixes. Failures are collected, not thrown. */
export async function sweep(
  client: CloudWatchLogsClient,
  settings: SubscriberSettings,
): Promise<SweepReport> {
  const groups: Record<string, GroupOutcome> = {};
  const failed: Record<string, string> = {};
  for (const name of await groupsUnder(
    client,
    settings.prefixes.map((p) => p.prefix),
  )) {
    try {
      groups[name] = await subscribeGroup(client, settings, name);
    } catch (error) {
      failed[name] = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
  }
  return { groups, failed };
}

/**
 * After a settings change: take the lake's filters off the groups that `previous` subscribed and
 * `current` no longer does (a prefix removed, a group newly excluded or covered), then sweep `current`.
 */
export async function resweep(
  client: CloudWatchLogsClient,
  previous: SubscriberSettings,
  current: SubscriberSettings,
): Promise<SweepReport & { readonly removed: readonly string[] }> {
  const removed: string[] = [];
  const sameStream =
    previous.destinationArn === current.destinationArn && previous.lakeName === current.lakeName;
  for (const name of await groupsUnder(
    client,
    previous.prefixes.map((p) => p.prefix),
  )) {
    if (leftAlone(previous, name) || !prefixOf(previous, name)) continue;
    if (sameStream && !leftAlone(current, name) && prefixOf(current, name)) continue;
    if (await unsubscribeGroup(client, previous, name)) removed.push(name);
  }
  return { ...(await sweep(client, current)), removed };
}

/** Take the lake's filters off every group under the prefixes (stack deletion). */
export async function removeAll(
  client: CloudWatchLogsClient,
  settings: SubscriberSettings,
): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await groupsUnder(
    client,
    settings.prefixes.map((p) => p.prefix),
  )) {
    if (leftAlone(settings, name) === 'excluded' || !prefixOf(settings, name)) continue;
    if (await unsubscribeGroup(client, settings, name)) removed.push(name);
  }
  return removed;
}

/** The names of the groups that ended in `outcome`. */
export function groupsWith(report: SweepReport, outcome: GroupOutcome): string[] {
  return Object.entries(report.groups)
    .filter(([, o]) => o === outcome)
    .map(([name]) => name);
}
