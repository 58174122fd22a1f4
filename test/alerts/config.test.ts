import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES, enabledRules, severitiesAtOrAbove } from '../../src/alerts/config';
import { resolveConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';

/** The problems of an invalid override, as `path: message` lines. */
function problems(override: unknown): string[] {
  try {
    resolveConfig(override);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
  throw new Error('expected the override to be rejected');
}

const rule = { description: 'd', severity: 'low', kind: 'count', windowMinutes: 5, threshold: 1 };

describe('alerts config', () => {
  it('ships the five default rules of the alerting policy', () => {
    const { alerts } = resolveConfig({});
    expect(Object.keys(alerts.rules).sort()).toEqual([
      'bulk-read',
      'error-rate',
      'firehose-errors',
      'security-critical',
      'volume-anomaly',
    ]);
    expect(alerts.rules['error-rate']).toMatchObject({
      kind: 'error_rate',
      threshold: 0.05,
      windowMinutes: 5,
      groupBy: ['service'],
    });
    expect(alerts.rules['security-critical']).toMatchObject({
      kind: 'count',
      threshold: 0,
      filter: { categories: ['security'], levels: ['CRITICAL'] },
      severity: 'critical',
    });
    expect(alerts.rules['volume-anomaly']).toMatchObject({
      kind: 'anomaly',
      threshold: 2,
      groupBy: ['category'],
    });
    expect(alerts.rules['firehose-errors']).toMatchObject({ kind: 'error_output', threshold: 0 });
  });

  it('merges an override into a default rule field by field', () => {
    const { alerts } = resolveConfig({ alerts: { rules: { 'error-rate': { threshold: 0.1 } } } });
    expect(alerts.rules['error-rate']).toEqual({ ...DEFAULT_RULES['error-rate'], threshold: 0.1 });
  });

  it('adds a new rule with the documented defaults filled in', () => {
    const { alerts } = resolveConfig({ alerts: { rules: { 'payments-5xx': rule } } });
    expect(alerts.rules['payments-5xx']).toMatchObject({
      filter: {},
      groupBy: [],
      forEvaluations: 1,
      minEvents: 1,
      renotifyMinutes: 60,
      suppress: [],
      notifyResolved: true,
      enabled: true,
    });
  });

  it('leaves disabled rules out of enabledRules and names the others', () => {
    const config = resolveConfig({ alerts: { rules: { 'volume-anomaly': { enabled: false } } } });
    expect(enabledRules(config.alerts).map((r) => r.name)).toEqual([
      'bulk-read',
      'error-rate',
      'firehose-errors',
      'security-critical',
    ]);
  });

  it('rejects a rule name that is not a slug', () => {
    expect(problems({ alerts: { rules: { 'Bad Name': rule } } })).toEqual([
      'loglake.alerts.rules.Bad Name: rule names: lowercase letters, digits and dashes, 2-63 chars, starting with a letter',
    ]);
  });

  it('rejects an unknown severity and kind, naming the field', () => {
    const p = problems({ alerts: { rules: { x1: { ...rule, severity: 'urgent', kind: 'median' } } } });
    expect(p.map((l) => l.split(':')[0])).toEqual([
      'loglake.alerts.rules.x1.severity',
      'loglake.alerts.rules.x1.kind',
    ]);
  });

  it('requires anomaly settings for an anomaly rule and forbids them elsewhere', () => {
    expect(problems({ alerts: { rules: { x1: { ...rule, kind: 'anomaly' } } } })).toEqual([
      'loglake.alerts.rules.x1.anomaly: required when kind is anomaly',
    ]);
    const settings = { metric: 'volume', trailingWindows: 12, direction: 'up', minBaseline: 0 };
    expect(problems({ alerts: { rules: { x1: { ...rule, anomaly: settings } } } })).toEqual([
      'loglake.alerts.rules.x1.anomaly: only allowed when kind is anomaly (kind is count)',
    ]);
  });

  it('rejects an error-rate threshold given as a percentage', () => {
    expect(problems({ alerts: { rules: { 'error-rate': { threshold: 5 } } } })).toEqual([
      'loglake.alerts.rules.error-rate.threshold: an error rate is a fraction: must be below 1 (0.05 = 5%)',
    ]);
  });

  it('rejects filters on an error_output rule', () => {
    expect(problems({ alerts: { rules: { 'firehose-errors': { filter: { text: 'x' } } } } })).toEqual([
      'loglake.alerts.rules.firehose-errors.filter: error_output rules count raw error objects: no filter, no groupBy (they group by error type)',
    ]);
  });

  it('rejects window, forEvaluations and renotify values out of range', () => {
    const p = problems({
      alerts: { rules: { x1: { ...rule, windowMinutes: 0, forEvaluations: 0, renotifyMinutes: -1 } } },
    });
    expect(p.map((l) => l.split(':')[0])).toEqual([
      'loglake.alerts.rules.x1.windowMinutes',
      'loglake.alerts.rules.x1.forEvaluations',
      'loglake.alerts.rules.x1.renotifyMinutes',
    ]);
  });

  it('rejects malformed maintenance windows with the field at fault', () => {
    const p = problems({
      alerts: {
        suppress: [
          { days: ['mon'], from: '25:00', to: '01:00', timezone: 'Mars/Base' },
          { start: '2025-01-02T00:00:00Z', end: '2025-01-01T00:00:00Z' },
          { days: ['funday'], from: '01:00', to: '02:00' },
        ],
      },
    });
    expect(p.map((l) => l.split(':')[0])).toEqual(
      expect.arrayContaining([
        'loglake.alerts.suppress.0.from',
        'loglake.alerts.suppress.0.timezone',
        'loglake.alerts.suppress.1.end',
      ]),
    );
    expect(p.some((l) => l.startsWith('loglake.alerts.suppress.2'))).toBe(true);
  });

  it('checks subscription endpoints against their protocol', () => {
    const p = problems({
      alerts: {
        subscriptions: [
          { protocol: 'email', endpoint: 'oncall', minSeverity: 'high' },
          { protocol: 'https', endpoint: 'http://chat.example.com/hook', minSeverity: 'high' },
          { protocol: 'sqs', endpoint: 'arn:aws:sns:eu-west-1:1:x', minSeverity: 'low' },
        ],
      },
    });
    expect(p).toEqual([
      'loglake.alerts.subscriptions.0.endpoint: must be an email address for protocol email',
      'loglake.alerts.subscriptions.1.endpoint: must be an https:// URL for protocol https',
      'loglake.alerts.subscriptions.2.endpoint: must be an SQS queue ARN for protocol sqs',
    ]);
  });

  it('rejects a webhook that is not http(s) and a schedule out of range', () => {
    const p = problems({ alerts: { webhookUrl: 'ftp://x', scheduleMinutes: 0 } });
    expect(p.map((l) => l.split(':')[0])).toEqual([
      'loglake.alerts.scheduleMinutes',
      'loglake.alerts.webhookUrl',
    ]);
  });
  it('refuses a schedule longer than an enabled rule’s window: the minutes between windows would go unseen', () => {
    // Prepare: evaluations every 15 minutes, the default rules' 5-minute windows; one rule turned off.
    const override = {
      alerts: { scheduleMinutes: 15, rules: { 'volume-anomaly': { enabled: false } } },
    };
    // Act
    const p = problems(override);
    // Assess: each enabled rule whose window is shorter is named; the 15-minute one and the disabled one are not.
    expect(p).toEqual([
      'loglake.alerts.rules.error-rate.windowMinutes: 5 minutes is shorter than alerts.scheduleMinutes (15): events in the 10 minutes between two windows would never be evaluated',
      'loglake.alerts.rules.security-critical.windowMinutes: 5 minutes is shorter than alerts.scheduleMinutes (15): events in the 10 minutes between two windows would never be evaluated',
      'loglake.alerts.rules.bulk-read.windowMinutes: 5 minutes is shorter than alerts.scheduleMinutes (15): events in the 10 minutes between two windows would never be evaluated',
    ]);
    expect(
      problems({
        alerts: {
          scheduleMinutes: 15,
          rules: Object.fromEntries(Object.keys(DEFAULT_RULES).map((n) => [n, { windowMinutes: 15 }])),
          webhookUrl: 'ftp://x',
        },
      }),
    ).toEqual(['loglake.alerts.webhookUrl: Invalid URL']);
  });
});

describe('alerts config: absence, percentile, ratio, channels, escalation', () => {
  it('requires each kind its settings, and names a bad field, condition or percentile', () => {
    expect(problems({ alerts: { rules: { x1: { ...rule, kind: 'absence', threshold: 0 } } } })).toEqual([
      'loglake.alerts.rules.x1.absence: required when kind is absence',
    ]);
    const p = problems({
      alerts: {
        rules: {
          p1: { ...rule, kind: 'percentile', percentile: { fn: 'p95', field: 'timestamp' } },
          p2: { ...rule, kind: 'percentile', percentile: { fn: 'p42', field: 'duration_ms' } },
          r1: { ...rule, kind: 'ratio', threshold: 0.1, ratio: { match: { where: ['nosuchfield=1'] } } },
          r2: { ...rule, kind: 'ratio', threshold: 10, ratio: { match: {} } },
          a1: { ...rule, kind: 'absence', threshold: 3, absence: {} },
          c1: {
            ...rule,
            filter: { where: ['attributes.status failed'] },
            percentile: { fn: 'p50', field: 'x' },
          },
        },
      },
    });
    expect(p.map((l) => l.split(': ')[0])).toEqual([
      'loglake.alerts.rules.p1.percentile.field',
      'loglake.alerts.rules.p2.percentile.fn',
      'loglake.alerts.rules.r1.ratio.match.where.0',
      'loglake.alerts.rules.r2.ratio.match',
      'loglake.alerts.rules.r2.threshold',
      'loglake.alerts.rules.a1.threshold',
      'loglake.alerts.rules.c1.filter.where.0',
      'loglake.alerts.rules.c1.percentile.field',
      'loglake.alerts.rules.c1.percentile',
    ]);
    expect(p.find((l) => l.includes('r1'))).toContain('nosuchfield');
  });

  it('accepts the kinds with their defaults', () => {
    const { alerts } = resolveConfig({
      alerts: {
        rules: {
          quiet: { ...rule, kind: 'absence', threshold: undefined, absence: {} },
          slow: { ...rule, kind: 'percentile', percentile: { fn: 'p99', field: 'attributes.latency_ms' } },
        },
      },
    });
    expect(alerts.rules.quiet).toMatchObject({
      threshold: 0,
      absence: { baselineMinutes: 60 },
      channels: [],
    });
    expect(alerts.rules.slow?.percentile).toEqual({ fn: 'p99', field: 'attributes.latency_ms' });
  });

  it('checks channels: each type its fields, and a rule names only defined channels', () => {
    const p = problems({
      alerts: {
        channels: {
          mail: { type: 'email', addresses: ['not-an-address'] },
          pager: { type: 'paging', url: 'http://events.example.com' },
          slack: { type: 'chatbot', slackWorkspaceId: 'T0123ABCD', slackChannelId: '#general' },
          Bad: { type: 'chat', webhookUrl: 'https://chat.example.com/x' },
        },
        rules: {
          x1: { ...rule, severity: 'high', escalation: { afterMinutes: 10, to: 'low' } },
        },
      },
    });
    expect(p).toEqual(
      expect.arrayContaining([
        'loglake.alerts.channels.mail.addresses.0: an email address',
        'loglake.alerts.channels.pager.url: an https:// URL',
        'loglake.alerts.channels.slack.slackChannelId: a Slack channel id such as C0123ABCD',
        "loglake.alerts.rules.x1.escalation.to: must be at least as urgent as the rule's severity (high)",
      ]),
    );
    expect(p.some((l) => l.startsWith('loglake.alerts.channels') && l.includes('channel names'))).toBe(true);
    const q = problems({
      alerts: {
        channels: { mail: { type: 'email', addresses: ['a@example.com'] } },
        rules: { x1: { ...rule, channels: ['mail', 'nowhere'] } },
      },
    });
    expect(q).toEqual([
      'loglake.alerts.rules.x1.channels.1: no channel "nowhere" in alerts.channels (known: security, mail)',
    ]);
  });
});

describe('alerts config: pipeline alarms', () => {
  it('reports work waiting in a dead-letter queue as high, and as critical when SQS is about to delete it', () => {
    const { severities } = resolveConfig({}).alerts.pipeline;
    expect(severities).toMatchObject({
      accessLogsDeadLetters: 'high',
      subscriberDeadLetters: 'high',
      deadLettersExpiring: 'critical',
    });
  });

  it('reports failed erasure runs as high (a due erasure is late) and failed compactions as medium (nothing lost)', () => {
    const { severities } = resolveConfig({}).alerts.pipeline;
    expect(severities).toMatchObject({ erasureFailedRuns: 'high', compactionFailedRuns: 'medium' });
  });

  it('takes another severity for a new kind and refuses an unknown one', () => {
    const { alerts } = resolveConfig({
      alerts: { pipeline: { severities: { compactionFailedRuns: 'low', deadLettersExpiring: 'high' } } },
    });
    expect(alerts.pipeline.severities).toMatchObject({
      compactionFailedRuns: 'low',
      deadLettersExpiring: 'high',
      erasureFailedRuns: 'high',
    });
    expect(
      problems({ alerts: { pipeline: { severities: { erasureFailedRuns: 'urgent' } } } }).join('\n'),
    ).toMatch(/alerts\.pipeline\.severities\.erasureFailedRuns/);
  });
});

describe('severitiesAtOrAbove', () => {
  it('escalates: a high subscription hears critical and high', () => {
    expect(severitiesAtOrAbove('high')).toEqual(['critical', 'high']);
    expect(severitiesAtOrAbove('low')).toEqual(['critical', 'high', 'medium', 'low']);
  });
});
