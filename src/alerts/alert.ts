/**
 * The alert: one message shape for rule alerts and pipeline alarms, on SNS, in `alerts.jsonl`, on the
 * webhook and in `loglake alerts evaluate --format json`.
 */
import type { AlertRule, RuleKind, Severity } from './config';
import type { Group } from './observe';

export type AlertStatus = 'firing' | 'resolved';

/** Where an alert came from: a scheduled rule over the logs, or a CloudWatch alarm on the pipeline. */
export type AlertSource = 'rule' | 'cloudwatch';

export interface AlertWindow {
  /** Inclusive start, ISO-8601 UTC. */
  readonly start: string;
  /** Exclusive end, ISO-8601 UTC. */
  readonly end: string;
  readonly minutes: number;
}

export interface Alert {
  /** Message format version, bumped on incompatible changes. */
  readonly version: 1;
  /**
   * Stable id of this notification: the same evaluation always produces the same id, so a subscriber can
   * drop a duplicate delivered after a retry.
   */
  readonly id: string;
  readonly source: AlertSource;
  readonly status: AlertStatus;
  /** Rule name, or the CloudWatch alarm name. */
  readonly rule: string;
  readonly description: string;
  /** The severity notified: the rule's, or its escalation severity once the incident escalated. */
  readonly severity: Severity;
  /** The rule's own severity, when this alert was escalated beyond it. */
  readonly escalatedFrom?: Severity;
  /** Channels (`alerts.channels`) that receive this alert besides its severity's subscribers. */
  readonly channels?: readonly string[];
  readonly kind: RuleKind | 'cloudwatch_alarm';
  readonly value: number;
  readonly threshold: number;
  /** What `value` and `threshold` measure: a ratio 0-1, events, standard deviations, objects, or the metric's unit. */
  readonly unit: string;
  readonly window: AlertWindow;
  /** The group's dimension values, `{}` when the rule is not grouped. */
  readonly group: Group;
  /** `service=checkout`; `*` when not grouped. */
  readonly groupKey: string;
  /** Evaluation time that produced this notification. */
  readonly firedAt: string;
  /** When the incident started (first breaching evaluation). */
  readonly since: string;
  /** True when this repeats an earlier notification of the same incident. */
  readonly repeat: boolean;
  /** A few correlation ids of matching events (from the lake: already redacted). */
  readonly samples: readonly string[];
  /** Figures behind the value (errors/total, mean/stddev of the baseline, …). */
  readonly details: Readonly<Record<string, number | string>>;
  /** The `loglake search` command that lists the events behind this alert, when there is one. */
  readonly search?: string;
}

/** Window ends are whole minutes, `delayMinutes` before the evaluation time (Firehose delivery lag). */
export function evaluationWindow(
  windowMinutes: number,
  at: Date,
  delayMinutes: number,
  /** Shift the window this many windows back (anomaly baselines). */
  windowsBack = 0,
): AlertWindow {
  const end =
    Math.floor(at.getTime() / 60_000) * 60_000 - (delayMinutes + windowsBack * windowMinutes) * 60_000;
  const start = end - windowMinutes * 60_000;
  return { start: new Date(start).toISOString(), end: new Date(end).toISOString(), minutes: windowMinutes };
}

/**
 * The window a rule evaluates at `slot`. Anomaly windows are also aligned to multiples of their length
 * (complete buckets), so the evaluated window and its trailing baseline windows are the query's time
 * buckets.
 */
export function ruleWindow(
  rule: Pick<AlertRule, 'kind' | 'windowMinutes'>,
  slot: Date,
  delayMinutes: number,
): AlertWindow {
  return ruleWindowEndingAt(rule, Date.parse(evaluationWindow(rule.windowMinutes, slot, delayMinutes).end));
}

/**
 * The window a rule evaluates when everything before `endMs` has been delivered (the local pipeline:
 * the evaluation time minus its flush interval, to the second). Anomaly windows align as in
 * {@link ruleWindow}.
 */
