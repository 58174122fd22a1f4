/**
 * The redactor: structure-aware (field names) and pattern-based (free text), applied to every string
 * value of an event. One instance per settings; it caches field-name decisions and pseudonyms.
 */

import { parseKeepingIntegers, rawInteger } from '../exact-json';
import type { IpPolicy } from './ip';
import { KeyClassifier, keyWords, pairWithin } from './keys';
import { MIN_NUMERIC_DIGITS, marker } from './patterns';
import { isPseudonym, PENDING_PSEUDONYM, type Pseudonymizer, pseudonymizeUserId } from './pseudonym';
import {
  features,
  inert,
  type Span,
  scanBase64Secrets,
  scanEmails,
  scanIPv6,
  scanPatterns,
  scanPem,
  scanProseSecrets,
  scanUrlPasswords,
} from './scanners';

/** Detector kind → number of replacements, accumulated per event. */
export type RedactionCounts = Record<string, number>;

export interface RedactorOptions extends IpPolicy {
  /** Field names whose values are always redacted, matched case- and separator-insensitively. */
  readonly extraSensitiveKeys: readonly string[];
  /** HMAC key for user-id pseudonyms, used when no {@link RedactorOptions.pseudonyms} is given. */
  readonly pseudonymKey: string | Uint8Array;
  /**
   * Per-subject pseudonyms (crypto-shredding, `src/privacy/keyring.ts`); it caches them itself.
   * @default none: HMAC of the id under `pseudonymKey` (one key for all, nobody can be erased)
   */
  readonly pseudonyms?: Pseudonymizer;
}

/** Strings shorter than this cannot hold anything a detector finds: the shortest is a prose user id (`uid 7`). */
const MIN_SCAN_LENGTH = 5;
/** Nesting deeper than this is redacted as text rather than walked (bounded recursion). */
const MAX_DEPTH = 32;
/**
 * Short strings recur (service and logger names, hosts, Kubernetes labels, enum-like values): their
 * redaction is remembered, up to this length and this many entries.
 */
const MAX_CACHED_LENGTH = 96;
const MAX_CACHED = 20_000;
/**
 * Long texts are remembered whole, digits or not: an exception storm repeats one stack trace (or one
 * dumped payload) byte for byte, thousands of times. They are looked up by a fingerprint (length, head
 * and tail) so a miss costs no hash of the whole text, and a hit is compared in full before it is used.
 * Bounded by entries and by characters held.
 */
const MIN_REPEATED_LENGTH = 512;
const MAX_REPEATED = 256;
const MAX_REPEATED_CHARS = 4_000_000;
const FINGERPRINT_EDGE = 48;

/** A remembered redaction: the output, the replacements it counted, and what the scan found. */
interface CachedText {
  /** The text itself (what a fingerprint-keyed hit is compared with). */
  readonly text: string;
  readonly out: string;
  readonly counts: ReadonlyArray<readonly [string, number]> | undefined;
  readonly userId: string | undefined;
  readonly json: boolean;
}

/** What a scan found besides its replacements: what {@link Redactor.message} reports. */
interface Findings {
  /** The raw id of the first prose user-id mention, unless that mention is a pseudonym already. */
  userId: string | undefined;
  /** The text was redacted as embedded JSON, field by field: no prose user id was looked for in it. */
  json: boolean;
}

/** A message redacted by {@link Redactor.message}. */
export interface RedactedMessage {
  readonly text: string;
  /**
   * The raw id of the first prose user-id mention in the message (`user 1001`, `uid: 7`), as
   * {@link PROSE_USER_ID} finds it in the whole text; `undefined` when there is none or it is a
   * pseudonym already.
   */
  readonly proseUserId: string | undefined;
}

