/**
 * The specification's four dashboards, as data: each panel is a query in the one query model
 * (`src/query/model.ts`) without its time range, and the chart that shows it. The explorer renders
 * them over the local lake; the same definitions are meant to drive the AWS dashboards.
 */
import { ACCESS_SERVICE } from '../audit/access';
import { type Condition, parseAggregate, parseCondition, parseField } from '../query/fields';
import {
  type AggregateQuery,
  ERROR_LEVELS,
  type GroupColumn,
  type LogFilter,
  type LogQuery,
} from '../query/model';
import { CATEGORIES } from '../schema';

/** A panel's filter: the query model's filter without the time range, which the dashboard supplies. */
export type PanelFilter = Omit<LogFilter, 'since' | 'until'>;

/** How a panel shows its rows. */
export type PanelView =
  /** Bars over time, stacked by the first group column (`groupBy` has exactly one). */
  | { readonly kind: 'timeseries'; readonly groupBy: GroupColumn }
  /** One bar per group value, largest first. */
  | {
      readonly kind: 'bars';
      readonly groupBy: GroupColumn;
      readonly measure: 'count' | 'errors' | 'error_rate';
    }
  /** A table of groups with counts and sample correlation ids (linked to the trace view). */
  | { readonly kind: 'hotspots'; readonly groupBy: readonly GroupColumn[]; readonly samples: number }
  /** The newest records. */
  | { readonly kind: 'records'; readonly limit: number }
  /**
   * Totals per value of a field (`attributes.model`): the sum of the `--agg` aggregates given
   * (`sum:metrics.cost_usd`), or the count of events when none, one bar per value, largest first.
   */
  | {
      readonly kind: 'totals';
      /** The field to group by, as `stats --group-by` takes it. */
      readonly by: string;
      /** Aggregates as `stats --agg` takes them, added up per bar; none counts events. */
      readonly agg: readonly string[];
      readonly unit?: 'usd' | 'tokens' | 'ms';
    };

export interface PanelDef {
  readonly id: string;
  readonly title: string;
  readonly filter: PanelFilter;
  readonly view: PanelView;
}

export interface DashboardDef {
  readonly id: string;
  readonly title: string;
  /** Who it is for and what question it answers. */
  readonly description: string;
  /** Reload interval; undefined for on-demand dashboards. */
  readonly refreshSeconds?: number;
  /** Default look-back (`--since` syntax). */
  readonly since: string;
  /** Offer a correlation-id lookup (the tracing dashboard). */
  readonly lookup?: boolean;
  /**
   * Offer a service filter (URL `service=`) that narrows every panel; the services offered are those
   * with events matching `among` in the range. @default none
   */
  readonly serviceFilter?: { readonly among: PanelFilter };
  readonly panels: readonly PanelDef[];
}

const where = (...exprs: string[]): Condition[] => exprs.map((e) => parseCondition(e));

const errors = { levels: ERROR_LEVELS } as const;
/**
 * The explorer's own access events (audit) are not a service of the errors and tracing dashboards: every
 * page read writes one, so they would outnumber the requests these dashboards are for.
 */
const notAccess = { where: where(`service!=${ACCESS_SERVICE}`) } as const;

/**
 * Every category, named: security events are where the rules put them (a BLOCK and a failed login land
 * in the locked `security` category by default, a team may send its WAF to `api_access`), and over
 * Athena a panel naming no category reads only the logs table, not the audit table of locked ones.
 */
const anyCategory = CATEGORIES;

/**
 * Authentication and authorization failures, by what producers record rather than by wording: an HTTP
 * 401 or 403 (but a WAF block, which answers 403, has its own panel), an ECS-style event
 * (`event.category` authentication, `event.outcome` failure; ECS writes the category as a list), a
 * CloudTrail console login that failed, and an access-denied error code (CloudTrail, S3 access logs).
 */
const authFailures: PanelFilter = {
  categories: anyCategory,
  where: where('service!=aws.waf'),
  anyOf: [
    where('http_status=401'),
    where('http_status=403'),
    where('attributes.event.category=authentication', 'attributes.event.outcome=failure'),
    where('attributes.event.category.0=authentication', 'attributes.event.outcome=failure'),
    where('attributes.responseElements.ConsoleLogin=Failure'),
    where('error_type~AccessDenied'),
  ],
};

