/**
 * The specification's four dashboards, as data: each panel is a query in the one query model
 * (`src/query/model.ts`) without its time range, and the chart that shows it. The explorer renders
 * them over the local lake; the same definitions are meant to drive the AWS dashboards.
 */
import { parseAggregate, parseField } from '../query/fields';
import {
  type AggregateQuery,
  ERROR_LEVELS,
  type GroupColumn,
  type LogFilter,
  type LogQuery,
} from '../query/model';

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
      readonly unit?: 'usd' | 'tokens';
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
  readonly panels: readonly PanelDef[];
}

const errors = { levels: ERROR_LEVELS } as const;
const aiService = { services: ['genai-pipeline'] } as const;

export const DASHBOARDS: readonly DashboardDef[] = [
  {
    id: 'errors',
    title: 'Error rates and hotspots',
    description:
      'DevOps and SRE: where errors are rising, which service and error type, with requests to open.',
    refreshSeconds: 60,
    since: '1h',
    panels: [
      {
        id: 'errors-over-time',
        title: 'Errors over time by service',
        filter: errors,
        view: { kind: 'timeseries', groupBy: 'service' },
      },
      {
        id: 'error-rate-by-service',
        title: 'Error rate by service',
        filter: {},
        view: { kind: 'bars', groupBy: 'service', measure: 'error_rate' },
      },
      {
        id: 'hotspots',
        title: 'Hotspots: service and error type',
        filter: errors,
        view: { kind: 'hotspots', groupBy: ['service', 'error_type'], samples: 3 },
      },
      {
        id: 'http-status',
        title: 'Requests by HTTP status',
        filter: {},
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
        filter: errors,
        view: { kind: 'hotspots', groupBy: ['service'], samples: 10 },
      },
      {
        id: 'requests-over-time',
        title: 'Events over time by service',
        filter: {},
        view: { kind: 'timeseries', groupBy: 'service' },
      },
    ],
  },
  {
    id: 'security',
    title: 'Security events',
    description: 'Security team: authentication failures, privilege changes, audit trail.',
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
        title: 'Authentication failures',
        filter: { categories: ['security'], text: 'failed' },
        view: { kind: 'hotspots', groupBy: ['service', 'logger'], samples: 5 },
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
    description: 'Failures, models, tokens and cost of the generation pipeline.',
    refreshSeconds: 300,
    since: '24h',
    panels: [
      {
        id: 'ai-over-time',
        title: 'Generations over time by level',
        filter: aiService,
        view: { kind: 'timeseries', groupBy: 'level' },
      },
      {
        id: 'ai-failures',
        title: 'Failures by error type',
        filter: { ...aiService, ...errors },
        view: { kind: 'bars', groupBy: 'error_type', measure: 'count' },
      },
      {
        id: 'ai-models',
        title: 'Generations by model',
        filter: aiService,
        view: { kind: 'totals', by: 'attributes.model', agg: [] },
      },
      {
        id: 'ai-tokens',
        title: 'Tokens by model (input + output)',
        filter: aiService,
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
        filter: aiService,
        view: { kind: 'totals', by: 'attributes.model', agg: ['sum:metrics.cost_usd'], unit: 'usd' },
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

/** The query a panel runs over `[since, until)`: the one model, ready for `buildQuery`. */
export function panelQuery(panel: PanelDef, since: Date, until: Date): LogQuery {
  const filter: LogFilter = { ...panel.filter, since, until };
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
