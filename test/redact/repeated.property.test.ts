import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { type Pseudonymizer, pseudonymizeUserId } from '../../src/redact/pseudonym';
import { type RedactionCounts, Redactor } from '../../src/redact/redactor';

/**
 * Long texts (512 characters and more: stack traces, dumped payloads) are remembered whole, looked up by
 * a fingerprint of their length, head and tail. Whatever the order and repetition of texts, and however
 * many share a fingerprint, `text` and `message` must answer exactly what a redactor that never saw the
 * text before answers; and under per-subject keys a text that held a pseudonym (or a pending one) is
 * never replayed, since its key may since have been erased or arrived.
 */
const options = { ipv4PrefixLength: 24, ipv6PrefixLength: 48, extraSensitiveKeys: [], pseudonymKey: 'r-key' };

const HEAD = 'java.lang.IllegalStateException: checkout failed for the request handed over\n';
const TAIL = '\n\tat java.base/java.lang.Thread.run(Thread.java:1583)\n\t... 42 more';
const FRAME = '\tat com.example.shop.CheckoutService.place(CheckoutService.java:118)\n';
/** Middles of one length, so texts made of them collide on the fingerprint: secrets, ids, plain words. */
const MIDDLES = [
  'password=hunter22x ',
  'user 1001 signed in',
  'user 9001 signed in',
  'uid: 9002 logged on',
  'mail jo@ex.co sent ',
  'card 4111111111111111'.slice(0, 19),
  'plain words here ok',
  '{"token":"abc123x"}',
  'ip 203.0.113.7 seen',
  'Bearer abcdefgh123 ',
].map((m) => m.padEnd(19, ' ').slice(0, 19));

const longText = fc
  .tuple(fc.constantFrom(...MIDDLES), fc.constantFrom(...MIDDLES), fc.integer({ min: 6, max: 9 }))
  .map(([a, b, frames]) => `${HEAD}${a}\n${FRAME.repeat(frames)}${b}${TAIL}`);
const shortOrJson = fc.oneof(
  fc.constantFrom(...MIDDLES),
  fc.constantFrom(...MIDDLES).map((m) => JSON.stringify({ note: `${m}${FRAME.repeat(8)}` })),
);
const texts = fc.array(fc.oneof(longText, longText, longText, shortOrJson), { minLength: 1, maxLength: 12 });

/** Per-subject keys: ids starting with 9 have none until they are made available (then they do). */
function subjectsWith(available: Set<string>): Pseudonymizer {
  return {
    pseudonym: (id) =>
      id.startsWith('9') && !available.has(id) ? undefined : pseudonymizeUserId(id, 'subject-key'),
  };
}

describe('Redactor, long texts remembered whole (properties)', () => {
  it('redacts every text, repeated or colliding, as a redactor that never saw it', () => {
    fc.assert(
      fc.property(texts, fc.boolean(), (sequence, asMessage) => {
        const remembering = new Redactor(options);
        for (const text of [...sequence, ...sequence]) {
          const fresh = new Redactor(options);
          const counts: RedactionCounts = {};
          const expected: RedactionCounts = {};
          if (asMessage) {
            const got = remembering.message(text, counts);
            const want = fresh.message(text, expected);
            expect(got).toEqual(want);
          } else {
            expect(remembering.text(text, counts)).toBe(fresh.text(text, expected));
          }
          expect(counts).toEqual(expected);
          // The bound's bookkeeping: the characters counted are those of the texts held.
          const held = remembering as unknown as {
            repeated: Map<string, { text: string }>;
            repeatedChars: number;
          };
          let chars = 0;
          for (const entry of held.repeated.values()) chars += entry.text.length;
          expect(held.repeatedChars).toBe(chars);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('under per-subject keys, never replays a text that held a pseudonym, pending or not', () => {
    fc.assert(
      fc.property(
        texts,
        fc.array(fc.constantFrom('9001', '9002'), { maxLength: 2 }),
        fc.nat(12),
        (sequence, arriving, at) => {
          const available = new Set<string>();
          const remembering = new Redactor({ ...options, pseudonyms: subjectsWith(available) });
          const all = [...sequence, ...sequence];
          all.forEach((text, i) => {
            // Keys arrive mid-sequence: a text redacted with a pending pseudonym must not be replayed.
            if (i === at) for (const id of arriving) available.add(id);
            const fresh = new Redactor({ ...options, pseudonyms: subjectsWith(new Set(available)) });
            const counts: RedactionCounts = {};
            const expected: RedactionCounts = {};
            expect(remembering.text(text, counts)).toBe(fresh.text(text, expected));
            expect(counts).toEqual(expected);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('Redactor, the bound on long texts remembered', () => {
  it('counts the characters of the texts it holds when a full cache meets a fingerprint collision', () => {
    // Prepare: as many distinct long texts as the cache holds, the last one then met again changed inside.
    const redactor = new Redactor(options);
    const held = redactor as unknown as { repeated: Map<string, { text: string }>; repeatedChars: number };
    const texts = Array.from({ length: 256 }, (_, i) => `${i} ${HEAD}plain words\n${FRAME.repeat(8)}${TAIL}`);
    const last = texts[texts.length - 1] as string;
    const changed = last.replace('plain words', 'plain Words');

    // Act
    for (const text of texts) redactor.text(text, {});
    redactor.text(changed, {});

    // Assess
    let chars = 0;
    for (const entry of held.repeated.values()) chars += entry.text.length;
    expect(held.repeatedChars).toBe(chars);
    expect(held.repeatedChars).toBeGreaterThan(0);
    expect(held.repeated.size).toBe(256);
  });
});

describe('Redactor, an exception storm', () => {
  it('scans a repeated long trace once, and counts its replacements every time', () => {
    // Prepare
    const redactor = new Redactor(options);
    const trace = `${HEAD}password=hunter22x \n${FRAME.repeat(40)}${TAIL}`;
    const scans = vi.spyOn(redactor as unknown as { scanText: () => string }, 'scanText');

    // Act
    const results = Array.from({ length: 50 }, () => {
      const counts: RedactionCounts = {};
      return { out: redactor.text(trace, counts), counts };
    });

    // Assess
    expect(scans).toHaveBeenCalledTimes(1);
    expect(new Set(results.map((r) => r.out)).size).toBe(1);
    expect(results[0]?.out).not.toContain('hunter22x');
    for (const r of results) expect(r.counts).toEqual(results[0]?.counts);
    expect(Object.keys(results[0]?.counts ?? {}).length).toBeGreaterThan(0);
  });

  it('scans again a text of the same length, head and tail that differs in the middle', () => {
    // Prepare
    const redactor = new Redactor(options);
    const plain = `${HEAD}plain words here ok\n${FRAME.repeat(40)}${TAIL}`;
    const secret = `${HEAD}password=hunter22x \n${FRAME.repeat(40)}${TAIL}`;
    expect(plain.length).toBe(secret.length);

    // Act
    const first = redactor.text(plain, {});
    const second = redactor.text(secret, {});

    // Assess
    expect(first).toBe(plain);
    expect(second).not.toContain('hunter22x');
  });
});
