/**
 * IP address anonymization: addresses are truncated to a network prefix (host bits zeroed), the
 * convention of analytics tools, so coarse location and ASN analysis still work while the address of a
 * person's device is never stored.
 */
import { isIPv6 } from 'node:net';

/**
 * Parses dotted-quad IPv4 into a 32-bit unsigned integer; `undefined` when not a valid address (four
 * parts of 1–3 ASCII digits, each at most 255). One pass over the characters: every address field of
 * every flow log line and every IPv4 candidate in text comes here.
 */
export function parseIPv4(s: string): number | undefined {
  const length = s.length;
  if (length < 7 || length > 15) return undefined;
  let n = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (++digits > 3) return undefined;
      part = part * 10 + (c - 48);
    } else if (c === 46) {
      if (digits === 0 || part > 255 || ++dots > 3) return undefined;
      n = n * 256 + part;
      part = 0;
      digits = 0;
    } else {
      return undefined;
    }
  }
  if (dots !== 3 || digits === 0 || part > 255) return undefined;
  return n * 256 + part;
}

export function formatIPv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function maskIPv4(n: number, prefix: number): number {
  if (prefix <= 0) return 0;
  if (prefix >= 32) return n >>> 0;
  return (n & ~((1 << (32 - prefix)) - 1)) >>> 0;
}

/** True for ranges that never identify a person on the internet (RFC 1918, loopback, link-local, CGNAT). */
export function isPrivateIPv4(n: number): boolean {
  const a = n >>> 24;
  const b = (n >>> 16) & 255;
  return (
    a === 10 ||
    a === 127 ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    (a === 169 && b === 254) ||
    (a === 100 && b >= 64 && b <= 127)
  );
}

/** 8 groups of 16 bits, or `undefined` when `s` is not an IPv6 address. */
export function parseIPv6(s: string): number[] | undefined {
  if (!isIPv6(s)) return undefined;
  let text = s;
  const groups: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  let v4: number[] = [];
  if (tail.includes('.')) {
    const n = parseIPv4(tail);
    if (n === undefined) return undefined;
    v4 = [n >>> 16, n & 0xffff];
    text = `${text.slice(0, lastColon + 1)}0`;
  }
  const [head = '', rest] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  if (v4.length > 0) (restGroups.length > 0 ? restGroups : headGroups).pop();
  const explicit = headGroups.length + restGroups.length + v4.length;
  const fill = rest === undefined ? 0 : 8 - explicit;
  for (const g of headGroups) groups.push(Number.parseInt(g, 16));
  for (let i = 0; i < fill; i++) groups.push(0);
  for (const g of restGroups) groups.push(Number.parseInt(g, 16));
  groups.push(...v4);
  return groups.length === 8 ? groups : undefined;
}

/** RFC 5952 text form: lowercase, longest run of zero groups (length ≥ 2) as `::`. */
export function formatIPv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

function maskIPv6(groups: readonly number[], prefix: number): number[] {
  return groups.map((g, i) => {
    const bits = Math.max(0, Math.min(16, prefix - i * 16));
    return bits === 0 ? 0 : g & (0xffff << (16 - bits)) & 0xffff;
  });
}

/** Loopback, link-local and unique-local addresses. */
export function isPrivateIPv6(groups: readonly number[]): boolean {
  const first = groups[0] ?? 0;
  const loopback = groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1;
  return loopback || (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80;
}

export interface IpPolicy {
  /** Prefix length IPv4 addresses are truncated to; 0 removes the address. */
  readonly ipv4PrefixLength: number;
  /** Prefix length IPv6 addresses are truncated to; 0 removes the address. */
  readonly ipv6PrefixLength: number;
}

/**
 * Anonymizes one IPv4 address or CIDR. Returns `null` when the text must stay as it is: a network (host
 * bits zero) that is private or no more precise than the policy, loopback, or the unspecified address.
 * Returns `undefined` when the text is not an address at all.
 */
export function anonymizeIPv4(text: string, policy: IpPolicy): string | null | undefined {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const n = parseIPv4(addr);
  if (n === undefined) return undefined;
  const given = slash < 0 ? 32 : Number(text.slice(slash + 1));
  if (!Number.isInteger(given) || given < 0 || given > 32) return undefined;
  if (n === 0 || n >>> 24 === 127) return null;
  const isNetwork = maskIPv4(n, given) === n;
  if (slash >= 0 && isNetwork && (isPrivateIPv4(n) || given <= policy.ipv4PrefixLength)) return null;
  if (policy.ipv4PrefixLength <= 0) return '';
  const prefix = Math.min(given, policy.ipv4PrefixLength);
  const masked = formatIPv4(maskIPv4(n, prefix));
  return slash < 0 ? masked : `${masked}/${prefix}`;
}

/** As {@link anonymizeIPv4}, for IPv6 (with an optional `/prefix`). */
export function anonymizeIPv6(text: string, policy: IpPolicy): string | null | undefined {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const groups = parseIPv6(addr);
  if (groups === undefined) return undefined;
  const given = slash < 0 ? 128 : Number(text.slice(slash + 1));
  if (!Number.isInteger(given) || given < 0 || given > 128) return undefined;
  const loopbackOrUnspecified = groups.slice(0, 7).every((g) => g === 0) && (groups[7] ?? 0) <= 1;
  if (loopbackOrUnspecified) return null;
  const isNetwork = maskIPv6(groups, given).every((g, i) => g === groups[i]);
  if (slash >= 0 && isNetwork && (isPrivateIPv6(groups) || given <= policy.ipv6PrefixLength)) return null;
  if (policy.ipv6PrefixLength <= 0) return '';
  const prefix = Math.min(given, policy.ipv6PrefixLength);
  const masked = formatIPv6(maskIPv6(groups, prefix));
  return slash < 0 ? masked : `${masked}/${prefix}`;
}
