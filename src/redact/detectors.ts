/**
 * Pattern detectors for free text. Speed matters (every string value of every event passes here), so
 * one pass over the characters first counts what a detector needs (digits, dots, dashes, `+`,
 * uppercase letters), and each detector's regular expression runs only when its count can be met: a
 * card needs 13 digits, an IPv4 address three dots. Prefixed tokens (GitHub, Slack, Stripe, AWS key
 * ids, JWTs...) share one expression behind a literal-prefix gate. Values that must survive (UUIDs,
 * timestamps, hex ids, version strings) are found only when a numeric candidate exists, and a
 * candidate inside one is dropped. Lookbehinds anchor candidates at token starts (linear scans);
 * checksums (Luhn, IBAN mod 97) and shape rules run only on candidates.
 */
import { ibanValid, luhnValid } from './checksums';
import { anonymizeIPv4, anonymizeIPv6, type IpPolicy } from './ip';

/** Kinds a text detector reports (the `kind` in `[REDACTED:kind]` and in `redactions`). */
export type DetectorKind =
  | 'email'
  | 'card'
  | 'ssn'
  | 'phone'
  | 'iban'
  | 'ip'
  | 'aws_access_key'
  | 'aws_secret_key'
  | 'github_token'
  | 'gitlab_token'
  | 'npm_token'
  | 'slack_token'
  | 'slack_webhook'
  | 'stripe_key'
  | 'google_api_key'
  | 'google_oauth'
  | 'openai_key'
  | 'jwt'
  | 'bearer'
  | 'basic_auth'
  | 'url_password'
  | 'private_key';

export function marker(kind: string): string {
  return `[REDACTED:${kind}]`;
}

/** A replacement decided for `text.slice(start, end)`. */
export interface Span {
  start: number;
  end: number;
  replacement: string;
  kind: string;
}

const GROUPS = [
  'jwt',
  'bearer',
  'basic',
  'github',
  'gitlab',
  'npm',
  'slack',
  'slackhook',
  'stripe',
  'google',
  'googleoauth',
  'openai',
  'akid',
  'uuid',
  'iso',
  'version',
  'iban',
  'hex',
  'aws40',
  'ipv4',
  'ssn',
  'card',
  'intl',
  'nanp',
  'national',
] as const;
type Group = (typeof GROUPS)[number];

