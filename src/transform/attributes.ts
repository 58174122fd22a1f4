/**
 * Writing a field into a record's `attributes` (text) or `metrics` (numbers), and a value into
 * `schema_errors`, without losing or leaking anything.
 */
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

/** A record's maps for fields without a column of their own. */
export interface ExtraFields {
  readonly attributes: Record<string, string>;
  readonly metrics: Record<string, number>;
}

/**
 * Numbers a library adds about itself, not measurements the application logged: process and thread
 * ids, source lines, level numbers, schema versions, flags. They stay text in `attributes` (summing a
 * pid means nothing); the last path segment decides, or the last two for an `id`/`no`.
 */
const METADATA_LEAVES = new Set([
  'pid',
  'tid',
  'ppid',
  'line',
  'lineno',
  'lineNumber',
  'line_number',
  'v',
  'level_value',
  'levelValue',
  'sampling_rate',
  'flags',
  'thread_id',
  'threadId',
  'process_id',
  'processId',
]);
const METADATA_PAIRS = new Set(['thread.id', 'process.id', 'level.no', 'ecs.version', 'level.value']);

/** Whether a number under `path` is library metadata rather than a measurement (see above). */
export function isMetadataNumber(path: string): boolean {
  const dot = path.lastIndexOf('.');
  if (METADATA_LEAVES.has(dot < 0 ? path : path.slice(dot + 1))) return true;
  if (dot < 0) return false;
  const before = path.lastIndexOf('.', dot - 1);
  return METADATA_PAIRS.has(path.slice(before + 1));
}

/**
 * Redacts `value` (found under field `path`) and keeps it: a finite number (still a number after
 * redaction) in `metrics` unless it is library metadata ({@link isMetadataNumber}), anything else as
 * text in `attributes`.
 */
export function addField(
  extra: ExtraFields,
  path: string,
  value: unknown,
  counts: RedactionCounts,
  redactor: Redactor,
): void {
  const redacted = redactor.value(path, value, counts);
  if (typeof redacted === 'number' && Number.isFinite(redacted) && !isMetadataNumber(path)) {
    setMetric(extra.metrics, path, redacted);
  } else {
    setAttribute(extra.attributes, path, typeof redacted === 'string' ? redacted : stringify(redacted));
  }
}

/** Sets `key`, or `key~2`… when taken (as {@link setAttribute}). */
export function setMetric(metrics: Record<string, number>, key: string, value: number): void {
  let k = key;
  for (let i = 2; k in metrics; i++) k = `${key}~${i}`;
  metrics[k] = value;
}

function stringify(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
