/**
 * The compliance report's "Alert coverage" item, built the same way for the local lake (`report.ts`)
 * and a deployed stack (`aws.ts`): a row per rule of the configuration with its stored state, then
 * whatever else the caller found watching the lake (the stack's CloudWatch alarms).
 */
import type { RuleTransition } from '../alerts/engine';
import type { LogLakeConfig } from '../config';
import type { Cell, ItemBody } from './report';

/** What the item reads of a rule's stored state (the local state file, the alarm table's item). */
export interface CoverageState {
  /** The last evaluation slot applied, ISO-8601. */
  readonly lastSlot?: string;
  readonly state?: {
    readonly groups?: Readonly<Record<string, { readonly status: string; readonly since: string }>>;
    readonly lastFired?: RuleTransition;
    readonly lastResolved?: RuleTransition;
  };
}

export const ALERT_COVERAGE_COLUMNS = [
  'rule',
  'enabled',
  'kind',
  'severity',
  'watches',
  'last evaluated',
  'firing',
  'last fired',
  'last resolved',
] as const;

/** One row per rule, by name, with the state `stateOf` holds for it (none: never evaluated). */
export function ruleCoverageRows(
  rules: LogLakeConfig['alerts']['rules'],
  stateOf: Readonly<Record<string, CoverageState | undefined>>,
): Cell[][] {
  return Object.entries(rules)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, rule]) => {
      const s = stateOf[name];
      const firing = Object.entries(s?.state?.groups ?? {}).filter(([, g]) => g.status === 'firing');
      return [
        name,
        rule.enabled,
        rule.kind,
        rule.severity,
        rule.description,
        s?.lastSlot ?? null,
        firing.length > 0 ? firing.map(([k, g]) => `${k || 'all'} since ${g.since}`).join('; ') : null,
        transition(s?.state?.lastFired),
        transition(s?.state?.lastResolved),
      ];
    });
}

/** `2026-11-30T10:05:00.000Z (service=checkout)`: when, and which group. */
function transition(t: RuleTransition | undefined): string | null {
  return t ? `${t.at} (${t.groupKey || 'all'})` : null;
}

export interface AlertCoverageParts {
  /** Where the state was read. */
  readonly source: string;
  /** In {@link ALERT_COVERAGE_COLUMNS}' order; a row whose `enabled` is false is named in a notice. */
  readonly rows: readonly (readonly Cell[])[];
  /** The summary's first line: what was counted. */
  readonly headline: string;
  /** Notices after the disabled one; any notice makes the item's status `notice`. @default [] */
  readonly notices?: readonly string[];
}

export function alertCoverageItem(parts: AlertCoverageParts): ItemBody {
  const disabled = parts.rows.filter((r) => r[1] === false).map((r) => r[0]);
  const notices = [
    ...(disabled.length > 0 ? [`notice: disabled: ${disabled.join(', ')}`] : []),
    ...(parts.notices ?? []),
  ];
  return {
    title: 'Alert coverage',
    source: parts.source,
    status: notices.length > 0 ? 'notice' : 'ok',
    summary: [parts.headline, ...notices],
    columns: ALERT_COVERAGE_COLUMNS,
    rows: parts.rows,
  };
}
