import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALARM_ENV } from '../../lambdas/alarm/constants';
import { readEnv } from '../../lambdas/alarm/env';
import { type Alert, alertSubject, ruleWindow, snsPublication } from '../../src/alerts/alert';
import { alarmSettings, decodeAlarmSettings, encodeAlarmSettings } from '../../src/alerts/settings';
import { resolveConfig } from '../../src/config';
import { ConfigError } from '../../src/errors';

const alert: Alert = {
  version: 1,
  id: 'error-rate|service=checkout|firing|2025-01-06T12:05:00.000Z',
  source: 'rule',
  status: 'firing',
  rule: 'error-rate',
  description: 'errors',
  severity: 'high',
  kind: 'error_rate',
  value: 0.15,
  threshold: 0.05,
  unit: 'ratio',
  window: { start: '2025-01-06T11:58:00.000Z', end: '2025-01-06T12:03:00.000Z', minutes: 5 },
  group: { service: 'checkout' },
  groupKey: 'service=checkout',
  firedAt: '2025-01-06T12:05:00.000Z',
  since: '2025-01-06T12:05:00.000Z',
  repeat: false,
  samples: ['c-1'],
  details: { errors: 30, total: 200 },
  search: 'loglake search --since x',
};

describe('snsPublication', () => {
  it('gives people text and machines the JSON alert, with filterable attributes', () => {
    const p = snsPublication(alert);
    const bodies = JSON.parse(p.Message) as Record<string, string>;
    expect(JSON.parse(bodies.sqs ?? '')).toEqual(alert);
    expect(JSON.parse(bodies.https ?? '')).toEqual(alert);
    expect(bodies.email).toContain('value:     15.0% (threshold 5.0%)');
    expect(bodies.email).toContain('loglake search --since x');
    expect(p.MessageAttributes.status).toEqual({ DataType: 'String', StringValue: 'firing' });
  });
});

describe('alertSubject', () => {
  it('stays within SNS subject rules (printable ASCII, at most 100 characters) for any group', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.double({ noNaN: true }), (group, value) => {
        const s = alertSubject({ ...alert, groupKey: group, value, unit: 'sigma' });
        expect(s.length).toBeLessThanOrEqual(100);
        expect(s).toMatch(/^[\x20-\x7e]*$/);
      }),
    );
  });
});

describe('ruleWindow', () => {
  it('ends whole minutes delayMinutes before the slot', () => {
    expect(ruleWindow({ kind: 'count', windowMinutes: 5 }, new Date('2025-01-06T12:07:31Z'), 2)).toEqual({
      start: '2025-01-06T12:00:00.000Z',
      end: '2025-01-06T12:05:00.000Z',
      minutes: 5,
    });
  });

  it('aligns anomaly windows to multiples of their length', () => {
    expect(ruleWindow({ kind: 'anomaly', windowMinutes: 5 }, new Date('2025-01-06T12:09:00Z'), 2)).toEqual({
      start: '2025-01-06T12:00:00.000Z',
      end: '2025-01-06T12:05:00.000Z',
      minutes: 5,
    });
  });
});

describe('alarm settings', () => {
  it('round-trip through the environment encoding with the enabled rules only', () => {
    const config = resolveConfig({ alerts: { rules: { 'volume-anomaly': { enabled: false } } } });
    const encoded = encodeAlarmSettings(alarmSettings(config.alerts, ['security', 'audit']));
    const decoded = decodeAlarmSettings(encoded);
    expect(Object.keys(decoded.rules).sort()).toEqual([
      'bulk-read',
      'error-rate',
      'firehose-errors',
      'security-critical',
    ]);
    expect(decoded.rules['error-rate']).toEqual(config.alerts.rules['error-rate']);
    // The whole default rule set fits comfortably in Lambda's 4 KB environment.
    expect(encoded.length).toBeLessThan(1500);
  });

  it('rejects a value that is not an encoding of settings', () => {
    expect(() => decodeAlarmSettings('not-deflate')).toThrow(ConfigError);
  });
});

describe('readEnv', () => {
  it('names each missing or malformed variable', () => {
    const error = (() => {
      try {
        readEnv({ [ALARM_ENV.topics]: '{"critical":"nope"}' });
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected readEnv to throw');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(ALARM_ENV.settings);
    expect(error.message).toContain(ALARM_ENV.table);
    expect(error.message).toContain(
      `${ALARM_ENV.topics}.critical: Invalid string: must start with "arn:" (received "nope")`,
    );
    expect(error.message).toContain(
      `${ALARM_ENV.topics}.high: Invalid input: expected string, received undefined`,
    );
  });
});
