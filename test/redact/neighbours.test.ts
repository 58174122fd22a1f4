import { describe, expect, it } from 'vitest';
import { Redactor } from '../../src/redact/redactor';

const redactor = new Redactor({
  ipv4PrefixLength: 24,
  ipv6PrefixLength: 48,
  extraSensitiveKeys: [],
  pseudonymKey: 'k',
});

/** Punctuation that commonly sits right before or after a value in logs, URLs, JSON and KEY=VALUE text. */
const BEFORE = [
  '',
  ' ',
  '(',
  '[',
  '{',
  '"',
  "'",
  '=',
  ':',
  ',',
  ';',
  '<',
  '>',
  '/',
  '#',
  '|',
  '\t',
  '\n',
  'x=',
  'to:',
  '\\"',
];
const AFTER = [
  '',
  ' ',
  ')',
  ']',
  '}',
  '"',
  "'",
  ',',
  ';',
  '.',
  '!',
  '?',
  '<',
  '/',
  '#',
  '|',
  '\t',
  '\n',
  '&x=1',
  '\\"',
];

function around(value: string): string[] {
  return BEFORE.flatMap((b) => AFTER.map((a) => `msg ${b}${value}${a} end`));
}

describe('Redactor.text with any neighbouring punctuation', () => {
  it.each([
    '4111111111111111',
    '4111 1111 1111 1111',
    '5555-5555-5555-4444',
    '378282246310005',
    'jane.doe@example.com',
    '123-45-6789',
    '+14155552671',
    '+44 20 7946 0958',
    '(415) 555-2671',
    '415-555-2671',
    'DE89370400440532013000',
    'GB29 NWBK 6016 1331 9268 19',
    'AKIAIOSFODNN7EXAMPL3',
    'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
    '203.0.113.195',
    '2001:db8:85a3::8a2e:370:7334',
    'xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx',
    'sk_live_4eC39HqLyjWDarjtT1zdp7dc',
    'AIzaSyDdI0hCZtE6vySjMm-WEfRq3CPzqKqqsHI',
    'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcdefghij',
  ])('removes %s', (secret) => {
    const leaks = around(secret).filter((text) => redactor.text(text, {}).includes(secret));
    expect(leaks).toEqual([]);
  });

  it.each([
    '4990ed56-0826-4ffe-af98-6f0b04c59e5f',
    'd3268ce38927d08fe56d466b29cc8f0b742d257f',
    '2026-12-05T18:56:41.781Z',
    'v1.2.3',
    '10.0.0.0/8',
    '7526303097261300',
    '00f067aa0ba902b7',
  ])('keeps %s', (value) => {
    const lost = around(value).filter((text) => !redactor.text(text, {}).includes(value));
    expect(lost).toEqual([]);
  });
});