// `(?<![\w-])` style lookbehinds anchor candidates at token starts (linear scan, no mid-word hits).
const ALTERNATIVES: Readonly<Record<Group, string>> = {
  jwt: String.raw`(?<![\w-])eyJ[\w-]{2,}\.[\w-]{2,}\.[\w-]*`,
  bearer: String.raw`(?<![\w-])(?:[Bb]earer|BEARER)[ \t]+[\w.~+/-]{8,}=*`,
  basic: String.raw`(?<![\w-])(?:[Bb]asic|BASIC)[ \t]+[A-Za-z0-9+/]{6,}={0,2}(?![\w+/=-])`,
  github: String.raw`(?<![\w-])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_\w{22,255})(?!\w)`,
  gitlab: String.raw`(?<![\w-])glpat-[\w-]{20,}`,
  npm: String.raw`(?<![\w-])npm_[A-Za-z0-9]{36}(?!\w)`,
  slack: String.raw`(?<![\w-])(?:xox[abposr]-[A-Za-z0-9-]{10,250}|xapp-\d-[A-Za-z0-9-]{10,250})`,
  slackhook: String.raw`(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]+`,
  stripe: String.raw`(?<![\w-])(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,247}|whsec_[A-Za-z0-9]{20,})(?!\w)`,
  google: String.raw`(?<![\w-])AIza[\w-]{35}(?![\w-])`,
  googleoauth: String.raw`(?<![\w-])(?:ya29\.[\w-]{20,}|GOCSPX-[\w-]{20,})`,
  openai: String.raw`(?<![\w-])sk-(?:proj-|ant-)?[\w-]{32,}`,
  akid: `(?<![A-Za-z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])`,
  uuid: String.raw`(?<![\w-])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w])`,
  iso: String.raw`(?<![\w-])\d{4}-[01]\d-[0-3]\d(?:[T ][0-2]\d:[0-5]\d(?::[0-6]\d(?:[.,]\d{1,9})?)?(?:Z|[+-][0-2]\d(?::?[0-5]\d)?)?)?(?![\w])`,
  version: String.raw`(?<![\w-])(?:(?:[Vv]ersion|VERSION|[Vv]er|[Rr]elease|[Bb]uild)[ =:]{0,2}v?|v)\d+(?:\.\d+){1,4}(?:-[\w.]+)?`,
  iban: String.raw`(?<![\w])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![\w])`,
  hex: String.raw`(?<![\w])(?=\d*[a-fA-F])[0-9a-fA-F]{16,}(?![\w])`,
  aws40: `(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])`,
  ipv4: String.raw`(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:/\d{1,2})?(?![\w]|\.\d)`,
  ssn: String.raw`(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w]|-\d)`,
  card: String.raw`(?<![\w.+-])\d(?:[ -]?\d){12,18}(?!\w)`,
  intl: String.raw`(?<![\w+])\+\d(?:[ .()-]{0,2}\d){6,16}(?![\w])`,
  nanp: String.raw`(?<![\w+.-])(?:1[ .-])?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w]|[.-]\d)`,
  national: String.raw`(?<![\w+.-])0\d{1,4}(?:[ -]\d{2,8}){1,4}(?![\w]|[.-]\d)`,
};

const TOKEN_GROUPS: readonly Group[] = [
  'jwt',
  'bearer',
  'basic',
  'github',
  'gitlab',
  'npm',
  'slack',
  'slackhook',
  'stripe',
  'google',
  'googleoauth',
  'openai',
  'akid',
];
const PROTECT_GROUPS: readonly Group[] = ['uuid', 'iso', 'version', 'hex'];

function combined(groups: readonly Group[]): RegExp {
  return new RegExp(groups.map((g) => `(?<${g}>${ALTERNATIVES[g]})`).join('|'), 'g');
}

/** Literal prefixes of every token alternative: a cheap test before the combined token scan. */
const TOKEN_GATE =
  /eyJ|[Bb]earer|BEARER|[Bb]asic|BASIC|gh[pousr]_|github_pat_|glpat-|npm_|xox[abposr]-|xapp-|hooks\.slack\.com|_live_|_test_|whsec_|AIza|ya29\.|GOCSPX-|sk-|A3T|AKIA|ASIA|ABIA|ACCA/;
const TOKENS = combined(TOKEN_GROUPS);
const PROTECT = combined(PROTECT_GROUPS);

/** Character counts that decide which detectors can match at all (one pass per string). */
export interface Features {
  length: number;
  digits: number;
  /** Longest run of digits where single separators (space, `-`, `.`, `(`, `)`, `/`) do not break it. */
  run: number;
  dots: number;
  dashes: number;
  plus: number;
  upper: number;
  lower: number;
  at: number;
  colons: number;
  equals: number;
  slashes: number;
  percent: number;
}

