import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors';
import { parseDuration, parseTime } from '../../src/time';

const now = new Date('2026-11-22T12:00:00.000Z');

describe('parseTime', () => {
  it.each([
    ['15m', '2026-11-22T11:45:00.000Z'],
    ['2h', '2026-11-22T10:00:00.000Z'],
    ['7d', '2026-11-15T12:00:00.000Z'],
    ['1w', '2026-11-15T12:00:00.000Z'],
    ['30s', '2026-11-22T11:59:30.000Z'],
    ['now', '2026-11-22T12:00:00.000Z'],
    ['2026-11-20', '2026-11-20T00:00:00.000Z'],
    ['2026-11-20T08:30', '2026-11-20T08:30:00.000Z'],
    ['2026-11-20T08:30:15Z', '2026-11-20T08:30:15.000Z'],
    ['2026-11-20T08:30:15.5Z', '2026-11-20T08:30:15.500Z'],
    ['2026-11-20 08:30:15.123456', '2026-11-20T08:30:15.123Z'],
    ['2026-11-20T10:30:00+02:00', '2026-11-20T08:30:00.000Z'],
    ['2026-11-20T03:30:00-0500', '2026-11-20T08:30:00.000Z'],
    ['1795341600000', '2026-11-22T10:00:00.000Z'],
  ])('reads %s as %s', (input, expected) => {
    // Act
    const got = parseTime(input, '--since', now);

    // Assess
    expect(got.toISOString()).toBe(expected);
  });

  it.each(['yesterday', '15x', '-5m', '2026-02-30', '2026-11-20T25:00', '', '15 minutes'])(
    'rejects %j with an InputError naming the flag and the value',
    (input) => {
      // Act
      const act = () => parseTime(input, '--since', now);

      // Assess
      expect(act).toThrow(InputError);
      expect(act).toThrow(`--since: cannot understand ${JSON.stringify(input)}`);
    },
  );
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['5m', 300_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
  ])('reads %s as %d ms', (input, expected) => {
    // Act
    const got = parseDuration(input);

    // Assess
    expect(got).toBe(expected);
  });

  it.each(['0m', 'soon', '5', '-1h'])('rejects %j', (input) => {
    // Act
    const act = () => parseDuration(input, '--interval');

    // Assess
    expect(act).toThrow(/--interval: cannot understand/);
  });
});
