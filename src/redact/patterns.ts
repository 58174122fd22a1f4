/**
 * The regular expressions of the redactor's text detectors, and the cheap gates in front of them. Speed
 * matters (every string value of every event passes here): prefixed tokens (GitHub, Slack, Stripe, AWS
 * key ids, JWTs...) share one expression behind a literal-prefix gate, each numeric detector runs only
 * when the character counts of the text (`features`) can meet it, and lookbehinds anchor candidates at
 * token starts (linear scans). Which candidates are real is decided in `validators.ts`; the scans that
 * run them are in `scanners.ts`.
 */

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

/** A version number (`1.2`, `v1.6.12.2`, `2.0.0-rc.1`). */
const VERSION = String.raw`v?\d+(?:\.\d+){1,4}(?:-[\w.]+)?`;
/** Between an old version and a new one: `1.2.3.4 -> 1.2.3.5`, `… to 1.2.3.5`. */
const VERSION_THEN = String.raw`(?:[ \t]*(?:->|=>|\u2192)[ \t]*|[ \t]+(?:to|TO)[ \t]+)`;
/**
 * Verbs after which a dotted number is a version, not an address: `upgraded to 1.6.12.2`,
 * `downgrading from 1.2.3.4 to 1.2.3.1`. Not `update`/`updated`: `update from 192.0.2.1` (BGP) and
 * `record updated to 203.0.113.5` (DNS) name addresses.
 */
const VERSION_MOVE =
  '(?:[Uu]pgrad|UPGRAD|[Dd]owngrad|DOWNGRAD)(?:e[ds]?|ing|E[DS]?|ING)|[Bb]ump(?:ed|s)?|[Rr]olled back';

// `(?<![\w-])` style lookbehinds anchor candidates at token starts (linear scan, no mid-word hits).
const ALTERNATIVES = {
  jwt: String.raw`(?<![\w-])eyJ[\w-]{2,}\.[\w-]{2,}\.[\w-]*`,
  bearer: String.raw`(?<![\w-])(?:[Bb]earer|BEARER)[ \t]+[\w.~+/-]{8,}=*`,
  // Four base64 characters are the least a credential takes (`a:b` is `YTpi`); `basicValid` decides.
  basic: String.raw`(?<![\w-])(?:[Bb]asic|BASIC)[ \t]+[A-Za-z0-9+/]{4,}={0,2}(?![\w+/=-])`,
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
  version: String.raw`(?<![\w-])(?:(?:(?:[Vv]ersion|VERSION|[Vv]er|[Rr]elease|[Bb]uild)(?:[ \t]+(?:is|was|now|to|from)[ \t]+|[ =:]{0,2})|v)${VERSION}(?:${VERSION_THEN}${VERSION})?|(?:${VERSION_MOVE})[ \t]+(?:(?:to|TO)[ \t]+${VERSION}|(?:from|FROM)[ \t]+${VERSION}${VERSION_THEN}${VERSION}))`,
  product: String.raw`(?<![^\s(\["',;])[A-Za-z][\w+.-]{0,40}/${VERSION}`,
  iban: String.raw`(?<![\w])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![\w])`,
  hex: String.raw`(?<![\w])(?=\d*[a-fA-F])[0-9a-fA-F]{16,}(?![\w])`,
  aws40: `(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])`,
  ipv4: String.raw`(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:/\d{1,2})?(?![\w]|\.\d)`,
  ssn: String.raw`(?<![\w-])\d{3}-\d{2}-\d{4}(?![\w]|-\d)`,
  card: String.raw`(?<![\w.+-])\d(?:[ .-]?\d){12,18}(?!\w)`,
  intl: String.raw`(?<![\w+])\+\d(?:[ .()-]{0,2}\d){6,16}(?![\w])`,
  nanp: String.raw`(?<![\w+.-])(?:1[ .-])?(?:\(\d{3}\)[ .-]?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w]|[.-]\d)`,
  national: String.raw`(?<![\w+.-])0\d{1,4}(?:[ -]\d{2,8}){1,4}(?![\w]|[.-]\d)`,
} as const satisfies Record<string, string>;
export type Group = keyof typeof ALTERNATIVES;