// Reused for every scan (synchronous, not re-entrant): one allocation less per string.
const f: Features = {
  length: 0,
  digits: 0,
  run: 0,
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

function isRunSeparator(c: number): boolean {
  return c === 32 || c === 45 || c === 46 || c === 40 || c === 41 || c === 47;
}

/** Counts the characters detectors depend on. The returned object is reused by the next call. */
export function features(text: string): Readonly<Features> {
  f.length = text.length;
  f.digits = 0;
  f.run = 0;
  f.dots = 0;
  f.dashes = 0;
  f.plus = 0;
  f.upper = 0;
  f.lower = 0;
  f.at = 0;
  f.colons = 0;
  f.equals = 0;
  f.slashes = 0;
  f.percent = 0;
  let run = 0;
  let separators = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      f.digits++;
      run++;
      separators = 0;
      if (run > f.run) f.run = run;
      continue;
    }
    if (c >= 97 && c <= 122) f.lower++;
    else if (c >= 65 && c <= 90) f.upper++;
    else if (c === 46) f.dots++;
    else if (c === 45) f.dashes++;
    else if (c === 43) f.plus++;
    else if (c === 64) f.at++;
    else if (c === 58) f.colons++;
    else if (c === 61) f.equals++;
    else if (c === 47) f.slashes++;
    else if (c === 37) f.percent++;
    // `) ` in `(555) 123-4567` is two separators in a row; three end the run.
    if (run > 0 && isRunSeparator(c) && ++separators <= 2) continue;
    run = 0;
    separators = 0;
  }
  return f;
}

interface NumericDetector {
  readonly group: Group;
  readonly re: RegExp;
  /** Whether the detector can match a text with these counts. */
  readonly possible: (f: Features) => boolean;
}

const AWS40 = new RegExp(ALTERNATIVES.aws40, 'g');

const NUMERIC: readonly NumericDetector[] = (
  [
    ['iban', (f: Features) => f.upper >= 2 && f.digits >= 8],
    ['ipv4', (f: Features) => f.dots >= 3 && f.run >= 4],
    ['ssn', (f: Features) => f.dashes >= 2 && f.run >= 9],
    ['card', (f: Features) => f.run >= 13],
    ['intl', (f: Features) => f.plus >= 1 && f.run >= 8],
    ['nanp', (f: Features) => f.run >= 10],
    ['national', (f: Features) => f.run >= 9],
  ] as const
).map(([group, possible]) => ({ group, re: new RegExp(ALTERNATIVES[group], 'g'), possible }));

/** A card number: 13-19 digits, a card-network first digit (2-6), Luhn; groups as printed on cards. */
function cardValid(text: string): boolean {
  const digits = text.replace(/[ -]/g, '');
  if (digits.length < 13 || digits.length > 19) return false;
  const first = digits.charCodeAt(0) - 48;
  if (first < 2 || first > 6) return false;
  const separators = text.match(/[ -]/g);
  if (separators) {
    if (separators.some((s) => s !== separators[0])) return false;
    const groups = text.split(/[ -]/);
    if (groups[0]?.length !== 4 || groups.length > 5) return false;
    if (groups.slice(1, -1).some((g) => g.length < 3 || g.length > 6)) return false;
  }
  return luhnValid(digits);
}

/**
 * Length of the card number at the start of a candidate, or `undefined`. A separated candidate may
 * have swallowed a following number (`4111 1111 1111 1111 12/25`): shorter group prefixes are tried.
 */
function cardLength(text: string): number | undefined {
  const firstSeparator = text.search(/[ -]/);
  if (firstSeparator < 0) return cardValid(text) ? text.length : undefined;
  // A plain card number followed by another number (`4111111111111111 2`).
  if (firstSeparator !== 4) {
    return firstSeparator >= 13 && firstSeparator <= 19 && cardValid(text.slice(0, firstSeparator))
      ? firstSeparator
      : undefined;
  }
  if (cardValid(text)) return text.length;
  const ends: number[] = [];
  for (let i = 0; i < text.length; i++) if (text[i] === ' ' || text[i] === '-') ends.push(i);
  for (let k = ends.length - 1; k >= 2; k--) {
    const end = ends[k] as number;
    if (cardValid(text.slice(0, end))) return end;
  }
  return undefined;
}

function ssnValid(text: string): boolean {
  const [area = '', group = '', serial = ''] = text.split('-');
  return area !== '000' && area !== '666' && area[0] !== '9' && group !== '00' && serial !== '0000';
}