/** Requests an AWS WAF web ACL blocked (`src/transform/sources/waf.ts`: service aws.waf, WAF's fields). */
const wafBlocks: PanelFilter = {
  categories: anyCategory,
  services: ['aws.waf'],
  where: where('attributes.action=BLOCK'),
};

/**
 * Intrusion-detection alerts: Amazon GuardDuty findings as EventBridge delivers them (to a Firehose
 * stream or a subscribed log group), each kept with its EventBridge fields (`detail-type`, `detail.*`).
 */
const idsAlerts: PanelFilter = {
  categories: anyCategory,
  where: where('attributes.detail-type=GuardDuty Finding'),
};

/**
 * Events of an AI generation, from any service: those that name their model (`attributes.model`, set
 * and not empty). Tokens are read from `metrics.input_tokens`/`output_tokens`, cost from
 * `metrics.cost_usd`, latency from `duration_ms`.
 */
const aiEvents: PanelFilter = {
  where: [{ field: { column: 'attributes', key: 'model' }, op: '>', value: '', text: 'attributes.model>""' }],
};

export const DASHBOARDS: readonly DashboardDef[] = [
  {
    id: 'errors',
    title: 'Error rates and hotspots',
    description:
      'DevOps and SRE: where errors are rising, which service and error type, with requests to open.',
    refreshSeconds: 60,
    since: '1h',
    serviceFilter: { among: notAccess },
    panels: [
      {
        id: 'errors-over-time',
        title: 'Errors over time by service',
        filter: { ...errors, ...notAccess },
        view: { kind: 'timeseries', groupBy: 'service' },
      },
      {
        id: 'error-rate-by-service',
        title: 'Error rate by service',
        filter: notAccess,
        view: { kind: 'bars', groupBy: 'service', measure: 'error_rate' },
      },
      {
        id: 'hotspots',
        title: 'Hotspots: service and error type',
        filter: { ...errors, ...notAccess },
        view: { kind: 'hotspots', groupBy: ['service', 'error_type'], samples: 3 },
      },
      {
        id: 'http-status',
        title: 'Requests by HTTP status',
        filter: notAccess,
        view: { kind: 'bars', groupBy: 'http_status', measure: 'count' },
      },
    ],
  },
  {
    id: 'tracing',
    title: 'Request tracing',
    description:
      'Developers and support: follow one request by its correlation id; recent failing requests to start from.',
    since: '1h',
    lookup: true,
    panels: [
      {
        id: 'failing-requests',
        title: 'Recent failing requests by service',
        filter: { ...errors, ...notAccess },
        view: { kind: 'hotspots', groupBy: ['service'], samples: 10 },
      },
      {
        id: 'requests-over-time',
        title: 'Events over time by service',
        filter: notAccess,
        view: { kind: 'timeseries', groupBy: 'service' },
      },
    ],
  },
  {
    id: 'security',
    title: 'Security events',
    description:
      'Security team: authentication failures, WAF blocks, intrusion-detection alerts, privilege changes, audit trail.',
    refreshSeconds: 300,
    since: '24h',
    panels: [
      {
        id: 'security-over-time',
        title: 'Security and audit events by level',
        filter: { categories: ['security', 'audit'] },
        view: { kind: 'timeseries', groupBy: 'level' },
      },
      {
        id: 'auth-failures',
        title: 'Authentication failures (401/403, failed logins, access denied)',
        filter: authFailures,
        view: { kind: 'hotspots', groupBy: ['service', 'logger'], samples: 5 },
      },
      {
        id: 'waf-blocks',
        title: 'WAF blocks by rule',
        filter: wafBlocks,
        view: { kind: 'totals', by: 'attributes.terminatingRuleId', agg: [] },
      },
      {
        id: 'ids-alerts',
        title: 'IDS alerts: GuardDuty findings by type',
        filter: idsAlerts,
        view: { kind: 'totals', by: 'attributes.detail.type', agg: [] },
      },
      {
        id: 'security-by-logger',
        title: 'Security events by source',
        filter: { categories: ['security', 'audit'] },
        view: { kind: 'bars', groupBy: 'logger', measure: 'count' },
      },
      {
        id: 'audit-trail',
        title: 'Audit trail (newest)',
        filter: { categories: ['audit'] },
        view: { kind: 'records', limit: 20 },
      },
    ],
  },
  {
    id: 'ai',
    title: 'AI generation pipeline',
    description:
      'Failures, models, tokens, latency and cost of AI generations, from any service whose events name their model (attributes.model).',
    refreshSeconds: 300,
    since: '24h',
    serviceFilter: { among: aiEvents },
    panels: [
      {
        id: 'ai-over-time',
        title: 'Generations over time by level',
        filter: aiEvents,
        view: { kind: 'timeseries', groupBy: 'level' },
      },
      {
        id: 'ai-failures',
        title: 'Failures by error type',
        filter: { ...aiEvents, ...errors },
        view: { kind: 'bars', groupBy: 'error_type', measure: 'count' },
      },
      {
        id: 'ai-models',
        title: 'Generations by model',
        filter: aiEvents,
        view: { kind: 'totals', by: 'attributes.model', agg: [] },
      },
      {
        id: 'ai-tokens',
        title: 'Tokens by model (input + output)',
        filter: aiEvents,
        view: {
          kind: 'totals',
          by: 'attributes.model',
          agg: ['sum:metrics.input_tokens', 'sum:metrics.output_tokens'],
          unit: 'tokens',
        },
      },
      {
        id: 'ai-cost',
        title: 'Cost by model',
        filter: aiEvents,
        view: { kind: 'totals', by: 'attributes.model', agg: ['sum:metrics.cost_usd'], unit: 'usd' },
      },
      {
        id: 'ai-latency',
        // The mean, not a percentile: Athena's percentiles are approximate, and the same definition
        // must give Grafana the explorer's figures.
        title: 'Latency by model (mean duration_ms)',
        filter: aiEvents,
        view: { kind: 'totals', by: 'attributes.model', agg: ['avg:duration_ms'], unit: 'ms' },
      },
    ],
  },
];

