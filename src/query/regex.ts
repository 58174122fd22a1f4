/**
 * The regular expressions `--regex` accepts: the part of the syntax on which DuckDB (`regexp_matches`,
 * RE2) and Athena/Trino (`regexp_like`, Java-style syntax) agree, so one pattern means the same on the
 * local lake and on AWS. Anything outside it is refused with the construct named, rather than matching
 * differently in the two places.
 *
 * Accepted: literal characters; `.`; classes `[abc]`, `[^a-z0-9_]` with ranges and escapes; `\d \D \w
 * \W \s \S \b \B`; escaped punctuation (`\.`, `\(`, `\\` …) and `\t \n \r`; anchors `^ $`; groups `(…)`
 * and `(?:…)`; alternation `|`; quantifiers `* + ? {n} {n,} {n,m}` and their lazy forms (`*?` …).
 *
 * Refused (one engine lacks them or reads them differently): backreferences `\1`, lookaround `(?=`
 * `(?!` `(?<=` `(?<!`, named groups `(?P<n>` `(?<n>`, atomic groups and possessive quantifiers, inline
 * flags `(?i)` (use `--case-sensitive` or not instead), POSIX classes `[[:alpha:]]`, Unicode classes
 * `\p{…}`, `\Q…\E`, `\A \z \Z \G`, octal and `\x`/`\u` escapes, and nested class operations.
 *
 * Rendered per engine ({@link enginePattern}): Athena's regex library (Joni) takes a non-ASCII letter for a
 * word character at `\b` and `\B` (though not for `\w`), and reads `$` as "end, or before a final line
 * break"; Athena receives both rewritten to RE2's meaning. Case-insensitive patterns may not hold a
 * character whose case folding is several characters (`ß` → `ss`, `ﬁ` → `fi`): Joni matches `ß` with
 * `ss` under `(?i)`, RE2 does not.
 *
 * Known remaining differences: `.` and `\s` treat `\r` and `\v` slightly differently in the two
 * engines; and a case-insensitive `ss` (`fi` …) matches a text's `ß` (`ﬁ` …) on Athena only.
 */
import { InputError } from '../errors';
import type { Dialect } from './model';

const SIMPLE_ESCAPES = new Set(['d', 'D', 'w', 'W', 's', 'S', 'b', 'B', 't', 'n', 'r']);
const CLASS_ESCAPES = new Set(['d', 'D', 'w', 'W', 's', 'S', 't', 'n', 'r']);
// Escaped punctuation means the character itself in both engines.
const PUNCTUATION = /^[\\.^$|?*+()[\]{}\-/'"#%&,:;<=>@!`~_ ]$/;

/**
 * Check `pattern` against the common subset.
 * @param what - the flag or field, for the message. @default '--regex'
 * @throws InputError naming the construct and where it is.
 */
export function checkPortableRegex(pattern: string, what = '--regex'): void {
  const fail = (at: number, why: string): never => {
    throw new InputError(
      `${what} ${JSON.stringify(pattern)}: ${why} at position ${at + 1}; only the syntax DuckDB and Athena read alike is accepted (see --help)`,
    );
  };
  if (pattern === '') fail(0, 'empty pattern');
  let depth = 0;
  // Whether the previous item can take a quantifier.
  let quantifiable = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) fail(i, 'a trailing backslash');
      else if (/\d/.test(next)) fail(i, `backreference or octal escape \\${next}`);
      else if (!SIMPLE_ESCAPES.has(next) && !PUNCTUATION.test(next)) fail(i, `escape \\${next}`);
      quantifiable = next !== 'b' && next !== 'B';
      i++;
      continue;
    }
    if (c === '[') {
      i = classEnd(pattern, i, fail);
      quantifiable = true;
      continue;
    }
    if (c === '(') {
      if (pattern[i + 1] === '?') {
        if (pattern[i + 2] !== ':') {
          const what =
            pattern[i + 2] === '=' || pattern[i + 2] === '!'
              ? 'lookahead'
              : pattern[i + 2] === '<'
                ? pattern[i + 3] === '=' || pattern[i + 3] === '!'
                  ? 'lookbehind'
                  : 'a named group'
                : pattern[i + 2] === 'P'
                  ? 'a named group'
                  : pattern[i + 2] === '>'
                    ? 'an atomic group'
                    : 'an inline flag group';
          fail(i, what);
        }
        i += 2;
      }
      depth++;
      quantifiable = false;
      continue;
    }
    if (c === ')') {
      if (depth === 0) fail(i, 'an unmatched )');
      depth--;
      quantifiable = true;
      continue;
    }
    if (c === '*' || c === '+' || c === '?' || c === '{') {
      if (c === '{') {
        const m = /^\{(\d{1,4})(,(\d{0,4}))?\}/.exec(pattern.slice(i));
        if (!m) fail(i, 'a { that is not a repetition {n}, {n,} or {n,m} (write \\{ for the character)');
        else {
          if (m[3] !== undefined && m[3] !== '' && Number(m[3]) < Number(m[1])) {
            fail(i, `a repetition ${m[0]} whose maximum is below its minimum`);
          }
          if (Number(m[1]) > 1000 || (m[3] ? Number(m[3]) > 1000 : false)) {
            fail(i, `a repetition ${m[0]} over 1000 (RE2's limit)`);
          }
          i += m[0].length - 1;
        }
      }
      if (!quantifiable) fail(i, `a quantifier ${c} with nothing to repeat`);
      if (pattern[i + 1] === '+') fail(i + 1, 'a possessive quantifier');
      if (pattern[i + 1] === '?') i++;
      quantifiable = false;
      continue;
    }
    if (c === '}') fail(i, 'an unmatched } (write \\} for the character)');
    if (c === ']') fail(i, 'an unmatched ] (write \\] for the character)');
    quantifiable = c !== '|' && c !== '^' && c !== '$';
  }
  if (depth > 0) fail(pattern.length - 1, 'an unclosed (');
}

