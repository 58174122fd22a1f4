/**
 * Which field names hold secrets or user ids. Names are split into words (any separator, camelCase,
 * case-insensitive), so `password`, `db_password`, `X-Api-Key`, `apiKey`, `client.secret` and
 * `Card Number` are all recognised, while `token_count`, `max_tokens`, `secret_arn` and `passwordless`
 * are not: a trailing word that describes the value rather than being it (count, type, arn, url, ...)
 * turns the match off.
 */

/** The marker kind of a sensitive field, e.g. `password` in `[REDACTED:password]`. */
export type SensitiveKind =
  | 'password'
  | 'secret'
  | 'token'
  | 'api_key'
  | 'authorization'
  | 'cookie'
  | 'private_key'
  | 'credentials'
  | 'ssn'
  | 'card'
  | 'iban'
  | 'session'
  | 'signature'
  | 'sensitive_key';

/** What a field name means for redaction. */
export type KeyClass =
  | { readonly kind: 'sensitive'; readonly marker: SensitiveKind }
  | { readonly kind: 'user_id' };

const WORDS: Readonly<Record<string, SensitiveKind>> = {
  password: 'password',
  passwd: 'password',
  pwd: 'password',
  pass: 'password',
  passphrase: 'password',
  passcode: 'password',
  pin: 'password',
  otp: 'password',
  totp: 'password',
  hotp: 'password',
  secret: 'secret',
  secrets: 'secret',
  token: 'token',
  jwt: 'token',
  bearer: 'token',
  apikey: 'api_key',
  authorization: 'authorization',
  cookie: 'cookie',
  cookies: 'cookie',
  credential: 'credentials',
  credentials: 'credentials',
  creds: 'credentials',
  ssn: 'ssn',
  cvv: 'card',
  cvv2: 'card',
  cvc: 'card',
  iban: 'iban',
  privatekey: 'private_key',
  signature: 'signature',
  sessionid: 'session',
  phpsessid: 'session',
  csrf: 'token',
  xsrf: 'token',
  csrftoken: 'token',
  xsrftoken: 'token',
};

/** Two consecutive words that together name a secret. */
const PAIRS: Readonly<Record<string, SensitiveKind>> = {
  'api key': 'api_key',
  'access key': 'api_key',
  'secret key': 'secret',
  'signing key': 'secret',
  'encryption key': 'secret',
  'master key': 'secret',
  'private key': 'private_key',
  'card number': 'card',
  'card no': 'card',
  'card num': 'card',
  'credit card': 'card',
  'cc number': 'card',
  'cc num': 'card',
  'security code': 'card',
  'social security': 'ssn',
  'session id': 'session',
  'connection string': 'credentials',
  'mfa code': 'password',
  'verification code': 'password',
  'recovery code': 'password',
  'recovery codes': 'password',
  'backup code': 'password',
  'backup codes': 'password',
};

/** Three consecutive words that together name a secret (`time code` alone is a video timecode). */
const TRIPLES: Readonly<Record<string, SensitiveKind>> = {
  'one time code': 'password',
  'one time pin': 'password',
};

/** Stems searched inside a single unsplittable word such as `dbpassword` or `xapikey`. */
const STEMS: ReadonlyArray<readonly [string, SensitiveKind]> = [
  ['password', 'password'],
  ['passwd', 'password'],
  ['passphrase', 'password'],
  ['secret', 'secret'],
  ['apikey', 'api_key'],
  ['accesskey', 'api_key'],
  ['privatekey', 'private_key'],
  ['accesstoken', 'token'],
  ['refreshtoken', 'token'],
  ['authtoken', 'token'],
  ['sessiontoken', 'token'],
  ['idtoken', 'token'],
  ['credential', 'credentials'],
  ['authorization', 'authorization'],
  ['cookie', 'cookie'],
  ['cardnumber', 'card'],
  ['creditcard', 'card'],
  ['ccnumber', 'card'],
  ['sessionid', 'session'],
  ['sessid', 'session'],
  ['csrf', 'token'],
  ['xsrf', 'token'],
  ['onetimecode', 'password'],
  ['mfacode', 'password'],
  ['verificationcode', 'password'],
  ['recoverycode', 'password'],
];

/** A last word that describes the secret instead of holding it. */
const DESCRIPTIVE = new Set([
  'count',
  'counts',
  'type',
  'types',
  'expires',
  'expiry',
  'expiration',
  'exp',
  'ttl',
  'length',
  'len',
  'size',
  'limit',
  'limits',
  'usage',
  'used',
  'remaining',
  'arn',
  'name',
  'names',
  'id',
  'ids',
  'url',
  'uri',
  'endpoint',
  'path',
  'file',
  'location',
  'format',
  'required',
  'enabled',
  'present',
  'provided',
  'valid',
  'set',
  'changed',
  'updated',
  'at',
  'policy',
  'strength',
  'version',
  'source',
  'field',
  'rotation',
  'algorithm',
  'alg',
  'kind',
  'status',
  'stdin',
]);

