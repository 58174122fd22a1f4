/**
 * Whether a detector's candidate is the real thing, and what replaces it: checksums (Luhn, IBAN mod
 * 97), card-network and grouping rules, SSN and phone-number shape rules, credential decoding.
 */
import { ibanValid, luhnValid } from './checksums';
import { anonymizeIPv4, type IpPolicy } from './ip';
import { type DetectorKind, type Group, marker } from './patterns';

/**
 * A card number: 13-19 digits, a card-network first digit (2-6), Luhn; groups as printed on cards. Dots
 * group a card too (`4111.1111.1111.1111`), in three groups at least: `4111.111111111111` is a decimal.
 */
function cardValid(text: string): boolean {
  const digits = text.replace(/[ .-]/g, '');
  if (digits.length < 13 || digits.length > 19) return false;
  const first = digits.charCodeAt(0) - 48;
  if (first < 2 || first > 6) return false;
  const separators = text.match(/[ .-]/g);
  if (separators) {
    if (separators.some((s) => s !== separators[0])) return false;
    const groups = text.split(/[ .-]/);
    if (groups[0]?.length !== 4 || groups.length > 5) return false;
    if (separators[0] === '.' && groups.length < 3) return false;
    if (groups.slice(1, -1).some((g) => g.length < 3 || g.length > 6)) return false;
  }
  return luhnValid(digits);
}

/**
 * Length of the card number at the start of a candidate, or `undefined`. A separated candidate may
 * have swallowed a following number (`4111 1111 1111 1111 12/25`): shorter group prefixes are tried.
 */
function cardLength(text: string): number | undefined {
  const firstSeparator = text.search(/[ .-]/);
  if (firstSeparator < 0) return cardValid(text) ? text.length : undefined;
  // A plain card number followed by another number (`4111111111111111 2`).
  if (firstSeparator !== 4) {
    return firstSeparator >= 13 && firstSeparator <= 19 && cardValid(text.slice(0, firstSeparator))
      ? firstSeparator
      : undefined;
  }
  if (cardValid(text)) return text.length;
  const ends: number[] = [];
  for (let i = 0; i < text.length; i++)
    if (text[i] === ' ' || text[i] === '-' || text[i] === '.') ends.push(i);
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

/** Below this many base64 characters a Basic credential must be well formed (see {@link basicValid}). */
const BASIC_LENIENT_FROM = 6;

/**
 * `Basic <base64>` that decodes to printable `user:password` with a user: a credential at any length,
 * while a word after "Basic" (`Basic auth failed`, `basic plan`) decodes to bytes that are not. Under
 * six base64 characters (`YTpi` is `a:b`) the base64 must also be well formed: no lone last character,
 * padding only to a multiple of four. Longer candidates keep the lenient decoding they were detected
 * with before: a credential cut short by a log line's length limit is still one.
 */
function basicValid(text: string): boolean {
  const credential = text.replace(/^\S+[ \t]+/, '');
  const padding = credential.length - credential.replace(/=+$/, '').length;
  const body = credential.length - padding;
  if (body < BASIC_LENIENT_FROM && (body % 4 === 1 || (padding > 0 && credential.length % 4 !== 0))) {
    return false;
  }
  const decoded = Buffer.from(credential, 'base64').toString('latin1');
  return /^[\x20-\x7e]+:[\x20-\x7e]*$/.test(decoded);
}

/**
 * A bearer credential, not a word after "Bearer": 20 characters or more, a digit or token punctuation
 * (`abc123`, `a.b-c`), or an upper-case letter after a lower-case one (`AbCdEfGhIjKlMnO`: random
 * mixed case; prose writes words in lower case or capitalised, "Bearer Authentication").
 */
function bearerValid(text: string): boolean {
  const credential = text.replace(/^\S+[ \t]+/, '');
  return credential.length >= 20 || /[\d._~+/=-]/.test(credential) || /[a-z][A-Z]/.test(credential);
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
export function replace(
  group: Group,
  text: string,
  policy: IpPolicy,
): { replacement: string; kind: DetectorKind; end?: number } | 'keep' | null {
  switch (group) {
    case 'uuid':
    case 'iso':
    case 'version':
    case 'product':
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