function digitCount(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

function intlPhoneValid(text: string): boolean {
  const n = digitCount(text);
  if (n < 8 || n > 15) return false;
  const open = text.split('(').length - 1;
  const close = text.split(')').length - 1;
  return open === close && !/[ .-]{2}|\.\d+\.\d+\.\d+\.\d+$/.test(text);
}

function nanpValid(text: string): boolean {
  const digits = text.replace(/\D/g, '');
  const national = digits.length === 11 ? digits.slice(1) : digits;
  if (national.length !== 10) return false;
  if (national[0] === '0' || national[0] === '1' || national[3] === '0' || national[3] === '1') return false;
  if (!text.includes('(')) {
    const seps = text.replace(/^1[ .-]/, '').match(/[ .-]/g) ?? [];
    if (seps.length === 2 && seps[0] !== seps[1]) return false;
  }
  return true;
}

function basicValid(text: string): boolean {
  const credential = text.replace(/^\S+[ \t]+/, '');
  const decoded = Buffer.from(credential, 'base64').toString('latin1');
  return /^[\x20-\x7e]+:[\x20-\x7e]*$/.test(decoded);
}

function bearerValid(text: string): boolean {
  const credential = text.replace(/^\S+[ \t]+/, '');
  return credential.length >= 20 || /[\d._~+/=-]/.test(credential);
}

/** Mixed case plus a digit or `/`/`+`: random base64, unlike a 40-character hex id or a word. */
function aws40Valid(text: string): boolean {
  return /[A-Z]/.test(text) && /[a-z]/.test(text) && /[\d/+]/.test(text);
}

/**
 * The replacement for one detector match: a replacement (with `kind`, and `end` when only a
 * prefix of the match is replaced), `'keep'` for a value that must survive (skipped whole), or `null`
 * for a candidate that failed its check (the scan resumes inside it).
 */
function replace(
  group: Group,
  text: string,
  policy: IpPolicy,
): { replacement: string; kind: DetectorKind; end?: number } | 'keep' | null {
  switch (group) {
    case 'uuid':
    case 'iso':
    case 'version':
    case 'hex':
      return 'keep';
    case 'jwt':
      return { replacement: marker('jwt'), kind: 'jwt' };
    case 'bearer':
      return bearerValid(text)
        ? { replacement: `${text.replace(/[ \t].*$/s, '')} ${marker('bearer')}`, kind: 'bearer' }
        : null;
    case 'basic':
      return basicValid(text)
        ? { replacement: `${text.replace(/[ \t].*$/s, '')} ${marker('basic_auth')}`, kind: 'basic_auth' }
        : null;
    case 'github':
      return { replacement: marker('github_token'), kind: 'github_token' };
    case 'gitlab':
      return { replacement: marker('gitlab_token'), kind: 'gitlab_token' };
    case 'npm':
      return { replacement: marker('npm_token'), kind: 'npm_token' };
    case 'slack':
      return { replacement: marker('slack_token'), kind: 'slack_token' };
    case 'slackhook':
      return { replacement: marker('slack_webhook'), kind: 'slack_webhook' };
    case 'stripe':
      return { replacement: marker('stripe_key'), kind: 'stripe_key' };
    case 'google':
      return { replacement: marker('google_api_key'), kind: 'google_api_key' };
    case 'googleoauth':
      return { replacement: marker('google_oauth'), kind: 'google_oauth' };
    case 'openai':
      return { replacement: marker('openai_key'), kind: 'openai_key' };
    case 'akid':
      return { replacement: marker('aws_access_key'), kind: 'aws_access_key' };
    case 'aws40':
      return aws40Valid(text) ? { replacement: marker('aws_secret_key'), kind: 'aws_secret_key' } : null;
    case 'iban': {
      const compact = text.replace(/ /g, '');
      for (let len = compact.length; len >= 15; len--) {
        if (!ibanValid(compact.slice(0, len))) continue;
        // Map the compact length back onto the spaced text so trailing words survive.
        let seen = 0;
        let end = 0;
        while (seen < len && end < text.length) {
          if (text[end] !== ' ') seen++;
          end++;
        }
        return { replacement: marker('iban'), kind: 'iban', end };
      }
      return null;
    }
    case 'ipv4': {
      const anonymized = anonymizeIPv4(text, policy);
      if (anonymized === null || anonymized === undefined) return null;
      return { replacement: anonymized === '' ? marker('ip') : anonymized, kind: 'ip' };
    }
    case 'ssn':
      return ssnValid(text) ? { replacement: marker('ssn'), kind: 'ssn' } : null;
    case 'card': {
      const end = cardLength(text);
      return end === undefined ? null : { replacement: marker('card'), kind: 'card', end };
    }
    case 'intl':
      return intlPhoneValid(text) ? { replacement: marker('phone'), kind: 'phone' } : null;
    case 'nanp':
      return nanpValid(text) ? { replacement: marker('phone'), kind: 'phone' } : null;
    case 'national': {
      const n = digitCount(text);
      // `00` is the international call prefix (up to 15 digits follow); the SSN shape (3-2-4) is left
      // to the SSN detector and its validity rules.
      const max = text.startsWith('00') ? 17 : 12;
      if (n < 9 || n > max || /^\d{3}-\d{2}-\d{4}$/.test(text)) return null;
      return { replacement: marker('phone'), kind: 'phone' };
    }
  }
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
  if (f.length >= 40 && f.upper >= 1 && f.lower >= 1) scan(AWS40, text, policy, out, () => 'aws40');
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

const EMAIL =
  /(?<![\w.%+-])[\w.%+-]{1,64}(?:@|%40)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}(?![\w-])/g;

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

const PEM =
  /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|$)/g;

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

