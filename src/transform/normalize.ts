/**
 * Normalization of one event (a JSON object, a logfmt line, a text line, or an unparseable line) into
 * the record schema, with every string value redacted on the way. Pure: no I/O, no clock (arrival time
 * is given).
 */
import { messageTemplate } from '../patterns/mask';
import type { RedactionCounts, Redactor } from '../redact/redactor';
import type { Level, LogRecord } from '../schema';
import { aliasOf, MESSAGE_KEYS, type Target } from './fields';
import { levelFromName, levelFromNumber } from './level';
import type { TextFields } from './text';
import { parseTimestamp, toIso } from './timestamp';

/** What the decoder found for one event. */
export type EventSource =
  | { readonly kind: 'object'; readonly object: Record<string, unknown>; readonly defaults?: EventDefaults }
  | { readonly kind: 'text'; readonly fields: TextFields; readonly defaults?: EventDefaults }
  /** Content that could not be understood: kept as a flagged record, its text redacted. */
  | {
      readonly kind: 'flagged';
      readonly text: string;
      readonly reason: string;
      readonly defaults?: EventDefaults;
    };

/** Values supplied by the envelope (e.g. a CloudWatch Logs event) when the event itself lacks them. */
export interface EventDefaults {
  readonly timestampMs?: number;
  readonly service?: string;
  readonly attributes?: Readonly<Record<string, string>>;
}

export interface NormalizeContext {
  readonly redactor: Redactor;
  /** Firehose arrival time, epoch ms: `ingest_time`, and the fallback event time. */
  readonly arrivalMs: number;
  /** `arrivalMs` as ISO-8601 (computed once per record). */
  readonly arrivalIso: string;
  /** Accepted distance of the event time from arrival, in ms. */
  readonly maxPastMs: number;
  readonly maxFutureMs: number;
}

/** A normalized event plus what categorization needs to know. */
export interface NormalizedEvent {
  readonly record: LogRecord;
  /** The `category` field as sent (valid or not), if there was one. */
  readonly explicitCategory: string | undefined;
  /** Event time in epoch ms (after the window check): the source of `dt` and `hour`. */
  readonly timeMs: number;
}

/** Objects nested deeper than this are kept whole as JSON text (bounded recursion). */
const MAX_FLATTEN_DEPTH = 16;
const STACK_KEYS = new Set(['stack', 'stackTrace', 'stack_trace', 'stacktrace']);
/** Methods accepted from weak fields (`method`): only next to one of these is `path` an HTTP path. */
export const HTTP_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'HEAD',
  'OPTIONS',
  'CONNECT',
  'TRACE',
]);

interface Draft {
  timestampMs?: number;
  /** The timestamp text when it already is canonical (`YYYY-MM-DDTHH:mm:ss.sssZ`): reused as is. */
  timestampIso?: string;
  level?: Level;
  service?: string;
  logger?: string;
  message?: string;
  correlation_id?: string;
  trace_id?: string;
  span_id?: string;
  user_id?: string;
  error_type?: string;
  stack_trace?: string;
  duration_ms?: number;
  http_method?: string;
  http_path?: string;
  http_status?: number;
  category?: string;
}

