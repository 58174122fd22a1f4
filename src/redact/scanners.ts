/**
 * The scans of free text: one pass over the characters first counts what a detector needs (digits,
 * dots, dashes, `+`, uppercase letters), then each detector whose count can be met runs its expression
 * (`patterns.ts`) and checks its candidates (`validators.ts`). Values that must survive (UUIDs,
 * timestamps, hex ids, version strings) are found only when a numeric candidate exists, and a candidate
 * inside one is dropped.
 */
import { anonymizeIPv6, type IpPolicy } from './ip';
import {
  AWS40,
  EMAIL,
  type Features,
  type Group,
  IPV6,
  marker,
  NUMERIC,
  PEM,
  PROSE_SECRET,
  PROTECT,
  TOKEN_GATE,
  TOKEN_GROUPS,
  TOKENS,
  URL_HOST,
  URL_TOKEN_END,
  URL_USERINFO,
} from './patterns';
import { replace } from './validators';

/** A replacement decided for `text.slice(start, end)`. */
export interface Span {
  start: number;
  end: number;
  replacement: string;
  kind: string;
}

function isRunSeparator(c: number): boolean {
  return c === 32 || c === 45 || c === 46 || c === 40 || c === 41 || c === 47;
}

/** Counts the characters detectors depend on (a new object per call: re-entrant). */
export function features(text: string): Readonly<Features> {
  const f: Features = {
    length: text.length,
    digits: 0,
    run: 0,
    base64Run: 0,
    dots: 0,
    dashes: 0,
    plus: 0,
    upper: 0,
    lower: 0,
    at: 0,
    colons: 0,
    equals: 0,
    slashes: 0,
    percent: 0,
  };
  let run = 0;
  let separators = 0;
  let b64 = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      f.digits++;
      run++;
      b64++;
      separators = 0;
      if (run > f.run) f.run = run;
      continue;
    }
    if (c >= 97 && c <= 122) {
      f.lower++;
      b64++;
    } else if (c >= 65 && c <= 90) {
      f.upper++;
      b64++;
    } else {
      if (b64 > f.base64Run) f.base64Run = b64;
      if (c === 47) {
        f.slashes++;
        b64++;
      } else if (c === 43) {
        f.plus++;
        b64++;
      } else {
        b64 = 0;
        if (c === 46) f.dots++;
        else if (c === 45) f.dashes++;
        else if (c === 64) f.at++;
        else if (c === 58) f.colons++;
        else if (c === 61) f.equals++;
        else if (c === 37) f.percent++;
      }
    }
    // `) ` in `(555) 123-4567` is two separators in a row; three end the run.
    if (run > 0 && isRunSeparator(c) && ++separators <= 2) continue;
    run = 0;
    separators = 0;
  }
  if (b64 > f.base64Run) f.base64Run = b64;
  return f;
}

function tokenGroup(m: RegExpExecArray): Group | undefined {
  return groupOf(m, TOKEN_GROUPS);
}

function groupOf(m: RegExpExecArray, groups: readonly Group[]): Group | undefined {
  const named = m.groups;
  if (!named) return undefined;
  for (const g of groups) if (named[g] !== undefined) return g;
  return undefined;
}

/** Runs `re` over `text`, pushing accepted replacements; a rejected candidate resumes the scan inside it. */
function scan(
  re: RegExp,
  text: string,
  policy: IpPolicy,
  out: Span[],
  group: (m: RegExpExecArray) => Group | undefined,
): void {
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const g = group(m);
    if (g === undefined) continue;
    const result = replace(g, m[0], policy);
    if (result === 'keep') continue;
    if (result === null) {
      re.lastIndex = m.index + 1;
      continue;
    }
    const end = result.end === undefined ? m.index + m[0].length : m.index + result.end;
    out.push({ start: m.index, end, replacement: result.replacement, kind: result.kind });
    if (end < re.lastIndex) re.lastIndex = end;
  }
}

