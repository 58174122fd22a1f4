import { describe, expect, it } from 'vitest';
import { DEFAULT_ALERTS, enabledRules } from '../../src/alerts/config';
import { streamsFor } from '../../src/alerts/query';
import {
  alarmSettings,
  decodeAlarmSettings,
  encodeAlarmSettings,
  ruleDelayMinutes,
  streamDelays,
} from '../../src/alerts/settings';

const locked = ['security', 'audit'] as const;
const rule = (name: string) => {
  const r = enabledRules(DEFAULT_ALERTS).find((x) => x.name === name);
  if (!r) throw new Error(name);
  return r;
};

describe('streamsFor', () => {
  it('reads a locked category from both streams: the transform keeps what it could not forward in logs', () => {
    expect(streamsFor(rule('security-critical'), locked)).toEqual(['logs', 'audit']);
    expect(streamsFor({ kind: 'count', filter: { categories: ['audit'] } }, locked)).toEqual([
      'logs',
      'audit',
    ]);
  });

  it('reads an unlocked category from the logs stream only, and error objects from none', () => {
    expect(streamsFor(rule('error-rate'), locked)).toEqual(['logs']);
    expect(streamsFor(rule('firehose-errors'), locked)).toEqual([]);
  });
});

describe('streamDelays', () => {
  it('gives a stream buffering longer than the shared delay its buffer in minutes plus one', () => {
    expect(streamDelays(2, { logs: 60, audit: 300 })).toEqual({ audit: 6 });
    expect(streamDelays(2, { logs: 60, audit: 900 })).toEqual({ audit: 16 });
  });

  it('adds nothing when every buffer fits the shared delay', () => {
    expect(streamDelays(2, { logs: 60, audit: 60 })).toEqual({});
    expect(streamDelays(10, { logs: 300, audit: 540 })).toEqual({});
  });
});

describe('ruleDelayMinutes', () => {
  const settings = decodeAlarmSettings(
    encodeAlarmSettings(alarmSettings(DEFAULT_ALERTS, [...locked], { audit: 6 })),
  );

  it('waits for the audit stream in rules over locked categories, or over every category', () => {
    expect(ruleDelayMinutes(rule('security-critical'), settings)).toBe(6);
    expect(ruleDelayMinutes(rule('volume-anomaly'), settings)).toBe(6);
  });

  it('keeps the shared delay for rules reading the logs stream only', () => {
    expect(ruleDelayMinutes(rule('error-rate'), settings)).toBe(2);
  });

  it('keeps the shared delay for error objects, which no stream buffers', () => {
    expect(ruleDelayMinutes(rule('firehose-errors'), settings)).toBe(2);
  });

  it('keeps the shared delay everywhere when no stream needs more', () => {
    const plain = decodeAlarmSettings(encodeAlarmSettings(alarmSettings(DEFAULT_ALERTS, [...locked])));

    expect(plain.streamDelayMinutes).toBeUndefined();
    expect(ruleDelayMinutes(rule('security-critical'), plain)).toBe(2);
  });
});
