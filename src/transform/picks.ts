/**
 * Picking a structured event's fields for the record's columns: every flattened field is offered to the
 * column its name feeds (`fields.ts`), the best-ranked one wins, its value is coerced (`coerce.ts`), and
 * every field not taken stays in `attributes`.
 */
import type { RedactionCounts } from '../redact/redactor';
import type { Level } from '../schema';
import { addField, type ExtraFields, quote } from './attributes';
import {
  asDurationMs,
  httpPath,
  httpStatus,
  levelOf,
  messageText,
  nonEmpty,
  numericLevel,
  stackText,
  strongMethod,
  weakMethod,
} from './coerce';
import { aliasOf, type Target } from './fields';
import { flatten, type NameOf } from './flatten';
import type { NormalizeContext } from './normalize';
import type { Columns } from './producers';
import { readTimestamp } from './timestamp';

/** The columns found in an event so far (before defaults and redaction). */
export interface Draft {
  timestampMs?: number;
  /** The timestamp text when it already is canonical (`YYYY-MM-DDTHH:mm:ss.sssZ`): reused as is. */
  timestampIso?: string;
  /** The timestamp named no zone: `timestampMs` is its wall time read as UTC. */
  timestampZoneless?: boolean;
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

const CANONICAL_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The field pick of one event: for each target, the index of the best field (-1: none). */
class Picks {
  // Array literals, not typed arrays: one of these per event, and a small literal is the cheapest to make.
  readonly index: number[] = [
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
  ];
  readonly rank: number[] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  readonly paths: string[] = [];
  readonly values: unknown[] = [];
  readonly consumed: number[] = [];

  constructor(object: Record<string, unknown>, nameOf: NameOf) {
    flatten(object, '', 0, this.paths, this.values, nameOf);
    const n = this.paths.length;
    for (let i = 0; i < n; i++) {
      this.consumed.push(0);
      const alias = aliasOf(this.paths[i] as string);
      if (alias) this.offer(SLOT[alias.target], alias.rank, i);
    }
  }

