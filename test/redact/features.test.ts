import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Features } from '../../src/redact/patterns';
import { features } from '../../src/redact/scanners';

/**
 * The character census as it was written before it became table-driven (one branch chain per
 * character): the model the fast one must agree with, count for count.
 */
function isRunSeparator(c: number): boolean {
  return c === 32 || c === 45 || c === 46 || c === 40 || c === 41 || c === 47;
}

function reference(text: string): Omit<Features, 'quotes' | 'doubleColon'> {
  const f: Omit<Features, 'quotes' | 'doubleColon'> = {
    length: text.length,
    digits: 0,
    run: 0,
    base64Run: 0,
    dots: 0,
    dashes: 0,
    plus: 0,
    upper: 0,
    lower: 0,
    at: 0,
    colons: 0,
    equals: 0,
    slashes: 0,
    percent: 0,
  };
  let run = 0;
  let separators = 0;
  let b64 = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      f.digits++;
      run++;
      b64++;
      separators = 0;
      if (run > f.run) f.run = run;
      continue;
    }
    if (c >= 97 && c <= 122) {
      f.lower++;
      b64++;
    } else if (c >= 65 && c <= 90) {
      f.upper++;
      b64++;
    } else {
      if (b64 > f.base64Run) f.base64Run = b64;
      if (c === 47) {
        f.slashes++;
        b64++;
      } else if (c === 43) {
        f.plus++;
        b64++;
      } else {
        b64 = 0;
        if (c === 46) f.dots++;
        else if (c === 45) f.dashes++;
        else if (c === 64) f.at++;
        else if (c === 58) f.colons++;
        else if (c === 61) f.equals++;
        else if (c === 37) f.percent++;
      }
    }
    // `) ` in `(555) 123-4567` is two separators in a row; three end the run.
    if (run > 0 && isRunSeparator(c) && ++separators <= 2) continue;
    run = 0;
    separators = 0;
  }
  if (b64 > f.base64Run) f.base64Run = b64;
  return f;
}

const PARTS = [
  ' ',
  '(',
  ')',
  '-',
  '.',
  '/',
  '+',
  ':',
  '::',
  '=',
  '@',
  '%',
  '"',
  "'",
  '`',
  '\u2018',
  '\u201c',
  '\u2019',
  'a',
  'Z',
  '7',
  '42',
  '#',
  ',',
  '\u00e9',
  '\n',
  '\t',
];
const text = fc.oneof(
  fc.array(fc.constantFrom(...PARTS), { maxLength: 60 }).map((p) => p.join('')),
  fc.string({ unit: 'binary', maxLength: 80 }),
);

describe('features', () => {
  it('counts what the branch-chain census counts, and finds quotes and `::` as the scans did', () => {
    fc.assert(
      fc.property(text, (s) => {
        expect(features(s)).toEqual({
          ...reference(s),
          quotes: [...s].filter((c) => /["'`\u2018\u201c]/.test(c)).length,
          doubleColon: s.includes('::'),
        });
      }),
      { numRuns: 3000 },
    );
  });
});
