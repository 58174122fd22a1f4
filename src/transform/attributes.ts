/** Writing into a record's `attributes` and `schema_errors` without losing or leaking a value. */
import type { RedactionCounts, Redactor } from '../redact/redactor';

/** Records a schema-error value safely: redacted, truncated, quoted. */
export function quote(value: unknown, redactor: Redactor): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const safe = redactor.text(text.length > 64 ? `${text.slice(0, 64)}…` : text, {});
  return JSON.stringify(safe);
}

/** Sets `key`, or `key~2`, `key~3`… when taken: nothing already there is overwritten. */
export function setAttribute(attributes: Record<string, string>, key: string, value: string): void {
  let k = key;
  for (let i = 2; k in attributes; i++) k = `${key}~${i}`;
  attributes[k] = value;
}

/** Redacts `value` (found under field `path`) and keeps it as text. */
export function addAttribute(
  attributes: Record<string, string>,
  path: string,
  value: unknown,
  counts: RedactionCounts,
  redactor: Redactor,
): void {
  const redacted = redactor.value(path, value, counts);
  setAttribute(attributes, path, typeof redacted === 'string' ? redacted : stringify(redacted));
}

function stringify(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
