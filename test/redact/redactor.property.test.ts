import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { luhnValid } from '../../src/redact/checksums';
import { EMAIL, IPV6_FULL, PROTECT } from '../../src/redact/patterns';
import { type RedactionCounts, Redactor } from '../../src/redact/redactor';
import { features, hasFiveHexGroups, protectedSpans, type Span, scanEmails } from '../../src/redact/scanners';

const redactor = new Redactor({
  ipv4PrefixLength: 24,
  ipv6PrefixLength: 48,
  extraSensitiveKeys: [],
  pseudonymKey: 'property-key',
});

const alnum = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789');
const alnumString = (min: number, max: number) =>
  fc.array(alnum, { minLength: min, maxLength: max }).map((chars) => chars.join(''));

/** A Luhn-valid 16-digit card number in a card network range, printed plain, spaced or dashed. */
const card = fc
  .tuple(
    fc.constantFrom('4', '51', '52', '53', '54', '55', '2221', '6011'),
    fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 15, maxLength: 15 }),
  )
  .map(([prefix, rest]) => {
    const body = (prefix + rest.join('')).slice(0, 15);
    for (let d = 0; d <= 9; d++) if (luhnValid(`${body}${d}`)) return `${body}${d}`;
    return body;
  })
  .chain((digits) =>
    fc.constantFrom(
      digits,
      digits.replace(/(\d{4})(?=\d)/g, '$1 '),
      digits.replace(/(\d{4})(?=\d)/g, '$1-'),
      digits.replace(/(\d{4})(?=\d)/g, '$1.'),
    ),
  );

const email = fc
  .tuple(alnumString(1, 12), alnumString(1, 10), fc.constantFrom('com', 'org', 'co.uk', 'io'))
  .map(([local, domain, tld]) => `${local}@${domain}.${tld}`);
const ssn = fc
  .tuple(fc.integer({ min: 1, max: 665 }), fc.integer({ min: 1, max: 99 }), fc.integer({ min: 1, max: 9999 }))
  .map(
    ([a, b, c]) =>
      `${String(a).padStart(3, '0')}-${String(b).padStart(2, '0')}-${String(c).padStart(4, '0')}`,
  );
const upperDigits = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567');
const awsKeyId = fc
  .array(upperDigits, { minLength: 16, maxLength: 16 })
  .map((chars) => `AKIA${chars.join('')}`);
const githubToken = alnumString(36, 36).map((s) => `ghp_${s}`);
const ipv4 = fc
  .tuple(fc.integer({ min: 11, max: 223 }), fc.nat(255), fc.nat(255), fc.integer({ min: 1, max: 254 }))
  .filter(([a]) => a !== 127)
  .map((parts) => parts.join('.'));
const jwt = fc
  .tuple(alnumString(10, 30), alnumString(10, 60), alnumString(10, 43))
  .map(([h, p, s]) => `eyJ${h}.eyJ${p}.${s}`);

/** An internationalized address: letters beyond ASCII in the local part, the domain or both. */
const unicodeLetter = fc.constantFrom(...'aböçéжяδλ用户例子广告'.split(''));
const unicodeEmail = fc
  .tuple(
    fc.array(unicodeLetter, { minLength: 1, maxLength: 10 }),
    fc.array(unicodeLetter, { minLength: 1, maxLength: 10 }),
    fc.constantFrom('de', 'com', '广告', 'рф', 'xn--p1ai'),
  )
  .map(([local, domain, tld]) => `${local.join('')}@${domain.join('')}.${tld}`);
/** Text holding an AWS key id, base64-encoded (an encoded config file), at any byte alignment. */
const base64AwsKeyId = fc
  .tuple(alnumString(0, 20), awsKeyId)
  .map(([before, key]) => Buffer.from(`${before}=${key}`).toString('base64'));

const secret = fc.oneof(card, email, unicodeEmail, ssn, awsKeyId, base64AwsKeyId, githubToken, ipv4, jwt);
/** Arbitrary text that cannot glue onto the secret: the secret is always surrounded by spaces. */
const filler = fc.string({ maxLength: 40 });

