/**
 * Shapes a review found the redactor missing (detector set 10): command-line options with a space,
 * one-time-code field names, internationalized e-mail addresses, dotted card numbers, base64-wrapped
 * secrets, JSON after a prefix; and the KEY=VALUE forms that over-reached (code, a quoted key twice).
 */
import { describe, expect, it } from 'vitest';
import { type RedactionCounts, Redactor } from '../../src/redact/redactor';

const redactor = new Redactor({
  ipv4PrefixLength: 24,
  ipv6PrefixLength: 48,
  extraSensitiveKeys: [],
  pseudonymKey: 'review-key',
});

function redact(s: string): { out: string; counts: RedactionCounts } {
  const counts: RedactionCounts = {};
  return { out: redactor.text(s, counts), counts };
}

describe('command-line options with a space before the value', () => {
  it('redacts the value of a long option with a sensitive name', () => {
    expect(redact('mysql --password hunter2 --verbose').out).toBe(
      'mysql --password [REDACTED:password] --verbose',
    );
    expect(redact('cli --token abc123def').out).toBe('cli --token [REDACTED:token]');
    expect(redact('deploy --db-password "s3 cret" --yes').out).toBe(
      'deploy --db-password "[REDACTED:password]" --yes',
    );
  });

  it('keeps the next option, a short option and an option whose name only describes the secret', () => {
    expect(redact('docker login --password-stdin registry.example.com').out).toBe(
      'docker login --password-stdin registry.example.com',
    );
    expect(redact('run --password --stdin').out).toBe('run --password --stdin');
    expect(redact('mysql -p hunter2x').out).toBe('mysql -p hunter2x');
    expect(redact('aws --secret-arn arn:aws:x --region eu-west-1').out).toBe(
      'aws --secret-arn arn:aws:x --region eu-west-1',
    );
    expect(redact('app --no-password start').out).toBe('app --no-password start');
  });
});

describe('one-time codes as field names', () => {
  it.each([
    'mfa_code',
    'mfaCode',
    'verification_code',
    'otp',
    'totp',
    'one_time_code',
    'oneTimeCode',
    'recovery_code',
    'recovery_codes',
    'backup_code',
    'pin',
  ])('treats %s as sensitive, in a field and in KEY=VALUE text', (key) => {
    expect(redactor.keys.classify(key)?.kind).toBe('sensitive');
    expect(redact(`login ok ${key}=482913 next`).out).not.toContain('482913');
  });

  it.each([
    'pinned',
    'spinner',
    'pin_count',
    'otp_enabled',
    'error_code',
    'status_code',
    'time_code',
    'verification_status',
  ])('keeps %s', (key) => {
    expect(redactor.keys.classify(key)).toBeNull();
  });
});

describe('internationalized e-mail addresses', () => {
  it.each([
    ['contact jörg@example.de now', 'contact [REDACTED:email] now'],
    ['mail 用户@例子.广告 sent', 'mail [REDACTED:email] sent'],
    ['to anna@bücher.de, ok', 'to [REDACTED:email], ok'],
    ['to anna@xn--bcher-kva.xn--p1ai ok', 'to [REDACTED:email] ok'],
    ['to Δοκιμή@παράδειγμα.δοκιμή ok', 'to [REDACTED:email] ok'],
  ])('redacts %s whole', (input, expected) => {
    expect(redact(input).out).toBe(expected);
  });
});

describe('dotted card numbers', () => {
  it('redacts a Luhn-valid card number grouped with dots', () => {
    expect(redact('paid with 4111.1111.1111.1111 today').out).toBe('paid with [REDACTED:card] today');
  });

  it('keeps dotted numbers that fail Luhn or the card grouping', () => {
    expect(redact('id 4111.1111.1111.1112 today').out).toBe('id 4111.1111.1111.1112 today');
    expect(redact('ratio 41.111111111111111 ok').out).toBe('ratio 41.111111111111111 ok');
  });
});

