/**
 * Names of the subscriber function shared with `lib/prefix-subscriptions.ts`: its environment variable,
 * the custom resource's property, and its metrics. The only module `lib/` may import from
 * `lambdas/subscriber` (ARCHITECTURE.md, "Import rules").
 */
import { METRIC_NAMESPACE } from '../../src/metrics';

export const SUBSCRIBER_ENV = {
  /** JSON `SubscriberSettings` (`src/sources/subscriber.ts`), for `CreateLogGroup` events. */
  settings: 'LOGLAKE_SUBSCRIBER_SETTINGS',
} as const;

/** The custom resource's property holding the same JSON (old and new ones arrive with an update). */
export const SETTINGS_PROPERTY = 'Settings';

export const SUBSCRIBER_METRICS = {
  namespace: METRIC_NAMESPACE,
  /** Powertools' `serviceName`, also a `service` dimension of every metric. */
  service: 'loglake-subscriber',
  names: {
    /** Log groups the lake's filter was put on. */
    subscribed: 'LogGroupsSubscribed',
    /** Log groups under a prefix that already have two subscription filters of others: not subscribed. */
    full: 'LogGroupsAtFilterLimit',
    /** Log groups whose subscription failed with an error. */
    failed: 'LogGroupsFailed',
  },
} as const;
