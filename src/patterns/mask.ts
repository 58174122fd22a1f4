/**
 * The template of a log message: the message with its variable parts masked, so that "order 42 failed
 * for 10.0.0.7" and "order 97 failed for 10.0.0.9" share the template "order <NUM> failed for <IP>".
 * Computed once per event at ingest (the `message_template` column) so that `loglake patterns` groups by
 * a column instead of masking every message at query time; on Athena it never reads the messages to
 * count them.
 *
 * Pure and deterministic (no state, no locale): the same message always has the same template, in the
 * transform Lambda, the local pipeline and the CLI. One regular-expression pass, linear in the text.
 *
 * Masked, first rule that matches at a position wins:
 * - `<STR>` a quoted string: `"…"` (with `\"` escapes), or `'…'` opened at the start, after a space or
 *   one of `=:([{,` and closed before the end, a space or punctuation (so "don't" is not a quote);
 * - `<TS>` an ISO-8601 date-time (`2026-11-22T10:00:00.123Z`, `2026-11-22 10:00:00`);
 * - `<UUID>` 8-4-4-4-12 hex digits;
 * - `<IP>` IPv4 with an optional port; IPv6 with `::` or all eight groups;
 * - `<HEX>` `0x…`, or a run of 8 or more hex digits holding both a digit and a letter (hashes, ids);
 * - `<ID>` a word of 6 or more letters, digits and `_` holding both a letter and a digit
 *   (`req_8f3a2`, `user42`);
 * - `<NUM>` every other run of digits, with its `.`/`,`/`:` separated parts (`3.14`, `1,000`, `10:30`).
 *
 * So no ASCII digit survives in a template, and masking a template again changes nothing.
 */

import { isTrimmed } from '../transform/chars';

/** Characters of a message looked at for its template; the rest is cut and marked with `…`. */
export const TEMPLATE_INPUT_CHARS = 1024;

const OPEN = String.raw`(?<=^|[\s=:(\[{,])`;
const CLOSE = String.raw`(?=$|[\s)\]},.;:!?])`;
const H = '[0-9a-fA-F]';
const G = `${H}{1,4}`;
const V4 = String.raw`(?:\d{1,3}\.){3}\d{1,3}`;

/** [regex group, placeholder, pattern], in priority order. */
export const MASK_RULES: ReadonlyArray<readonly [string, string, string]> = [
  ['dq', 'STR', String.raw`"(?:[^"\\]|\\.)*"`],
  ['sq', 'STR', String.raw`${OPEN}'(?:[^'\\\n]|\\.)*'${CLOSE}`],
  [
    'ts',
    'TS',
    String.raw`\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?`,
  ],
  ['uuid', 'UUID', `(?<![0-9A-Za-z_])${H}{8}-${H}{4}-${H}{4}-${H}{4}-${H}{12}(?![0-9A-Za-z_])`],
  [
    'ip6',
    'IP',
    // Bounded so that times (10:30:00) and words are not addresses: `::` somewhere, or eight groups.
    `(?<![0-9A-Za-z_:.])(?=[0-9a-fA-F:.]*\\d)(?:(?:${G}:){7}${G}|(?:${G}:){6}${V4}|(?:${G}(?::${G})*)?::(?:(?:${G}:)*(?:${V4}|${G}))?)(?![0-9A-Za-z_:.])`,
  ],
  ['ip4', 'IP', String.raw`(?<![0-9A-Za-z_.])${V4}(?::\d{1,5})?(?![0-9A-Za-z_]|\.\d)`],
  ['hex', 'HEX', `0[xX]${H}+|(?<![0-9A-Za-z_])(?=${H}*\\d)(?=${H}*[a-fA-F])${H}{8,}(?![0-9A-Za-z_])`],
  ['id', 'ID', String.raw`(?<![0-9A-Za-z_])(?=\w*\d)(?=\w*[A-Za-z])\w{6,}(?![0-9A-Za-z_])`],
  ['num', 'NUM', String.raw`\d+(?:[.,:]\d+)*`],
];

/** A sticky expression of some of the rules (in their priority order) and each group's placeholder. */
interface Rules {
  readonly re: RegExp;
  readonly placeholders: readonly string[];
}

function rules(groups: readonly string[]): Rules {
  const chosen = MASK_RULES.filter(([group]) => groups.includes(group));
  return {
    re: new RegExp(chosen.map(([, , re]) => `(${re})`).join('|'), 'y'),
    placeholders: chosen.map(([, placeholder]) => `<${placeholder}>`),
  };
}

// Run sticky, only where a match can start, and only the rules that can start with the character there:
// V8 cannot skip ahead over the leading lookbehinds, and trying every alternative at every character
// made masking a third of the transform's time on text lines (and still a fifth when tried at every
// word start). A quote can only open a string, `:` only an IPv6 `::`, a letter only a UUID, an IPv6
// address, a hex id or an id; a digit anything but a string.
const DOUBLE_QUOTED = rules(['dq']);
const SINGLE_QUOTED = rules(['sq']);
const COLON = rules(['ip6']);
const DIGIT = rules(['ts', 'uuid', 'ip6', 'ip4', 'hex', 'id', 'num']);
const LETTER = rules(['uuid', 'ip6', 'hex', 'id']);