describe('Redactor.text (properties)', () => {
  it('removes a secret wherever it sits in arbitrary text', () => {
    fc.assert(
      fc.property(filler, secret, filler, (before, value, after) => {
        const out = redactor.text(`${before} ${value} ${after}`, {});
        expect(out).not.toContain(value);
      }),
      { numRuns: 2000 },
    );
  });

  it('removes a password or token given as a long command-line option after a space', () => {
    const option = fc.constantFrom('--password', '--db-password', '--token', '--api-key', '--client-secret');
    const value = alnumString(1, 30).filter((v) => !/^[A-Za-z]+$/.test(v) || v.length > 3);
    fc.assert(
      fc.property(filler, option, value, filler, (before, name, v, after) => {
        const out = redactor.text(`${before} ${name} ${v} ${after}`, {});
        expect(out).toContain(`${name} [REDACTED:`);
        expect(out).not.toContain(`${name} ${v}`);
      }),
      { numRuns: 1000 },
    );
  });

  it('removes a one-time code given under any of its names', () => {
    const name = fc.constantFrom(
      'mfa_code',
      'verificationCode',
      'otp',
      'totp',
      'one_time_code',
      'recovery-code',
    );
    const code = fc.integer({ min: 0, max: 99_999_999 }).map((n) => String(n).padStart(6, '0'));
    fc.assert(
      fc.property(name, fc.constantFrom('=', ': ', '='), code, (key, sep, v) => {
        const out = redactor.text(`login step ${key}${sep}${v} done`, {});
        expect(out).toBe(`login step ${key}${sep}[REDACTED:password] done`);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws and returns a string for any input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (text) => {
        expect(typeof redactor.text(text, {})).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });

  it('is idempotent: redacting redacted text changes nothing more', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(secret, filler), { maxLength: 6 }), (parts) => {
        const once = redactor.text(parts.join(' '), {});
        const counts: RedactionCounts = {};
        expect(redactor.text(once, counts)).toBe(once);
      }),
      { numRuns: 1000 },
    );
  });

  it('redacts every sensitive value of arbitrary JSON walked field by field', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom('password', 'api_key', 'token', 'note'), alnumString(8, 20)),
        (object) => {
          const out = JSON.stringify(redactor.value('', object, {}));
          for (const [key, value] of Object.entries(object)) {
            if (key !== 'note') expect(out).not.toContain(value);
          }
        },
      ),
    );
  });
});