const WORD_RE = /[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+/g;

/** Lowercase words of a field name: `X-Api-Key` → `x api key`, `userID` → `user id`. */
export function keyWords(key: string): string[] {
  return (key.match(WORD_RE) ?? []).map((w) => w.toLowerCase());
}

function classifyWords(words: readonly string[]): SensitiveKind | undefined {
  const last = words[words.length - 1];
  if (last === undefined) return undefined;
  if (words.length > 1 && DESCRIPTIVE.has(last)) {
    // `session_id` is itself a secret; `secret_id` merely names one.
    return PAIRS[`${words[words.length - 2]} ${last}`];
  }
  for (let i = 0; i < words.length; i++) {
    const w = words[i] as string;
    const next = words[i + 1];
    if (next !== undefined) {
      const pair = PAIRS[`${w} ${next}`];
      if (pair) return pair;
      const after = words[i + 2];
      const triple = after === undefined ? undefined : TRIPLES[`${w} ${next} ${after}`];
      if (triple) return triple;
    }
    const word = WORDS[w];
    if (word) return word;
    if (w.length > 6 && !w.endsWith('less')) {
      for (const [stem, kind] of STEMS) if (w.includes(stem)) return kind;
    }
  }
  return undefined;
}

/**
 * A two-word name split by a dot (`api.key`, `{"card": {"number": …}}`): the previous segment's last
 * word read with this segment's words, so a descriptive last word still turns it off (`api.key_id`).
 */
function classifyAcross(previous: readonly string[], words: readonly string[]): SensitiveKind | undefined {
  const last = previous[previous.length - 1];
  if (last === undefined || words[0] === undefined || !Object.hasOwn(PAIRS, `${last} ${words[0]}`))
    return undefined;
  return classifyWords([last, ...words]);
}

function isUserIdWords(words: readonly string[], previousSegment: readonly string[]): boolean {
  const n = words.length;
  const last = words[n - 1];
  if (last === 'userid') return true;
  if (n >= 2 && last === 'id' && (words[n - 2] === 'user' || words[n - 2] === 'usr')) return true;
  if (n === 1 && last === 'id') {
    const p = previousSegment[previousSegment.length - 1];
    return p === 'user' || p === 'usr' || p === 'enduser';
  }
  return false;
}

/** A name/value pair object read as `[name, value, the key the name was under]`. */
export type NameValuePair = readonly [name: string, value: unknown, nameKey: string];

/** The keys a pair object's name may be under, and the value key each goes with. */
const PAIR_KEYS: Readonly<Record<string, string>> = {
  name: 'value',
  Name: 'Value',
  key: 'value',
  Key: 'Value',
};

/**
 * A name/value pair object — exactly two fields, `name`/`value`, `Name`/`Value`, `key`/`value` or
 * `Key`/`Value`, with a non-empty string name: the shape of HTTP header lists (WAF, API Gateway,
 * ALB), AWS tag lists and OTLP attributes — else undefined.
 */
export function pairOf(item: unknown): NameValuePair | undefined {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return undefined;
  let count = 0;
  let nameKey: string | undefined;
  for (const k in item) {
    if (++count > 2) return undefined;
    if (Object.hasOwn(PAIR_KEYS, k)) nameKey = k;
  }
  if (count !== 2 || nameKey === undefined) return undefined;
  const o = item as Record<string, unknown>;
  const valueKey = PAIR_KEYS[nameKey] as string;
  const name = o[nameKey];
  if (typeof name !== 'string' || name === '' || !Object.hasOwn(o, valueKey)) return undefined;
  return [name, o[valueKey], nameKey];
}

/** A name/value pair inside a larger object: the pair, plus the key its value is under. */
export type PairWithin = readonly [name: string, value: unknown, nameKey: string, valueKey: string];

/**
 * The name/value pair an object carries, whatever other fields sit beside it: a header with its
 * attributes (`{"name":"Cookie","value":"…","path":"/"}`), a tag with a `propagate` flag. The name is a
 * non-empty string under `name`, `Name`, `key` or `Key`, and its value key (`value`/`Value`) is present.
 * Undefined when the object has no such pair. {@link pairOf} is the exact two-field case.
 */
export function pairWithin(item: unknown): PairWithin | undefined {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return undefined;
  const o = item as Record<string, unknown>;
  for (const nameKey in PAIR_KEYS) {
    if (!Object.hasOwn(o, nameKey)) continue;
    const name = o[nameKey];
    const valueKey = PAIR_KEYS[nameKey] as string;
    if (typeof name === 'string' && name !== '' && Object.hasOwn(o, valueKey)) {
      return [name, o[valueKey], nameKey, valueKey];
    }
  }
  return undefined;
}

/** Decides which field names are sensitive; built once per settings, cached per name. */
export class KeyClassifier {
  private readonly extra: ReadonlyArray<readonly string[]>;
  private readonly cache = new Map<string, KeyClass | null>();

  /** @param extraSensitiveKeys names whose values are always redacted (as `sensitive_key`). */
  constructor(extraSensitiveKeys: readonly string[] = []) {
    this.extra = extraSensitiveKeys.map(keyWords).filter((w) => w.length > 0);
  }

  /**
   * Classifies a (possibly dotted) field path: sensitive when any segment is, a user id when the last
   * segment names one (`user_id`, `userId`, `user.id`, `usr.id`, `enduser.id`). `null` otherwise.
   */
  classify(path: string): KeyClass | null {
    const cached = this.cache.get(path);
    if (cached !== undefined) return cached;
    const result = this.compute(path);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(path, result);
    return result;
  }

  private compute(path: string): KeyClass | null {
    const segments = path.split('.');
    let previous: string[] = [];
    for (let i = 0; i < segments.length; i++) {
      const words = keyWords(segments[i] as string);
      if (i === segments.length - 1 && isUserIdWords(words, previous)) return { kind: 'user_id' };
      const marker = classifyWords(words) ?? this.classifyExtra(words) ?? classifyAcross(previous, words);
      if (marker) return { kind: 'sensitive', marker };
      previous = words;
    }
    return null;
  }

  private classifyExtra(words: readonly string[]): SensitiveKind | undefined {
    const joined = words.join('');
    for (const extra of this.extra) {
      if (joined === extra.join('')) return 'sensitive_key';
      for (let i = 0; i + extra.length <= words.length; i++) {
        if (extra.every((w, j) => words[i + j] === w)) return 'sensitive_key';
      }
    }
    return undefined;
  }
}