/** Index of the `]` closing the class opened at `start`. */
function classEnd(pattern: string, start: number, fail: (at: number, why: string) => never): number {
  let i = start + 1;
  if (pattern[i] === '^') i++;
  // A `]` first in a class is a literal in Java but closes an empty class in neither consistently.
  if (pattern[i] === ']') fail(i, 'a ] first in a class (write \\])');
  for (; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === ']') return i;
    if (c === '[') {
      fail(i, pattern[i + 1] === ':' ? 'a POSIX class [:…:]' : 'a [ inside a class (write \\[)');
    }
    if (c === '&' && pattern[i + 1] === '&') fail(i, 'a class intersection &&');
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) break;
      if (!CLASS_ESCAPES.has(next) && !PUNCTUATION.test(next)) fail(i, `escape \\${next} in a class`);
      i++;
    }
  }
  return fail(start, 'an unclosed [');
}

/** Whether `c`'s case folding (or case mapping) is more than one character: `ß`, `ẞ`, `ﬁ`, `İ` … */
function foldsToSeveral(c: string): boolean {
  return [
    c.toLowerCase(),
    c.toUpperCase(),
    c.toLowerCase().toUpperCase(),
    c.toUpperCase().toLowerCase(),
  ].some((x) => [...x].length > 1);
}

/**
 * Check a pattern that is to match case-insensitively: no character whose case folding is several
 * characters (Athena's `(?i)` matches `ß` with `ss`, DuckDB's does not).
 * @throws InputError naming the character and where it is.
 */
export function checkCaseInsensitiveRegex(pattern: string, what = '--regex'): void {
  let at = 0;
  for (const c of pattern) {
    if (foldsToSeveral(c)) {
      throw new InputError(
        `${what} ${JSON.stringify(pattern)}: ${c} at position ${at + 1} folds to ${JSON.stringify(c.toUpperCase().toLowerCase())} when case is ignored, which DuckDB and Athena match differently; use --case-sensitive (with both cases written out if needed)`,
      );
    }
    at += c.length;
  }
}

/** An ASCII word character, as RE2 reads `\b` (case-insensitivity aside: `(?-i:…)` around it). */
const WORD = '[0-9A-Za-z_]';
/** RE2's `\b`, `\B` and `$` in Joni's syntax. */
const ATHENA_ANCHORS: Readonly<Record<string, string>> = {
  '\\b': `(?-i:(?<=${WORD})(?!${WORD})|(?<!${WORD})(?=${WORD}))`,
  '\\B': `(?-i:(?<=${WORD})(?=${WORD})|(?<!${WORD})(?!${WORD}))`,
  $: '\\z',
};

/**
 * The (checked) pattern as an engine receives it: `(?i)` in front for a case-insensitive match (RE2 and
 * Java both read it); for Athena, `\b`, `\B` and `$` outside classes rewritten to mean what RE2 reads.
 */
export function enginePattern(pattern: string, caseSensitive: boolean, dialect: Dialect = 'duckdb'): string {
  const body = dialect === 'athena' ? athenaAnchors(pattern) : pattern;
  return caseSensitive ? body : `(?i)${body}`;
}

function athenaAnchors(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') {
      const pair = pattern.slice(i, i + 2);
      out += ATHENA_ANCHORS[pair] ?? pair;
      i++;
    } else if (c === '[') {
      // A checked class: its first `]` not escaped closes it.
      let j = i + 1;
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
      out += pattern.slice(i, j + 1);
      i = j;
    } else out += ATHENA_ANCHORS[c] ?? c;
  }
  return out;
}