/** Normalizes one event. Never throws for any input value. */
export function normalizeEvent(source: EventSource, ctx: NormalizeContext): NormalizedEvent {
  const counts: RedactionCounts = {};
  const errors: string[] = [];
  const attributes: Record<string, string> = {};
  const draft: Draft = {};
  let levelless = false;
  let flagged = false;

  if (source.kind === 'object') {
    fromObject(source.object, draft, attributes, errors, counts, ctx);
  } else if (source.kind === 'text') {
    const f = source.fields;
    levelless = f.levelless === true;
    if (f.timestamp !== undefined) draft.timestampMs = f.timestamp;
    if (f.level !== undefined) {
      const level = levelFromName(f.level);
      if (level) draft.level = level;
    }
    draft.message = f.message;
    if (f.logger !== undefined) draft.logger = f.logger;
    if (f.correlation_id !== undefined) draft.correlation_id = f.correlation_id;
    if (f.duration_ms !== undefined) draft.duration_ms = f.duration_ms;
    if (f.http_method !== undefined) draft.http_method = f.http_method;
    if (f.http_path !== undefined) draft.http_path = f.http_path;
    if (f.http_status !== undefined) draft.http_status = f.http_status;
    if (f.attributes) {
      for (const [k, v] of Object.entries(f.attributes)) addAttribute(attributes, k, v, counts, ctx.redactor);
    }
  } else {
    flagged = true;
    draft.message = source.text;
    errors.push(`unparseable: ${source.reason}`);
  }

  const defaults = source.defaults;
  if (defaults?.attributes) {
    for (const [k, v] of Object.entries(defaults.attributes)) {
      if (!(k in attributes)) attributes[k] = ctx.redactor.text(v, counts);
    }
  }

  const r = ctx.redactor;
  // Time: the event's own, else the envelope's, else arrival; outside the window, arrival.
  let timeMs = draft.timestampMs ?? defaults?.timestampMs;
  if (timeMs === undefined) {
    timeMs = ctx.arrivalMs;
    if (!flagged && !errors.some((e) => e.startsWith('invalid timestamp'))) {
      errors.push('missing timestamp: used arrival time');
    }
  } else if (timeMs < ctx.arrivalMs - ctx.maxPastMs || timeMs > ctx.arrivalMs + ctx.maxFutureMs) {
    errors.push(
      `timestamp ${toIso(timeMs)} is outside the accepted window around arrival ${ctx.arrivalIso}: used arrival time`,
    );
    setAttribute(attributes, 'original_timestamp', toIso(timeMs));
    timeMs = ctx.arrivalMs;
  }

  let level = draft.level;
  if (level === undefined) {
    level = 'INFO';
    if (!flagged && !levelless && !errors.some((e) => e.startsWith('unknown level'))) {
      errors.push('missing level: defaulted to INFO');
    }
  }

  let service = draft.service === undefined ? undefined : r.text(draft.service, counts);
  if (service === undefined || service === '') {
    service = defaults?.service ?? 'unknown';
    if (!flagged && defaults?.service === undefined) errors.push('missing service: defaulted to "unknown"');
  }

  let message = draft.message;
  if (message === undefined) {
    message = '';
    if (!flagged) errors.push('missing message');
  }

  const redactedMessage = r.text(message, counts);
  const record: LogRecord = {
    timestamp: timeMs === draft.timestampMs && draft.timestampIso ? draft.timestampIso : toIso(timeMs),
    level,
    service,
    logger: draft.logger === undefined ? null : r.text(draft.logger, counts),
    message: redactedMessage,
    correlation_id: draft.correlation_id ?? null,
    trace_id: draft.trace_id ?? null,
    span_id: draft.span_id ?? null,
    user_id: draft.user_id === undefined ? null : r.pseudonym(draft.user_id, counts),
    error_type: draft.error_type === undefined ? null : r.text(draft.error_type, counts),
    stack_trace: draft.stack_trace === undefined ? null : r.text(draft.stack_trace, counts),
    duration_ms: draft.duration_ms ?? null,
    http_method: draft.http_method ?? null,
    http_path: draft.http_path === undefined ? null : r.text(draft.http_path, counts),
    http_status: draft.http_status ?? null,
    attributes,
    redactions: counts,
    ingest_time: ctx.arrivalIso,
    schema_errors: errors,
    // Of the redacted message: a template never holds what redaction removed.
    message_template: messageTemplate(redactedMessage),
  };
  return { record, explicitCategory: draft.category, timeMs };
}

/** Records a schema-error value safely: redacted, truncated, quoted. */
export function quote(value: unknown, redactor: Redactor): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
  const safe = redactor.text(text.length > 64 ? `${text.slice(0, 64)}…` : text, {});
  return JSON.stringify(safe);
}

function setAttribute(attributes: Record<string, string>, key: string, value: string): void {
  let k = key;
  for (let i = 2; k in attributes; i++) k = `${key}~${i}`;
  attributes[k] = value;
}

