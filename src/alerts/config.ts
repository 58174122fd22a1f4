/**
 * The `alerts` slice of the config model (mounted as `alerts` in `src/config.ts`): rules evaluated on a
 * schedule over the lake, the pipeline-health alarms, and who gets notified at which severity.
 *
 * Pure (zod only) so the alarm Lambda, the CDK construct and the local pipeline validate the same way.
 */
import { z } from 'zod';
import { InputError } from '../errors';
import { fieldType, parseCondition, parseField } from '../query/fields';
import { GROUP_COLUMNS, type GroupColumn } from '../query/model';
import { CATEGORIES, type Category, LEVELS } from '../schema';

/** Severities, most urgent first. Each has its own SNS topic. */
export const SEVERITIES = ['critical', 'high', 'medium', 'low'] as const;
export type Severity = (typeof SEVERITIES)[number];
const severity = z.enum(SEVERITIES);

/**
 * What a rule measures.
 * - `error_rate`: (ERROR + CRITICAL) / all events matching the filter, a fraction 0-1.
 * - `count`: events matching the filter.
 * - `anomaly`: z-score of the current window's volume or error rate against the trailing windows.
 * - `error_output`: new objects under the Firehose error prefix (records Firehose could not process).
 * - `absence`: a group that sent events in the trailing baseline sent none in the window.
 * - `percentile`: a percentile (p50…p99) of a numeric field over the window.
 * - `ratio`: events matching the filter and `ratio.match` over events matching the filter, a fraction 0-1.
 */
export const RULE_KINDS = [
  'error_rate',
  'count',
  'anomaly',
  'error_output',
  'absence',
  'percentile',
  'ratio',
] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

/** Columns a rule may group by (the query builder's group columns); one alert per distinct combination. */
export const GROUP_BY_COLUMNS = GROUP_COLUMNS;
export type GroupByColumn = GroupColumn;

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a 24-hour time HH:MM');
const isoInstant = z.string().refine((s) => /^\d{4}-\d{2}-\d{2}T/.test(s) && !Number.isNaN(Date.parse(s)), {
  message: 'an ISO-8601 date-time, e.g. 2025-01-31T22:00:00Z',
});
const timezone = z.string().refine(isTimeZone, { message: 'an IANA time zone, e.g. UTC or Europe/Berlin' });

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** A one-off maintenance window `[start, end)`. */
export const fixedWindowSchema = z
  .strictObject({ start: isoInstant, end: isoInstant, reason: z.string().optional() })
  .superRefine((w, ctx) => {
    if (Date.parse(w.end) <= Date.parse(w.start)) {
      ctx.addIssue({
        code: 'custom',
        path: ['end'],
        input: w.end,
        message: `must be after start (${w.start})`,
      });
    }
  });

/**
 * A recurring maintenance window: on each of `days`, from `from` to `to` local time in `timezone`.
 * `to` earlier than `from` crosses midnight (e.g. sat 23:00 → sun 01:00 is `days: ['sat'], from: '23:00', to: '01:00'`).
 */
export const recurringWindowSchema = z
  .strictObject({
    days: z.array(z.enum(WEEKDAYS)).min(1),
    from: clock,
    to: clock,
    /** @default 'UTC' */
    timezone: timezone.default('UTC'),
    reason: z.string().optional(),
  })
  .superRefine((w, ctx) => {
    if (w.from === w.to) {
      ctx.addIssue({ code: 'custom', path: ['to'], input: w.to, message: 'must differ from `from`' });
    }
  });

export const suppressionWindowSchema = z.union([fixedWindowSchema, recurringWindowSchema]);
export type SuppressionWindow = z.infer<typeof suppressionWindowSchema>;

/**
 * A `--where` expression (`attributes.payment_status=failed`, `duration_ms>1000`): the grammar of
 * `loglake search --where`, so a rule's filter reads like the search that reproduces it. Relative times
 * are refused: a rule is evaluated at many times, a condition must mean the same at each.
 */