export const TOKEN_GROUPS: readonly Group[] = [
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
/**
 * Values a numeric candidate may not fall inside. `version` and `product` keep dotted-quad versions
 * (`upgraded to 1.6.12.2`, `nginx/1.6.12.2`, a User-Agent's `Name/1.2.3.4`) from being read as IPv4
 * addresses; `product` needs a name starting a token, so `/hosts/10.0.0.1` and `x/10.0.0.1` in a URL
 * path stay addresses.
 */
const PROTECT_GROUPS: readonly Group[] = ['uuid', 'iso', 'version', 'product', 'hex'];

function combined(groups: readonly Group[], flags = 'g'): RegExp {
  return new RegExp(groups.map((g) => `(?<${g}>${ALTERNATIVES[g]})`).join('|'), flags);
}

/** Literal prefixes of every token alternative: a cheap test before the combined token scan. */
export const TOKEN_GATE =
  /eyJ|[Bb]earer|BEARER|[Bb]asic|BASIC|gh[pousr]_|github_pat_|glpat-|npm_|xox[abposr]-|xapp-|hooks\.slack\.com|_live_|_test_|whsec_|AIza|ya29\.|GOCSPX-|sk-|A3T|AKIA|ASIA|ABIA|ACCA/;
export const TOKENS = combined(TOKEN_GROUPS);
/** The scheme words of the `basic` alternative: the gate of {@link BASIC} on text too short for the others. */
export const BASIC_GATE = /[Bb]asic|BASIC/;
/** The `basic` alternative alone, for text of {@link MIN_BASIC_TEXT} to {@link MIN_TOKEN_TEXT} characters. */
export const BASIC = new RegExp(ALTERNATIVES.basic, 'g');
/** The protected values, sticky: tried only where one can start (`scanners.ts`, `protectedSpans`). */
export const PROTECT = combined(PROTECT_GROUPS, 'y');

/** Character counts that decide which detectors can match at all (one pass per string). */
export interface Features {
  length: number;
  digits: number;
  /** Longest run of digits where single separators (space, `-`, `.`, `(`, `)`, `/`) do not break it. */
  run: number;
  /** Longest run of base64 characters (`A-Za-z0-9+/`): an AWS secret key needs 40. */
  base64Run: number;
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
  /** `"`, `'`, a backtick, `‘` or `“`. */
  quotes: number;
  /** Two colons in a row (`::`, as in an IPv6 address). */
  doubleColon: boolean;
}

/**
 * The least the detectors need (`scanPatterns` gates on them, `inert` is derived from them): a token (`TOKEN_GATE`'s prefixes and what follows
 * them) or an AWS secret key needs this many characters of text, except an HTTP Basic credential
 * ({@link MIN_BASIC_TEXT}); every numeric detector (IPv4, SSN, card, phone, IBAN) this many digits, and
 * a card number this many digits in a row.
 */
export const MIN_TOKEN_TEXT = 16;
/**
 * An HTTP Basic credential, whatever its length, is `Basic ` and at least four base64 characters:
 * `Basic YTpi` (`a:b`), ten characters.
 */
export const MIN_BASIC_TEXT = 10;
export const MIN_NUMERIC_DIGITS = 4;
export const MIN_CARD_DIGITS = 13;

export interface NumericDetector {
  readonly group: Group;
  readonly re: RegExp;
  /** Whether the detector can match a text with these counts. */
  readonly possible: (f: Features) => boolean;
}

export const AWS40 = new RegExp(ALTERNATIVES.aws40, 'g');

export const NUMERIC: readonly NumericDetector[] = (
  [
    ['iban', (f: Features) => f.upper >= 2 && f.digits >= 8],
    ['ipv4', (f: Features) => f.dots >= 3 && f.run >= 4],
    ['ssn', (f: Features) => f.dashes >= 2 && f.run >= 9],
    ['card', (f: Features) => f.run >= MIN_CARD_DIGITS],
    ['intl', (f: Features) => f.plus >= 1 && f.run >= 8],
    ['nanp', (f: Features) => f.run >= 10],
    ['national', (f: Features) => f.run >= 9],
  ] as const
).map(([group, possible]) => ({ group, re: new RegExp(ALTERNATIVES[group], 'g'), possible }));

/**
 * An e-mail address (also URL-encoded `%40`), sticky: tried only where one can start (`scanEmails`).
 * Local part and domain may be internationalized (`jörg@bücher.de`, `用户@例子.广告`, RFC 6531): any
 * letter, mark or number; an IDN top-level domain also in its ASCII form (`xn--p1ai`).
 */
export const EMAIL =
  /(?<![\p{L}\p{M}\p{N}_.%+-])[\p{L}\p{M}\p{N}_.%+-]{1,64}(?:@|%40)(?:[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}-]{0,61}[\p{L}\p{M}\p{N}])?\.)+(?:\p{L}[\p{L}\p{M}]{1,62}|xn--[A-Za-z0-9-]{1,59})(?![\p{L}\p{M}\p{N}_-])/uy;