const URL_USERINFO = /\b([a-zA-Z][a-zA-Z0-9+.-]{1,20}:\/\/)([^\s:@/?#]*):([^\s@/?#]+)@/g;

/** `scheme://user:password@host`: the password goes, the user name stays (unless it is an e-mail). */
export function scanUrlPasswords(text: string, out: Span[], f: Readonly<Features>): void {
  if (f.colons === 0 || f.slashes < 2 || !text.includes('://')) return;
  URL_USERINFO.lastIndex = 0;
  for (let m = URL_USERINFO.exec(text); m !== null; m = URL_USERINFO.exec(text)) {
    const [whole, scheme = '', user = ''] = m;
    const safeUser = user.includes('@') || user.includes('%40') ? marker('email') : user;
    out.push({
      start: m.index,
      end: m.index + whole.length,
      replacement: `${scheme}${safeUser}:${marker('password')}@`,
      kind: 'url_password',
    });
  }
}

/** Any detected IPv6 address (validated by `node:net`), anonymized per policy. */
// Not inside a longer token: no word character, dot, or `hex:` just before (a label such as `to:` is fine).
const IPV6 =
  /(?<![\w.]|[0-9A-Fa-f]:)(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?(?:\/\d{1,3})?(?![\w:])/g;

export function scanIPv6(text: string, policy: IpPolicy, out: Span[], f: Readonly<Features>): void {
  if (f.colons < 2) return;
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

/**
 * A quoted value right after a sensitive word in prose: `bad password "hunter2"`, `token was 'abc'`,
 * `api key is "…"`. KEY=VALUE and JSON cover `password=…`; this covers the sentences people write.
 * Only quoted values count, so `password is incorrect` keeps its words.
 */
const PROSE_SECRET =
  /\b(?<word>pass(?:word|wd|phrase|code)?|pwd|secret|token|api[ _-]?key|credentials?)\b(?:[ \t]+(?:is|was|set to|changed to|reset to))?[ \t]*(?<q>["'`\u2018\u201c])(?<val>[^"'`\u2019\u201d\n]{1,512})(?:["'`\u2019\u201d])/gi;

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