const whereExpression = z.string().superRefine((expr, ctx) => {
  try {
    const c = parseCondition(expr);
    if (fieldType(c.field) === 'timestamp') {
      ctx.addIssue({
        code: 'custom',
        message: 'a rule cannot filter on a time field (its window does that)',
      });
    }
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: e instanceof InputError ? e.message : String(e) });
  }
});

export const ruleFilterSchema = z.strictObject({
  /** Only these categories; empty or absent means every category (both tables). */
  categories: z.array(z.enum(CATEGORIES)).optional(),
  /** Only these levels. */
  levels: z.array(z.enum(LEVELS)).optional(),
  /** Only these services (exact match). */
  services: z.array(z.string().min(1)).optional(),
  /** Case-insensitive substring of `message` (or `stack_trace`). */
  text: z.string().min(1).optional(),
  /** Conditions on any field, all of which must hold, as `loglake search --where` takes them. */
  where: z.array(whereExpression).min(1).optional(),
});
export type RuleFilter = z.infer<typeof ruleFilterSchema>;

/** The narrower filter of a `ratio` rule: added to the rule's filter for the numerator. */
export const ratioSchema = z
  .strictObject({
    /** Numerator: events that also match this (e.g. `where: ['attributes.status=failed']`). */
    match: ruleFilterSchema.omit({ categories: true }),
  })
  .superRefine((r, ctx) => {
    if (!Object.values(r.match).some((v) => v !== undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['match'],
        input: r.match,
        message: 'must narrow the filter (levels, services, text or where), or the ratio is always 1',
      });
    }
  });
export type RatioSettings = z.infer<typeof ratioSchema>;

export const percentileSchema = z.strictObject({
  /** Which percentile. */
  fn: z.enum(['p50', 'p90', 'p95', 'p99']),
  /** A numeric field: `duration_ms`, or any field `stats --agg` reads (`attributes.<key>` holding numbers). */
  field: z.string().superRefine((f, ctx) => {
    try {
      const ref = parseField(f);
      if (fieldType(ref) === 'timestamp') {
        ctx.addIssue({ code: 'custom', message: `${f} is a time: a percentile needs a numeric field` });
      }
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: e instanceof InputError ? e.message : String(e) });
    }
  }),
});
export type PercentileSettings = z.infer<typeof percentileSchema>;

export const absenceSchema = z.strictObject({
  /**
   * Minutes before the window in which a group must have sent events to be expected in the window.
   * @default 60
   */
  baselineMinutes: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .default(60),
});
export type AbsenceSettings = z.infer<typeof absenceSchema>;

export const anomalySchema = z.strictObject({
  /** What the z-score is computed on. */
  metric: z.enum(['volume', 'error_rate']),
  /** How many windows before the current one form the baseline (mean and standard deviation). */
  trailingWindows: z.number().int().min(3).max(288),
  /** Which deviations count: a spike (`up`), a drop (`down`) or both. */
  direction: z.enum(['up', 'down', 'both']),
  /**
   * Baseline mean below which a group is not judged (too little traffic for a z-score to mean anything).
   * For `volume` in events per window, for `error_rate` in events per window of the denominator.
   */
  minBaseline: z.number().min(0),
});
export type AnomalySettings = z.infer<typeof anomalySchema>;

/** Rule names are the keys of `alerts.rules`; they appear in messages, state keys and metric names. */
export const RULE_NAME = /^[a-z][a-z0-9-]{1,62}$/;
const ruleName = z
  .string()
  .regex(RULE_NAME, 'lowercase letters, digits and dashes, 2-63 chars, starting with a letter');

/**
 * The built-in channel of security alerts (who reads the lake, security events): on AWS its own SNS topic
 * (KMS-encrypted, TLS only) even when `alerts.channels` does not define it; defining it there (e.g. as
 * `email` to the security team) subscribes its endpoints to that topic.
 */
export const SECURITY_CHANNEL = 'security';

