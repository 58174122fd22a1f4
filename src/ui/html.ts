/**
 * HTML rendering for the explorer: a tagged template that escapes every interpolated value, so a value
 * from the lake or the URL can only ever be text. Markup is built only from `html` templates (or `raw`
 * for the explorer's own constants, never user or lake data).
 */

/** Markup that is already safe to emit. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Escape text for an HTML text node or a quoted attribute value. */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

type Part = Html | string | number | boolean | null | undefined | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false || part === true) return '';
  if (part instanceof Html) return part.text;
  if (Array.isArray(part)) return part.map((p: Part) => render(p)).join('');
  return escapeHtml(part);
}

/** `html\`<td>${value}</td>\``: values are escaped; nested `html` fragments and arrays of them are not. */
export function html(strings: TemplateStringsArray, ...values: readonly Part[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** Trusted markup: the explorer's own constants only. */
export function raw(text: string): Html {
  return new Html(text);
}

/** Text with `[REDACTED:kind]` markers shown as marks, so a reader sees what the lake removed. */
export function withRedactionMarks(text: string): Html {
  const parts = text.split(/(\[REDACTED:[a-z0-9_-]+\])/gi);
  return html`${parts.map((p, i) => (i % 2 === 1 ? html`<mark class="redacted" title="removed before storage">${p}</mark>` : p))}`;
}
