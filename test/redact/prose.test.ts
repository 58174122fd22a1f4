import { describe, expect, it } from 'vitest';
import { type RedactionCounts, Redactor } from '../../src/redact/redactor';

const redactor = new Redactor({
  ipv4PrefixLength: 24,
  ipv6PrefixLength: 48,
  extraSensitiveKeys: [],
  pseudonymKey: 'test-pseudonym-key',
});

function redact(text: string): { out: string; counts: RedactionCounts } {
  const counts: RedactionCounts = {};
  return { out: redactor.text(text, counts), counts };
}

describe('Redactor.text (secrets written in prose)', () => {
  it.each([
    ['password', 'bad password "Tr0ub4dor&3-horse" for admin', 'Tr0ub4dor&3-horse'],
    ['password', "login rejected: password was 'hunter2'", 'hunter2'],
    ['password', 'passphrase is "correct horse battery staple"', 'correct horse battery staple'],
    ['password', 'pwd “s3cr3t!” rejected', 's3cr3t!'],
    ['token', 'refresh token `a1b2c3d4e5` expired', 'a1b2c3d4e5'],
    ['api_key', 'API key set to "xk-live-12345"', 'xk-live-12345'],
    ['secret', 'client secret "shh-its-secret" rotated', 'shh-its-secret'],
  ])('removes a quoted %s after a sensitive word', (kind, text, secret) => {
    const { out, counts } = redact(text);

    expect(out).not.toContain(secret);
    expect(out).toContain(`[REDACTED:${kind}]`);
    expect(counts[kind]).toBeGreaterThanOrEqual(1);
  });

  it.each([
    'password is incorrect',
    'reset password for "marketing" workspace requested',
    'token refresh took 12 ms',
    'the "secret" menu was opened',
  ])('keeps prose without a quoted value right after the word: %s', (text) => {
    const { out } = redact(text);

    expect(out).toBe(text);
  });
});