/** Channel names are the keys of `alerts.channels`; they appear in construct ids and topic names. */
export const CHANNEL_NAME = /^[a-z][a-z0-9-]{1,62}$/;
const channelName = z
  .string()
  .regex(CHANNEL_NAME, 'lowercase letters, digits and dashes, 2-63 chars, starting with a letter');

/**
 * Still firing this long after the incident started → notified again at `to`, so that severity's
 * subscribers (and, by the topics' escalation, every more patient one) hear of it.
 */
export const escalationSchema = z.strictObject({
  /** Minutes after the first breaching evaluation. */
  afterMinutes: z
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60),
  /** @default the next more urgent severity (critical stays critical) */
  to: severity.optional(),
});
export type EscalationSettings = z.infer<typeof escalationSchema>;

/** Kinds that carry a settings block of the same name, required for them and refused for the others. */
const KIND_SETTINGS = ['anomaly', 'absence', 'percentile', 'ratio'] as const;

export const alertRuleSchema = z
  .strictObject({
    description: z.string().min(1).max(500),
    severity,
    kind: z.enum(RULE_KINDS),
    filter: ruleFilterSchema.default({}),
    /** One alert per distinct combination of these columns; empty = one alert for everything matched. */
    groupBy: z.array(z.enum(GROUP_BY_COLUMNS)).max(3).default([]),
    /** Length of the evaluated window, in minutes. */
    windowMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60),
    /**
     * The rule breaches when the value is strictly above this: a fraction 0-1 for `error_rate` and
     * `ratio`, a number of events for `count`, a number of standard deviations for `anomaly`, a number
     * of objects for `error_output` (0 = any), the field's unit for `percentile` (e.g. ms). `absence`
     * has none (must be 0): it breaches when the group sent nothing.
     * @default 0
     */
    threshold: z.number().min(0).default(0),
    /** Consecutive breaching evaluations before the rule fires (1 = fire on the first). @default 1 */
    forEvaluations: z.number().int().min(1).max(100).default(1),
    /**
     * Windows with fewer matching events are not judged (1/1 is not a 100% error rate): the events of
     * the window for `error_rate`, `percentile` and the denominator of `ratio`; the events of the
     * baseline for `absence`. A group not judged neither starts nor ends an incident; one held that way
     * for an hour (two windows, if longer) resolves. @default 1
     */
    minEvents: z.number().int().min(1).default(1),
    /** Required for `anomaly`, not allowed otherwise. */
    anomaly: anomalySchema.optional(),
    /** Required for `absence`, not allowed otherwise. */
    absence: absenceSchema.optional(),
    /** Required for `percentile`, not allowed otherwise. */
    percentile: percentileSchema.optional(),
    /** Required for `ratio`, not allowed otherwise. */
    ratio: ratioSchema.optional(),
    /** While firing, send the alert again after this many minutes; 0 = only once per incident. @default 60 */
    renotifyMinutes: z
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 60)
      .default(60),
    /** Maintenance windows during which this rule notifies nobody (state is still kept). @default [] */
    suppress: z.array(suppressionWindowSchema).default([]),
    /** Also notify when the rule stops breaching. @default true */
    notifyResolved: z.boolean().default(true),
    /**
     * Channels (names in `alerts.channels`) that receive this rule's alerts besides its severity's
     * subscribers. @default []
     */
    channels: z.array(channelName).max(10).default([]),
    /** Notify a more urgent severity when still firing after a while. @default none */
    escalation: escalationSchema.optional(),
    /** Turn the rule off without deleting it. @default true */
    enabled: z.boolean().default(true),
  })
  .superRefine((r, ctx) => {
    for (const k of KIND_SETTINGS) {
      if (r.kind === k && !r[k]) {
        ctx.addIssue({ code: 'custom', path: [k], input: r[k], message: `required when kind is ${k}` });
      }
      if (r.kind !== k && r[k]) {
        ctx.addIssue({
          code: 'custom',
          path: [k],
          input: r[k],
          message: `only allowed when kind is ${k} (kind is ${r.kind})`,
        });
      }
    }
    if ((r.kind === 'error_rate' || r.kind === 'ratio') && r.threshold >= 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['threshold'],
        input: r.threshold,
        message: `${r.kind === 'ratio' ? 'a ratio' : 'an error rate'} is a fraction: must be below 1 (0.05 = 5%)`,
      });
    }
    if (r.kind === 'absence' && r.threshold !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['threshold'],
        input: r.threshold,
        message: 'an absence rule breaches when a group sends nothing: leave threshold out (or 0)',
      });
    }
    if (r.escalation?.to && severityRank(r.escalation.to) > severityRank(r.severity)) {
      ctx.addIssue({
        code: 'custom',
        path: ['escalation', 'to'],
        input: r.escalation.to,
        message: `must be at least as urgent as the rule's severity (${r.severity})`,
      });
    }
    if (r.kind === 'error_output') {
      const filtered = Object.values(r.filter).some((v) => v !== undefined);
      if (r.groupBy.length > 0 || filtered) {
        ctx.addIssue({
          code: 'custom',
          path: filtered ? ['filter'] : ['groupBy'],
          input: filtered ? r.filter : r.groupBy,
          message:
            'error_output rules count raw error objects: no filter, no groupBy (they group by error type)',
        });
      }
    }
  });
