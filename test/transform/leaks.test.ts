/**
 * Secrets and personal data sent the way real producers send them, end to end through
 * `transformRecords`: none may reach the stored row.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
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
