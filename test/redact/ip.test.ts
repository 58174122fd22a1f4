import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  anonymizeIPv4,
  anonymizeIPv6,
  formatIPv4,
  formatIPv6,
  parseIPv4,
  parseIPv6,
} from '../../src/redact/ip';

const policy = { ipv4PrefixLength: 24, ipv6PrefixLength: 48 };

describe('anonymizeIPv4', () => {
  it.each([
    ['198.192.43.108', '198.192.43.0'],
    ['10.1.2.3', '10.1.2.0'],
    ['8.8.8.8/32', '8.8.8.0/24'],
  ])('truncates %s to %s', (input, output) => {
    expect(anonymizeIPv4(input, policy)).toBe(output);
  });

  it('truncates to the configured prefix length', () => {
    expect(anonymizeIPv4('198.192.43.108', { ...policy, ipv4PrefixLength: 16 })).toBe('198.192.0.0');
  });

  it('removes the address when the prefix length is 0', () => {
    expect(anonymizeIPv4('198.192.43.108', { ...policy, ipv4PrefixLength: 0 })).toBe('');
  });

  it.each(['10.0.0.0/8', '172.16.0.0/12', '192.168.1.0/24', '203.0.113.0/24', '127.0.0.1', '0.0.0.0'])(
    'keeps %s (a network no more precise than the policy, or loopback)',
    (input) => {
      expect(anonymizeIPv4(input, policy)).toBeNull();
    },
  );

  it('returns undefined for text that is not an address', () => {
    expect(anonymizeIPv4('300.1.1.1', policy)).toBeUndefined();
  });
});

describe('anonymizeIPv6', () => {
  it.each([
    ['2001:db8:85a3::8a2e:370:7334', '2001:db8:85a3::'],
    ['2001:0db8:85a3:0000:0000:8a2e:0370:7334', '2001:db8:85a3::'],
    ['fe80::1', 'fe80::'],
    ['::ffff:198.51.100.7', '::'],
  ])('truncates %s to %s', (input, output) => {
    expect(anonymizeIPv6(input, policy)).toBe(output);
  });

  it.each(['::1', '::', 'fd00::/8', '2001:db8::/32'])('keeps %s', (input) => {
    expect(anonymizeIPv6(input, policy)).toBeNull();
  });

  it('round-trips the RFC 5952 text form', () => {
    const groups = parseIPv6('2001:db8:0:0:1:0:0:1');
    expect(groups && formatIPv6(groups)).toBe('2001:db8::1:0:0:1');
  });
});

describe('parseIPv4 (properties)', () => {
  /** The definition: four dot-separated parts of 1–3 ASCII digits, each at most 255. */
  function reference(s: string): number | undefined {
    const parts = s.split('.');
    if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
    return parts.reduce((n, p) => n * 256 + Number(p), 0);
  }

  it('answers as the definition does for any string of digits, dots and a few others', () => {
    const char = fc.constantFrom(...'0123456789.....a :/-+٣'.split(''));
    fc.assert(
      fc.property(fc.array(char, { maxLength: 18 }), (chars) => {
        const s = chars.join('');
        expect(parseIPv4(s)).toBe(reference(s));
      }),
      { numRuns: 5000 },
    );
  });

  it('reads every address and formats it back', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        const n = parseIPv4(ip);
        expect(n).toBe(reference(ip));
        expect(formatIPv4(n as number)).toBe(ip.replace(/\b0+(\d)/g, '$1'));
      }),
    );
  });
});