/** A rule's settings as held in `alerts.rules.<name>`. */
export type AlertRuleSettings = z.infer<typeof alertRuleSchema>;
/** A rule with its name, as the engine uses it. */
export interface AlertRule extends AlertRuleSettings {
  readonly name: string;
}

/** Notification endpoints. A subscription receives every topic at or above `minSeverity` (escalation). */
export const subscriptionSchema = z
  .strictObject({
    protocol: z.enum(['email', 'https', 'sms', 'sqs', 'lambda']),
    /** Email address, https URL (chat webhook, paging service), phone number (E.164) or ARN. */
    endpoint: z.string().min(3),
    minSeverity: severity,
    /** Deliver only `firing` messages (e.g. a pager that has its own resolve flow). @default false */
    firingOnly: z.boolean().default(false),
  })
  .superRefine((s, ctx) => {
    const ok =
      s.protocol === 'email'
        ? /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(s.endpoint)
        : s.protocol === 'https'
          ? /^https:\/\/[^\s]+$/.test(s.endpoint)
          : s.protocol === 'sms'
            ? /^\+[1-9]\d{6,14}$/.test(s.endpoint)
            : new RegExp(`^arn:aws[a-z-]*:${s.protocol}:`).test(s.endpoint);
    if (!ok) {
      const want = {
        email: 'an email address',
        https: 'an https:// URL',
        sms: 'an E.164 phone number (+4915...)',
        sqs: 'an SQS queue ARN',
        lambda: 'a Lambda function ARN',
      }[s.protocol];
      ctx.addIssue({
        code: 'custom',
        path: ['endpoint'],
        input: s.endpoint,
        message: `must be ${want} for protocol ${s.protocol}`,
      });
    }
  });
export type Subscription = z.infer<typeof subscriptionSchema>;

const httpsUrl = z.url({ protocol: /^https$/, error: 'an https:// URL' });
const email = z.string().regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an email address');

/**
 * Where a rule's alerts can go besides its severity's subscribers; each channel is an SNS topic of its
 * own (KMS-encrypted), so who may publish and who receives is set per channel.
 * - `email`: the addresses subscribe to the channel's topic (each confirms once).
 * - `chat`: an https webhook (a chat relay such as a Slack/Teams workflow that accepts SNS) receives the
 *   JSON alert.
 * - `chatbot`: AWS Chatbot posts to a Slack channel (the workspace authorised once in the console);
 *   messages are Chatbot custom notifications.
 * - `paging`: an https Events API endpoint of a paging service (PagerDuty, Opsgenie SNS integrations)
 *   receives the JSON alert; `firing` and `resolved` open and close the incident (dedup by `groupKey`).
 */
