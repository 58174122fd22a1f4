import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config';
import { ConfigError } from '../../src/errors';
import type { LogRecord } from '../../src/schema';
import { parseTransformConfig, transformConfigSlice } from '../../src/transform';
import { categoryByRules, ruleMatches } from '../../src/transform/categorize';
import { levelFromName, levelFromNumber } from '../../src/transform/level';

const base: LogRecord = {
  timestamp: '2026-01-02T03:04:05.000Z',
  level: 'INFO',
  service: 'svc',
  logger: null,
  message: 'm',
  correlation_id: null,
  trace_id: null,
  span_id: null,
  user_id: null,
  error_type: null,
  stack_trace: null,
  duration_ms: null,
  http_method: null,
  http_path: null,
  http_status: null,
  attributes: {},
  redactions: {},
  ingest_time: '2026-01-02T03:04:05.000Z',
  schema_errors: [],
};

describe('ruleMatches', () => {
  it('requires every condition of the rule', () => {
    const rule = { category: 'security' as const, loggerPrefixes: ['auth'], levels: ['ERROR' as const] };
    expect(ruleMatches(rule, { ...base, logger: 'auth.login', level: 'ERROR' })).toBe(true);
    expect(ruleMatches(rule, { ...base, logger: 'auth.login', level: 'INFO' })).toBe(false);
    expect(ruleMatches(rule, { ...base, logger: 'billing', level: 'ERROR' })).toBe(false);
  });

  it.each([
    ['true', true],
    ['yes', true],
    ['1', true],
    ['false', false],
    ['0', false],
    ['', false],
    ['null', false],
  ])('treats the marker value %j as present: %s', (value, expected) => {
    expect(
      ruleMatches({ category: 'audit', markers: ['audit'] }, { ...base, attributes: { audit: value } }),
    ).toBe(expected);
  });

  it('matches http: false only without HTTP fields', () => {
    expect(ruleMatches({ category: 'runtime', http: false }, base)).toBe(true);
    expect(ruleMatches({ category: 'runtime', http: false }, { ...base, http_status: 200 })).toBe(false);
  });
});

describe('categoryByRules', () => {
  it('takes the first matching rule, prefixes case-insensitively', () => {
    const rules = [
      { category: 'framework' as const, servicePrefixes: ['Edge-'] },
      { category: 'errors' as const, servicePrefixes: ['edge-'] },
    ];
    expect(categoryByRules({ ...base, service: 'EDGE-proxy' }, rules, 'runtime')).toBe('framework');
    expect(categoryByRules(base, rules, 'runtime')).toBe('runtime');
  });
});

describe('levelFromName', () => {
  it.each([
    ['warning', 'WARN'],
    ['FATAL', 'CRITICAL'],
    ['Trace', 'DEBUG'],
    ['notice', 'INFO'],
    ['severe', 'ERROR'],
    [' err ', 'ERROR'],
    ['emergency', 'CRITICAL'],
  ])('maps %j to %s', (name, level) => {
    expect(levelFromName(name)).toBe(level);
  });

  it('returns undefined for an unknown name', () => {
    expect(levelFromName('loud')).toBeUndefined();
  });
});

describe('levelFromNumber', () => {
  it.each([
    [9, 'otel', 'INFO'],
    [13, 'otel', 'WARN'],
    [17, 'otel', 'ERROR'],
    [21, 'otel', 'CRITICAL'],
    [10, 'python', 'DEBUG'],
    [30, 'python', 'WARN'],
    [50, 'python', 'CRITICAL'],
    [0, 'syslog', 'CRITICAL'],
    [3, 'syslog', 'ERROR'],
    [7, 'syslog', 'DEBUG'],
  ] as const)('maps %d on the %s scale to %s', (n, scale, level) => {
    expect(levelFromNumber(n, scale)).toBe(level);
  });

  it('rejects numbers outside the OTel and syslog scales', () => {
    expect(levelFromNumber(25, 'otel')).toBeUndefined();
    expect(levelFromNumber(8, 'syslog')).toBeUndefined();
  });
});

describe('parseTransformConfig', () => {
  it('accepts the slice of a validated configuration', () => {
    const slice = transformConfigSlice(DEFAULT_CONFIG);
    expect(parseTransformConfig(JSON.stringify(slice), 'SETTINGS')).toEqual(slice);
  });

  it('names every invalid field and the value received', () => {
    const slice = transformConfigSlice(DEFAULT_CONFIG);
    const bad = {
      ...slice,
      redaction: { ...slice.redaction, ipv4PrefixLength: 40 },
      transform: { ...slice.transform, defaultCategory: 'audit' },
    };
    const error = (() => {
      try {
        parseTransformConfig(JSON.stringify(bad), 'SETTINGS');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => [p.path, p.received])).toEqual([
      ['SETTINGS.redaction.ipv4PrefixLength', 40],
      ['SETTINGS.transform.defaultCategory', 'audit'],
    ]);
  });

  it('rejects text that is not JSON', () => {
    expect(() => parseTransformConfig('{not json', 'SETTINGS')).toThrow(
      /SETTINGS: not valid JSON: .* \(received "\{not json"\)/,
    );
  });
});
