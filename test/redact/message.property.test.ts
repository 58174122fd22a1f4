import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPseudonym, type Pseudonymizer, pseudonymizeUserId } from '../../src/redact/pseudonym';
import { PROSE_USER_ID, type RedactionCounts, Redactor } from '../../src/redact/redactor';

/**
 * `Redactor.message` finds the prose user id for the user_id column in the scan that pseudonymizes it.
 * It must answer what the separate look-up did before (`userIdInText` in normalize.ts: the first
 * `PROSE_USER_ID` match in the whole message, none when that one is a pseudonym) and redact exactly as
 * `Redactor.text`, through the cache, the inert skip and embedded JSON alike.
 */
function separateLookUp(text: string): string | undefined {
  if (!/u(?:ser|id|sr)/i.test(text)) return undefined;
  PROSE_USER_ID.lastIndex = 0;
  const prose = PROSE_USER_ID.exec(text)?.groups?.id;
  return prose === undefined || isPseudonym(prose) ? undefined : prose;
}

const options = { ipv4PrefixLength: 24, ipv6PrefixLength: 48, extraSensitiveKeys: [], pseudonymKey: 'm-key' };
/** Per-subject pseudonyms, none for ids starting with 9 (pending): pseudonyms in text are not cached. */
const subjects: Pseudonymizer = {
  pseudonym: (id) => (id.startsWith('9') ? undefined : pseudonymizeUserId(id, 'subject-key')),
};

const id = fc.oneof(
  fc.nat(99_999).map(String),
  fc.constantFrom('ab12', 'x-7', '9', '1001', 'u_1', `${pseudonymizeUserId('5', 'm-key')}`),
);
const mention = fc
  .tuple(fc.constantFrom('user ', 'User #', 'uid: ', 'uid=', 'usr-id ', 'user id ', 'user_id=', 'USR:'), id)
  .map(([w, v]) => `${w}${v}`);
const word = fc.constantFrom(
  'login',
  'ok',
  'failed',
  'for',
  'handed over to',
  'at 10.0.0.1',
  'mail a@b.co',
  'v1.2',
);
const piece = fc.oneof(mention, mention, word, fc.string({ maxLength: 8 }));
const prose = fc
  .tuple(fc.array(piece, { maxLength: 5 }), fc.constantFrom(' ', '\n', ', ', ''))
  .map(([parts, sep]) => parts.join(sep));
const message = fc.oneof(
  prose,
  prose,
  prose.map((p) => JSON.stringify({ msg: p })),
  prose.map((p) => JSON.stringify([p, 'user 3'])),
  prose.map((p) => ` {"note": ${JSON.stringify(p)}} `),
  fc.constantFrom('uid 7', 'uid:7', 'usr=1', 'user 1', 'u 1', ''),
);

describe('Redactor.message (properties)', () => {
  it.each([
    ['one lake-wide key', undefined],
    ['per-subject keys', subjects],
  ])('redacts as Redactor.text and finds the id the separate look-up found (%s)', (_what, pseudonyms) => {
    const withMessage = new Redactor({ ...options, pseudonyms });
    const withText = new Redactor({ ...options, pseudonyms });
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 4 }), fc.boolean(), (texts, textFirst) => {
        // Messages recur, and a text may be remembered by `text` before `message` asks for it.
        for (const text of [...texts, ...texts]) {
          if (textFirst) withMessage.text(text, {});
          const counts: RedactionCounts = {};
          const expected: RedactionCounts = {};
          const redacted = withMessage.message(text, counts);

          expect(redacted.text).toBe(withText.text(text, expected));
          expect(counts).toEqual(expected);
          expect(redacted.proseUserId).toBe(separateLookUp(text));
        }
      }),
      { numRuns: 1500 },
    );
  });
});
