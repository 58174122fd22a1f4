import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MIN_BASIC_TEXT,
  MIN_CARD_DIGITS,
  MIN_NUMERIC_DIGITS,
  MIN_TOKEN_TEXT,
} from '../../src/redact/patterns';
import { type RedactionCounts, Redactor } from '../../src/redact/redactor';
import { inert } from '../../src/redact/scanners';

/**
 * The inert-value skip of `Redactor.text` (`inert` in scanners.ts) must never hide a detection: every
 * value it skips comes out of the full scan unchanged, with nothing counted. The generators make many
 * values the skip accepts and many that sit just past its limits, from the corpus's secrets and keeps.
 */
const CORPUS = join(__dirname, '..', '..', '..', 'shared', 'corpus', 'redaction-public.jsonl');
const cases = readFileSync(CORPUS, 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as { secrets: string[]; keep: string[] });
const secrets = cases.flatMap((c) => c.secrets).filter((s) => s.length > 0);
const keeps = cases.flatMap((c) => c.keep).filter((s) => s.length > 0);

const redactor = new Redactor({
  ipv4PrefixLength: 24,
  ipv6PrefixLength: 48,
  extraSensitiveKeys: ['x-api-key'],
  pseudonymKey: 'skip-key',
});

/** A piece of a corpus value: the whole of it, or a window of 6 to 20 characters. */
const pieceOf = (values: readonly string[]) =>
  fc.tuple(fc.constantFrom(...values), fc.nat(), fc.integer({ min: 6, max: 20 })).chain(([v, at, length]) => {
    const start = v.length <= length ? 0 : at % (v.length - length + 1);
    return fc.constantFrom(v, v.slice(start, start + length));
  });
const inertChars = fc.constantFrom(...'abcdsUuABCZ0123456789 ._-/,;()'.split(''));
const nearInert = fc.oneof(
  fc.string({ unit: inertChars, minLength: 6, maxLength: MIN_TOKEN_TEXT + 2 }),
  fc.string({
    unit: fc.constantFrom(...'0123456789'.split('')),
    minLength: 6,
    maxLength: MIN_CARD_DIGITS + 3,
  }),
  fc
    .tuple(fc.constantFrom('user ', 'uid ', 'usr-', 'user_id ', 'User #', 'sub '), fc.nat(999_999))
    .map(([w, n]) => `${w}${n}`),
  fc.string({ unit: fc.constantFrom(...'0123456789 .-()'.split('')), minLength: 6, maxLength: 15 }),
  // A Basic scheme word then base64-like text around MIN_BASIC_TEXT (`Basic YTpi` is `a:b`).
  fc
    .tuple(
      fc.constantFrom('Basic ', 'basic ', 'BASIC ', 'Basic  ', 'xBasic ', 'Basic', 'a Basic '),
      fc.string({
        unit: fc.constantFrom(...'YTpiWIdXNlcjw0123456789/'.split('')),
        minLength: 1,
        maxLength: 9,
      }),
    )
    .map(([w, b]) => `${w}${b}`),
  pieceOf(secrets),
  pieceOf(keeps),
  fc.string({ minLength: 6, maxLength: 15 }),
);

describe('the inert-value skip (properties)', () => {
  it('skips only values the full scan leaves as they are, with nothing counted', () => {
    let skipped = 0;
    let runs = 0;
    fc.assert(
      fc.property(nearInert, (value) => {
        runs++;
        if (!inert(value)) return;
        skipped++;
        const counts: RedactionCounts = {};
        expect(redactor.scan(value, counts)).toBe(value);
        expect(counts).toEqual({});
      }),
      { numRuns: 20_000 },
    );
    // Not vacuous: a good share of the generated values is skipped.
    expect(skipped).toBeGreaterThan(runs / 10);
  });

  it('agrees with the full scan through `text` on every corpus secret and keep value', () => {
    for (const value of [...secrets, ...keeps]) {
      const counts: RedactionCounts = {};
      const full: RedactionCounts = {};
      expect(redactor.text(value, counts)).toBe(redactor.scan(value, full));
      expect(counts).toEqual(full);
    }
  });

  it('does not skip values at the detectors’ minimums', () => {
    expect(MIN_NUMERIC_DIGITS).toBe(4);
    expect(MIN_BASIC_TEXT).toBe('Basic YTpi'.length);
    for (const value of [
      '10.0.0.1',
      '123-45-6789',
      '4111111111111',
      '(555) 123-4567',
      'user 1001',
      'uid 42',
      'a@b.co',
      'x=hunter2',
      '"secret"',
      '{"a":1}',
      'fe80::1',
      '+4420794600',
      'Bearer abcdefghij',
      'Basic YTpi',
      'basic dXNlcjpw',
    ]) {
      expect(inert(value), value).toBe(false);
    }
    for (const value of [
      'checkout',
      'node-1',
      'payments.http',
      '123456789012',
      'GET /a/b',
      'eni-12',
      'Basic ok',
      'database-1',
    ]) {
      expect(inert(value), value).toBe(true);
    }
  });
});
