/**
 * Name/value pair arrays — the shape HTTP header lists (API Gateway, ALB, WAF), AWS tag lists and OTLP
 * attributes take: the sensitive name sits in a sibling field of the value, so the value must be judged
 * by that name. Both ways a record reaches the redactor are covered: whole values (`Redactor.value`,
 * e.g. the JSON the Firehose response re-redacts) and the transform's flattened fields.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pairOf, pairWithin } from '../../src/redact/keys';
import { type RedactionCounts, Redactor } from '../../src/redact/redactor';
import { json, normalizeOne } from '../transform/helpers';

const redactor = new Redactor({
  ipv4PrefixLength: 24,
  ipv6PrefixLength: 48,
  extraSensitiveKeys: [],
  pseudonymKey: 'pairs-key',
});

const SHAPES = [
  ['name', 'value'],
  ['Name', 'Value'],
  ['key', 'value'],
  ['Key', 'Value'],
] as const;
const SENSITIVE = [
  'Cookie',
  'Set-Cookie',
  'Authorization',
  'X-Api-Key',
  'X-CSRF-Token',
  'PHPSESSID',
  'csrftoken',
];
const PLAIN = ['User-Agent', 'Accept', 'X-Request-Id', 'Environment'];

/** A value no detector would catch by its look: only the sibling name makes it secret. */
const opaque = fc
  .array(fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz'), { minLength: 6, maxLength: 24 })
  .map((c) => `v${c.join('')}`);

function redactValue(v: unknown): { out: unknown; counts: RedactionCounts } {
  const counts: RedactionCounts = {};
  return { out: redactor.value('', v, counts), counts };
}

describe('pairOf', () => {
  it('reads the four pair shapes and nothing else', () => {
    expect(pairOf({ name: 'Cookie', value: 'a' })).toEqual(['Cookie', 'a', 'name']);
    expect(pairOf({ Value: 1, Key: 'Env' })).toEqual(['Env', 1, 'Key']);
    expect(pairOf({ name: 'Cookie', value: 'a', extra: 1 })).toBeUndefined();
    expect(pairOf({ name: 'Cookie', Value: 'a' })).toBeUndefined();
    expect(pairOf({ name: '', value: 'a' })).toBeUndefined();
    expect(pairOf({ name: 3, value: 'a' })).toBeUndefined();
    expect(pairOf(['name', 'value'])).toBeUndefined();
    expect(pairOf('name')).toBeUndefined();
  });
});

describe('pairWithin', () => {
  it('finds the pair whatever fields sit beside it, and nothing without a named value', () => {
    expect(pairWithin({ name: 'Cookie', value: 'a', path: '/' })).toEqual(['Cookie', 'a', 'name', 'value']);
    expect(pairWithin({ propagate: true, Key: 'Env', Value: 'prod' })).toEqual([
      'Env',
      'prod',
      'Key',
      'Value',
    ]);
    expect(pairWithin({ name: 'Cookie', value: 'a' })).toEqual(['Cookie', 'a', 'name', 'value']);
    expect(pairWithin({ name: 'Cookie', path: '/' })).toBeUndefined();
    expect(pairWithin({ name: '', value: 'a', path: '/' })).toBeUndefined();
    expect(pairWithin({ name: 7, value: 'a' })).toBeUndefined();
    expect(pairWithin([{ name: 'Cookie', value: 'a' }])).toBeUndefined();
    expect(pairWithin(null)).toBeUndefined();
  });
});

describe('Redactor.value on pair arrays', () => {
  it('redacts the value of a sensitive name in every shape, keeps the name and the other pairs', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SHAPES),
        fc.constantFrom(...SENSITIVE),
        fc.constantFrom(...PLAIN),
        opaque,
        opaque,
        ([nameKey, valueKey], secretName, plainName, secret, plain) => {
          const headers = [
            { [nameKey]: plainName, [valueKey]: plain },
            { [nameKey]: secretName, [valueKey]: secret },
          ];
          const { out, counts } = redactValue({ request: { headers } });
          const text = JSON.stringify(out);
          expect(text).not.toContain(secret);
          expect(text).toContain(secretName);
          const kept = (out as { request: { headers: Array<Record<string, unknown>> } }).request.headers;
          expect(kept[0]).toEqual({ [nameKey]: plainName, [valueKey]: plain });
          expect(kept[1]?.[nameKey]).toBe(secretName);
          expect(Object.values(counts).reduce((a, b) => a + (b ?? 0), 0)).toBeGreaterThanOrEqual(1);
        },
      ),
    );
  });

  it('redacts a structured value under a sensitive name whole, and pseudonymizes a user-id name', () => {
    const { out } = redactValue([
      { name: 'Authorization', value: { scheme: 'Basic', token: 'dXNlcjpwYXNz' } },
      { Key: 'user_id', Value: '1001' },
    ]);
    const [auth, user] = out as Array<Record<string, unknown>>;
    expect(JSON.stringify(auth)).not.toContain('dXNlcjpwYXNz');
    expect(JSON.stringify(auth)).not.toContain('Basic');
    expect(user?.Key).toBe('user_id');
    expect(user?.Value).toMatch(/^u_[0-9a-f]+$/);
  });

  it('leaves arrays without a sensitive pair as they were', () => {
    const value = [{ name: 'Accept', value: 'a', path: '/' }, { id: 1 }, 'Cookie'];
    expect(redactValue(value).out).toEqual(value);
  });

  it('judges a pair with other fields beside it by its name, and walks the other fields under their keys', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SHAPES),
        fc.constantFrom(...SENSITIVE),
        opaque,
        opaque,
        ([nameKey, valueKey], secretName, secret, other) => {
          const headers = [
            { [nameKey]: secretName, [valueKey]: secret, path: `/${other}`, password: other },
            { id: 1 },
          ];
          const { out } = redactValue({ headers });
          const kept = (out as { headers: Array<Record<string, unknown>> }).headers;
          const text = JSON.stringify(out);
          expect(text).not.toContain(secret);
          expect(kept[0]?.[nameKey]).toBe(secretName);
          expect(kept[0]?.path).toBe(`/${other}`);
          // A sensitive key beside the pair is still judged by its own name.
          expect(kept[0]?.password).not.toBe(other);
          expect(kept[1]).toEqual({ id: 1 });
        },
      ),
    );
  });
});

