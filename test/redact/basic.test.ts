import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RedactionCounts, Redactor } from '../../src/redact/redactor';

const redactor = new Redactor({
  ipv4PrefixLength: 24,
  ipv6PrefixLength: 48,
  extraSensitiveKeys: [],
  pseudonymKey: 'basic-key',
});

function redact(text: string): { out: string; counts: RedactionCounts } {
  const counts: RedactionCounts = {};
  return { out: redactor.text(text, counts), counts };
}

const base64 = (s: string) => Buffer.from(s, 'latin1').toString('base64');

describe('Redactor.text (HTTP Basic credentials at any length)', () => {
  it.each([
    ['the shortest credential, `a:b`', 'Basic YTpi', 'YTpi'],
    ['`user:p` alone', 'Basic dXNlcjpw', 'dXNlcjpw'],
    ['`user:p` in prose', 'Authorization header was Basic dXNlcjpw', 'dXNlcjpw'],
    ['a lowercase scheme before a full stop', 'retried with basic YTpi.', 'YTpi'],
    ['an uppercase scheme', 'BASIC Ym9iOnB3 sent', 'Ym9iOnB3'],
    ['an empty password, padded', 'got Basic YWI6', 'YWI6'],
  ])('redacts %s', (_what, text, credential) => {
    // Act
    const { out, counts } = redact(text);

    // Assess
    expect(out).not.toContain(credential);
    expect(out).toMatch(/(?:Basic|basic|BASIC) \[REDACTED:basic_auth\]/);
    expect(counts).toEqual({ basic_auth: 1 });
  });

  it.each([
    ['a word after the scheme', 'Basic auth failed'],
    ['a plan name', 'upgraded to the basic plan'],
    ['a protocol name', 'Basic HTTP authentication required'],
    ['an uppercase mode', 'BASIC mode enabled'],
    ['base64 without a colon (`bob`)', 'Basic Ym9i rejected'],
    ['base64 with a lone last character', 'Basic YTpiY'],
    ['base64 padded past a multiple of four', 'Basic YTpi=='],
  ])('keeps %s', (_what, text) => {
    // Act
    const { out, counts } = redact(text);

    // Assess
    expect(out).toBe(text);
    expect(counts).toEqual({});
  });

  it('redacts a short credential under a field that does not name authorization', () => {
    // Prepare
    const counts: RedactionCounts = {};

    // Act
    const out = redactor.value('context.note', 'Basic YTpi', counts);

    // Assess
    expect(out).toBe('Basic [REDACTED:basic_auth]');
    expect(counts).toEqual({ basic_auth: 1 });
  });
});

/** Printable ASCII without a colon: a user name of HTTP Basic (RFC 7617). */
const userChars = fc.constantFrom(
  ...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).filter((c) => c !== ':'),
);
const printable = fc.constantFrom(...Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)));
const credential = fc
  .tuple(
    fc.string({ unit: userChars, minLength: 1, maxLength: 12 }),
    fc.string({ unit: printable, minLength: 1, maxLength: 12 }),
  )
  .map(([user, password]) => base64(`${user}:${password}`));
const scheme = fc.constantFrom('Basic', 'basic', 'BASIC');

describe('HTTP Basic credentials (properties)', () => {
  it('redacts `Basic <base64 of user:password>` whatever its length, alone or in arbitrary text', () => {
    fc.assert(
      fc.property(
        scheme,
        credential,
        fc.string({ maxLength: 30 }),
        fc.string({ maxLength: 30 }),
        (word, b64, before, after) => {
          expect(redactor.text(`${word} ${b64}`, {})).toBe(`${word} [REDACTED:basic_auth]`);
          expect(redactor.text(`${before} ${word} ${b64} ${after}`, {})).not.toContain(`${word} ${b64}`);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('keeps a word after the scheme whose base64 reading holds no colon', () => {
    const word = fc
      .string({
        unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'),
        minLength: 1,
        maxLength: 12,
      })
      .filter((w) => !Buffer.from(w, 'base64').toString('latin1').includes(':'));
    fc.assert(
      fc.property(scheme, word, (s, w) => {
        const text = `${s} ${w} failed`;
        const counts: RedactionCounts = {};
        expect(redactor.text(text, counts)).toBe(text);
        expect(counts).toEqual({});
      }),
      { numRuns: 2000 },
    );
  });
});
