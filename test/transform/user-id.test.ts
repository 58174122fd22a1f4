import { describe, expect, it } from 'vitest';
import { pseudonymizeUserId } from '../../src/redact/pseudonym';
import { ARRIVAL, json, normalizeOne, PSEUDONYM_KEY } from './helpers';

describe('user ids written in text', () => {
  const pseudonym = pseudonymizeUserId('42', PSEUDONYM_KEY);

  it.each([
    ['a text line', '2026-01-02T03:04:05Z INFO login ok user_id=42 from web'],
    ['a quoted pair in text', '2026-01-02T03:04:05Z INFO login ok userId: "42"'],
    ['a JSON message', json({ time: ARRIVAL, level: 'info', service: 'auth', msg: 'login ok user_id=42' })],
    ['a logfmt line', 'time=2026-01-02T03:04:05Z level=info service=auth msg="login ok" user_id=42'],
  ])('fill the user_id column from %s, as the pseudonym the text carries', (_name, line) => {
    const record = normalizeOne(line);
    expect(record.user_id).toBe(pseudonym);
    expect(JSON.stringify(record)).not.toMatch(/user_?[iI]d[=:]\s*"?42/);
  });

  it('prefer the user-id field over an id written in the message', () => {
    const record = normalizeOne(
      json({ time: ARRIVAL, level: 'info', service: 'a', user_id: '7', msg: 'for user_id=42' }),
    );
    expect(record.user_id).toBe(pseudonymizeUserId('7', PSEUDONYM_KEY));
  });

  it('leave the column empty when the text has no user-id pair', () => {
    expect(normalizeOne('2026-01-02T03:04:05Z INFO the user logged in').user_id).toBeNull();
  });
});