  private offer(slot: number, rank: number, i: number): void {
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

/** Sets the timestamp columns of `draft` from a value of any supported form; false if it does not parse. */
function setTime(draft: Draft, value: unknown, ctx: NormalizeContext): boolean {
  const ts = readTimestamp(value, ctx.arrivalMs);
  if (ts === undefined) return false;
  draft.timestampMs = ts.ms;
  if (ts.zoneless) draft.timestampZoneless = true;
  if (typeof value === 'string' && CANONICAL_ISO.test(value)) draft.timestampIso = value;
  return true;
}

/**
 * Fills `draft` from the columns a producer shape mapped (`producers/`); each value is converted as the
 * generic recognition would. A value that does not convert is kept in `extra` under its column's name.
 */
export function applyColumns(
  columns: Columns,
  draft: Draft,
  extra: ExtraFields,
  counts: RedactionCounts,
  ctx: NormalizeContext,
): void {
  const keep = (name: string, value: unknown) => {
    if (value !== undefined && value !== null) addField(extra, name, value, counts, ctx.redactor);
  };
  if (columns.timestamp !== undefined && !setTime(draft, columns.timestamp, ctx))
    keep('timestamp', columns.timestamp);
  // Each column read by its name, not `columns[key]`: shapes make columns objects of many layouts, and
  // a keyed load with a variable key over them is the slow generic lookup, once per column per event.
  const take = <T>(
    key: keyof Columns,
    raw: unknown,
    convert: (v: unknown, path: string) => T | undefined,
  ): T | undefined => {
    if (raw === undefined || raw === null) return undefined;
    const value = convert(raw, key);
    if (value === undefined) keep(key, raw);
    return value;
  };
  const c = columns;
  draft.level = take('level', c.level, levelOf) ?? draft.level;
  draft.service = take('service', c.service, nonEmpty) ?? draft.service;
  draft.logger = take('logger', c.logger, nonEmpty) ?? draft.logger;
  draft.message = take('message', c.message, messageText) ?? draft.message;
  draft.correlation_id = take('correlation_id', c.correlation_id, nonEmpty) ?? draft.correlation_id;
  draft.trace_id = take('trace_id', c.trace_id, nonEmpty) ?? draft.trace_id;
  draft.span_id = take('span_id', c.span_id, nonEmpty) ?? draft.span_id;
  draft.user_id = take('user_id', c.user_id, nonEmpty) ?? draft.user_id;
  draft.error_type = take('error_type', c.error_type, nonEmpty) ?? draft.error_type;
  draft.stack_trace = take('stack_trace', c.stack_trace, stackText) ?? draft.stack_trace;
  draft.duration_ms = take('duration_ms', c.duration_ms, (v) => asDurationMs(v, 1)) ?? draft.duration_ms;
  draft.http_method = take('http_method', c.http_method, strongMethod) ?? draft.http_method;
  draft.http_path = take('http_path', c.http_path, httpPath) ?? draft.http_path;
  draft.http_status = take('http_status', c.http_status, httpStatus) ?? draft.http_status;
}

/**
 * Fills the columns of `draft` still unset from a structured event, and `extra` (redacted) with every
 * field not taken. Re-entrant: all state lives in this call.
 */
export function pickFields(
  object: Record<string, unknown>,
  draft: Draft,
  extra: ExtraFields,
  errors: string[],
  counts: RedactionCounts,
  ctx: NormalizeContext,
): void {
  const r = ctx.redactor;
  // Field names are stored too: personal data keying a map is redacted like any value.
  const picks = new Picks(object, (key) => r.text(key, counts));
  const { paths, values } = picks;

  if (draft.timestampMs === undefined) {
    const tsIndex = picks.picked(SLOT.timestamp);
    if (tsIndex >= 0) {
      if (setTime(draft, values[tsIndex], ctx)) picks.consumed[tsIndex] = 1;
      else errors.push(`invalid timestamp ${quote(values[tsIndex], r)}: used arrival time`);
    }
  }

  if (draft.level === undefined) {
    const level =
      picks.take(SLOT.level, levelOf) ??
      picks.take(SLOT.level_otel, (v) => numericLevel(v, 'otel')) ??
      picks.take(SLOT.level_python, (v) => numericLevel(v, 'python'));
    if (level !== undefined) {
      draft.level = level;
    } else if (picks.picked(SLOT.level) >= 0) {
      errors.push(`unknown level ${quote(values[picks.picked(SLOT.level)], r)}: defaulted to INFO`);
    }
  }

  draft.service ??= picks.take(SLOT.service, nonEmpty);
  draft.logger ??= picks.take(SLOT.logger, nonEmpty);
  draft.message ??= picks.take(SLOT.message, messageText);
  draft.correlation_id ??= picks.take(SLOT.correlation_id, nonEmpty);
  draft.trace_id ??= picks.take(SLOT.trace_id, nonEmpty);
  draft.span_id ??= picks.take(SLOT.span_id, nonEmpty);
  draft.user_id ??= picks.take(SLOT.user_id, nonEmpty);
  draft.error_type ??= picks.take(SLOT.error_type, nonEmpty);
  draft.stack_trace ??= picks.take(SLOT.stack_trace, stackText);
  draft.duration_ms ??=
    picks.take(SLOT.duration_ms, (v) => asDurationMs(v, 1)) ??
    picks.take(SLOT.duration_s, (v) => asDurationMs(v, 1000)) ??
    picks.take(SLOT.duration_us, (v) => asDurationMs(v, 1e-3)) ??
    picks.take(SLOT.duration_ns, (v) => asDurationMs(v, 1e-6));

  draft.http_method ??=
    picks.take(SLOT.http_method, strongMethod) ?? picks.take(SLOT.http_method_weak, weakMethod);
  const method = draft.http_method;
  // `path`, `url` and `status` are HTTP fields only next to an HTTP method (or an explicit status).
  draft.http_path ??=
    picks.take(SLOT.http_path, httpPath) ??
    (method !== undefined ? picks.take(SLOT.http_path_weak, httpPath) : undefined);
  const path = draft.http_path;
  if (draft.http_status === undefined) {
    const status =
      picks.take(SLOT.http_status, httpStatus) ??
      (method !== undefined || path !== undefined
        ? picks.take(SLOT.http_status_weak, httpStatus)
        : undefined);
    if (status !== undefined) {
      draft.http_status = status;
    } else {
      const i = picks.picked(SLOT.http_status);
      if (i >= 0 && paths[i] === 'http_status') {
        errors.push(`invalid http_status ${quote(values[i], r)}: not an HTTP status code`);
      }
    }
  }

  draft.category ??= picks.take(SLOT.category, (v) => (typeof v === 'string' ? v : undefined));

  for (let i = 0; i < paths.length; i++) {
    if (picks.consumed[i] === 0) addField(extra, paths[i] as string, values[i], counts, r);
  }
}