function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/**
 * The rules to try at `i`, or `undefined` when none can match there. A word that starts with a letter
 * or `_` and holds no digit can only begin a UUID (8 hex letters, then `-`) or an IPv6 address (a hex
 * group, then `:`): every other rule needs a digit within the word.
 */
function rulesAt(text: string, i: number, c: number, afterWord: boolean): Rules | undefined {
  if (c >= 48 && c <= 57) return DIGIT;
  if (c === 34) return DOUBLE_QUOTED;
  if (c === 39) return SINGLE_QUOTED;
  if (c === 58) return COLON;
  if (afterWord || !isWordChar(c)) return undefined;
  let j = i + 1;
  for (; j < text.length; j++) {
    const d = text.charCodeAt(j);
    if (d >= 48 && d <= 57) return LETTER;
    if (!isWordChar(d)) break;
  }
  const next = text.charCodeAt(j);
  return next === 45 || next === 58 ? LETTER : undefined;
}

/**
 * The end of the run of digits at `i` when only `<NUM>` can match there, else 0: the run is followed by
 * neither a word character nor one of `-:.,`, so no time (`\d{4}-`), UUID (`-`), IP (`:`, `.`), hex or
 * id (a letter) goes on from it and the number has no further parts. Most numbers in logs (`13 ms`,
 * `order 42 failed`) end so, and are masked without running an expression.
 */
function plainNumberEnd(text: string, i: number): number {
  let j = i + 1;
  while (j < text.length) {
    const d = text.charCodeAt(j);
    if (d < 48 || d > 57) break;
    j++;
  }
  if (j === text.length) return j;
  const next = text.charCodeAt(j);
  return isWordChar(next) || next === 45 || next === 58 || next === 46 || next === 44 ? 0 : j;
}

/**
 * `text` with every variable part replaced by its placeholder (`<NUM>`, `<UUID>` …). Every rule begins
 * with a quote, a digit, `:` (an IPv6 `::`) or a word character not preceded by one (its lookbehind),
 * so only those positions are tried: the same matches as a global replace, found faster.
 */
export function maskMessage(text: string): string {
  return mask(text, false);
}

/**
 * The masking pass; with `collapse`, each run of whitespace outside the masked parts also becomes one
 * space and the ends are trimmed, in the same pass (no rule starts at whitespace and no placeholder
 * holds any, so this is `maskMessage(text).replace(/\s+/g, ' ').trim()` without the two further passes
 * and copies: a tenth of the transform's time on short text lines).
 */
function mask(text: string, collapse: boolean): string {
  let out = '';
  let copied = 0;
  let afterWord = false;
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    if (
      collapse &&
      (c === 32 ? i === 0 || i + 1 === text.length || isTrimmed(text.charCodeAt(i + 1)) : isTrimmed(c))
    ) {
      let j = i + 1;
      while (j < text.length && isTrimmed(text.charCodeAt(j))) j++;
      // One space between words; nothing at either end.
      out += i === 0 || j === text.length ? text.slice(copied, i) : `${text.slice(copied, i)} `;
      i = j;
      copied = i;
      afterWord = false;
      continue;
    }
    const word = isWordChar(c);
    if (c >= 48 && c <= 57) {
      const end = plainNumberEnd(text, i);
      if (end > 0) {
        out += `${text.slice(copied, i)}<NUM>`;
        i = end;
        copied = i;
        afterWord = true;
        continue;
      }
    }
    const tried = rulesAt(text, i, c, afterWord);
    if (tried !== undefined) {
      const { re, placeholders } = tried;
      re.lastIndex = i;
      const m = re.exec(text);
      if (m !== null && m[0].length > 0) {
        let k = 1;
        while (m[k] === undefined && k < placeholders.length) k++;
        out += text.slice(copied, i) + (placeholders[k - 1] as string);
        i += m[0].length;
        copied = i;
        afterWord = isWordChar(text.charCodeAt(i - 1));
        continue;
      }
    }
    afterWord = word;
    i++;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * The template stored with an event: the masked message, its whitespace runs made one space, looked at
 * up to {@link TEMPLATE_INPUT_CHARS} characters (a longer message gets ` …` after its cut template).
 * `null` for an empty message.
 */
export function messageTemplate(message: string | null | undefined): string | null {
  if (message === null || message === undefined) return null;
  const cut = message.length > TEMPLATE_INPUT_CHARS;
  const masked = mask(cut ? message.slice(0, TEMPLATE_INPUT_CHARS) : message, true);
  if (masked === '') return null;
  return cut ? `${masked} …` : masked;
}
