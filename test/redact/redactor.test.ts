import { describe, expect, it } from 'vitest';
import { pseudonymizeUserId } from '../../src/redact/pseudonym';
import { type RedactionCounts, Redactor } from '../../src/redact/redactor';

const KEY = 'test-pseudonym-key';
const redactor = new Redactor({
  ipv4PrefixLength: 24,
  ipv6PrefixLength: 48,
  extraSensitiveKeys: [],
  pseudonymKey: KEY,
});

function redact(text: string): { out: string; counts: RedactionCounts } {
  const counts: RedactionCounts = {};
  return { out: redactor.text(text, counts), counts };
}

describe('Redactor.text', () => {
  // [kind, text containing the secret, the secret]
  const positives: ReadonlyArray<readonly [string, string, string]> = [
    ['email', 'user marek.tanaka+tag@mail.example.org logged in', 'marek.tanaka+tag@mail.example.org'],
    ['email', 'GET /unsubscribe?to=jane%40example.com', 'jane%40example.com'],
    ['card', 'charge failed for card 4111 1111 1111 1111', '4111 1111 1111 1111'],
    ['card', 'card 5552-4829-2724-7123 declined', '5552-4829-2724-7123'],
    ['card', 'amex 3758 953435 82243', '3758 953435 82243'],
    ['card', 'pan=371224310591760', '371224310591760'],
    ['ssn', 'kyc check ssn 170-99-6782 pending', '170-99-6782'],
    ['phone', 'sms sent to +12814977372', '+12814977372'],
    ['phone', 'sms sent to +44 20 2651 5411', '+44 20 2651 5411'],
    ['phone', 'sms sent to +49 30 72991929', '+49 30 72991929'],
    ['phone', 'call (726) 858-1365 now', '(726) 858-1365'],
    ['phone', 'call 726-858-1365 now', '726-858-1365'],
    ['phone', 'call 030 72991929', '030 72991929'],
    ['phone', 'appel 06 12 34 56 78', '06 12 34 56 78'],
    ['phone', 'call 0049 30 12345678', '0049 30 12345678'],
    ['phone', 'call +1 (415) 555-2671', '(415) 555-2671'],
    ['iban', 'refund to DE89 3704 0044 0532 0130 00 today', 'DE89 3704 0044 0532 0130 00'],
    ['iban', 'iban GB29NWBK60161331926819', 'GB29NWBK60161331926819'],
    ['aws_access_key', 'key id AKIA6WP3HI5AK3ZWSRDG', 'AKIA6WP3HI5AK3ZWSRDG'],
    ['aws_access_key', 'session ASIA2WGWPFWANESTMDXV', 'ASIA2WGWPFWANESTMDXV'],
    [
      'aws_secret_key',
      'secret tetzmvYxXuS9QHK0XrOeJCK6MOsL1zIfVfFF8o/I',
      'tetzmvYxXuS9QHK0XrOeJCK6MOsL1zIfVfFF8o/I',
    ],
    [
      'github_token',
      'git clone with token ghp_R5fpRQYVktul9Uu1MnGLNHNHMcaje5WH0Eoq',
      'ghp_R5fpRQYVktul9Uu1MnGLNHNHMcaje5WH0Eoq',
    ],
    [
      'github_token',
      'pat github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTU',
      'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTU',
    ],
    [
      'slack_token',
      'bot xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
      'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
    ],
    [
      'slack_webhook',
      'post https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX',
      'T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX',
    ],
    [
      'stripe_key',
      'stripe client init key=rk_live_ZEJgcCz8via2IUlo0KqXeEmC',
      'rk_live_ZEJgcCz8via2IUlo0KqXeEmC',
    ],
    ['stripe_key', 'sk_test_4eC39HqLyjWDarjtT1zdp7dc used', 'sk_test_4eC39HqLyjWDarjtT1zdp7dc'],
    [
      'google_api_key',
      'maps AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI loaded',
      'AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI',
    ],
    [
      'jwt',
      'token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
      'eyJzdWIiOiIxMjM0NTY3ODkwIn0',
    ],
    ['bearer', 'Authorization: Bearer abc123.def456-ghi', 'abc123.def456-ghi'],
    // 15 letters, no digit or punctuation: random mixed case tells it from a word after "Bearer".
    ['bearer', 'Bearer AbCdEfGhIjKlMnO', 'AbCdEfGhIjKlMnO'],
    ['basic_auth', 'header Basic dXNlcjpwYXNz sent', 'dXNlcjpwYXNz'],
    ['url_password', 'connect postgres://app:s3cr3t!@db.internal:5432/app', 's3cr3t!'],
    ['url_password', 'https://user%40corp.example:pa#ss!word@db.internal:5432/app', 'pa#ss!word'],
    ['url_password', 'redis://default:p/a?s@s#w@cache.internal:6379', 'p/a?s@s#w'],
    [
      'private_key',
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----',
      'MIIEpAIBAAKCAQEA',
    ],
    [
      'private_key',
      'key: -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE (truncated',
      'b3BlbnNzaC1rZXktdjE',
    ],
    ['ip', 'request from 198.192.43.108 accepted', '198.192.43.108'],
    ['ip', 'peer 2001:db8:85a3::8a2e:370:7334 closed', '8a2e:370:7334'],
    ['password', 'login password=hunter2 ok', 'hunter2'],
    ['password', 'db_password: "correct horse battery"', 'correct horse battery'],
    [
      'secret',
      'aws_secret_access_key=mG7JB7bu5CN9YISFo7Z2mXWhrhRPiq73uP2kDQuG',
      'mG7JB7bu5CN9YISFo7Z2mXWhrhRPiq73uP2kDQuG',
    ],
    ['token', 'GET /cb?code=1&access_token=abcDEF123&state=x', 'abcDEF123'],
    ['api_key', 'x-api-key: 9f8e7d6c5b4a', '9f8e7d6c5b4a'],
    ['cookie', 'Cookie: session=abc123xyz', 'session=abc123xyz'],
    ['password', 'payload={"user":"bob","password":"p@ss w0rd"}', 'p@ss w0rd'],
    ['password', 'raw {\\"password\\":\\"hunter2\\"}', 'hunter2'],
  ];

  it.each(positives)('redacts %s in %j', (kind, text, secret) => {
    const { out, counts } = redact(text);
    expect(out).not.toContain(secret);
    expect(counts[kind]).toBeGreaterThan(0);
  });

  it('marks the kind in the replacement', () => {
    expect(redact('mail bob@example.com').out).toBe('mail [REDACTED:email]');
  });

  it('pseudonymizes user ids in KEY=VALUE text', () => {
    const { out, counts } = redact('checkout user_id=alice total=3');
    expect(out).toBe(`checkout user_id=${pseudonymizeUserId('alice', KEY)} total=3`);
    expect(counts.user_id).toBe(1);
  });

  it.each(['uid 7', 'uid:7', 'uid#7'])(
    'pseudonymizes the shortest prose user id, %j, in text and message alike',
    (text) => {
      const pseudonym = pseudonymizeUserId('7', KEY);
      expect(redact(text).out).toBe(`${text.slice(0, 4)}${pseudonym}`);
      const counts: RedactionCounts = {};
      expect(redactor.message(text, counts)).toEqual({
        text: `${text.slice(0, 4)}${pseudonym}`,
        proseUserId: '7',
      });
      expect(counts.user_id).toBe(1);
    },
  );

  const negatives: ReadonlyArray<readonly [string, string]> = [
    ['a UUID', 'request 4990ed56-0826-4ffe-af98-6f0b04c59e5f done'],
    ['a trace id', 'trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7'],
    ['an X-Ray trace id', 'Root=1-5759e988-bd862e3fe1be46a994272793'],
    ['a commit id', 'deployed d3268ce38927d08fe56d466b29cc8f0b742d257f'],
    ['a sha256', 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['an ISO timestamp', 'at 2026-12-05T18:56:41.781Z and 2026-12-05 18:56:41,781'],
    ['a version', 'running v1.2.3.4 (version 10.0.19041.1), release 2.14.0'],
    ['a version that is also an address', 'upgraded to 1.6.12.2'],
    ['an upgrade between dotted quads', 'nginx upgraded from 1.6.12.1 to 1.6.12.2'],
    ['a User-Agent product version', 'agent Mozilla/5.0 Firefox/121.0.1.2 aws-cli/2.15.0.1'],
    ['a port', 'listening on port 8080 and :5432'],
    ['a private CIDR', 'allow 10.0.0.0/8 and 192.168.0.0/16 and 172.16.0.0/12'],
    ['a long numeric id that fails Luhn', 'order 7526303097261300 processed'],
    ['a Luhn-valid id outside card ranges', 'order 7999999999999999 processed'],
    ['an epoch in ms', 'ts=1733420201781'],
    ['a duration', 'took 2062 ms, p99 12.5s'],
    ['a date range', '2024-01-01..2024-12-31'],
    ['a time', 'at 12:34:56.789'],
    ['a MAC address', 'mac 00:1a:2b:3c:4d:5e'],
    ['a count', 'processed 1234567 rows in 3 batches'],
    ['token counts', 'prompt_tokens=1200 completion_tokens=300'],
    ['a non-IBAN uppercase code', 'code AB12CDEF3456GHIJ7890'],
    ['an image name', 'icon@2x.png'],
    ['prose about bearer tokens', 'Bearer authentication required'],
    ['a capitalised word after Bearer', 'Bearer Authentication'],
    ['an invalid SSN', 'id 000-12-3456 and 666-12-3456'],
  ];

  it.each(negatives)('keeps %s intact', (_what, text) => {
    const { out, counts } = redact(text);
    expect(out).toBe(text);
    expect(counts).toEqual({});
  });

  it('redacts JSON embedded in a string field by field, keeping its shape', () => {
    const counts: RedactionCounts = {};
    const out = redactor.text(
      JSON.stringify({ password: 'x', user: { id: 7 }, note: 'mail a@b.co' }),
      counts,
    );
    expect(JSON.parse(out)).toEqual({
      password: '[REDACTED:password]',
      user: { id: pseudonymizeUserId('7', KEY) },
      note: 'mail [REDACTED:email]',
    });
    expect(counts).toEqual({ password: 1, user_id: 1, email: 1 });
  });

  it('keeps embedded JSON byte for byte when nothing in it is sensitive', () => {
    const text = '{ "id": 12345678901234567890, "ok": true }';
    expect(redactor.text(text, {})).toBe(text);
  });

  it('redacts extra sensitive keys from the configuration', () => {
    const custom = new Redactor({
      ipv4PrefixLength: 24,
      ipv6PrefixLength: 48,
      extraSensitiveKeys: ['tenant_code'],
      pseudonymKey: KEY,
    });
    const counts: RedactionCounts = {};
    expect(custom.text('tenantCode=4242 ok', counts)).toBe('tenantCode=[REDACTED:sensitive_key] ok');
    expect(custom.value('context.TENANT-CODE', 4242, counts)).toBe('[REDACTED:sensitive_key]');
  });
});

describe('Redactor.value', () => {
  it('redacts everything under a sensitive field, keeping booleans and null', () => {
    const counts: RedactionCounts = {};
    const out = redactor.value(
      'credentials',
      { user: 'bob', password: 'x', mfa: true, hint: null, pin: 1234 },
      counts,
    );
    expect(out).toEqual({
      user: '[REDACTED:credentials]',
      password: '[REDACTED:credentials]',
      mfa: true,
      hint: null,
      pin: '[REDACTED:credentials]',
    });
    expect(counts).toEqual({ credentials: 3 });
  });

  it('pseudonymizes numeric user ids and leaves existing pseudonyms alone', () => {
    const counts: RedactionCounts = {};
    const pseudonym = pseudonymizeUserId('42', KEY);
    expect(redactor.value('userId', 42, counts)).toBe(pseudonym);
    expect(redactor.value('user_id', pseudonym, counts)).toBe(pseudonym);
    expect(counts).toEqual({ user_id: 1 });
  });

  it('checks long numbers as text (a card number sent as a JSON number)', () => {
    const counts: RedactionCounts = {};
    expect(redactor.value('amount_ref', 4111111111111111, counts)).toBe('[REDACTED:card]');
    expect(redactor.value('count', 1234567, counts)).toBe(1234567);
  });
});

describe('Redactor.text on a repeated string', () => {
  it('returns the same text and counts the same replacements each time (short strings are remembered)', () => {
    // Prepare
    const text = 'mail jane@example.org card 4111 1111 1111 1111';

    // Act
    const first = redact(text);
    const second = redact(text);

    // Assess
    expect(second.out).toBe(first.out);
    expect(second.out).not.toContain('jane@example.org');
    expect(second.counts).toEqual(first.counts);
    expect(second.counts.email).toBe(1);
  });
});
