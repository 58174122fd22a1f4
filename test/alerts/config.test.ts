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
  it('ships the four default rules of the alerting policy', () => {
    const { alerts } = resolveConfig({});
    expect(Object.keys(alerts.rules).sort()).toEqual([
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
});

describe('severitiesAtOrAbove', () => {
  it('escalates: a high subscription hears critical and high', () => {
    expect(severitiesAtOrAbove('high')).toEqual(['critical', 'high']);
    expect(severitiesAtOrAbove('low')).toEqual(['critical', 'high', 'medium', 'low']);
  });
});
