/**
 * Secrets and personal data sent the way real producers send them, end to end through
 * `transformRecords`: none may reach the stored row.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/redact';
import { KeyClassifier } from '../../src/redact/keys';
import { ARRIVAL, json, normalizeOne } from './helpers';

const event = (fields: Record<string, unknown>) =>
  json({ time: ARRIVAL, service: 's', level: 'info', msg: 'm', ...fields });

/** Everything a row stores, as one text to search for a secret. */
const stored = (fields: Record<string, unknown>) => JSON.stringify(normalizeOne(event(fields)));

describe('a sensitive name split by a dot', () => {
  it.each([
    ['a dotted key', { 'api.key': 'hunter2-value' }],
    ['a nested object', { api: { key: 'hunter2-value' } }],
    ['a tag list', { tags: [{ key: 'api.key', value: 'hunter2-value' }] }],
    ['JSON in the message', { msg: '{"api": {"key": "hunter2-value"}}' }],
    ['KEY=VALUE text', { msg: 'config api.key=hunter2-value loaded' }],
    ['a card number', { payment: { card: { number: 'hunter2-value' } } }],
  ])('redacts the value in %s', (_, fields) => {
    expect(stored(fields)).not.toContain('hunter2-value');
  });

  it('holds for every two-word sensitive name, whatever the case of its words (property)', () => {
    const keys = new KeyClassifier();
    const pairs = ['api key', 'access key', 'secret key', 'private key', 'card number', 'connection string'];
    const cased = (w: string) => fc.constantFrom(w, w.toUpperCase(), w[0]?.toUpperCase() + w.slice(1));
    fc.assert(
      fc.property(
        fc.constantFrom(...pairs).chain((p) => {
          const [a = '', b = ''] = p.split(' ');
          return fc.tuple(cased(a), cased(b));
        }),
        fc.constantFrom('', 'config.', 'headers.'),
        ([a, b], prefix) => {
          expect(keys.classify(`${prefix}${a}.${b}`)?.kind).toBe('sensitive');
        },
      ),
    );
  });

  it('still keeps a name that only describes the secret (`api.key_id`)', () => {
    expect(normalizeOne(event({ api: { key_id: 'k-123' } })).attributes['api.key_id']).toBe('k-123');
  });
});