/** Spans of values that must survive (UUIDs, timestamps, hex ids, versions). */
function protectedSpans(text: string): Array<readonly [number, number]> {
  const spans: Array<readonly [number, number]> = [];
  PROTECT.lastIndex = 0;
  for (let m = PROTECT.exec(text); m !== null; m = PROTECT.exec(text))
    spans.push([m.index, m.index + m[0].length]);
  return spans;
}

/**
 * Finds token, numeric and network-address spans to replace in `text` (any order; overlaps are
 * resolved by the caller).
 */
export function scanPatterns(text: string, policy: IpPolicy, out: Span[], f: Readonly<Features>): void {
  if (text.length >= 16 && f.lower + f.upper >= 3 && TOKEN_GATE.test(text)) {
    scan(TOKENS, text, policy, out, tokenGroup);
  }
  const first = out.length;
  if (f.base64Run >= 40 && f.upper >= 1 && f.lower >= 1) scan(AWS40, text, policy, out, () => 'aws40');
  // Every remaining detector needs digits; most field values have few.
  if (f.digits < 4 && out.length === first) return;
  for (const d of NUMERIC) if (d.possible(f)) scan(d.re, text, policy, out, () => d.group);
  if (out.length === first) return;
  // A candidate covering the whole text cannot sit inside a value that must survive.
  let whole = true;
  for (let i = first; i < out.length && whole; i++) {
    const span = out[i] as Span;
    whole = span.start === 0 && span.end === text.length;
  }
  if (whole) return;
  const keep = protectedSpans(text);
  if (keep.length === 0) return;
  // A numeric candidate inside (or straddling) a value that must survive is not a detection.
  let w = first;
  for (let r = first; r < out.length; r++) {
    const span = out[r] as Span;
    const clash = keep.some(
      ([s, e]) => span.start < e && s < span.end && !(span.start <= s && e <= span.end),
    );
    if (!clash) out[w++] = span;
  }
  out.length = w;
}

/** E-mail addresses (also URL-encoded `%40`). */
export function scanEmails(text: string, out: Span[], f: Readonly<Features>): void {
  if (f.at === 0 && (f.percent === 0 || !text.includes('%40'))) return;
  EMAIL.lastIndex = 0;
  for (let m = EMAIL.exec(text); m !== null; m = EMAIL.exec(text)) {
    const at = m[0].includes('@') ? m[0].indexOf('@') + 1 : m[0].indexOf('%40') + 3;
    // `icon@2x.png` is an image name, not an address.
    if (/^\d+x\.(?:png|jpe?g|gif|svg|webp|avif)$/i.test(m[0].slice(at))) continue;
    out.push({ start: m.index, end: m.index + m[0].length, replacement: marker('email'), kind: 'email' });
  }
}

/** PEM private keys (RSA, EC, OpenSSH, PGP, encrypted); an unterminated block is redacted to the end. */
export function scanPem(text: string, out: Span[], f: Readonly<Features>): void {
  if (f.dashes < 5 || !text.includes('-----BEGIN')) return;
  PEM.lastIndex = 0;
  for (let m = PEM.exec(text); m !== null; m = PEM.exec(text)) {
    out.push({
      start: m.index,
      end: m.index + m[0].length,
      replacement: marker('private_key'),
      kind: 'private_key',
    });
  }
}

/** Longest password looked for after `://user:`, and `@`s tried per URL (keep the scan linear). */
const MAX_URL_PASSWORD = 1024;
const MAX_URL_AT_TRIES = 64;

/**
 * `scheme://user:password@host`: the password goes, the user name stays (unless it is an e-mail).
 * Logs are not browsers: a password may hold `#`, `/`, `?`, `@` unescaped, so everything between
 * `://user:` and the last `@` followed by a host (within the URL's token) is the password.
 */
