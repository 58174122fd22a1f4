import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  epochToMs,
  leadingTimestamp,
  parseTimestamp,
  parseTimestampText,
  readTimestampText,
  toIso,
} from '../../src/transform/timestamp';

const T = Date.UTC(2026, 0, 2, 3, 4, 5, 678);

describe('parseTimestampText', () => {
  it.each([
    ['2026-01-02T03:04:05.678Z', T],
    ['2026-01-02T03:04:05.678+00:00', T],
    ['2026-01-02T05:04:05.678+02:00', T],
    ['2026-01-01T22:04:05.678-0500', T],
    ['2026-01-02 03:04:05,678', T],
    ['2026-01-02 03:04:05.678 UTC', T],
    ['2026-01-02T03:04:05.678123456Z', T],
    ['2026/01/02 03:04:05.678', T],
    ['02/Jan/2026:03:04:05 +0000', T - 678],
    ['Fri, 02 Jan 2026 03:04:05 GMT', T - 678],
    ['2026-01-02', Date.UTC(2026, 0, 2)],
    ['1767323045', T - 678],
    ['1767323045678', T],
    ['1767323045.678', T],
  ])('parses %s', (text, expected) => {
    expect(parseTimestampText(text)).toBe(expected);
  });

  it('takes the year closest to the reference for syslog timestamps', () => {
    expect(parseTimestampText('Jan  2 03:04:05', T)).toBe(T - 678);
    expect(parseTimestampText('Dec 31 23:59:59', T)).toBe(Date.UTC(2025, 11, 31, 23, 59, 59));
  });

  it.each([
    '2026-02-30T00:00:00Z',
    '2026-13-01T00:00:00Z',
    'yesterday',
    '12:34',
    '2026-01-02T03:04:05+25:00',
    '',
  ])('rejects %j', (text) => {
    expect(parseTimestampText(text)).toBeUndefined();
  });
});

describe('epochToMs', () => {
  it.each([
    [1767323045, 1767323045000],
    [1767323045678, 1767323045678],
    [1767323045678000, 1767323045678],
    [1767323045678000000, 1767323045678],
  ])('reads %d by magnitude', (n, ms) => {
    expect(epochToMs(n)).toBe(ms);
  });

  it('reads micro- and nanoseconds written in digits (OTLP timeUnixNano) to the exact millisecond (property)', () => {
    // As doubles, an eighth of such nanosecond values land just below their millisecond.
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2001, 0, 1), max: Date.UTC(2099, 0, 1) }), (ms) => {
        expect(parseTimestamp(`${ms}000000`)).toBe(ms);
        expect(parseTimestamp(`${ms}999999`)).toBe(ms);
        expect(parseTimestamp(`${ms}000`)).toBe(ms);
        expect(parseTimestamp(BigInt(`${ms}000000`))).toBe(ms);
      }),
      { numRuns: 2000 },
    );
  });

  it('rejects negative and non-finite numbers', () => {
    expect(epochToMs(-1)).toBeUndefined();
    expect(epochToMs(Number.NaN)).toBeUndefined();
    expect(parseTimestamp(Number.POSITIVE_INFINITY)).toBeUndefined();
  });
});

describe('leadingTimestamp', () => {
  it('finds a bracketed timestamp at the start of a line and its length', () => {
    const line = '[2026-01-02 03:04:05,678] INFO hello';
    expect(leadingTimestamp(line)).toEqual({ ms: T, length: 25, zoneless: true });
  });

  it('finds nothing in a line without a leading timestamp', () => {
    expect(leadingTimestamp('hello 2026-01-02T03:04:05Z')).toBeUndefined();
  });
});

describe('toIso', () => {
  it('writes what Date#toISOString writes, for any instant', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.integer({ min: 0, max: 253_402_300_799_999 }),
          fc.double({ noNaN: true }),
          fc.integer({ min: -1e12, max: 0 }),
        ),
        (ms) => {
          let expected: string;
          try {
            expected = new Date(ms).toISOString();
          } catch {
            expect(() => toIso(ms)).toThrow(RangeError);
            return;
          }
          expect(toIso(ms)).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('writes the right day when instants of a few days alternate (days it remembers, days sharing a slot)', () => {
    const base = Date.parse('2026-06-01T00:00:00Z');
    const instant = fc
      .tuple(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 86_399_999 }))
      .map(([day, ms]) => base + day * 86_400_000 + ms);
    fc.assert(
      fc.property(fc.array(instant, { minLength: 2, maxLength: 40 }), (instants) => {
        for (const ms of instants) expect(toIso(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 500 },
    );
  });
});

describe('epochToMs on epoch seconds', () => {
  it('truncates to the millisecond the seconds were written with, never one below', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 99_999_999_999_999 }),
        fc.integer({ min: 0, max: 999 }),
        (ms, us) => {
          // `ms` milliseconds written as seconds, with and without microseconds after them.
          expect(epochToMs(ms / 1000)).toBe(ms);
          const written = `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}${String(us).padStart(3, '0')}`;
          const withMicros = Number(written);
          // Only where a double holds what was written (16+ significant digits may not).
          if (String(withMicros) === written.replace(/0+$/, '').replace(/\.$/, ''))
            expect(epochToMs(withMicros)).toBe(ms);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('readTimestampText, the canonical forms read without a regex', () => {
  it('reads YYYY-MM-DDTHH:mm:ssZ and …ss.sssZ as Date.parse does, for any instant', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 253_402_300_799_999 }), (ms) => {
        const iso = new Date(ms).toISOString();
        expect(readTimestampText(iso)).toEqual({ ms, zoneless: false });
        const seconds = `${iso.slice(0, 19)}Z`;
        expect(readTimestampText(seconds)).toEqual({ ms: Date.parse(seconds), zoneless: false });
      }),
    );
  });

  it('rejects what the regex path rejects (no rolled-over dates)', () => {
    for (const text of ['2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-01-01T00:61:00Z']) {
      expect(readTimestampText(text)).toBeUndefined();
    }
  });
});
