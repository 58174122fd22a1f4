import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstNonBlank, isTrimmed, trimEndBlank, withoutTrailingNewlines } from '../../src/transform/chars';

/** Strings rich in every character `trim()` removes, and a few it keeps. */
const blanky = fc
  .array(
    fc.constantFrom(
      ' ',
      '\t',
      '\n',
      '\r',
      '\v',
      '\f',
      '\u00a0',
      '\u1680',
      '\u2000',
      '\u200a',
      '\u200b',
      '\u2028',
      '\u2029',
      '\u202f',
      '\u205f',
      '\u3000',
      '\ufeff',
      '\u0085',
      'a',
      '{',
      '7',
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''));
const text = fc.oneof(blanky, fc.string(), fc.string({ unit: 'binary' }));

describe('hot-path character tests agree with the String methods they replace', () => {
  it('isTrimmed is the set trim() removes, for every UTF-16 code unit', () => {
    for (let c = 0; c <= 0xffff; c++) {
      expect(isTrimmed(c), `U+${c.toString(16)}`).toBe(String.fromCharCode(c).trim() === '');
    }
  });

  it('firstNonBlank', () => {
    fc.assert(
      fc.property(text, (s) => {
        expect(firstNonBlank(s) < 0).toBe(s.trim() === '');
        if (firstNonBlank(s) >= 0) expect(s.slice(firstNonBlank(s))).toBe(s.trimStart());
      }),
      { numRuns: 2000 },
    );
  });

  it('withoutTrailingNewlines and trimEndBlank', () => {
    fc.assert(
      fc.property(text, (s) => {
        expect(withoutTrailingNewlines(s)).toBe(s.replace(/[\r\n]+$/, ''));
        expect(trimEndBlank(s)).toBe(s.replace(/\s+$/, ''));
      }),
      { numRuns: 2000 },
    );
  });
});