export function scanUrlPasswords(text: string, out: Span[], f: Readonly<Features>): void {
  if (f.colons === 0 || f.slashes < 2 || !text.includes('://')) return;
  URL_USERINFO.lastIndex = 0;
  let tokenEnd = -1;
  let nextAt = -1;
  for (let m = URL_USERINFO.exec(text); m !== null; m = URL_USERINFO.exec(text)) {
    const [whole, scheme = '', user = ''] = m;
    const from = m.index + whole.length;
    if (from >= tokenEnd) {
      URL_TOKEN_END.lastIndex = from;
      tokenEnd = URL_TOKEN_END.exec(text)?.index ?? text.length;
    }
    if (nextAt < from) nextAt = text.indexOf('@', from);
    // No `@` left in this token: no later `://user:` in it has a password either.
    if (nextAt < 0 || nextAt >= tokenEnd) {
      URL_USERINFO.lastIndex = tokenEnd;
      continue;
    }
    let at = -1;
    let tries = 0;
    for (
      let i = text.lastIndexOf('@', Math.min(tokenEnd - 1, from + MAX_URL_PASSWORD));
      i > from && tries < MAX_URL_AT_TRIES;
      i = text.lastIndexOf('@', i - 1), tries++
    ) {
      URL_HOST.lastIndex = i + 1;
      if (URL_HOST.test(text)) {
        at = i;
        break;
      }
    }
    if (at < 0) continue;
    const safeUser = user.includes('@') || user.includes('%40') ? marker('email') : user;
    out.push({
      start: m.index,
      end: at + 1,
      replacement: `${scheme}${safeUser}:${marker('password')}@`,
      kind: 'url_password',
    });
    URL_USERINFO.lastIndex = at + 1;
  }
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/**
 * Whether `text` holds five `hex:` groups in a row (1–4 hex digits each; `IPV6_FULL`), in one pass: the
 * expression tried every position of every stack trace (`File.java:12`), a cost on the hot path.
 */
export function hasFiveHexGroups(text: string): boolean {
  let hex = 0;
  let groups = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isHex(c)) {
      hex++;
    } else if (c === 58 && hex > 0) {
      // More than four hex digits before a colon: a group can still start at the last four.
      groups = hex <= 4 ? groups + 1 : 1;
      if (groups >= 5) return true;
      hex = 0;
    } else {
      hex = 0;
      groups = 0;
    }
  }
  return false;
}

/** Any detected IPv6 address (validated by `node:net`), anonymized per policy. */
export function scanIPv6(text: string, policy: IpPolicy, out: Span[], f: Readonly<Features>): void {
  // A valid IPv6 address has `::`, or five `hex:` groups in a row (six before an embedded IPv4 address).
  if (!text.includes('::') && (f.colons < 6 || !hasFiveHexGroups(text))) return;
  IPV6.lastIndex = 0;
  for (let m = IPV6.exec(text); m !== null; m = IPV6.exec(text)) {
    const anonymized = /[0-9A-Fa-f]/.test(m[0]) ? anonymizeIPv6(m[0], policy) : undefined;
    if (anonymized === null) continue;
    if (anonymized === undefined) {
      // Not an address (a time, `a::b`, a stray leading colon): look again from the next character.
      IPV6.lastIndex = m.index + 1;
      continue;
    }
    out.push({
      start: m.index,
      end: m.index + m[0].length,
      replacement: anonymized === '' ? marker('ip') : anonymized,
      kind: 'ip',
    });
  }
}

export function scanProseSecrets(text: string, out: Span[]): void {
  if (!/["'`\u2018\u201c]/.test(text)) return;
  PROSE_SECRET.lastIndex = 0;
  for (let m = PROSE_SECRET.exec(text); m !== null; m = PROSE_SECRET.exec(text)) {
    const word = (m.groups?.word ?? '').toLowerCase();
    const value = m.groups?.val ?? '';
    const kind =
      word.startsWith('pass') || word === 'pwd'
        ? 'password'
        : word.startsWith('api')
          ? 'api_key'
          : word.startsWith('cred')
            ? 'credentials'
            : word;
    const start = m.index + m[0].length - value.length - 1;
    out.push({ start, end: start + value.length, replacement: marker(kind), kind });
  }
}