export function ruleWindowEndingAt(
  rule: Pick<AlertRule, 'kind' | 'windowMinutes'>,
  endMs: number,
): AlertWindow {
  const ms = rule.windowMinutes * 60_000;
  const end = rule.kind === 'anomaly' ? Math.floor(endMs / ms) * ms : Math.floor(endMs / 1000) * 1000;
  return {
    start: new Date(end - ms).toISOString(),
    end: new Date(end).toISOString(),
    minutes: rule.windowMinutes,
  };
}

/** Evaluation slot of a schedule time: the time floored to the minute (EventBridge `time` carries seconds 00). */
export function evaluationSlot(at: Date): Date {
  return new Date(Math.floor(at.getTime() / 60_000) * 60_000);
}

/** Deterministic alert id: rule, group, status and evaluation time. */
export function alertId(rule: string, groupKey: string, status: AlertStatus, firedAt: string): string {
  return `${rule}|${groupKey}|${status}|${firedAt}`;
}

const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * The `loglake search` command listing the events behind a rule alert, quoted for a POSIX shell.
 * `target` is appended as given (e.g. `--data-dir .loglake/demo` or `--athena --stack LogLake`).
 */
export function searchCommand(
  rule: Pick<AlertRule, 'kind' | 'filter' | 'anomaly'> & Partial<Pick<AlertRule, 'ratio' | 'absence'>>,
  group: Group,
  window: AlertWindow,
  target?: string,
): string | undefined {
  if (rule.kind === 'error_output') return undefined;
  // A ratio alert lists the numerator's events (the failed payments); an absence alert the group's
  // last events, before its silence.
  const match = rule.kind === 'ratio' ? rule.ratio?.match : undefined;
  const args = ['loglake', 'search'];
  const text = rule.filter.text ?? match?.text;
  if (text) args.push(quote(text));
  const since =
    rule.kind === 'absence'
      ? new Date(Date.parse(window.start) - (rule.absence?.baselineMinutes ?? 0) * 60_000).toISOString()
      : window.start;
  args.push('--since', since, '--until', window.end);
  const categories = group.category ? [group.category] : rule.filter.categories;
  if (categories && categories.length > 0) args.push('--category', categories.join(','));
  const levels = group.level
    ? [group.level]
    : rule.kind === 'error_rate' || rule.anomaly?.metric === 'error_rate'
      ? ['ERROR', 'CRITICAL']
      : (match?.levels ?? rule.filter.levels);
  if (levels && levels.length > 0) args.push('--level', levels.join(','));
  const services = group.service ? [group.service] : (match?.services ?? rule.filter.services);
  if (services && services.length > 0) args.push('--service', quote(services.join(',')));
  for (const w of [...(rule.filter.where ?? []), ...(match?.where ?? [])]) args.push('--where', quote(w));
  if (target) args.push(target);
  return args.join(' ');
}

const UNIT_TEXT: Record<string, (v: number) => string> = {
  ratio: (v) => `${(v * 100).toFixed(1)}%`,
  events: (v) => `${v} event${v === 1 ? '' : 's'}`,
  sigma: (v) => `${v.toFixed(1)}σ`,
  objects: (v) => `${v} object${v === 1 ? '' : 's'}`,
  minutes: (v) => `silent ${v} min`,
};

/** `12.5%`, `3 events`, `2.4σ`, or the number with its CloudWatch unit. */
export function formatValue(value: number, unit: string): string {
  const f = UNIT_TEXT[unit];
  return f ? f(value) : `${value}${unit && unit !== 'None' ? ` ${unit}` : ''}`;
}