describe('dotted-quad versions against IPv4 addresses (properties)', () => {
  /** Any dotted quad, also one that is a valid public address (`1.6.12.2` is both). */
  const quad = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
  const product = fc.constantFrom(
    'nginx',
    'Firefox',
    'aws-cli',
    'python-requests',
    'Go-http-client',
    'okhttp',
  );
  const removing = new Redactor({
    ipv4PrefixLength: 0,
    ipv6PrefixLength: 0,
    extraSensitiveKeys: [],
    pseudonymKey: 'property-key',
  });

  it('keeps a quad that a version word, an upgrade or a product token names', () => {
    const versionContext = fc.oneof(
      fc.constantFrom('upgraded to ', 'Upgrading to ', 'DOWNGRADED TO ', 'bumped to ', 'rolled back to '),
      fc.constantFrom('version ', 'Version: ', 'version=', 'release ', 'build ', 'version is ', 'v'),
      product.map((name) => `${name}/`),
    );
    fc.assert(
      fc.property(filler, versionContext, quad, (before, context, q) => {
        expect(removing.text(`${before} ${context}${q} done`, {})).toContain(`${context}${q} done`);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps both versions of an upgrade from one to the other', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('upgraded from ', 'downgrading from ', 'version '),
        fc.constantFrom(' to ', ' -> ', ' => ', ' \u2192 '),
        quad,
        quad,
        (from, then, a, b) => {
          const text = `package ${from}${a}${then}${b}`;
          expect(removing.text(text, {})).toBe(text);
        },
      ),
    );
  });

  it('still removes an address in words near, but not of, a version', () => {
    const addressContext = fc.constantFrom(
      'from ',
      'to ',
      'upgrade request from ',
      'update from ',
      'record updated to ',
      'ssh deploy@',
      'GET /hosts/',
      'GET https://api.example/ip/',
      'ip.addr==',
      'peer-',
      'client ',
      'from 203.0.113.9 to ',
    );
    fc.assert(
      fc.property(addressContext, ipv4, (context, ip) => {
        const out = removing.text(`${context}${ip} end`, {});
        expect(out).not.toContain(ip);
        expect(out).toContain('[REDACTED:ip]');
      }),
      { numRuns: 1000 },
    );
  });
});

describe('URL userinfo passwords (properties)', () => {
  const passwordChar = fc.constantFrom(...'abcXYZ019#/?@:!%&=+$,;[]~*-_.'.split(''));
  const password = fc
    .array(passwordChar, { minLength: 1, maxLength: 24 })
    .map((chars) => chars.join(''))
    // Not a prefix of the host part, so the password cannot be told from the URL by its shape alone.
    .filter((p) => !p.startsWith('@'));
  const user = alnumString(1, 10);
  const host = fc.constantFrom('db.internal', 'localhost', 'cache-1.prod.example.net', '[fd00::1]');
  const rest = fc.constantFrom('', ':5432', ':5432/app', '/app?sslmode=require', '#frag', '/');
  const scheme = fc.constantFrom('postgres', 'mysql', 'https', 'redis', 'amqp', 'mongodb+srv');
  const context = fc.constantFrom(['', ''], ['connect ', ' now'], ['url=', ''], ['("', '")'], ['dsn: ', '.']);

  it('removes the whole password, whatever it holds, and keeps scheme, user and host', () => {
    fc.assert(
      fc.property(scheme, user, password, host, rest, context, (s, u, p, h, r, [before, after]) => {
        const text = `${before}${s}://${u}:${p}@${h}${r}${after}`;
        const counts: RedactionCounts = {};
        const out = redactor.text(text, counts);
        expect(out).toContain(`${s}://${u}:[REDACTED:password]@`);
        expect(out).not.toContain(`:${p}@`);
        expect(counts.url_password).toBe(1);
        if (!h.startsWith('[')) expect(out).toContain(`@${h}${r}`);
      }),
      { numRuns: 500 },
    );
  });

  it('redacts an e-mail user name and still removes the password', () => {
    fc.assert(
      fc.property(alnumString(1, 8), password, host, (local, p, h) => {
        const out = redactor.text(`https://${local}%40corp.example:${p}@${h}:5432/app`, {});
        expect(out).toContain('://[REDACTED:email]:[REDACTED:password]@');
        expect(out).not.toContain(`${local}%40corp.example`);
      }),
    );
  });
});

describe('hasFiveHexGroups (the IPv6 gate)', () => {
  it('answers as the IPV6_FULL expression does, in one pass', () => {
    const piece = fc.constantFrom(
      'a',
      'F',
      '0',
      '9',
      'g',
      ':',
      '::',
      'abcde',
      'java',
      '.',
      ' ',
      '12345',
      'fe80',
    );
    const text = fc.oneof(
      fc.array(piece, { maxLength: 30 }).map((ps) => ps.join('')),
      fc.ipV6(),
      fc.string({ maxLength: 60 }),
    );
    fc.assert(
      fc.property(text, (t) => {
        expect(hasFiveHexGroups(t)).toBe(IPV6_FULL.test(t));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('protectedSpans (values a numeric candidate may not fall inside)', () => {
  it('finds exactly what a global scan of the protected expression finds', () => {
    // Pieces on the edges the skipping depends on: word starts, hex runs, dashes at 4 and 8, products.
    const piece = fc.constantFrom(
      'a',
      'F',
      '0',
      '9',
      '_',
      '-',
      '/',
      '.',
      ' ',
      '(',
      '"',
      ',',
      'v',
      'V',
      'version ',
      'Release: ',
      'build=',
      'upgraded to ',
      'Downgrading from ',
      'bumped ',
      'rolled back ',
      ' -> ',
      ' to ',
      'nginx',
      'Mozilla/5.0',
      'x/',
      '1.2',
      '10.0.0.1',
      '2026-11-22',
      'T10:00:00Z',
      '2026-11-22 10:00:00.123+01:00',
      'deadbeef',
      '0123456789abcdef',
      'DEADBEEFdeadbeef00',
      '-rc.1',
      'é',
    );
    const text = fc.oneof(
      fc.array(piece, { maxLength: 24 }).map((ps) => ps.join('')),
      fc
        .array(fc.oneof(piece, fc.uuid(), fc.ipV4(), fc.string({ maxLength: 5 })), { maxLength: 12 })
        .map((ps) => ps.join(' ')),
      fc.string({ maxLength: 60 }),
    );
    const global = new RegExp(PROTECT.source, 'g');
    fc.assert(
      fc.property(text, (t) => {
        const expected = [...t.matchAll(global)].map((m) => [m.index, m.index + m[0].length]);
        expect(protectedSpans(t)).toEqual(expected);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('scanEmails (tried only at the start of a run before `@` or holding `%40`)', () => {
  it('finds exactly the addresses a global scan of the expression finds', () => {
    const piece = fc.constantFrom(
      'a',
      'Z',
      '0',
      '_',
      '.',
      '-',
      '+',
      '%',
      '%40',
      '@',
      '@@',
      ' ',
      ',',
      '(',
      'é',
      'ö',
      '用户',
      '例子.广告',
      'bücher.de',
      'xn--p1ai',
      '\u0301',
      '\u{1f600}',
      '\u{20000}',
      '\ud800',
      '\udc00',
      'jane.doe',
      'example.org',
      'b.co',
      'icon@2x.png',
      'x'.repeat(70),
    );
    const text = fc.oneof(
      fc.array(piece, { maxLength: 30 }).map((ps) => ps.join('')),
      fc
        .array(fc.oneof(piece, fc.emailAddress(), fc.string({ maxLength: 5 })), { maxLength: 10 })
        .map((ps) => ps.join(' ')),
      fc.string({ maxLength: 60 }),
    );
    const global = new RegExp(EMAIL.source, EMAIL.flags.replace('y', 'g'));
    fc.assert(
      fc.property(text, (t) => {
        const expected = [...t.matchAll(global)]
          .filter((m) => {
            const sign = m[0].includes('@') ? m[0].indexOf('@') + 1 : m[0].indexOf('%40') + 3;
            return !/^\d+x\.(?:png|jpe?g|gif|svg|webp|avif)$/i.test(m[0].slice(sign));
          })
          .map((m) => [m.index, m.index + m[0].length]);
        const spans: Span[] = [];
        scanEmails(t, spans, features(t));
        expect(spans.map((s) => [s.start, s.end])).toEqual(expected);
      }),
      { numRuns: 5000 },
    );
  });
});
