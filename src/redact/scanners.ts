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
  BASE64_RUN,
  BASE64_SECRET_GATE,
  BASIC,
  BASIC_GATE,
  DECODED_SECRETS,
  EMAIL,
  EMAIL_LOCAL_CHAR,
  type Features,
  type Group,
  IPV6,
  MIN_BASE64_SECRET,
  MIN_BASIC_TEXT,
  MIN_CARD_DIGITS,
  MIN_NUMERIC_DIGITS,
  MIN_TOKEN_TEXT,
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
  /** The replacements inside the span, by kind, when it stands for several (embedded JSON): else one of `kind`. */
  counts?: Readonly<Record<string, number>>;
}

/** Character classes of {@link features}, for ASCII (everything else is {@link OTHER}). */
const OTHER = 0;
const DIGIT = 1;
const LOWER = 2;
const UPPER = 3;
const SLASH = 4;
const PLUS = 5;
const DOT = 6;
const DASH = 7;
const AT = 8;
const COLON = 9;
const EQUALS = 10;
const PERCENT = 11;
/** Space and parentheses: no count of their own, but they do not break a run of digits. */
const SEPARATOR = 12;
/** `"`, `'` and the backtick (the quotes `scanProseSecrets` looks for; the curly ones are not ASCII). */
const QUOTE = 13;

const CLASSES = (() => {
  const t = new Uint8Array(128);
  for (let c = 48; c <= 57; c++) t[c] = DIGIT;
  for (let c = 97; c <= 122; c++) t[c] = LOWER;
  for (let c = 65; c <= 90; c++) t[c] = UPPER;
  t[47] = SLASH;
  t[43] = PLUS;
  t[46] = DOT;
  t[45] = DASH;
  t[64] = AT;
  t[58] = COLON;
  t[61] = EQUALS;
  t[37] = PERCENT;
  t[32] = SEPARATOR;
  t[40] = SEPARATOR;
  t[41] = SEPARATOR;
  t[34] = QUOTE;
  t[39] = QUOTE;
  t[96] = QUOTE;
  return t;
})();

/**
 * Counts the characters detectors depend on (a new object per call: re-entrant). One table-driven pass:
 * every string value of every event comes through here, so it also notes what other scans used to look
 * for in passes of their own (quotes, `::`).
 */
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
    quotes: 0,
    doubleColon: false,
  };
  let run = 0;
  let separators = 0;
  let b64 = 0;
  let previous = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const cls = c < 128 ? (CLASSES[c] as number) : c === 0x2018 || c === 0x201c ? QUOTE : OTHER;
    if (cls === DIGIT) {
      f.digits++;
      run++;
      b64++;
      separators = 0;
      if (run > f.run) f.run = run;
      previous = c;
      continue;
    }
    // `) ` in `(555) 123-4567` is two separators in a row; three end the run.
    let separator = false;
    switch (cls) {
      case LOWER:
        f.lower++;
        b64++;
        break;
      case UPPER:
        f.upper++;
        b64++;
        break;
      default:
        if (b64 > f.base64Run) f.base64Run = b64;
        switch (cls) {
          case SLASH:
            f.slashes++;
            b64++;
            separator = true;
            break;
          case PLUS:
            f.plus++;
            b64++;
            break;
          case DOT:
            b64 = 0;
            f.dots++;
            separator = true;
            break;
          case DASH:
            b64 = 0;
            f.dashes++;
            separator = true;
            break;
          case AT:
            b64 = 0;
            f.at++;
            break;
          case COLON:
            b64 = 0;
            f.colons++;
            if (previous === 58) f.doubleColon = true;
            break;
          case EQUALS:
            b64 = 0;
            f.equals++;
            break;
          case PERCENT:
            b64 = 0;
            f.percent++;
            break;
          case SEPARATOR:
            b64 = 0;
            separator = true;
            break;
          case QUOTE:
            b64 = 0;
            f.quotes++;
            break;
          default:
            b64 = 0;
        }
    }
    previous = c;
    if (run > 0 && separator && ++separators <= 2) continue;
    run = 0;
    separators = 0;
  }
  if (b64 > f.base64Run) f.base64Run = b64;
  return f;
}

