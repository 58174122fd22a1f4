/**
 * Character tests on the hot path without the copies `trim()` makes: every line of every record asks
 * whether it is blank and how it starts.
 */

/** Whether `c` is a char code `String#trim` removes (ECMAScript WhiteSpace and LineTerminator). */
export function isTrimmed(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** Index of the first character `trimStart()` keeps, or -1 when `s` is blank (`s.trim() === ''`). */
export function firstNonBlank(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    // Printable ASCII, what nearly every line starts with (after its indentation), needs no table.
    if ((c > 32 && c < 0xa0) || !isTrimmed(c)) return i;
  }
  return -1;
}

/** `s` without trailing `\r` and `\n` (what `s.replace(/[\r\n]+$/, '')` gives, without a regex scan). */
export function withoutTrailingNewlines(s: string): string {
  let end = s.length;
  while (end > 0) {
    const c = s.charCodeAt(end - 1);
    if (c !== 10 && c !== 13) break;
    end--;
  }
  return end === s.length ? s : s.slice(0, end);
}

/** `s.replace(/\s+$/, '')` without a regex scan (`\s` is the set `trim()` removes). */
export function trimEndBlank(s: string): string {
  let end = s.length;
  while (end > 0 && isTrimmed(s.charCodeAt(end - 1))) end--;
  return end === s.length ? s : s.slice(0, end);
}
