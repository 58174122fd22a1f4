/**
 * Normalization of one event (a JSON object, a logfmt line, a text line, or an unparseable line) into
 * the record schema, with every string value redacted on the way. Pure: no I/O, no clock (arrival time
 * is given).
 */
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
const HTTP_METHODS = new Set([
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
      `timestamp ${toIso(timeMs)} is outside the accepted window around arrival ${toIso(ctx.arrivalMs)}: used arrival time`,
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

  const record: LogRecord = {
    timestamp: toIso(timeMs),
    level,
    service,
    logger: draft.logger === undefined ? null : r.text(draft.logger, counts),
    message: r.text(message, counts),
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
    ingest_time: toIso(ctx.arrivalMs),
    schema_errors: errors,
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
    const path = prefix === '' ? key : `${prefix}.${key}`;
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
            paths.push(`${path}.${i}`);
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

interface Pick {
  index: number;
  rank: number;
}

/** Fills `draft` and `attributes` from a structured event. */
function fromObject(
  object: Record<string, unknown>,
  draft: Draft,
  attributes: Record<string, string>,
  errors: string[],
  counts: RedactionCounts,
  ctx: NormalizeContext,
): void {
  const paths: string[] = [];
  const values: unknown[] = [];
  flatten(object, '', 0, paths, values);

  const best = new Map<Target, Pick>();
  for (let i = 0; i < paths.length; i++) {
    const alias = aliasOf(paths[i] as string);
    if (!alias) continue;
    const current = best.get(alias.target);
    if (!current || alias.rank < current.rank) best.set(alias.target, { index: i, rank: alias.rank });
  }

  const consumed = new Set<number>();
  const take = <T>(target: Target, convert: (v: unknown, path: string) => T | undefined): T | undefined => {
    const pick = best.get(target);
    if (!pick) return undefined;
    const value = convert(values[pick.index], paths[pick.index] as string);
    if (value !== undefined) consumed.add(pick.index);
    return value;
  };
  const r = ctx.redactor;

  const ts = take('timestamp', (v) => parseTimestamp(v, ctx.arrivalMs));
  if (ts !== undefined) {
    draft.timestampMs = ts;
  } else {
    const pick = best.get('timestamp');
    if (pick) errors.push(`invalid timestamp ${quote(values[pick.index], r)}: used arrival time`);
  }

  const level =
    take('level', (v, path) =>
      typeof v === 'number'
        ? levelFromNumber(v, path.endsWith('severity') ? 'syslog' : 'pino')
        : typeof v === 'string'
          ? (levelFromName(v) ?? (/^\d+$/.test(v) ? levelFromNumber(Number(v), 'pino') : undefined))
          : undefined,
    ) ??
    take('level_otel', (v) => {
      const n = asNumber(v);
      return n === undefined ? undefined : levelFromNumber(n, 'otel');
    }) ??
    take('level_python', (v) => {
      const n = asNumber(v);
      return n === undefined ? undefined : levelFromNumber(n, 'python');
    });
  if (level !== undefined) {
    draft.level = level;
  } else {
    const pick = best.get('level');
    if (pick) errors.push(`unknown level ${quote(values[pick.index], r)}: defaulted to INFO`);
  }

  const str = (v: unknown) => {
    const s = asString(v);
    return s === undefined || s.trim() === '' ? undefined : s;
  };
  const text = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'object' ? undefined : String(v));

  const service = take('service', str);
  if (service !== undefined) draft.service = service;
  const logger = take('logger', str);
  if (logger !== undefined) draft.logger = logger;
  const message = take('message', (v) =>
    v === null ? undefined : typeof v === 'object' ? JSON.stringify(v) : text(v),
  );
  if (message !== undefined) draft.message = message;
  for (const id of ['correlation_id', 'trace_id', 'span_id'] as const) {
    const value = take(id, str);
    if (value !== undefined) draft[id] = value;
  }
  const userId = take('user_id', str);
  if (userId !== undefined) draft.user_id = userId;
  const errorType = take('error_type', str);
  if (errorType !== undefined) draft.error_type = errorType;
  const stack = take('stack_trace', (v) => (typeof v === 'string' && v !== '' ? v : undefined));
  if (stack !== undefined) draft.stack_trace = stack;

  const duration =
    take('duration_ms', (v) => asDurationMs(v, 1)) ??
    take('duration_s', (v) => asDurationMs(v, 1000)) ??
    take('duration_us', (v) => asDurationMs(v, 1e-3)) ??
    take('duration_ns', (v) => asDurationMs(v, 1e-6));
  if (duration !== undefined) draft.duration_ms = duration;

  const method =
    take('http_method', (v) => {
      const s = asString(v)?.trim().toUpperCase();
      return s !== undefined && /^[A-Z]{3,12}$/.test(s) ? s : undefined;
    }) ??
    take('http_method_weak', (v) => {
      const s = asString(v)?.trim().toUpperCase();
      return s !== undefined && HTTP_METHODS.has(s) ? s : undefined;
    });
  if (method !== undefined) draft.http_method = method;
  // `path`, `url` and `status` are HTTP fields only next to an HTTP method (or an explicit status).
  const path =
    take('http_path', httpPath) ?? (method !== undefined ? take('http_path_weak', httpPath) : undefined);
  if (path !== undefined) draft.http_path = path;
  const status =
    take('http_status', httpStatus) ??
    (method !== undefined || path !== undefined ? take('http_status_weak', httpStatus) : undefined);
  if (status !== undefined) {
    draft.http_status = status;
  } else {
    const pick = best.get('http_status');
    if (pick && paths[pick.index] === 'http_status') {
      errors.push(`invalid http_status ${quote(values[pick.index], r)}: not an HTTP status code`);
    }
  }

  const category = take('category', (v) => (typeof v === 'string' ? v : undefined));
  if (category !== undefined) draft.category = category;

  for (let i = 0; i < paths.length; i++) {
    if (!consumed.has(i)) addAttribute(attributes, paths[i] as string, values[i], counts, r);
  }
}