export const channelSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('email'), addresses: z.array(email).min(1).max(20) }),
  z.strictObject({ type: z.literal('chat'), webhookUrl: httpsUrl }),
  z.strictObject({
    type: z.literal('chatbot'),
    /** The Slack workspace (team) id, e.g. T0123ABCD, authorised in the AWS Chatbot console. */
    slackWorkspaceId: z.string().regex(/^[A-Z0-9]{9,11}$/, 'a Slack workspace id such as T0123ABCD'),
    /** The Slack channel id, e.g. C0123ABCD (not its name). */
    slackChannelId: z.string().regex(/^[A-Z0-9]{9,11}$/, 'a Slack channel id such as C0123ABCD'),
  }),
  z.strictObject({
    type: z.literal('paging'),
    url: httpsUrl,
    /** Page only on `firing` (for a service that resolves on its own). @default false */
    firingOnly: z.boolean().default(false),
  }),
]);
export type Channel = z.infer<typeof channelSchema>;
export type ChannelType = Channel['type'];

/** CloudWatch alarms on the pipeline itself, and the severity each one is reported with. */
export const PIPELINE_ALARMS = [
  'firehoseDelivery',
  'firehoseThrottling',
  'firehoseFreshness',
  'transformErrors',
  'transformThrottles',
  'processingFailed',
  'reingestFailed',
  'auditForwardFailed',
  'alertingErrors',
  'logGroupsAtFilterLimit',
  'accessLogsDeadLetters',
  'subscriberDeadLetters',
  'deadLettersExpiring',
  'erasureFailedRuns',
  'compactionFailedRuns',
] as const;
export type PipelineAlarm = (typeof PIPELINE_ALARMS)[number];

export const pipelineAlarmsSchema = z.strictObject({
  enabled: z.boolean(),
  /** Oldest record in Firehose not yet delivered to S3, in seconds, above which the freshness alarm fires. */
  freshnessThresholdSeconds: z.number().int().min(60).max(86_400),
  severities: z.strictObject(
    Object.fromEntries(PIPELINE_ALARMS.map((a) => [a, severity])) as Record<PipelineAlarm, typeof severity>,
  ),
});

export const alertsSchema = z
  .strictObject({
    /** Deploy the alerting (topics, schedule, alarm Lambda, alarms, dashboard). */
    enabled: z.boolean(),
    /** Minutes between scheduled evaluations (EventBridge rate; the local pipeline uses it too). */
    scheduleMinutes: z.number().int().min(1).max(60),
    /**
     * Evaluation windows end this many minutes before the evaluation time, because Firehose buffers
     * before it delivers (buffer interval plus processing): a window that ends now would miss the newest
     * events and every error rate would look like a drop in volume.
     */
    delayMinutes: z.number().int().min(0).max(60),
    /** Sample correlation ids attached to an alert (redacted data only). */
    maxSamples: z.number().int().min(0).max(20),
    /**
     * Groups reported per rule evaluation, worst first; bounds query results and message volume. Groups
     * already pending or firing that a full result leaves out are read by one more query.
     */
    maxGroups: z.number().int().min(1).max(1000),
    /**
     * Rules by name. A record (not a list) so an override merges into the defaults: change one field of
     * a default rule, disable it with `enabled: false`, or add a rule under a new name.
     */
    rules: z.record(ruleName, alertRuleSchema, {
      error: (issue) =>
        issue.code === 'invalid_key'
          ? 'rule names: lowercase letters, digits and dashes, 2-63 chars, starting with a letter'
          : undefined,
    }),
    /**
     * Maintenance windows applied to every rule. Not to the pipeline alarms: CloudWatch reports an alarm's
     * change of state once, so a change suppressed would never be reported at all.
     */
    suppress: z.array(suppressionWindowSchema),
    subscriptions: z.array(subscriptionSchema),
    /** Named channels rules may route to (`rules.<name>.channels`). @default {} */
    channels: z
      .record(channelName, channelSchema, {
        error: (issue) =>
          issue.code === 'invalid_key'
            ? 'channel names: lowercase letters, digits and dashes, 2-63 chars, starting with a letter'
            : undefined,
      })
      .default({}),
    pipeline: pipelineAlarmsSchema,
    /** Local pipeline only: alerts are POSTed as JSON to this URL. */
    webhookUrl: z.url({ protocol: /^https?$/ }).optional(),
  })
  .superRefine((a, ctx) => {
    for (const [name, rule] of Object.entries(a.rules)) {
      // Each evaluation reads one window ending at its slot: a shorter window than the time between
      // slots leaves the rest of that time unread, and its events (a CRITICAL security event) unalerted.
      // (A window out of its range is reported by its own check already.)
      if (rule.enabled && rule.windowMinutes >= 1 && rule.windowMinutes < a.scheduleMinutes) {
        ctx.addIssue({
          code: 'custom',
          path: ['rules', name, 'windowMinutes'],
          input: rule.windowMinutes,
          message: `${rule.windowMinutes} minutes is shorter than alerts.scheduleMinutes (${a.scheduleMinutes}): events in the ${a.scheduleMinutes - rule.windowMinutes} minutes between two windows would never be evaluated`,
        });
      }
      rule.channels.forEach((c, i) => {
        if (c !== SECURITY_CHANNEL && !(c in a.channels)) {
          const known = Object.keys(a.channels);
          ctx.addIssue({
            code: 'custom',
            path: ['rules', name, 'channels', i],
            input: c,
            message: `no channel ${JSON.stringify(c)} in alerts.channels (known: ${[SECURITY_CHANNEL, ...known].join(', ')})`,
          });
        }
      });
    }
  });