function addAttribute(
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

/**
 * `prefix.key`, the same string object every time: field names repeat across events, and a reused
 * string keeps its hash (map lookups) and its internalized form (attribute keys) instead of being
 * rebuilt per event.
 */
const joined = new Map<string, Map<string, string>>();
let joinedSize = 0;

function joinPath(prefix: string, key: string): string {
  let inner = joined.get(prefix);
  if (inner === undefined) {
    if (joinedSize > 50_000) {
      joined.clear();
      joinedSize = 0;
    }
    inner = new Map();
    joined.set(prefix, inner);
  }
  let path = inner.get(key);
  if (path === undefined) {
    path = `${prefix}.${key}`;
    inner.set(key, path);
    joinedSize++;
  }
  return path;
}

/** Leaf fields of an object as parallel arrays of dotted paths and values. */
function flatten(
  obj: Record<string, unknown>,
  prefix: string,
  depth: number,
  paths: string[],
  values: unknown[],
): void {
  for (const key in obj) {
    const v = obj[key];
    const path = prefix === '' ? key : joinPath(prefix, key);
    if (v === null || typeof v !== 'object') {
      paths.push(path);
      values.push(v);
    } else if (depth === 0 && MESSAGE_KEYS.has(key)) {
      paths.push(path);
      values.push(unwrapAnyValue(v));
    } else if (depth >= MAX_FLATTEN_DEPTH) {
      paths.push(path);
      values.push(JSON.stringify(v));
    } else if (Array.isArray(v)) {
      if (STACK_KEYS.has(key) && v.every((line) => typeof line === 'string')) {
        // Lambda's JSON log format sends `stackTrace` as an array of lines.
        paths.push(path);
        values.push(v.join('\n'));
      } else if (v.length === 0) {
        paths.push(path);
        values.push('[]');
      } else if (isOtlpAttributeList(v)) {
        flatten(otlpAttributes(v), path, depth + 1, paths, values);
      } else {
        for (let i = 0; i < v.length; i++) {
          const item: unknown = v[i];
          if (item !== null && typeof item === 'object') {
            flatten({ [i]: item }, path, depth + 1, paths, values);
          } else {
            paths.push(joinPath(path, String(i)));
            values.push(item);
          }
        }
      }
    } else {
      const entries = v as Record<string, unknown>;
      let empty = true;
      for (const _ in entries) {
        empty = false;
        break;
      }
      if (empty) {
        paths.push(path);
        values.push('{}');
      } else {
        flatten(entries, path, depth + 1, paths, values);
      }
    }
  }
}

/** OTLP/JSON `AnyValue` (`{"stringValue": "…"}`) to a plain value; other objects unchanged. */
function unwrapAnyValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== 1) return v;
  switch (keys[0]) {
    case 'stringValue':
    case 'boolValue':
    case 'doubleValue':
      return o[keys[0]];
    case 'intValue':
      return typeof o.intValue === 'string' ? Number(o.intValue) : o.intValue;
    default:
      return v;
  }
}

function isOtlpAttributeList(v: unknown[]): v is Array<{ key: string; value: unknown }> {
  const first = v[0];
  return (
    first !== null &&
    typeof first === 'object' &&
    typeof (first as { key?: unknown }).key === 'string' &&
    'value' in first &&
    Object.keys(first).length === 2
  );
}

function otlpAttributes(v: Array<{ key: string; value: unknown }>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of v) {
    if (item && typeof item === 'object' && typeof item.key === 'string')
      out[item.key] = unwrapAnyValue(item.value);
  }
  return out;
}

function asString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\s*-?\d+(?:\.\d+)?\s*$/.test(v)) return Number(v);
  return undefined;
}

const DURATION_TEXT = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|sec|m|min)?\s*$/;
const DURATION_FACTOR: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
};

function asDurationMs(v: unknown, factor: number): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v * factor : undefined;
  if (typeof v !== 'string') return undefined;
  const m = DURATION_TEXT.exec(v);
  if (!m) return undefined;
  const unit = m[2];
  return Number(m[1]) * (unit === undefined ? factor : (DURATION_FACTOR[unit] ?? factor));
}