/**
 * Characters of {@link inert} values: letters, digits, space and `._-/,;()`. None of them opens JSON
 * (`{`, `[`), a quote (prose secrets, quoted values), a key (`=`, `:`), an e-mail (`@`, `%40`), an
 * international number (`+`), an IPv6 address or a URL (`:`); anything outside ASCII is not inert.
 */
const INERT = (() => {
  const t = new Uint8Array(128);
  for (let c = 48; c <= 57; c++) t[c] = 2;
  for (let c = 97; c <= 122; c++) t[c] = 1;
  for (let c = 65; c <= 90; c++) t[c] = 1;
  for (const c of ' ._-/,;()') t[c.charCodeAt(0)] = 1;
  // `u`/`U`: the prose user id (`user 12`, `uid 7`, `usr-3`) starts with one and needs a digit.
  t[117] = 3;
  t[85] = 3;
  // `b`/`B`: an HTTP Basic credential (`Basic YTpi`) is the one token shorter than MIN_TOKEN_TEXT.
  t[98] = 4;
  t[66] = 4;
  // `-`: two in a row open a long command-line option (`--password x`).
  t[45] = 5;
  return t;
})();

/**
 * True when no detector can find anything in `text`, decided from the detectors' own minimums in one
 * pass that stops at the first character that could matter; the redactor returns such a value as it
 * is, before its cache and the census. Inert: shorter than {@link MIN_TOKEN_TEXT} (no token, no AWS
 * secret, no PEM block) and, from {@link MIN_BASIC_TEXT} characters on, without a Basic scheme word (no
 * Basic credential), only {@link INERT} characters and no `--` (no e-mail, IPv6, URL, key=value,
 * command-line option, quoted or JSON value), and either fewer than {@link MIN_NUMERIC_DIGITS} digits (no numeric detector) and no
 * `u` when it holds a digit (no prose user id), or only digits, fewer than {@link MIN_CARD_DIGITS} (a
 * card is the one numeric detector that needs no separator, `+` or letter). `test/redact/skip.property.test.ts`
 * checks that the full scan leaves every inert value as it is.
 */
export function inert(text: string): boolean {
  const n = text.length;
  if (n >= MIN_TOKEN_TEXT) return false;
  let digits = 0;
  let u = false;
  let b = false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    const cls = c < 128 ? (INERT[c] as number) : 0;
    if (cls === 1) continue;
    if (cls === 2) digits++;
    else if (cls === 3) u = true;
    else if (cls === 4) b = true;
    else if (cls !== 5 || (i > 0 && text.charCodeAt(i - 1) === 45)) return false;
  }
  if (b && n >= MIN_BASIC_TEXT && BASIC_GATE.test(text)) return false;
  if (digits === 0) return true;
  if (digits === n) return n < MIN_CARD_DIGITS;
  return digits < MIN_NUMERIC_DIGITS && !u;
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

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** Length of the run of hex digits at `i`, counted up to `max`. */
function hexRun(text: string, i: number, max: number): number {
  let j = i;
  while (j < text.length && j - i < max && isHex(text.charCodeAt(j))) j++;
  return j - i;
}

/**
 * Whether a protected value can start at `i` (`c` its character; the one before is no word
 * character): what each alternative of `PROTECT` needs in its first characters. A UUID has `-` after 8
 * hex digits, an ISO date `-` after 4 digits, a hex id 16 hex digits; a version starts with one of the
 * letters of its words (`version`, `release`, `build`, `v`, `upgraded`, `downgraded`, `bumped`, `rolled
 * back`); a product (`nginx/1.2`) is a run of at most 41 `[\w+.-]` then `/`.
 */
function mayProtect(text: string, i: number, c: number): boolean {
  // Reads within the text only: a read past its end deoptimizes the loop.
  const n = text.length;
  const dashAt8 = i + 8 < n && text.charCodeAt(i + 8) === 45;
  if (c <= 57) return dashAt8 || (i + 4 < n && text.charCodeAt(i + 4) === 45) || hexRun(text, i, 16) === 16;
  const lower = c | 32;
  // v, r, b, u, d: version words.
  if (lower === 118 || lower === 114 || lower === 98 || lower === 117 || lower === 100) return true;
  if (lower >= 97 && lower <= 102 && (dashAt8 || hexRun(text, i, 16) === 16)) return true;
  const last = Math.min(n, i + 42);
  for (let j = i + 1; j < last; j++) {
    const d = text.charCodeAt(j);
    if (!(isWordChar(d) || d === 43 || d === 46 || d === 45)) return d === 47;
  }
  return false;
}