export type AlertsConfig = z.infer<typeof alertsSchema>;

/** Default rules from the organisation's alerting policy. */
export const DEFAULT_RULES: Record<string, AlertRuleSettings> = {
  'error-rate': {
    description: 'More than 5% of a service’s events are ERROR or CRITICAL over 5 minutes',
    severity: 'high',
    kind: 'error_rate',
    // Debug is sampled and locked categories live in the audit table: neither belongs in a service's rate.
    filter: { categories: ['runtime', 'framework', 'errors', 'api_access'] },
    groupBy: ['service'],
    windowMinutes: 5,
    threshold: 0.05,
    forEvaluations: 1,
    minEvents: 20,
    renotifyMinutes: 60,
    suppress: [],
    notifyResolved: true,
    channels: [],
    enabled: true,
  },
  'security-critical': {
    description: 'Any CRITICAL event in the security category',
    severity: 'critical',
    kind: 'count',
    filter: { categories: ['security'], levels: ['CRITICAL'] },
    groupBy: ['service'],
    windowMinutes: 5,
    threshold: 0,
    forEvaluations: 1,
    minEvents: 1,
    renotifyMinutes: 30,
    suppress: [],
    notifyResolved: true,
    channels: [SECURITY_CHANNEL],
    enabled: true,
  },
  'volume-anomaly': {
    description: 'Event volume of a category deviates more than 2σ from the trailing hour',
    severity: 'medium',
    kind: 'anomaly',
    filter: {},
    groupBy: ['category'],
    windowMinutes: 5,
    threshold: 2,
    forEvaluations: 1,
    minEvents: 1,
    anomaly: { metric: 'volume', trailingWindows: 12, direction: 'both', minBaseline: 10 },
    renotifyMinutes: 120,
    suppress: [],
    notifyResolved: true,
    channels: [],
    enabled: true,
  },
  'bulk-read': {
    description:
      'Someone read the lake in bulk (more than accessAudit.bulkReadRows records returned or exported) or as a persona read a locked category',
    severity: 'high',
    // The access events of the audit category (src/audit/access.ts) carry why a read was flagged.
    kind: 'count',
    filter: { categories: ['audit'], services: ['loglake-access'], where: ['attributes.access.flags!='] },
    groupBy: ['service'],
    windowMinutes: 5,
    threshold: 0,
    forEvaluations: 1,
    minEvents: 1,
    renotifyMinutes: 60,
    suppress: [],
    notifyResolved: true,
    channels: [SECURITY_CHANNEL],
    enabled: true,
  },
  'firehose-errors': {
    description: 'Firehose wrote records it could not process under the error prefix',
    severity: 'high',
    kind: 'error_output',
    filter: {},
    groupBy: [],
    windowMinutes: 15,
    threshold: 0,
    forEvaluations: 1,
    minEvents: 1,
    renotifyMinutes: 60,
    suppress: [],
    notifyResolved: true,
    channels: [],
    enabled: true,
  },
};