describe('base64-wrapped secrets', () => {
  it('redacts a Bearer credential that is base64 JSON', () => {
    const credential = Buffer.from('{"sub":"svc","secret":"zz-top-secret"}').toString('base64');
    expect(redact(`Authorization: Bearer ${credential}`).out).toBe('Authorization: Bearer [REDACTED:bearer]');
  });

  it.each([
    ['an AWS access key id', 'aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n', 'aws_access_key'],
    ['a PEM private key', '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n', 'private_key'],
    ['a JWT', 'token: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl', 'jwt'],
  ])('redacts a base64 blob that decodes to text holding %s', (_name, plain, kind) => {
    for (const pad of ['', 'x', 'xy']) {
      const blob = Buffer.from(pad + plain).toString('base64');
      const { out, counts } = redact(`config ${blob} loaded`);
      expect(out).toBe(`config [REDACTED:${kind}] loaded`);
      expect(counts[kind]).toBe(1);
    }
  });

  it.each([
    ['a key id alone (27 characters and padding)', 'AKIAAAAAAAAAAAAAAAAA'],
    ['a repetitive key id that encodes to upper case only', '=AKIAAAAAAAAAAAAAAAAA'],
  ])('redacts a base64 blob holding %s', (_name, plain) => {
    const blob = Buffer.from(plain).toString('base64');
    expect(redact(`x ${blob} y`).out).toBe('x [REDACTED:aws_access_key] y');
  });

  it('keeps a base64 certificate and base64 text without a secret', () => {
    const cert = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n').toString('base64');
    const plain = Buffer.from('just an ordinary configuration value, nothing more').toString('base64');
    expect(redact(`ca ${cert} ok`).out).toBe(`ca ${cert} ok`);
    expect(redact(`v ${plain} ok`).out).toBe(`v ${plain} ok`);
  });
});

describe('JSON after a prefix', () => {
  it('reads a two-word name split across nesting', () => {
    expect(redact('body {"api": {"key": "x-secret-1"}}').out).toBe(
      'body {"api":{"key":"[REDACTED:api_key]"}}',
    );
  });

  it('reads JSON between texts, and keeps JSON with nothing to redact as it was', () => {
    expect(redact('req {"card": {"number": "n-1"}} status=200').out).toBe(
      'req {"card":{"number":"[REDACTED:card]"}} status=200',
    );
    expect(redact('req {"a": {"b": 1}} done').out).toBe('req {"a": {"b": 1}} done');
  });

  it('redacts the whole object when the text before it names a secret', () => {
    expect(redact(`password='{"api": {"v": "hunter2"}}'`).out).not.toContain('hunter2');
    expect(redact('credentials: {"user": "u", "pass": "hunter2"}').out).not.toContain('hunter2');
  });

  it('counts each replacement once', () => {
    expect(redact('body {"api": {"key": "k1"}, "email": "a@example.org"}').counts).toEqual({
      api_key: 1,
      email: 1,
    });
  });
});

describe('KEY=VALUE forms that are not credentials', () => {
  it('keeps code: an identifier path called right after the separator', () => {
    expect(redact('tokens.map(token => token.trim())').out).toBe('tokens.map(token => token.trim())');
    expect(redact('const password = req.body.get("x")').out).toBe('const password = req.body.get("x")');
  });

  it('still redacts a value that is followed by a parenthesis but is no call of a path', () => {
    expect(redact('password=hunter2(old)').out).toBe('password=[REDACTED:password](old)');
    expect(redact('token=abc.d3f9(x)').out).toBe('token=[REDACTED:token](x)');
  });

  it('writes one marker for a quoted key with a quoted value', () => {
    expect(redact('{"password"=>"x", "a"=>1}').out).toBe('{"password"=>"[REDACTED:password]", "a"=>1}');
    expect(redact(`{'password': 'x'}`).out).toBe(`{'password': '[REDACTED:password]'}`);
    expect(redact(`{'password': 'x'}`).counts).toEqual({ password: 1 });
  });
});