/**
 * Spans of values that must survive (UUIDs, timestamps, hex ids, versions): the matches a global scan
 * of `PROTECT` finds, tried only at word starts where {@link mayProtect} allows one. Every alternative
 * opens with a letter or digit not preceded by a word character (its lookbehind), and V8 cannot skip
 * ahead over a leading lookbehind: the global scan tried five alternatives at every character, an
 * eighth of the transform's time on secret-dense text. Only values starting before `limit` are looked
 * for (those after the last candidate cannot clash with one; the ones before are all found, as each
 * match decides where the next can start).
 */
export function protectedSpans(text: string, limit = text.length): Array<readonly [number, number]> {
  const spans: Array<readonly [number, number]> = [];
  let previous = -1;
  for (let i = 0; i < limit; i++) {
    const c = text.charCodeAt(i);
    const atStart = !isWordChar(previous) && (c <= 57 ? c >= 48 : isWordChar(c) && c !== 95);
    previous = c;
    if (!atStart || !mayProtect(text, i, c)) continue;
    PROTECT.lastIndex = i;
    const m = PROTECT.exec(text);
    if (m === null) continue;
    const end = i + m[0].length;
    spans.push([i, end]);
    previous = text.charCodeAt(end - 1);
    i = end - 1;
  }
  return spans;
}

/**
 * Finds token, numeric and network-address spans to replace in `text` (any order; overlaps are
 * resolved by the caller).
 */
export function scanPatterns(text: string, policy: IpPolicy, out: Span[], f: Readonly<Features>): void {
  if (text.length >= MIN_TOKEN_TEXT) {
    if (f.lower + f.upper >= 3 && TOKEN_GATE.test(text)) scan(TOKENS, text, policy, out, tokenGroup);
  } else if (text.length >= MIN_BASIC_TEXT && f.lower + f.upper >= 5 && BASIC_GATE.test(text)) {
    // Too short for any other token: only a Basic credential (`Basic YTpi`) fits.
    scan(BASIC, text, policy, out, () => 'basic');
  }
  const first = out.length;
  if (f.base64Run >= 40 && f.upper >= 1 && f.lower >= 1) scan(AWS40, text, policy, out, () => 'aws40');
  // Every remaining detector needs digits; most field values have few.
  if (f.digits < MIN_NUMERIC_DIGITS && out.length === first) return;
  for (const d of NUMERIC) if (d.possible(f)) scan(d.re, text, policy, out, () => d.group);
  if (out.length === first) return;
  // A candidate covering the whole text cannot sit inside a value that must survive.
  let whole = true;
  for (let i = first; i < out.length && whole; i++) {
    const span = out[i] as Span;
    whole = span.start === 0 && span.end === text.length;
  }
  if (whole) return;
  let last = 0;
  for (let i = first; i < out.length; i++) last = Math.max(last, (out[i] as Span).end);
  const keep = protectedSpans(text, last);
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

/**
 * Whether the character at `i` belongs to an address's local part (`[\p{L}\p{M}\p{N}_.%+-]`); either
 * half of a surrogate pair answers for the whole character.
 */
function isLocal(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 128) return isWordChar(c) || c === 46 || c === 37 || c === 43 || c === 45;
  const high = i > 0 ? text.charCodeAt(i - 1) : 0;
  const paired = c >= 0xdc00 && c <= 0xdfff && high >= 0xd800 && high <= 0xdbff;
  return EMAIL_LOCAL_CHAR.test(String.fromCodePoint(text.codePointAt(paired ? i - 1 : i) as number));
}

/**
 * E-mail addresses (also URL-encoded `%40`). An address starts a run of local-part characters that
 * is followed by `@` or holds `%40`: the expression runs at the start of such runs only (found from the
 * `@`s and `%40`s by `indexOf`), never at every character, with the same matches as a global scan.
 */