/** One-line summary, also the email subject (SNS: at most 100 printable ASCII characters). */
export function alertSubject(alert: Alert): string {
  const group = alert.groupKey === '*' ? '' : ` ${alert.groupKey}`;
  const state = alert.status === 'firing' ? (alert.repeat ? 'STILL FIRING' : 'FIRING') : 'RESOLVED';
  const text = `[${alert.severity.toUpperCase()}] ${state} ${alert.rule}${group}: ${formatValue(alert.value, alert.unit)}`;
  // SNS subjects allow only printable ASCII.
  const ascii = text.replace(/σ/g, 'sigma').replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > 100 ? `${ascii.slice(0, 97)}...` : ascii;
}

/** Plain-text body for email and chat: what fired, the figures, samples and how to look. */
export function alertText(alert: Alert): string {
  const lines = [
    alertSubject(alert),
    '',
    alert.description,
    '',
    `value:     ${formatValue(alert.value, alert.unit)} (threshold ${formatValue(alert.threshold, alert.unit)})`,
    `window:    ${alert.window.start} to ${alert.window.end} (${alert.window.minutes} min)`,
    `group:     ${alert.groupKey}`,
    ...(alert.escalatedFrom ? [`escalated: from ${alert.escalatedFrom} to ${alert.severity}`] : []),
    `since:     ${alert.since}`,
    `evaluated: ${alert.firedAt}`,
  ];
  const details = Object.entries(alert.details);
  if (details.length > 0) lines.push(`details:   ${details.map(([k, v]) => `${k}=${v}`).join(' ')}`);
  if (alert.samples.length > 0) lines.push(`samples:   ${alert.samples.join(' ')}`);
  if (alert.search) lines.push('', 'Reproduce:', `  ${alert.search}`);
  lines.push('', `alert id: ${alert.id}`);
  return lines.join('\n');
}

/**
 * An SNS publish of an alert (plain data, the Lambda adds the topic). With `MessageStructure: 'json'`
 * each protocol gets its own body: people (email, SMS) read text, machines (SQS, Lambda, HTTPS webhooks
 * of chat and paging services) read the JSON alert. Message attributes let a subscription filter, e.g.
 * a pager taking only `status = firing`.
 */
export function snsPublication(alert: Alert): {
  Subject: string;
  Message: string;
  MessageStructure: 'json';
  MessageAttributes: Record<string, { DataType: 'String'; StringValue: string }>;
} {
  const json = JSON.stringify(alert);
  const text = alertText(alert);
  const attr = (v: string) => ({ DataType: 'String' as const, StringValue: v });
  return {
    Subject: alertSubject(alert),
    Message: JSON.stringify({
      default: json,
      email: text,
      'email-json': json,
      sms: alertSubject(alert),
      sqs: json,
      lambda: json,
      http: json,
      https: json,
    }),
    MessageStructure: 'json',
    MessageAttributes: {
      severity: attr(alert.severity),
      status: attr(alert.status),
      rule: attr(alert.rule),
      source: attr(alert.source),
    },
  };
}

/**
 * An AWS Chatbot custom notification of an alert (Chatbot posts only messages in its own schemas):
 * title and text, the reproducing search as the next step, threaded per rule and group.
 */
export function chatbotNotification(alert: Alert): {
  version: '1.0';
  source: 'custom';
  id: string;
  content: { textType: 'client-markdown'; title: string; description: string; nextSteps?: string[] };
  metadata: { threadId: string; summary: string; additionalContext: Record<string, string> };
} {
  const subject = alertSubject(alert);
  const lines = alertText(alert).split('\n').slice(2);
  return {
    version: '1.0',
    source: 'custom',
    id: alert.id,
    content: {
      textType: 'client-markdown',
      title: subject,
      description: lines.join('\n').trim(),
      ...(alert.search ? { nextSteps: [`\`${alert.search}\``] } : {}),
    },
    metadata: {
      threadId: `${alert.rule}|${alert.groupKey}`,
      summary: subject,
      additionalContext: { severity: alert.severity, status: alert.status, rule: alert.rule },
    },
  };
}