function httpPath(v: unknown): string | undefined {
  const s = asString(v);
  if (s === undefined || s === '') return undefined;
  if (s.startsWith('/')) return s;
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*(\/[^#]*|\?[^#]*)?/.exec(s);
  return m ? (m[1] ?? '/') : undefined;
}

function httpStatus(v: unknown): number | undefined {
  const n = asNumber(v);
  return n !== undefined && Number.isInteger(n) && n >= 100 && n <= 599 ? n : undefined;
}

const CANONICAL_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function nonEmpty(v: unknown): string | undefined {
  const s = asString(v);
  return s === undefined || s.trim() === '' ? undefined : s;
}

function messageText(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'object') return JSON.stringify(v);
  return typeof v === 'string' ? v : String(v);
}

function levelOf(v: unknown, path: string): Level | undefined {
  if (typeof v === 'number') return levelFromNumber(v, path.endsWith('severity') ? 'syslog' : 'pino');
  if (typeof v !== 'string') return undefined;
  return levelFromName(v) ?? (/^\d+$/.test(v) ? levelFromNumber(Number(v), 'pino') : undefined);
}

function numericLevel(v: unknown, scale: 'otel' | 'python'): Level | undefined {
  const n = asNumber(v);
  return n === undefined ? undefined : levelFromNumber(n, scale);
}

function strongMethod(v: unknown): string | undefined {
  const s = asString(v)?.trim().toUpperCase();
  return s !== undefined && /^[A-Z]{3,12}$/.test(s) ? s : undefined;
}

function weakMethod(v: unknown): string | undefined {
  const s = asString(v)?.trim().toUpperCase();
  return s !== undefined && HTTP_METHODS.has(s) ? s : undefined;
}

function stackText(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** A slot per target, for the typed arrays of {@link Picks}. */
const SLOT: Readonly<Record<Target, number>> = {
  timestamp: 0,
  level: 1,
  level_pino: 2,
  level_python: 3,
  level_otel: 4,
  service: 5,
  logger: 6,
  message: 7,
  correlation_id: 8,
  trace_id: 9,
  span_id: 10,
  user_id: 11,
  error_type: 12,
  stack_trace: 13,
  duration_ms: 14,
  duration_s: 15,
  duration_us: 16,
  duration_ns: 17,
  http_method: 18,
  http_method_weak: 19,
  http_path: 20,
  http_path_weak: 21,
  http_status: 22,
  http_status_weak: 23,
  category: 24,
};

/** The per-event field pick: for each target, the index of the best field (-1: none). */
class Picks {
  readonly index = new Int32Array(32);
  readonly rank = new Int32Array(32);
  consumed: Uint8Array = new Uint8Array(64);
  paths: string[] = [];
  values: unknown[] = [];

  reset(): void {
    this.index.fill(-1);
    this.paths.length = 0;
    this.values.length = 0;
  }

  offer(slot: number, rank: number, i: number): void {
    const current = this.index[slot] as number;
    if (current < 0 || rank < (this.rank[slot] as number)) {
      this.index[slot] = i;
      this.rank[slot] = rank;
    }
  }

  /** Index of the field picked for a target slot, or -1. */
  picked(slot: number): number {
    return this.index[slot] as number;
  }

  /** The converted value of the field picked for `target`, marking it consumed when it converts. */
  take<T>(slot: number, convert: (v: unknown, path: string) => T | undefined): T | undefined {
    const i = this.index[slot] as number;
    if (i < 0) return undefined;
    const value = convert(this.values[i], this.paths[i] as string);
    if (value !== undefined) this.consumed[i] = 1;
    return value;
  }
}

// Scratch state reused across events (normalization is synchronous and not re-entrant).
const picks = new Picks();

/** Fills `draft` and `attributes` from a structured event. */
function fromObject(
  object: Record<string, unknown>,
  draft: Draft,
  attributes: Record<string, string>,
  errors: string[],
  counts: RedactionCounts,
  ctx: NormalizeContext,
): void {
  picks.reset();
  const { paths, values } = picks;
  flatten(object, '', 0, paths, values);
  if (picks.consumed.length < paths.length) picks.consumed = new Uint8Array(paths.length * 2);
  picks.consumed.fill(0, 0, paths.length);
  for (let i = 0; i < paths.length; i++) {
    const alias = aliasOf(paths[i] as string);
    if (alias) picks.offer(SLOT[alias.target], alias.rank, i);
  }
  const r = ctx.redactor;

  const tsIndex = picks.picked(SLOT.timestamp);
  const ts = picks.take(SLOT.timestamp, (v) => parseTimestamp(v, ctx.arrivalMs));
  if (ts !== undefined) {
    draft.timestampMs = ts;
    const raw = values[tsIndex];
    if (typeof raw === 'string' && CANONICAL_ISO.test(raw)) draft.timestampIso = raw;
  } else if (tsIndex >= 0) {
    errors.push(`invalid timestamp ${quote(values[tsIndex], r)}: used arrival time`);
  }

  const level =
    picks.take(SLOT.level, levelOf) ??
    picks.take(SLOT.level_otel, (v) => numericLevel(v, 'otel')) ??
    picks.take(SLOT.level_python, (v) => numericLevel(v, 'python'));
  if (level !== undefined) {
    draft.level = level;
  } else if (picks.picked(SLOT.level) >= 0) {
    errors.push(`unknown level ${quote(values[picks.picked(SLOT.level)], r)}: defaulted to INFO`);
  }

  const service = picks.take(SLOT.service, nonEmpty);
  if (service !== undefined) draft.service = service;
  const logger = picks.take(SLOT.logger, nonEmpty);
  if (logger !== undefined) draft.logger = logger;
  const message = picks.take(SLOT.message, messageText);
  if (message !== undefined) draft.message = message;
  const correlation = picks.take(SLOT.correlation_id, nonEmpty);
  if (correlation !== undefined) draft.correlation_id = correlation;
  const trace = picks.take(SLOT.trace_id, nonEmpty);
  if (trace !== undefined) draft.trace_id = trace;
  const span = picks.take(SLOT.span_id, nonEmpty);
  if (span !== undefined) draft.span_id = span;
  const userId = picks.take(SLOT.user_id, nonEmpty);
  if (userId !== undefined) draft.user_id = userId;
  const errorType = picks.take(SLOT.error_type, nonEmpty);
  if (errorType !== undefined) draft.error_type = errorType;
  const stack = picks.take(SLOT.stack_trace, stackText);
  if (stack !== undefined) draft.stack_trace = stack;

  const duration =
    picks.take(SLOT.duration_ms, (v) => asDurationMs(v, 1)) ??
    picks.take(SLOT.duration_s, (v) => asDurationMs(v, 1000)) ??
    picks.take(SLOT.duration_us, (v) => asDurationMs(v, 1e-3)) ??
    picks.take(SLOT.duration_ns, (v) => asDurationMs(v, 1e-6));
  if (duration !== undefined) draft.duration_ms = duration;

  const method = picks.take(SLOT.http_method, strongMethod) ?? picks.take(SLOT.http_method_weak, weakMethod);
  if (method !== undefined) draft.http_method = method;
  // `path`, `url` and `status` are HTTP fields only next to an HTTP method (or an explicit status).
  const path =
    picks.take(SLOT.http_path, httpPath) ??
    (method !== undefined ? picks.take(SLOT.http_path_weak, httpPath) : undefined);
  if (path !== undefined) draft.http_path = path;
  const status =
    picks.take(SLOT.http_status, httpStatus) ??
    (method !== undefined || path !== undefined ? picks.take(SLOT.http_status_weak, httpStatus) : undefined);
  if (status !== undefined) {
    draft.http_status = status;
  } else {
    const i = picks.picked(SLOT.http_status);
    if (i >= 0 && paths[i] === 'http_status') {
      errors.push(`invalid http_status ${quote(values[i], r)}: not an HTTP status code`);
    }
  }

  const category = picks.take(SLOT.category, (v) => (typeof v === 'string' ? v : undefined));
  if (category !== undefined) draft.category = category;

  for (let i = 0; i < paths.length; i++) {
    if (picks.consumed[i] === 0) addAttribute(attributes, paths[i] as string, values[i], counts, r);
  }
}