export const DEFAULT_ALERTS: AlertsConfig = {
  enabled: true,
  scheduleMinutes: 5,
  delayMinutes: 2,
  maxSamples: 5,
  maxGroups: 50,
  rules: DEFAULT_RULES,
  suppress: [],
  subscriptions: [],
  channels: {},
  pipeline: {
    enabled: true,
    freshnessThresholdSeconds: 900,
    severities: {
      firehoseDelivery: 'critical',
      firehoseThrottling: 'medium',
      firehoseFreshness: 'high',
      transformErrors: 'high',
      transformThrottles: 'medium',
      processingFailed: 'high',
      // Kept, but in its first event's partition (flagged): wrong category, retention and readers.
      reingestFailed: 'high',
      // An audit or security event the audit stream did not receive (it is still in the logs stream).
      auditForwardFailed: 'high',
      alertingErrors: 'high',
      // Such a group's logs never reach the lake until someone frees a filter slot.
      logGroupsAtFilterLimit: 'high',
      // Access-log objects not shipped after three attempts: their lines are not in the lake.
      accessLogsDeadLetters: 'high',
      // New log groups left unsubscribed after three attempts: their logs do not reach the lake.
      subscriberDeadLetters: 'high',
      // A dead-letter message SQS deletes within days (14-day retention): then it is lost for good.
      deadLettersExpiring: 'critical',
      // Due erasures wait for the next run: a legal deadline may pass.
      erasureFailedRuns: 'high',
      // Nothing is lost: the small objects stay until a run succeeds (queries cost more).
      compactionFailedRuns: 'medium',
    },
  },
};

/** Severity rank, 0 = most urgent. */
export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

/** Severities at or above `min` (escalation: a critical alert reaches every subscription up to `min`). */
export function severitiesAtOrAbove(min: Severity): Severity[] {
  return SEVERITIES.filter((s) => severityRank(s) <= severityRank(min));
}

/** The enabled rules, named, in a stable order (by name). */
export function enabledRules(alerts: Pick<AlertsConfig, 'rules'>): AlertRule[] {
  return Object.entries(alerts.rules)
    .filter(([, r]) => r.enabled)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, r]) => ({ ...r, name }));
}

/**
 * The categories whose records a rule's state speaks of: its filter's, or every category when the filter
 * names none (the rule reads both tables). An `error_output` rule counts the raw error output, which may
 * hold records of any category, unredacted: every category as well.
 */
export function ruleCategories(rule: Pick<AlertRule, 'filter' | 'kind'>): readonly Category[] {
  const named = rule.kind === 'error_output' ? undefined : rule.filter.categories;
  return named?.length ? named : CATEGORIES;
}

/**
 * The rules (by name, sorted) whose state a reader of `categories` may see: those all of whose
 * categories it reads. The persona grants (`lib/access.ts`, a `dynamodb:LeadingKeys` condition) and the
 * explorer's alerts page compute it alike, so the page asks only for what the grant allows.
 */
export function rulesReadableWith(
  rules: Readonly<Record<string, Pick<AlertRule, 'filter' | 'kind'>>>,
  categories: readonly Category[],
): string[] {
  return Object.entries(rules)
    .filter(([, rule]) => ruleCategories(rule).every((c) => categories.includes(c)))
    .map(([name]) => name)
    .sort((a, b) => a.localeCompare(b));
}