export function dashboardById(id: string): DashboardDef | undefined {
  return DASHBOARDS.find((d) => d.id === id);
}

/** Time bucket of time-series panels for a range: about 30 bars. */
export function panelBucketMs(spanMs: number): number {
  const steps = [10, 30, 60, 300, 900, 1800, 3600, 10_800, 21_600, 86_400].map((s) => s * 1000);
  return steps.find((s) => spanMs / s <= 30) ?? 86_400_000;
}

/** Services a dashboard's service filter offers, at most. */
export const MAX_SERVICES_OFFERED = 50;

/**
 * The query listing the services a dashboard's service filter offers over `[since, until)`, busiest
 * first (the explorer's select and Grafana's `service` variable); undefined without a service filter.
 */
export function serviceFilterQuery(d: DashboardDef, since: Date, until: Date): AggregateQuery | undefined {
  if (!d.serviceFilter) return undefined;
  return {
    kind: 'aggregate',
    filter: { ...d.serviceFilter.among, since, until },
    groupBy: ['service'],
    orderBy: 'count',
    limit: MAX_SERVICES_OFFERED,
  };
}

/** What a viewer narrowed a dashboard to (its service filter). */
export interface PanelNarrowing {
  readonly services?: readonly string[];
}

/**
 * The query a panel runs over `[since, until)`: the one model, ready for `buildQuery`.
 * @param narrow - the dashboard's service filter (a dashboard that offers one has no panel naming
 * services of its own). @default none
 */
export function panelQuery(panel: PanelDef, since: Date, until: Date, narrow: PanelNarrowing = {}): LogQuery {
  const filter: LogFilter = {
    ...panel.filter,
    since,
    until,
    ...(narrow.services?.length ? { services: narrow.services } : {}),
  };
  const v = panel.view;
  switch (v.kind) {
    case 'timeseries':
      return {
        kind: 'aggregate',
        filter,
        groupBy: [v.groupBy],
        bucketMs: panelBucketMs(until.getTime() - since.getTime()),
      };
    case 'bars':
      return {
        kind: 'aggregate',
        filter,
        groupBy: [v.groupBy],
        orderBy: v.measure,
        limit: 12,
      } satisfies AggregateQuery;
    case 'hotspots':
      return {
        kind: 'aggregate',
        filter,
        groupBy: v.groupBy,
        samples: v.samples,
        sampleLevels: filter.levels,
        orderBy: 'count',
        limit: 10,
      };
    case 'records':
      return { kind: 'search', filter, limit: v.limit, order: 'desc' };
    case 'totals':
      return {
        kind: 'aggregate',
        filter,
        groupBy: [parseField(v.by)],
        aggregates: v.agg.map(parseAggregate),
        orderBy: 'count',
        limit: 12,
      };
  }
}