/** A character of an address's local part beyond ASCII (`scanEmails` finds where a run starts with it). */
export const EMAIL_LOCAL_CHAR = /^[\p{L}\p{M}\p{N}]$/u;

/**
 * Where a base64 blob can hold a known secret shape once decoded: the base64 characters the shapes'
 * fixed starts (`AKIA`, `ASIA`, `-----BEGIN`, a JWT's `eyJ`) encode to, at each of the three byte
 * alignments (`base64Needles`). A cheap literal test before any decoding (`scanBase64Secrets`).
 */
export const BASE64_SECRET_GATE = new RegExp(
  ['AKIA', 'ASIA', '-----BEGIN', 'eyJ'].flatMap(base64Needles).join('|').replace(/[+/]/g, '\\$&'),
);
/**
 * A base64 run long enough to hold an AWS key id (20 characters encode to 27 and one `=` of padding):
 * the blob `scanBase64Secrets` decodes.
 */
export const BASE64_RUN = /(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{27,}={0,2}/g;
/** What a decoded blob is checked for: an AWS key id, a PEM private-key header, a JWT. */
export const DECODED_SECRETS: ReadonlyArray<readonly [RegExp, DetectorKind]> = [
  [new RegExp(ALTERNATIVES.akid), 'aws_access_key'],
  [/-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY/, 'private_key'],
  [new RegExp(ALTERNATIVES.jwt), 'jwt'],
];
/**
 * Shortest base64 run looked at (`BASE64_RUN`), and the least `features().base64Run` that gates it: an
 * AWS key id alone encodes to 27 characters before its padding, a PEM header or a real JWT to more.
 */
export const MIN_BASE64_SECRET = 27;

/** The base64 characters `text` encodes to whatever bytes precede it, at offsets 0, 1 and 2. */
function base64Needles(text: string): string[] {
  const needles: string[] = [];
  for (let k = 0; k < 3; k++) {
    const encoded = Buffer.from('\0'.repeat(k) + text, 'latin1').toString('base64');
    needles.push(encoded.slice(Math.ceil((8 * k) / 6), Math.floor((8 * (k + text.length)) / 6)));
  }
  return needles;
}

export const PEM =
  /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|$)/g;

/** `scheme://user:` — where a password in URL userinfo starts (its end is found by `scanUrlPasswords`). */
export const URL_USERINFO = /\b([a-zA-Z][a-zA-Z0-9+.-]{1,20}:\/\/)([^\s:@/?#"'<>`]*):/g;
/** Where a URL token ends in text. */
export const URL_TOKEN_END = /[\s"'<>`]/g;
/** A host right after the userinfo's `@`: a name or bracketed IPv6, then a port, path, query or the end. */
export const URL_HOST =
  /(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)(?=$|[\s"'<>`:/?#),;\]}.!])/y;

// Not inside a longer token: no word character, dot, or `hex:` just before (a label such as `to:` is fine).
/** Five `hex:` groups in a row: the least a full-form IPv6 address (no `::`) holds (`hasFiveHexGroups` answers the same in one pass). */
export const IPV6_FULL = /(?:[0-9A-Fa-f]{1,4}:){5}/;
export const IPV6 =
  /(?<![\w.]|[0-9A-Fa-f]:)(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?(?:\/\d{1,3})?(?![\w:])/g;

/**
 * A quoted value right after a sensitive word in prose: `bad password "hunter2"`, `token was 'abc'`,
 * `api key is "…"`. KEY=VALUE and JSON cover `password=…`; this covers the sentences people write.
 * Only quoted values count, so `password is incorrect` keeps its words.
 */
export const PROSE_SECRET =
  /\b(?<word>pass(?:word|wd|phrase|code)?|pwd|secret|token|api[ _-]?key|credentials?)\b(?:[ \t]+(?:is|was|set to|changed to|reset to))?[ \t]*(?<q>["'`\u2018\u201c])(?<val>[^"'`\u2019\u201d\n]{1,512})(?:["'`\u2019\u201d])/gi;