export function scanEmails(text: string, out: Span[], f: Readonly<Features>): void {
  if (f.at === 0 && (f.percent === 0 || !text.includes('%40'))) return;
  const n = text.length;
  let at = text.indexOf('@');
  let encoded = f.percent === 0 ? -1 : text.indexOf('%40');
  // Where the next match may start (a global scan's lastIndex); the run last looked at; its start tried.
  let next = 0;
  let runStart = -1;
  let runEnd = -1;
  let tried = -1;
  while (at >= 0 || encoded >= 0) {
    let inside: number;
    if (encoded < 0 || (at >= 0 && at - 1 < encoded)) {
      inside = at - 1;
      at = text.indexOf('@', at + 1);
    } else {
      inside = encoded;
      encoded = text.indexOf('%40', encoded + 1);
    }
    if (inside < 0 || !isLocal(text, inside)) continue;
    if (inside >= runEnd) {
      runStart = inside;
      while (runStart > 0 && isLocal(text, runStart - 1)) runStart--;
      runEnd = inside + 1;
      while (runEnd < n && isLocal(text, runEnd)) runEnd++;
    }
    if (runStart < next || runStart === tried) continue;
    tried = runStart;
    EMAIL.lastIndex = runStart;
    const m = EMAIL.exec(text);
    if (m === null) continue;
    next = runStart + m[0].length;
    const sign = m[0].includes('@') ? m[0].indexOf('@') + 1 : m[0].indexOf('%40') + 3;
    // `icon@2x.png` is an image name, not an address.
    if (/^\d+x\.(?:png|jpe?g|gif|svg|webp|avif)$/i.test(m[0].slice(sign))) continue;
    out.push({ start: runStart, end: next, replacement: marker('email'), kind: 'email' });
  }
}

/**
 * Base64 blobs that decode to text holding an AWS key id, a PEM private key or a JWT (a Kubernetes
 * secret, an encoded config file): the whole blob goes, under the kind found. Decoded only when the
 * blob holds the base64 of one of their fixed starts (`BASE64_SECRET_GATE`).
 */
export function scanBase64Secrets(text: string, out: Span[], f: Readonly<Features>): void {
  // Every needle holds upper-case letters (a lower-case hex hash is no such blob). Not mixed case too:
  // a repetitive secret (`AKIAAAAAAAAAAAAAAAAA`) encodes to upper case alone.
  if (f.base64Run < MIN_BASE64_SECRET || f.upper < 2 || !BASE64_SECRET_GATE.test(text)) return;
  BASE64_RUN.lastIndex = 0;
  for (let m = BASE64_RUN.exec(text); m !== null; m = BASE64_RUN.exec(text)) {
    if (!BASE64_SECRET_GATE.test(m[0])) continue;
    const decoded = Buffer.from(m[0], 'base64').toString('latin1');
    for (const [re, kind] of DECODED_SECRETS) {
      if (!re.test(decoded)) continue;
      out.push({ start: m.index, end: m.index + m[0].length, replacement: marker(kind), kind });
      break;
    }
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
  // Five colons in a row, each 2 to 5 characters after the one before, first: found by `indexOf`, which
  // skips the far-apart colons of stack traces (`File.java:12`) without looking at every character.
  let colon = text.indexOf(':');
  let near = 0;
  while (colon >= 0) {
    const next = text.indexOf(':', colon + 1);
    if (next < 0) return false;
    const gap = next - colon;
    near = gap >= 2 && gap <= 5 ? near + 1 : 0;
    if (near >= 4) return fiveHexGroups(text);
    colon = next;
  }
  return false;
}

function fiveHexGroups(text: string): boolean {
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
  if (!f.doubleColon && (f.colons < 6 || !hasFiveHexGroups(text))) return;
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

function isQuote(c: number): boolean {
  return c === 34 || c === 39 || c === 96 || c === 0x2018 || c === 0x201c;
}

export function scanProseSecrets(text: string, out: Span[], f: Readonly<Features>): void {
  if (f.quotes === 0) return;
  PROSE_SECRET.lastIndex = 0;
  for (let m = PROSE_SECRET.exec(text); m !== null; m = PROSE_SECRET.exec(text)) {
    const word = (m.groups?.word ?? '').toLowerCase();
    const value = m.groups?.val ?? '';
    // A quoted key (`'password': 'x'`, `"password"=>"x"`): the quote after it closes the key, and what
    // follows is its separator; the KEY=VALUE scan redacts the value.
    if (m.index > 0 && isQuote(text.charCodeAt(m.index - 1)) && isQuote(m[0].charCodeAt(word.length))) {
      PROSE_SECRET.lastIndex = m.index + word.length;
      continue;
    }
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
