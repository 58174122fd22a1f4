/**
 * Text layout for a terminal: aligned columns, text wrapped at words, nothing cut. Ids and other values
 * that must be copied whole are never broken; only prose (a message) wraps.
 */

/**
 * What a terminal would act on rather than show: C0 and C1 controls (ESC starts CSI/OSC sequences that
 * clear the screen, retitle the window, write the clipboard or plant hyperlinks; `\r` and backspace
 * overwrite what came before; U+009B is a one-byte CSI), DEL, bidi overrides and isolates, which reorder
 * what is shown, zero-width characters, which hide text, line and paragraph separators, and lone
 * surrogates.
 */
const UNSHOWN =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * `text` safe to print to a terminal: every character of {@link UNSHOWN} as a `\uXXXX` escape, so log
 * content (which any producer writes) is shown, never interpreted, and takes one cell per character.
 */
export function visible(text: string): string {
  return text.replace(UNSHOWN, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Space between columns. */
export const GAP = '  ';

/**
 * `text` in lines of at most `width` characters, broken at spaces. A word longer than `width` (a URL, a
 * token) is the only thing split mid-word, as it cannot fit otherwise. Runs of spaces collapse.
 */
export function wrapWords(text: string, width: number): string[] {
  const w = Math.max(1, Math.floor(width));
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/ +/)) {
    if (word === '') continue;
    if (line !== '' && line.length + 1 + word.length <= w) {
      line += ` ${word}`;
      continue;
    }
    if (line !== '') lines.push(line);
    line = word;
    while (line.length > w) {
      lines.push(line.slice(0, w));
      line = line.slice(w);
    }
  }
  lines.push(line);
  return lines;
}

/**
 * A shell command in lines of at most `width` characters, broken between words with ` \` so the lines
 * still paste into a POSIX shell as one command. Quoted words are kept whole. A single word longer than
 * the width stays on its own line, whole.
 */
export function wrapShellCommand(command: string, width: number, indent: string): string[] {
  const words = shellWords(command);
  const lines: string[] = [];
  let line = '';
  for (const word of words) {
    const prefix = lines.length === 0 ? '' : indent;
    // The line needs room for ` \` if anything follows it.
    if (line !== '' && prefix.length + line.length + 1 + word.length + 2 > width) {
      lines.push(`${prefix}${line} \\`);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(`${lines.length === 0 ? '' : indent}${line}`);
  return lines;
}

/** Splits a command at spaces outside single and double quotes (the quoting `loglake` itself writes). */
export function shellWords(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command.charAt(i);
    if (quote) {
      word += c;
      if (c === '\\' && quote === '"' && i + 1 < command.length) word += command.charAt(++i);
      else if (c === quote) quote = undefined;
    } else if (c === ' ') {
      if (word !== '') words.push(word);
      word = '';
    } else {
      word += c;
      if (c === '"' || c === "'") quote = c;
      else if (c === '\\' && i + 1 < command.length) word += command.charAt(++i);
    }
  }
  if (word !== '') words.push(word);
  return words;
}

/** Hanging-indent wrap of one line: the first line at `width`, the rest indented by `indent`. */
export function wrapHanging(text: string, width: number, indent: string): string[] {
  const lead = /^ */.exec(text)?.[0] ?? '';
  const [first = '', ...rest] = wrapWords(text.slice(lead.length), width - lead.length);
  const tail = rest.length === 0 ? [] : wrapWords(rest.join(' '), width - indent.length);
  return [`${lead}${first}`, ...tail.map((l) => `${indent}${l}`)];
}

/** Widest cell of each column, header included. */
export function columnWidths(header: readonly string[], rows: ReadonlyArray<readonly string[]>): number[] {
  return header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
}

/** Width of one rendered line of columns of these widths, with the gaps between them. */
export function lineWidth(widths: readonly number[]): number {
  return widths.reduce((s, w) => s + w, 0) + GAP.length * Math.max(0, widths.length - 1);
}

/**
 * Columns of these widths grouped, in order, into lines that fit `width`: the first line at the margin,
 * the others after `indent` spaces. A column wider than the width gets a line of its own.
 * @returns the column indexes of each line.
 */
export function columnBands(widths: readonly number[], width: number, indent: number): number[][] {
  const bands: number[][] = [];
  let band: number[] = [];
  let used = 0;
  widths.forEach((w, i) => {
    if (band.length > 0 && used + GAP.length + w > width) {
      bands.push(band);
      band = [];
    }
    used = band.length === 0 ? (bands.length === 0 ? 0 : indent) + w : used + GAP.length + w;
    band.push(i);
  });
  if (band.length > 0) bands.push(band);
  return bands;
}

/**
 * Cells padded to their column's width and joined; the last cell is not padded and trailing spaces are
 * dropped.
 */
export function alignCells(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
    .join(GAP)
    .trimEnd();
}

/** A table whose cells are all kept whole, one line per row. */
export function plainTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = columnWidths(header, rows);
  return `${[header, ...rows].map((r) => alignCells(r, widths)).join('\n')}\n`;
}

/**
 * Rows as blocks of `HEADER  value` lines (psql's expanded display), for tables wider than the
 * terminal: values wrap at words under their own column, headers stay whole.
 */
export function expandedRows(
  header: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
  width: number,
): string {
  const keyWidth = Math.max(...header.map((h) => h.length));
  const valueWidth = Math.max(10, width - keyWidth - GAP.length);
  const pad = ' '.repeat(keyWidth + GAP.length);
  const blocks = rows.map((row) =>
    header
      .map((h, i) => {
        const [first = '', ...rest] = wrapWords(row[i] ?? '', valueWidth);
        return [`${h.padEnd(keyWidth)}${GAP}${first}`.trimEnd(), ...rest.map((l) => `${pad}${l}`)].join('\n');
      })
      .join('\n'),
  );
  return `${blocks.join('\n\n')}\n`;
}
