import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ibanValid, luhnValid } from '../../src/redact/checksums';

describe('luhnValid', () => {
  it.each([
    '4111111111111111',
    '5500005555555559',
    '378282246310005',
    '6011111111111117',
    '2221526667336617',
  ])('accepts the valid card number %s', (digits) => {
    expect(luhnValid(digits)).toBe(true);
  });

  it.each(['4111111111111112', '7526303097261300', '1234567890123456', ''])('rejects %s', (digits) => {
    expect(luhnValid(digits)).toBe(false);
  });

  it('rejects any single-digit change of a valid number', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 1, max: 9 }), (position, delta) => {
        const valid = '4111111111111111';
        const changed = (Number(valid[position]) + delta) % 10;
        const mutated = `${valid.slice(0, position)}${changed}${valid.slice(position + 1)}`;
        expect(luhnValid(mutated)).toBe(false);
      }),
    );
  });
});

describe('ibanValid', () => {
  it.each([
    'DE89370400440532013000',
    'GB29 NWBK 6016 1331 9268 19',
    'FR1420041010050500013M02606',
    'NL91ABNA0417164300',
  ])('accepts the valid IBAN %s', (iban) => {
    expect(ibanValid(iban)).toBe(true);
  });

  it.each([
    ['a wrong checksum', 'DE89370400440532013001'],
    ['a wrong length for the country', 'DE8937040044053201300'],
    ['an unknown country', 'ZZ89370400440532013000'],
  ])('rejects %s', (_why, iban) => {
    expect(ibanValid(iban)).toBe(false);
  });
});