const SCHEMES = String.raw`(?:Bearer|Basic|Digest|Token|Bot|Negotiate|AWS4-HMAC-SHA256)[ \t]+`;
const VALUE = String.raw`(?<val>\\"(?:[^"\\\n]|\\(?!"))*\\"|"(?:[^"\\\n]|\\.)*"|'[^'\n]*'|(?:${SCHEMES})?[^\s,;&"'<>(){}\[\]\\]+)`;
// KEY=VALUE, KEY: VALUE, "key": "value" and \"key\":\"value\" (JSON embedded in a JSON string); also
// as Ruby, PHP and Perl print hashes (`"key"=>"value"`, `:key => …`, print_r's `[key] => …`), nested
// form names (`user[password]=…`) and command-line options (`--password=…`).
const KV = new RegExp(
  String.raw`(?<![\w.]|[\w.]-)(?<kq>\\?["']?)(?<key>[A-Za-z_][\w.-]{0,63})\k<kq>(?<kb>\])?[ \t]*(?:=>?|:)[ \t]*${VALUE}`,
  'g',
);

/**
 * A long command-line option with its value after a space (`--password hunter2`, `--db-token "x"`); the
 * value may not start with `-` (the next option). Short options (`-p`) name too many other things.
 */
const OPTION = new RegExp(String.raw`(?<![\w-])--(?<key>[A-Za-z][\w.-]{0,63})[ \t]+(?!-)${VALUE}`, 'g');

/**
 * A bare value that is code, not a credential: a dotted identifier path whose last name (letters only)
 * is called, as in `token => token.trim()` or `password = req.body.get(…)`. A secret rarely has this
 * shape, and one with a digit in its last part (`abc.d3f9(`) is still redacted.
 */
const CODE_CALL = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*\.[A-Za-z_$]+$/;