describe('the transform on pair arrays', () => {
  it('stores each pair under its name: a cookie and an authorization header redacted, the rest queryable', () => {
    const record = normalizeOne(
      json({
        level: 'info',
        message: 'request served',
        service: 'edge',
        request: {
          headers: [
            { name: 'Cookie', value: 'sessionid=vqkzrwtpl' },
            { name: 'Authorization', value: 'Basic dXNlcjpwYXNzd29yZA' },
            { name: 'User-Agent', value: 'curl/8.5.0' },
            { name: 'Set-Cookie', value: 'a=vfirstcookie' },
            { name: 'Set-Cookie', value: 'b=vsecondcookie' },
          ],
          tags: [{ Key: 'Environment', Value: 'prod' }],
        },
      }),
    );
    const stored = JSON.stringify(record);
    for (const secret of ['vqkzrwtpl', 'dXNlcjpwYXNzd29yZA', 'vfirstcookie', 'vsecondcookie']) {
      expect(stored).not.toContain(secret);
    }
    expect(record.attributes['request.headers.User-Agent']).toBe('curl/8.5.0');
    expect(record.attributes['request.tags.Environment']).toBe('prod');
    expect(record.attributes['request.headers.Cookie']).toMatch(/REDACTED/);
    // Both Set-Cookie headers are kept (redacted), neither overwrites the other.
    const setCookies = Object.keys(record.attributes).filter((k) =>
      k.startsWith('request.headers.Set-Cookie'),
    );
    expect(setCookies).toHaveLength(2);
  });

  it('keeps every item of a list that is only partly pairs (by index, as any array)', () => {
    const record = normalizeOne(
      json({
        level: 'info',
        message: 'mixed list',
        items: [{ key: 'colour', value: 'blue' }, { size: 'large' }],
      }),
    );
    expect(record.attributes['items.0.key']).toBe('colour');
    expect(record.attributes['items.0.colour']).toBe('blue');
    expect(record.attributes['items.1.size']).toBe('large');
  });

  it('stores a pair with other fields beside it under its name: a cookie with a path is redacted', () => {
    const record = normalizeOne(
      json({
        level: 'info',
        message: 'cookie set',
        service: 'edge',
        headers: [
          { name: 'Cookie', value: 'sessionid=vqkzrwtplxx', path: '/' },
          { name: 'Accept', value: 'text/html', q: 0.9 },
        ],
      }),
    );
    expect(JSON.stringify(record)).not.toContain('vqkzrwtplxx');
    expect(record.attributes['headers.0.Cookie']).toMatch(/REDACTED/);
    expect(record.attributes['headers.0.name']).toBe('Cookie');
    expect(record.attributes['headers.0.path']).toBe('/');
    expect(record.attributes['headers.1.Accept']).toBe('text/html');
    expect(record.metrics['headers.1.q']).toBe(0.9);
  });
});
