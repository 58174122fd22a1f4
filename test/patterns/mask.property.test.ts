import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MASK_RULES, maskMessage, messageTemplate, TEMPLATE_INPUT_CHARS } from '../../src/patterns/mask';

// Pieces of real log lines: words, punctuation, quotes, and every kind of variable part.
const word = fc.constantFrom(
  'user',
  'order',
  'failed',
  'GET',
  '/api/v2/orders',
  "don't",
  'it’s',
  'x=',
  'status:',
  '(',
  ')',
  ',',
  '[',
  ']',
  "'",
  '"',
  '\\',
  'agent_coder',
  'é',
  '日本',
  '::',
  '-',
  '.',
);
const number = fc.oneof(
  fc.nat().map(String),
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }).map((n) => n.toFixed(3)),
);
const uuid = fc.uuid();
const ipv4 = fc.ipV4();
const ipv6 = fc.ipV6().filter((ip) => /\d/.test(ip));
const hex = fc
  .array(fc.constantFrom(...'0123456789abcdef'), { minLength: 8, maxLength: 40 })
  .map((cs) => cs.join(''))
  .filter((h) => /\d/.test(h) && /[a-f]/.test(h));
const variable = fc.oneof(number, uuid, ipv4, ipv6, hex);
const piece = fc.oneof({ arbitrary: word, weight: 3 }, { arbitrary: variable, weight: 2 });
const message = fc.array(piece, { maxLength: 12 }).map((ps) => ps.join(' '));
const anyText = fc.oneof(
  message,
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
);

describe('maskMessage', () => {
  it('is deterministic', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expect(maskMessage(text)).toBe(maskMessage(`${text}`));
      }),
    );
  });

  it('leaves no ASCII digit: every number, UUID, IP and hex id is masked', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expect(maskMessage(text)).not.toMatch(/[0-9]/);
      }),
      { numRuns: 500 },
    );
  });

  it('masks each variable part standing between spaces, whatever it is, as its kind', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          uuid.map((v) => [v, '<UUID>'] as const),
          ipv4.map((v) => [v, '<IP>'] as const),
          ipv6.map((v) => [v, '<IP>'] as const),
          fc.nat().map((v) => [String(v), '<NUM>'] as const),
        ),
        ([value, placeholder]) => {
          // Act
          const masked = maskMessage(`before ${value} after`);

          // Assess
          expect(masked).toBe(`before ${placeholder} after`);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is idempotent: masking a template changes nothing', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const once = maskMessage(text);
        expect(maskMessage(once)).toBe(once);
      }),
      { numRuns: 1000 },
    );
  });

  it('gives messages that differ only in their variable parts one template', () => {
    fc.assert(
      fc.property(fc.array(word, { maxLength: 6 }), variable, variable, (words, a, b) => {
        // Prepare: the same words around two values of one kind of variable part.
        const kind = (v: string) => maskMessage(` ${v} `);
        fc.pre(kind(a) === kind(b));
        const text = (v: string) => [...words, v, ...words].join(' ');

        // Assess
        expect(messageTemplate(text(a))).toBe(messageTemplate(text(b)));
      }),
    );
  });
});

/** The rules as one global replace, first rule that matches at the leftmost position wins. */
function globalReplace(text: string): string {
  const all = new RegExp(MASK_RULES.map(([group, , re]) => `(?<${group}>${re})`).join('|'), 'g');
  return text.replace(all, (...args: unknown[]) => {
    const groups = args[args.length - 1] as Record<string, string | undefined>;
    return `<${MASK_RULES.find(([group]) => groups[group] !== undefined)?.[1]}>`;
  });
}

describe('maskMessage, tried only where a rule can start', () => {
  // Pieces that sit on the edges the skipping depends on: word starts, quotes, colons, digits in words.
  const edgy = fc
    .array(fc.constantFrom(...'0aF_:.\'" -xX9\\\n=(é'), { maxLength: 40 })
    .map((cs) => cs.join(''));
  const glued = fc
    .tuple(
      fc.array(fc.oneof(word, variable, fc.string({ maxLength: 6 })), { maxLength: 12 }),
      fc.constantFrom('', ':', '.', '_', '-', "'"),
    )
    .map(([ps, sep]) => ps.join(sep));

  it('finds exactly what a global replace of the rules finds', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, edgy, glued), (text) => {
        expect(maskMessage(text)).toBe(globalReplace(text));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('maskMessage on real lines', () => {
  it.each([
    ['order 42 failed for 10.0.0.7:8080', 'order <NUM> failed for <IP>'],
    ['request 5d0f179c-7b9f-4ef1-9c2e-aa3cdcb1cd6d took 12.5ms', 'request <UUID> took <NUM>ms'],
    ['commit 5d0f179c7b9f3ef1 pushed by "ada lovelace"', 'commit <HEX> pushed by <STR>'],
    ["user='bob' don't retry", "user=<STR> don't retry"],
    ['req_8f3a2 from fe80::1ff:fe23:4567:890a at 2026-11-22T10:00:00.123Z', '<ID> from <IP> at <TS>'],
    ['pointer 0xDEADBEEF freed; ec2 s3 ok', 'pointer <HEX> freed; ec<NUM> s<NUM> ok'],
    ['agent_coder finished at 10:30:00', 'agent_coder finished at <NUM>'],
  ])('masks %j', (line, template) => {
    expect(maskMessage(line)).toBe(template);
  });
});

describe('messageTemplate', () => {
  // Whitespace of every kind \s knows, in runs, at the ends and inside quotes and other masked parts.
  const spaced = fc
    .array(
      fc.oneof(
        piece,
        fc.constantFrom(
          ' ',
          '  ',
          '\t',
          '\n',
          '\r\n',
          '\u00a0',
          '\u2003',
          '\u3000',
          '\ufeff',
          '\u2028',
          '\v',
        ),
        fc.constantFrom('"a  b"', "x='c \t d'", '2026-11-22 10:00:00'),
      ),
      { maxLength: 16 },
    )
    .map((ps) => ps.join(''));

  it('is the masked message with its whitespace runs made one space and its ends trimmed', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, spaced), (text) => {
        const reference = maskMessage(text).replace(/\s+/g, ' ').trim();
        expect(messageTemplate(text)).toBe(reference === '' ? null : reference);
      }),
      { numRuns: 3000 },
    );
  });

  it('makes whitespace one space and cuts long messages with a mark', () => {
    // Prepare
    const long = `${'word '.repeat(TEMPLATE_INPUT_CHARS)}tail`;

    // Act
    const short = messageTemplate('  a\t\tb \n c 7 ');
    const cut = messageTemplate(long);

    // Assess
    expect(short).toBe('a b c <NUM>');
    expect(cut?.endsWith(' …')).toBe(true);
    expect(cut?.length).toBeLessThanOrEqual(TEMPLATE_INPUT_CHARS + 2);
    expect(cut).not.toContain('tail');
    expect(messageTemplate('   ')).toBeNull();
    expect(messageTemplate(null)).toBeNull();
  });
});