/** Attempts at reading JSON inside a text per text (each one a bracket match and a parse). */
const MAX_EMBEDDED_OBJECTS = 8;
/** A KEY=VALUE key just before embedded JSON (`password='{…}'`, `credentials: {…}`): the JSON's field name. */
const KEY_BEFORE = /(?<![\w.])(?<key>[A-Za-z_][\w.-]{0,63})\\?["']?\]?[ \t]*(?:=>?|:)[ \t]*\\?["']?$/;

/**
 * A user id written in prose: `user 1001`, `uid: 1001`, `user id #1001`, `usr=ab12`. The id must hold
 * a digit and end the token (not the start of an e-mail, host, IP, path or decimal), so words
 * ("user alice"), addresses and versions are left to their own detectors.
 */
export const PROSE_USER_ID =
  /(?<![\w.-])(?:user(?:[ _-]?id)?|uid|usr(?:[ _-]?id)?)(?:[ \t]*[:=#][ \t]*|[ \t]+(?:id[ \t]*)?#?)(?<q>["']?)(?<id>[A-Za-z0-9_-]*\d[A-Za-z0-9_-]*)\k<q>(?![\w@.:/-]*[\w@])/gi;
const PROSE_USER_TRIGGER = /u(?:ser|id|sr)/i;

/** The id of the first prose user-id mention in `s`, unless it is a pseudonym: a scan of its own. */
function proseUserIdIn(s: string): string | undefined {
  if (!PROSE_USER_TRIGGER.test(s)) return undefined;
  PROSE_USER_ID.lastIndex = 0;
  const id = PROSE_USER_ID.exec(s)?.groups?.id;
  return id === undefined || isPseudonym(id) ? undefined : id;
}

/**
 * Stems of sensitive and user-id field names. The trigger asks for a stem inside a key that is
 * directly followed by `=` or `:` (optionally quoted), so prose such as "user logged in" never pays
 * for the KEY=VALUE scan.
 */
const STEMS = [
  'pass',
  'pwd',
  'secret',
  'token',
  'key',
  'auth',
  'cookie',
  'cred',
  'ssn',
  'social',
  'cvv',
  'cvc',
  'card',
  'iban',
  'sign',
  'session',
  'user',
  'usr',
  'otp',
  'pin',
  'jwt',
  'bearer',
  'connection',
  'mfa',
  'verification',
  'recovery',
  'backup',
  'onetime',
  'one_time',
  'one-time',
  'one.time',
];

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class Redactor {
  readonly keys: KeyClassifier;
  private readonly policy: IpPolicy;
  private readonly pseudonymKey: string | Uint8Array;
  private readonly stemTrigger: RegExp;
  private readonly pseudonyms = new Map<string, string>();
  private readonly subjects: Pseudonymizer | undefined;
  /** Pseudonyms asked for whose subject key was not at hand (see {@link Pseudonymizer}); only grows. */
  pendingCount = 0;
  private readonly texts = new Map<string, CachedText>();
  private readonly repeated = new Map<string, CachedText>();
  private repeatedChars = 0;

  constructor(options: RedactorOptions) {
    this.keys = new KeyClassifier(options.extraSensitiveKeys);
    this.policy = { ipv4PrefixLength: options.ipv4PrefixLength, ipv6PrefixLength: options.ipv6PrefixLength };
    this.pseudonymKey = options.pseudonymKey;
    this.subjects = options.pseudonyms;
    const extra = options.extraSensitiveKeys.flatMap((k) => keyWords(k)).map(escapeRegExp);
    this.stemTrigger = new RegExp(
      `(?:${[...STEMS, ...extra].join('|')})[\\w.-]*\\\\?["']?\\]?[ \\t]*[=:]`,
      'i',
    );
  }

  /** Keyed pseudonym of a user id (cached; an existing pseudonym is kept as it is). */
  pseudonym(userId: string, counts: RedactionCounts): string {
    if (isPseudonym(userId)) return userId;
    counts.user_id = (counts.user_id ?? 0) + 1;
    return this.pseudonymOf(userId);
  }

  private pseudonymOf(userId: string): string {
    if (this.subjects !== undefined) {
      const own = this.subjects.pseudonym(userId);
      if (own !== undefined) return own;
      this.pendingCount++;
      return PENDING_PSEUDONYM;
    }
    let p = this.pseudonyms.get(userId);
    if (p === undefined) {
      p = pseudonymizeUserId(userId, this.pseudonymKey);
      if (this.pseudonyms.size > 10_000) this.pseudonyms.clear();
      this.pseudonyms.set(userId, p);
    }
    return p;
  }

  /**
   * Redacts free text: JSON embedded in the string is redacted field by field, then KEY=VALUE pairs
   * with sensitive keys, URL passwords, PEM keys, e-mails, IPv6 and the token, numeric and address patterns.
   */
  text(s: string, counts: RedactionCounts, depth = 0): string {
    return this.redactText(s, counts, depth, undefined);
  }

  /**
   * Redacts a message like {@link Redactor.text}, and reports the raw user id its prose names, for the
   * user_id column: the scan that pseudonymizes `user 1001` in the text finds it, in the same pass.
   * Text too short to scan, and text redacted as embedded JSON (field by field, not as one string),
   * are looked at by {@link PROSE_USER_ID} on their own, as the whole message.
   */
  message(s: string, counts: RedactionCounts): RedactedMessage {
    if (s.length < MIN_SCAN_LENGTH) return { text: s, proseUserId: proseUserIdIn(s) };
    const found: Findings = { userId: undefined, json: false };
    const text = this.redactText(s, counts, 0, found);
    return { text, proseUserId: found.json ? proseUserIdIn(s) : found.userId };
  }

  private redactText(s: string, counts: RedactionCounts, depth: number, found: Findings | undefined): string {
    // Inert text holds no prose user id either (`inert`: no `u` beside a digit), so `found` stays empty.
    if (s.length < MIN_SCAN_LENGTH || inert(s)) return s;
    if (depth > 0) return this.scanText(s, counts, depth, found);
    if (s.length >= MIN_REPEATED_LENGTH) {
      const key = fingerprint(s);
      const hit = this.repeated.get(key);
      if (hit !== undefined && hit.text === s) return replay(hit, counts, found);
      const fresh = this.scanRemembered(s, counts, found);
      if (typeof fresh === 'string') return fresh;
      if (hit !== undefined) {
        // Another text with the same fingerprint: the newer one takes its place.
        this.repeated.delete(key);
        this.repeatedChars -= hit.text.length;
      }
      if (this.repeated.size >= MAX_REPEATED || this.repeatedChars + s.length > MAX_REPEATED_CHARS) {
        this.repeated.clear();
        this.repeatedChars = 0;
      }
      this.repeated.set(key, fresh);
      this.repeatedChars += s.length;
      return fresh.out;
    }
    // A shorter value with many digits is never stored (see below): looking it up would only hash it.
    if (s.length > MAX_CACHED_LENGTH || digitCount(s, MIN_NUMERIC_DIGITS) >= MIN_NUMERIC_DIGITS)
      return this.scanText(s, counts, depth, found);
    const hit = this.texts.get(s);
    if (hit !== undefined) return replay(hit, counts, found);
    const fresh = this.scanRemembered(s, counts, found);
    if (typeof fresh === 'string') return fresh;
    if (this.texts.size >= MAX_CACHED) this.texts.clear();
    this.texts.set(s, fresh);
    return fresh.out;
  }

  /**
   * The scan of `s` at the top level, adding its replacements to `counts` (and its findings to `found`):
   * what a cache may remember of it, or only its output when the text held a pseudonym under per-subject
   * keys (those expire with erasure, pending ones are void). Mid-length values with many digits never come
   * here: ids, addresses, times and counts rarely recur, and storing each one cost more than the cache
   * saved on the rest.
   */
  private scanRemembered(
    s: string,
    counts: RedactionCounts,
    found: Findings | undefined,
  ): CachedText | string {
    const own: RedactionCounts = {};
    // What the scan finds is remembered with its output, for a later `message` of the same text.
    const seen: Findings = found ?? { userId: undefined, json: false };
    const out = this.scanText(s, own, 0, seen);
    const kinds: Array<readonly [string, number]> = [];
    for (const kind in own) {
      const n = own[kind] ?? 0;
      kinds.push([kind, n]);
      counts[kind] = (counts[kind] ?? 0) + n;
    }
    if (own.user_id !== undefined && this.subjects !== undefined) return out;
    return {
      text: s,
      out,
      counts: kinds.length > 0 ? kinds : undefined,
      userId: seen.userId,
      json: seen.json,
    };
  }

  /**
   * The full detector pass over `s`, without the inert-value skip and the cache of {@link Redactor.text}:
   * what `text` must agree with (the skip's property test compares the two).
   */
  scan(s: string, counts: RedactionCounts): string {
    return this.scanText(s, counts, 0);
  }

  private scanText(s: string, counts: RedactionCounts, depth: number, found?: Findings): string {
    const embedded = depth < MAX_DEPTH ? this.embeddedJson(s, counts, depth) : undefined;
    if (embedded !== undefined) {
      if (found !== undefined) found.json = true;
      return embedded;
    }
    const spans: Span[] = [];
    const f = features(s);
    // The KEY=VALUE trigger needs `=` or `:`, a prose user id a digit.
    const keyValues = f.equals + f.colons > 0;
    const digits = f.digits > 0;
    scanPatterns(s, this.policy, spans, f);
    scanEmails(s, spans, f);
    scanIPv6(s, this.policy, spans, f);
    scanPem(s, spans, f);
    scanBase64Secrets(s, spans, f);
    scanUrlPasswords(s, spans, f);
    scanProseSecrets(s, spans, f);
    if (keyValues && this.stemTrigger.test(s)) this.scanKeyValues(s, spans);
    if (f.dashes >= 2 && s.includes('--')) this.scanOptions(s, spans);
    // An object with a field has two quotes and a colon at least.
    if (f.quotes >= 2 && f.colons > 0 && depth < MAX_DEPTH) this.scanEmbeddedObjects(s, depth, spans);
    if (digits && PROSE_USER_TRIGGER.test(s)) this.scanProseUserIds(s, spans, found);
    if (spans.length === 0) return s;
    return applySpans(s, spans, counts);
  }

  /**
   * Redacts a value found under field `path` (dotted). Sensitive fields become a marker (objects and
   * arrays under them too), user-id fields become pseudonyms, everything else is walked and its text
   * redacted. Booleans and null are kept: they hold no secret.
   */
  value(path: string, v: unknown, counts: RedactionCounts, depth = 0): unknown {
    const cls = path === '' ? null : this.keys.classify(path);
    if (cls?.kind === 'sensitive') return redactAll(v, cls.marker, counts);
    if (cls?.kind === 'user_id' && (typeof v === 'string' || typeof v === 'number')) {
      return this.pseudonym(String(v), counts);
    }
    if (cls?.kind === 'user_id') {
      const digits = rawInteger(v);
      if (digits !== undefined) return this.pseudonym(digits, counts);
    }
    return this.walk(path, v, counts, depth);
  }

  private walk(path: string, v: unknown, counts: RedactionCounts, depth: number): unknown {
    if (typeof v === 'string') return this.text(v, counts, depth);
    if (typeof v === 'number') return this.number(v, counts);
    if (v === null || typeof v !== 'object') return v;
    const digits = rawInteger(v);
    if (digits !== undefined) {
      // An integer beyond 2^53 read with its digits: checked as text like any long number.
      const r = this.text(digits, counts);
      return r === digits ? v : r;
    }
    if (depth >= MAX_DEPTH) return this.text(JSON.stringify(v), counts, MAX_DEPTH);
    const last = path.slice(path.lastIndexOf('.') + 1);
    if (Array.isArray(v)) return v.map((item) => this.item(path, item, counts, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(v)) {
      // A key is stored too (a map keyed by e-mail or address); two that redact alike both stay.
      const redacted = this.text(k, counts, depth + 1);
      let name = redacted;
      for (let i = 2; name !== k && (Object.hasOwn(out, name) || Object.hasOwn(v, name)); i++)
        name = `${redacted}~${i}`;
      out[name] = this.value(last === '' ? k : `${last}.${k}`, item, counts, depth + 1);
    }
    return out;
  }

  /**
   * An array item. A name/value pair (`{"name":"Cookie","value":"…"}`, `Name`/`Value`, `key`/`value`,
   * `Key`/`Value`: the shape of HTTP headers and tag lists), with or without other fields beside it, is
   * judged by the name it carries, as if the value sat under a field of that name; the name itself is
   * kept, and every other field is walked under its own key.
   */
  private item(path: string, v: unknown, counts: RedactionCounts, depth: number): unknown {
    const pair = pairWithin(v);
    if (pair === undefined) return this.walk(path, v, counts, depth);
    const cls = this.keys.classify(pair[0]);
    if (cls === null) return this.walk(path, v, counts, depth);
    const [name, value, nameKey, valueKey] = pair;
    const last = path.slice(path.lastIndexOf('.') + 1);
    const out: Record<string, unknown> = {};
    for (const [k, field] of Object.entries(v as Record<string, unknown>)) {
      if (k === nameKey) out[k] = name;
      else if (k === valueKey) out[k] = this.value(name, value, counts, depth + 1);
      else out[k] = this.value(last === '' ? k : `${last}.${k}`, field, counts, depth + 1);
    }
    return out;
  }

  /** Numbers long enough to be a card, phone or SSN are checked as text. */
  number(n: number, counts: RedactionCounts): number | string {
    if (!Number.isInteger(n) || Math.abs(n) < 1_000_000) return n;
    const s = String(n);
    const r = this.text(s, counts);
    return r === s ? n : r;
  }

  private embeddedJson(s: string, counts: RedactionCounts, depth: number): string | undefined {
    const first = s.charCodeAt(0);
    const last = s.charCodeAt(s.length - 1);
    // `{...}` or `[...]` only (after trimming), so plain text never pays for JSON.parse.
    const looksJson = (first === 123 && last === 125) || (first === 91 && last === 93);
    if (!looksJson) {
      const t = s.trim();
      if (t === s || t.length < 2) return undefined;
      const f = t.charCodeAt(0);
      const l = t.charCodeAt(t.length - 1);
      if (!((f === 123 && l === 125) || (f === 91 && l === 93))) return undefined;
    }
    let parsed: unknown;
    try {
      // Integers beyond 2^53 as raw JSON: a rewritten object writes them back digit for digit.
      parsed = parseKeepingIntegers(s);
    } catch {
      return undefined;
    }
    if (parsed === null || typeof parsed !== 'object') return undefined;
    const before = total(counts);
    const redacted = JSON.stringify(this.walk('', parsed, counts, depth + 1));
    // Unchanged content keeps its original text (formatting, and integers beyond 2^53).
    return total(counts) === before ? s : redacted;
  }

  /** Pseudonymizes every prose user id; `found` gets the first mention's, unless that is a pseudonym. */
  private scanProseUserIds(s: string, out: Span[], found: Findings | undefined): void {
    let first = found;
    PROSE_USER_ID.lastIndex = 0;
    for (let m = PROSE_USER_ID.exec(s); m !== null; m = PROSE_USER_ID.exec(s)) {
      const id = m.groups?.id ?? '';
      const pseudonym = isPseudonym(id);
      if (first !== undefined) {
        if (!pseudonym) first.userId = id;
        first = undefined;
      }
      if (pseudonym) continue;
      const end = m.index + m[0].length - (m.groups?.q ?? '').length;
      out.push({ start: end - id.length, end, replacement: this.pseudonymOf(id), kind: 'user_id' });
    }
  }

  /** `--name value` options whose name is sensitive (`--password x`); `--no-…` switches are not. */
  private scanOptions(s: string, out: Span[]): void {
    OPTION.lastIndex = 0;
    for (let m = OPTION.exec(s); m !== null; m = OPTION.exec(s)) {
      const { key = '', val = '' } = m.groups ?? {};
      const cls = /^no-/i.test(key) ? null : this.keys.classify(key);
      if (cls?.kind !== 'sensitive') {
        OPTION.lastIndex = m.index + m[0].length - val.length;
        continue;
      }
      const quote = val.startsWith('\\"') ? '\\"' : val[0] === '"' || val[0] === "'" ? val[0] : '';
      out.push({
        start: m.index + m[0].length - val.length,
        end: m.index + m[0].length,
        replacement: `${quote}${marker(cls.marker)}${quote}`,
        kind: cls.marker,
      });
    }
  }

  /**
   * JSON objects inside a text, after or between other text (`body {"api": {"key": "x"}}`): each is
   * redacted field by field, as whole-text JSON is, so a name split across nesting or a sensitive field
   * deeper down is read as a field; a KEY=VALUE key right before it names it (`password='{…}'`). Its span
   * replaces the object only when that redacts something; a text span starting before it wins.
   */
  private scanEmbeddedObjects(s: string, depth: number, out: Span[]): void {
    let open = s.indexOf('{');
    for (let tries = 0; open >= 0 && tries < MAX_EMBEDDED_OBJECTS; open = s.indexOf('{', open + 1)) {
      if (!opensObject(s, open)) continue;
      tries++;
      const end = objectEnd(s, open);
      if (end < 0) continue;
      if (open === 0 && end === s.length) return;
      let parsed: unknown;
      try {
        parsed = parseKeepingIntegers(s.slice(open, end));
      } catch {
        continue;
      }
      const own: RedactionCounts = {};
      const path = KEY_BEFORE.exec(s.slice(Math.max(0, open - 72), open))?.groups?.key ?? '';
      const redacted = this.value(path, parsed, own, depth + 1);
      if (total(own) > 0) {
        out.push({ start: open, end, replacement: JSON.stringify(redacted), kind: 'json', counts: own });
      }
      open = end - 1;
    }
  }

  private scanKeyValues(s: string, out: Span[]): void {
    KV.lastIndex = 0;
    for (let m = KV.exec(s); m !== null; m = KV.exec(s)) {
      const { key = '', val = '', kb } = m.groups ?? {};
      // A `]` closes a bracketed name (`[password] =>`), never a marker (`[REDACTED:token] :`).
      const cls = kb !== undefined && s[m.index - 1] !== '[' ? null : this.keys.classify(key);
      if (cls === null) {
        // Not a sensitive key: let the scan look at the value for further keys (`a=b,password=c`).
        KV.lastIndex = m.index + m[0].length - val.length;
        continue;
      }
      const valueStart = m.index + m[0].length - val.length;
      const quote = val.startsWith('\\"') ? '\\"' : val[0] === '"' || val[0] === "'" ? val[0] : '';
      const bare = quote === '' ? val : val.slice(quote.length, val.length - quote.length);
      if (quote === '' && s.charCodeAt(m.index + m[0].length) === 40 && CODE_CALL.test(bare)) continue;
      let replacement: string;
      let kind: string;
      if (cls.kind === 'user_id') {
        if (bare === '' || isPseudonym(bare)) continue;
        replacement = this.pseudonymOf(bare);
        kind = 'user_id';
      } else {
        replacement = marker(cls.marker);
        kind = cls.marker;
      }
      out.push({
        start: valueStart,
        end: m.index + m[0].length,
        replacement: `${quote}${replacement}${quote}`,
        kind,
      });
    }
  }
}

/** Where a bracket-balanced JSON object opening at `open` ends (the index after its `}`), or -1. */
function objectEnd(s: string, open: number): number {
  let depth = 0;
  let inString = false;
  for (let i = open; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) depth++;
    else if ((c === 125 || c === 93) && --depth === 0) return i + 1;
  }
  return -1;
}

/** Whether a JSON object with a field opens at `open`: `{`, optional whitespace, then `"`. */
function opensObject(s: string, open: number): boolean {
  for (let i = open + 1; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34) return true;
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return false;
}

/** A remembered redaction applied again: its replacements counted, its findings reported. */
function replay(hit: CachedText, counts: RedactionCounts, found: Findings | undefined): string {
  if (hit.counts) for (const [kind, n] of hit.counts) counts[kind] = (counts[kind] ?? 0) + n;
  if (found !== undefined) {
    found.userId = hit.userId;
    found.json = hit.json;
  }
  return hit.out;
}

/** The key of a long text in the repeated-text cache: its length, head and tail (not the whole text). */
function fingerprint(s: string): string {
  return `${s.length}\u0000${s.slice(0, FINGERPRINT_EDGE)}\u0000${s.slice(-FINGERPRINT_EDGE)}`;
}

/** Digits in `s`, counted up to `max`. */
function digitCount(s: string, max: number): number {
  let n = 0;
  for (let i = 0; i < s.length && n < max; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

function total(counts: RedactionCounts): number {
  let n = 0;
  for (const k in counts) n += counts[k] ?? 0;
  return n;
}

/** Replaces every string/number leaf of `v` with the marker of `kind`. */
function redactAll(v: unknown, kind: string, counts: RedactionCounts): unknown {
  if (
    typeof v === 'string' ||
    typeof v === 'number' ||
    typeof v === 'bigint' ||
    rawInteger(v) !== undefined
  ) {
    counts[kind] = (counts[kind] ?? 0) + 1;
    return marker(kind);
  }
  if (Array.isArray(v)) return v.map((item) => redactAll(item, kind, counts));
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(v)) out[k] = redactAll(item, kind, counts);
    return out;
  }
  return v;
}

/** Leftmost span wins; at the same start the longer one. */
function applySpans(s: string, spans: Span[], counts: RedactionCounts): string {
  if (spans.length > 1) spans.sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let pos = 0;
  for (const span of spans) {
    if (span.start < pos) continue;
    out += s.slice(pos, span.start) + span.replacement;
    pos = span.end;
    if (span.counts === undefined) counts[span.kind] = (counts[span.kind] ?? 0) + 1;
    else for (const kind in span.counts) counts[kind] = (counts[kind] ?? 0) + (span.counts[kind] ?? 0);
  }
  return out + s.slice(pos);
}
