import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  holdsUnsafeNumber,
  parseKeepingIntegers,
  parseWithExactIntegers,
  rawInteger,
} from '../src/exact-json';

const ID = '1234567890123456789';

describe('parseWithExactIntegers', () => {
  it('reads an ordinary document as JSON.parse does', () => {
    // Prepare
    const text = '{"a":1,"b":[2.5,-0,1e21,9007199254740991],"c":{"d":"1234567890123456789"},"e":null}';
    // Act
    const parsed = parseWithExactIntegers(text);
    // Assess
    expect(parsed).toEqual(JSON.parse(text));
    expect(Object.is((parsed as { b: number[] }).b[1], -0)).toBe(true);
  });

  it('reads an integer beyond 2^53 as the string of its digits, and leaves every other value alone', () => {
    const parsed = parseWithExactIntegers(
      `{"id":${ID},"n":[-9007199254740993,3,1.5,1E400,12345678901234567890.0]}`,
    );
    expect(parsed).toEqual({
      id: ID,
      n: ['-9007199254740993', 3, 1.5, Number.POSITIVE_INFINITY, 12345678901234567000],
    });
  });

  it('finds such an integer hundreds of levels deep, and survives a document nested far deeper', () => {
    const deep = `${'['.repeat(400)}${ID}${']'.repeat(400)}`;
    expect(JSON.stringify(parseWithExactIntegers(deep))).toContain(`"${ID}"`);
    const deeper = `${'['.repeat(5000)}${ID}${']'.repeat(5000)}`;
    expect(() => parseWithExactIntegers(deeper)).not.toThrow();
  });

  it('throws on text that is not JSON, as JSON.parse does', () => {
    expect(() => parseWithExactIntegers('{"a":')).toThrow(SyntaxError);
  });

  it('gives any JSON document the value JSON.parse gives, except for integers beyond 2^53', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        if (!holdsUnsafeNumber(JSON.parse(text)))
          expect(parseWithExactIntegers(text)).toEqual(JSON.parse(text));
      }),
    );
  });
});

describe('parseKeepingIntegers', () => {
  it('writes an integer beyond 2^53 back digit for digit', () => {
    const text = `{"id":${ID},"list":[1,-${ID}],"x":1.5}`;
    const parsed = parseKeepingIntegers(text) as { id: unknown };
    expect(rawInteger(parsed.id)).toBe(ID);
    expect(JSON.stringify(parsed)).toBe(text);
  });

  it('knows no raw integer in an ordinary value', () => {
    expect(rawInteger({ rawJSON: ID })).toBeUndefined();
    expect(rawInteger(ID)).toBeUndefined();
  });
});