describe('KEY=VALUE as other languages and command lines print it', () => {
  it.each([
    [
      'a Ruby hash (Rails `Parameters:`)',
      'Parameters: {"user"=>{"email"=>"x", "password"=>"hunter2-value"}}',
    ],
    ['Ruby symbols', 'params {:password=>"hunter2-value", :api_key => "hunter2-value"}'],
    ['a PHP or Perl array', "array ('password' => 'hunter2-value')"],
    ['PHP print_r', 'Array\n(\n    [password] => hunter2-value\n    [token] => hunter2-value\n)'],
    [
      'form parameters of a nested name',
      'POST /login user[password]=hunter2-value&user[email_token]=hunter2-value',
    ],
    ['a command-line option', 'exec mysqldump --password=hunter2-value -h db'],
    ['a short command-line option', 'exec tool -token=hunter2-value'],
  ])('redacts the value in %s', (_, msg) => {
    expect(stored({ msg })).not.toContain('hunter2-value');
  });

  it('holds for any sensitive name in any of these forms (property)', () => {
    const names = ['password', 'api_key', 'secret', 'token', 'client_secret', 'authorization', 'passwd'];
    const forms: ReadonlyArray<(k: string, v: string) => string> = [
      (k, v) => `{"${k}"=>"${v}"}`,
      (k, v) => `{:${k} => "${v}"}`,
      (k, v) => `'${k}' => '${v}',`,
      (k, v) => `[${k}] => ${v}`,
      (k, v) => `form[${k}]=${v}&x=1`,
      (k, v) => `--${k}=${v} --verbose`,
    ];
    const value = fc.stringMatching(/^[A-Za-z0-9_]{8,24}$/).filter((v) => /\d/.test(v) && /[a-z]/i.test(v));
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.constantFrom(...forms),
        value,
        fc.constantFrom('', 'debug ', 'request: '),
        (name, form, v, before) => {
          const text = JSON.stringify(normalizeOne(event({ msg: `${before}${form(name, v)}` })).message);
          expect(text).not.toContain(v);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('keeps the value of a name that is not sensitive in these forms', () => {
    expect(
      normalizeOne(event({ msg: '{"order_id"=>"ORD-123", :status => "paid"} --region=eu-west-1' })).message,
    ).toBe('{"order_id"=>"ORD-123", :status => "paid"} --region=eu-west-1');
  });
});

describe('personal data in a field name', () => {
  it.each([
    ['an e-mail keying a map', { bounced: { 'alice@example.com': 'hard' } }, 'alice@example.com'],
    ['an e-mail keying a count (metrics)', { sent: { 'alice@example.com': 3 } }, 'alice@example.com'],
    ['an address keying a rate limit', { blocked: { '203.0.113.7': 12 } }, '203.0.113.7'],
    ['a phone number keying a result', { sms: { '+14155550123': 'sent' } }, '+14155550123'],
    [
      'a header list naming a token',
      { headers: [{ name: 'ghp_0123456789abcdefghijABCDEFGHIJ012345', value: 'x' }] },
      'ghp_0123456789abcdefghijABCDEFGHIJ012345',
    ],
  ])('redacts %s', (_, fields, secret) => {
    expect(stored(fields)).not.toContain(secret);
  });

  it('keeps the rest of the name and the value, and counts the redaction', () => {
    const record = normalizeOne(
      event({ blocked: { '203.0.113.7': 12 }, bounced: { 'bob@example.org': 'hard' } }),
    );
    expect(record.metrics).toEqual({ 'blocked.203.0.113.0': 12 });
    expect(record.attributes).toEqual({ 'bounced.[REDACTED:email]': 'hard' });
    expect(record.redactions).toEqual({ ip: 1, email: 1 });
  });

  it('holds for any e-mail keying a map (property)', () => {
    const local = fc.stringMatching(/^[a-z][a-z0-9._+-]{0,15}[a-z0-9]$/);
    const domain = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}[a-z0-9]\.(?:com|org|co\.uk|io)$/);
    fc.assert(
      fc.property(local, domain, fc.constantFrom(1, 'x', true), (l, d, v) => {
        expect(stored({ per_user: { [`${l}@${d}`]: v } })).not.toContain(`${l}@${d}`);
      }),
      { numRuns: 200 },
    );
  });

  it('leaves ordinary names as they are', () => {
    const record = normalizeOne(
      event({
        'k8s.pod.labels.app.kubernetes.io/name': 'api',
        http: { 'x-request-id': 'abc' },
        order_id: 'ORD-1',
      }),
    );
    expect(Object.keys(record.attributes).sort()).toEqual(
      ['http.x-request-id', 'k8s.pod.labels.app.kubernetes.io/name', 'order_id'].sort(),
    );
  });
});

describe('personal data in a field name of JSON inside a string', () => {
  it('redacts it in a message that is JSON, as the transform stores it', () => {
    const record = normalizeOne(event({ msg: json({ results: { 'alice@example.com': 'bounced' } }) }));
    expect(record.message).toBe('{"results":{"[REDACTED:email]":"bounced"}}');
    expect(record.redactions).toEqual({ email: 1 });
  });

  it('redacts it in any attribute holding JSON text', () => {
    expect(stored({ body: json({ clients: { '198.51.100.23': 4 } }) })).not.toContain('198.51.100.23');
  });

  it('redacts it where the redactor walks a parsed value (the compact oversized form)', () => {
    const redactor = new Redactor({
      ipv4PrefixLength: 24,
      ipv6PrefixLength: 48,
      extraSensitiveKeys: [],
      pseudonymKey: 'k',
    });
    const counts = {};
    expect(redactor.value('', { sent: { 'carol@example.net': 2 } }, counts)).toEqual({
      sent: { '[REDACTED:email]': 2 },
    });
    expect(counts).toEqual({ email: 1 });
  });

  it('keeps every value when two keys redact alike', () => {
    const record = normalizeOne(event({ msg: json({ 'a@example.com': 1, 'b@example.com': 2 }) }));
    expect(JSON.parse(record.message)).toEqual({ '[REDACTED:email]': 1, '[REDACTED:email]~2': 2 });
  });
});
