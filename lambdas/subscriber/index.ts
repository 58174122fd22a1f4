/**
 * The subscriber function: puts the lake's subscription filter on the log groups under the configured
 * name prefixes (`sources.cloudWatchLogs.logGroupPrefixes`). Invoked two ways:
 *
 * - by CloudFormation through the custom-resources Provider (`lib/prefix-subscriptions.ts`): on create,
 *   a sweep of every existing group under the prefixes; on update, the groups no longer wanted lose the
 *   lake's filter and a new sweep runs; on delete, the lake's filters are taken off again. A group whose
 *   subscription fails fails the deployment, naming it, after every other group was tried;
 * - by EventBridge, for CloudTrail's record of a `CreateLogGroup` call under a prefix: that one group.
 *   A failure throws, so Lambda retries the event twice and then keeps it in the dead-letter queue.
 *
 * Every call is idempotent (`src/sources/subscriber.ts`). A group already holding two subscription
 * filters of others is not touched: it is logged and counted (`LogGroupsAtFilterLimit`).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import type { CloudFormationCustomResourceEvent, EventBridgeEvent } from 'aws-lambda';
import { z } from 'zod';
import { jsonVariable, parseEnvironment } from '../../src/environment';
import {
  type GroupOutcome,
  groupsWith,
  removeAll,
  resweep,
  type SubscriberSettings,
  type SweepReport,
  subscribeGroup,
  subscriberSettingsSchema,
  sweep,
} from '../../src/sources/subscriber';
import { SETTINGS_PROPERTY, SUBSCRIBER_METRICS } from './constants';
import { readEnv } from './env';

const env = readEnv();
const logger = new Logger({ serviceName: SUBSCRIBER_METRICS.service });
const metrics = new Metrics({
  namespace: SUBSCRIBER_METRICS.namespace,
  serviceName: SUBSCRIBER_METRICS.service,
});
// PutSubscriptionFilter allows a few calls per second per account: a long sweep is throttled, and retried.
const client = new CloudWatchLogsClient({ maxAttempts: 10 });

/** CloudTrail's record of a `CreateLogGroup` call, as EventBridge delivers it. */
export type CreateLogGroupEvent = EventBridgeEvent<
  'AWS API Call via CloudTrail',
  { eventName?: string; requestParameters?: { logGroupName?: string } | null }
>;

/** What the Provider hands back to CloudFormation. */
export interface CustomResourceResponse {
  PhysicalResourceId: string;
  Data: Record<string, number>;
}

const propertiesSchema = z.object({ [SETTINGS_PROPERTY]: jsonVariable(subscriberSettingsSchema) });

function settingsOf(properties: Record<string, unknown>, which: string): SubscriberSettings {
  return parseEnvironment(propertiesSchema, properties as Record<string, string>, `Invalid ${which}`)[
    SETTINGS_PROPERTY
  ];
}

export async function handler(
  event: CloudFormationCustomResourceEvent | CreateLogGroupEvent,
): Promise<CustomResourceResponse | GroupOutcome> {
  try {
    return 'RequestType' in event ? await onCustomResource(event) : await onCreateLogGroup(event);
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}

async function onCustomResource(event: CloudFormationCustomResourceEvent): Promise<CustomResourceResponse> {
  const settings = settingsOf(event.ResourceProperties, 'custom resource properties');
  const PhysicalResourceId = `${settings.lakeName}-log-group-prefixes`;
  if (event.RequestType === 'Delete') {
    const removed = await removeAll(client, settings);
    logger.info('removed the lake’s filters', { removed });
    return { PhysicalResourceId, Data: { Removed: removed.length } };
  }
  const report =
    event.RequestType === 'Update'
      ? await resweep(
          client,
          settingsOf(event.OldResourceProperties, 'old custom resource properties'),
          settings,
        )
      : await sweep(client, settings);
  record(report);
  const failed = Object.keys(report.failed);
  if (failed.length > 0) {
    throw new Error(
      `could not subscribe ${failed.length} log group(s): ${failed.map((g) => `${g} (${report.failed[g]})`).join('; ')}`,
    );
  }
  return {
    PhysicalResourceId,
    Data: {
      Subscribed: groupsWith(report, 'subscribed').length,
      Unchanged: groupsWith(report, 'unchanged').length,
      AtFilterLimit: groupsWith(report, 'full').length,
      Covered: groupsWith(report, 'covered').length,
    },
  };
}

async function onCreateLogGroup(event: CreateLogGroupEvent): Promise<GroupOutcome> {
  const name = event.detail.requestParameters?.logGroupName;
  if (event.detail.eventName !== 'CreateLogGroup' || typeof name !== 'string') {
    logger.warn('not a CreateLogGroup event; ignored', { detailType: event['detail-type'], id: event.id });
    return 'unmatched';
  }
  let outcome: GroupOutcome;
  try {
    outcome = await subscribeGroup(client, env, name);
  } catch (error) {
    record({ groups: {}, failed: { [name]: String(error) } });
    throw error;
  }
  record({ groups: { [name]: outcome }, failed: {} });
  return outcome;
}

function record(report: SweepReport): void {
  const full = groupsWith(report, 'full');
  const subscribed = groupsWith(report, 'subscribed');
  const failed = Object.keys(report.failed);
  if (full.length > 0) {
    logger.warn('log groups already have two subscription filters of others; not subscribed', {
      groups: full,
    });
  }
  if (failed.length > 0) logger.error('log groups could not be subscribed', { failed: report.failed });
  logger.info('log group subscriptions', { subscribed, groups: report.groups });
  metrics.addMetric(SUBSCRIBER_METRICS.names.subscribed, MetricUnit.Count, subscribed.length);
  metrics.addMetric(SUBSCRIBER_METRICS.names.full, MetricUnit.Count, full.length);
  metrics.addMetric(SUBSCRIBER_METRICS.names.failed, MetricUnit.Count, failed.length);
}
