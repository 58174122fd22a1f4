/**
 * Amazon EventBridge events (https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html),
 * as a rule delivers them to a Firehose stream or a CloudWatch Logs group: `version`, `id`, `detail-type`,
 * `source`, `account`, `time`, `region`, `resources`, `detail`. Every field is kept under EventBridge's own
 * names (`detail-type`, `detail.*`, `account`, `region`); `source` names the service (`aws.guardduty`).
 *
 * Findings of the AWS security services are security events (`event.security`, so the `security`
 * category by the default rules), with a level from their severity:
 * - GuardDuty (`detail.severity`, 0.1–10: https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-severity.html):
 *   low (< 4) WARN, medium (< 7) ERROR, high and critical CRITICAL;
 * - Security Hub (`detail.findings[].Severity.Label`, ASFF): INFORMATIONAL INFO, LOW WARN, MEDIUM ERROR,
 *   HIGH and CRITICAL CRITICAL; the highest of the event's findings;
 * - Inspector, Macie and Access Analyzer findings: WARN unless their severity says more.
 * Any other event is INFO, categorized by the rules like any event.
 */
import { isObject, type Json, type ProducerShape } from '../producers/shape';

/** Sources whose events are findings of an intrusion-detection or posture service. */
const FINDING_SOURCES = new Set([
  'aws.guardduty',
  'aws.securityhub',
  'aws.inspector2',
  'aws.macie',
  'aws.access-analyzer',
  'aws.detective',
]);

const LABELS: Record<string, string> = {
  INFORMATIONAL: 'INFO',
  LOW: 'WARN',
  MEDIUM: 'ERROR',
  HIGH: 'CRITICAL',
  CRITICAL: 'CRITICAL',
};
const RANK: Record<string, number> = { INFO: 0, WARN: 1, ERROR: 2, CRITICAL: 3 };

/** GuardDuty's numeric severity as a level (its own bands: low, medium, high, critical). */
function numericLevel(severity: number): string {
  if (severity >= 7) return 'CRITICAL';
  if (severity >= 4) return 'ERROR';
  return 'WARN';
}

/** A severity written as a label (`HIGH`) or an object holding one (`{ Label: 'HIGH' }`, Security Hub). */
function labelLevel(severity: unknown): string | undefined {
  const label = isObject(severity) ? (severity.Label ?? severity.label) : severity;
  return typeof label === 'string' ? LABELS[label.toUpperCase()] : undefined;
}

function severityLevel(severity: unknown): string | undefined {
  return typeof severity === 'number' && Number.isFinite(severity)
    ? numericLevel(severity)
    : labelLevel(severity);
}

/** The level of a finding event: its severity's, the highest of a Security Hub event's findings. */
function findingLevel(detail: Json): string {
  let level = severityLevel(detail.severity);
  if (Array.isArray(detail.findings)) {
    for (const f of detail.findings) {
      const own = isObject(f) ? severityLevel(f.Severity) : undefined;
      if (own !== undefined && (level === undefined || (RANK[own] ?? 0) > (RANK[level] ?? 0))) level = own;
    }
  }
  return level ?? 'WARN';
}

/** A short title of the event: the finding's title, or the first Security Hub finding's. */
function title(detail: Json): string | undefined {
  if (typeof detail.title === 'string') return detail.title;
  if (Array.isArray(detail.findings)) {
    const first = detail.findings[0];
    if (isObject(first) && typeof first.Title === 'string') {
      return detail.findings.length > 1
        ? `${first.Title} (+${detail.findings.length - 1} more)`
        : first.Title;
    }
  }
  return typeof detail.description === 'string' ? detail.description : undefined;
}

export const awsEventBridge: ProducerShape = {
  name: 'aws-eventbridge',
  matches: (o) =>
    typeof o['detail-type'] === 'string' &&
    typeof o.source === 'string' &&
    typeof o.time === 'string' &&
    typeof o.account === 'string' &&
    'detail' in o,
  read(o) {
    const source = o.source as string;
    const detail = isObject(o.detail) ? o.detail : {};
    const finding = FINDING_SOURCES.has(source);
    const { time: _time, source: _source, ...rest }: Json = o;
    if (finding) rest['event.security'] = 'true';
    const what = title(detail);
    const type = typeof detail.type === 'string' ? detail.type : undefined;
    return {
      columns: {
        timestamp: o.time,
        level: finding ? findingLevel(detail) : 'INFO',
        service: source,
        message: `${o['detail-type'] as string}${type === undefined ? '' : ` ${type}`}${what === undefined ? '' : `: ${what}`}`,
      },
      rest,
    };
  },
};
