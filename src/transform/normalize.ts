/**
 * Normalization of one event (a JSON object, a logfmt line, a text line, or an unparseable line) into
 * the record schema, with every string value redacted on the way. Pure: no I/O, no clock (arrival time
 * is given).
 */
import { messageTemplate } from '../patterns/mask';
import type { RedactionCounts, Redactor } from '../redact/redactor';
import type { Category, LogRecord } from '../schema';
import { addField, type ExtraFields, setAttribute } from './attributes';
import { trimEndBlank, withoutTrailingNewlines } from './chars';
import { levelFromName } from './level';
import { stackErrorType } from './multiline';
import { applyColumns, type Draft, pickFields } from './picks';
import { type Recognized, recognize } from './producers';
import type { TextFields } from './text';
import { toIso } from './timestamp';
import type { TimeZones } from './zone';

/** What the decoder found for one event. */
export type EventSource =
  | {
      readonly kind: 'object';
      readonly object: Record<string, unknown>;
      readonly defaults?: EventDefaults;
      readonly appendix?: TraceAppendix;
    }
  | {
      readonly kind: 'text';
      readonly fields: TextFields;
      readonly defaults?: EventDefaults;
      readonly appendix?: TraceAppendix;
    }
  /** A service's text line read straight into what its producer shape makes of it (`sources/line.ts`). */
  | {
      readonly kind: 'recognized';
      readonly recognized: Recognized;
      readonly defaults?: EventDefaults;
    }
  /** Content that could not be understood: kept as a flagged record, its text redacted. */
  | {
      readonly kind: 'flagged';
      readonly text: string;
      readonly reason: string;
      readonly defaults?: EventDefaults;
    };

/** The further lines of a multi-line text event (`multiline.ts`). */
export interface TraceAppendix {
  /** Lines that continue the message. */
  readonly message: readonly string[];
  /** The stack trace's lines. */
  readonly stack: readonly string[];
  /** The exception class the stack trace names. */
  readonly errorType: string | undefined;
}

/** Values supplied by the envelope (e.g. a CloudWatch Logs event) when the event itself lacks them. */
export interface EventDefaults {
  readonly timestampMs?: number;
  readonly service?: string;
  /**
   * Where the event came from, for `transform.timeZones.sources`: a CloudWatch Logs log group, or
   * `<namespace>/<container>` for a Kubernetes record.
   */
  readonly source?: string;
  /** Which stream of lines the event is part of (one container's stdout): only such lines join. */
  readonly origin?: string;
  readonly attributes?: Readonly<Record<string, string>>;
  /** The category every event of the envelope belongs to (a subscription's), unless it names its own. */
  readonly category?: Category;
}

export interface NormalizeContext {
  readonly redactor: Redactor;
  /** Firehose arrival time, epoch ms: `ingest_time`, and the fallback event time. */
  readonly arrivalMs: number;
  /** `arrivalMs` as ISO-8601 (computed once per record). */
  readonly arrivalIso: string;
  /** Zones for timestamps written without one (`transform.timeZones`). */
  readonly timeZones: TimeZones;
}

/** A normalized event plus what categorization needs to know. */
export interface NormalizedEvent {
  readonly record: LogRecord;
  /** The `category` field as sent (valid or not), if there was one. */
  readonly explicitCategory: string | undefined;
  /** Event time in epoch ms: the source of `dt` and `hour` (unless outside its category's window). */
  timeMs: number;
}

/**
 * Schema error of an event whose own timestamp named no zone and whose service and source have no zone
 * configured: its wall time was read as UTC, which may be hours off.
 */
export const ZONELESS_ERROR =
  'timestamp has no time zone: read as UTC (set transform.timeZones for its service or source)';

/** `user_id=42`, `userId: "42"` (the user-id field names of `fields.ts`) inside text. */
const USER_ID_PAIR =
  /(?<![\w.-])(?:user_id|userId|userID|user\.id|usr\.id|enduser\.id)["']?[ \t]*[=:][ \t]*(?:"([^"\n]{1,128})"|'([^'\n]{1,128})'|([^\s,;&"'<>(){}[\]\\]{1,128}))/;

/** The id of a `user_id=42` pair in `text`, if it has a non-blank one. */
function userIdPairInText(text: string): string | undefined {
  if (!/u(?:ser|id|sr)/i.test(text)) return undefined;
  const m = USER_ID_PAIR.exec(text);
  const value = m?.[1] ?? m?.[2] ?? m?.[3];
  return value !== undefined && value.trim() !== '' ? value : undefined;
}

/** Adds a multi-line event's further lines: message continuation, and the stack trace with its class. */
function appendTrace(draft: Draft, appendix: TraceAppendix): void {
  // Blank lines between the message and its stack trace separate them; they continue nothing.
  const more = trimEndBlank(appendix.message.join('\n'));
  if (more !== '') {
    draft.message = draft.message === undefined ? more : `${draft.message}\n${more}`;
  }
  if (appendix.stack.length > 0) {
    const stack = appendix.stack.join('\n');
    draft.stack_trace = draft.stack_trace === undefined ? stack : `${draft.stack_trace}\n${stack}`;
    draft.error_type ??= appendix.errorType;
  }
}

/** Normalizes one event. Never throws for any input value. */
export function normalizeEvent(source: EventSource, ctx: NormalizeContext): NormalizedEvent {
  const counts: RedactionCounts = {};
  const errors: string[] = [];
  const attributes: Record<string, string> = {};
  const metrics: Record<string, number> = {};
  const extra: ExtraFields = { attributes, metrics };
  const draft: Draft = {};
  let levelless = false;
  let flagged = false;

  if (source.kind === 'object' || source.kind === 'recognized') {
    const shape = source.kind === 'object' ? recognize(source.object) : undefined;
    const read = source.kind === 'recognized' ? source.recognized : shape?.read(source.object);
    if (read) {
      const { columns, rest, verbatim } = read;
      applyColumns(columns, draft, extra, counts, ctx);
      pickFields(rest, draft, extra, errors, counts, ctx);
      if (verbatim) for (const [k, v] of Object.entries(verbatim)) setAttribute(attributes, k, v);
    } else if (source.kind === 'object') {
      pickFields(source.object, draft, extra, errors, counts, ctx);
    }
  } else if (source.kind === 'text') {
    const f = source.fields;
    levelless = f.levelless === true;
    if (f.timestamp !== undefined) draft.timestampMs = f.timestamp;
    if (f.timestampZoneless) draft.timestampZoneless = true;
    if (f.level !== undefined) {
      const level = levelFromName(f.level);
      if (level) draft.level = level;
    }
    draft.message = f.message;
    if (f.logger !== undefined) draft.logger = f.logger;
    if (f.service !== undefined) draft.service = f.service;
    if (f.correlation_id !== undefined) draft.correlation_id = f.correlation_id;
    if (f.trace_id !== undefined) draft.trace_id = f.trace_id;
    if (f.span_id !== undefined) draft.span_id = f.span_id;
    if (f.duration_ms !== undefined) draft.duration_ms = f.duration_ms;
    if (f.http_method !== undefined) draft.http_method = f.http_method;
    if (f.http_path !== undefined) draft.http_path = f.http_path;
    if (f.http_status !== undefined) draft.http_status = f.http_status;
    if (f.attributes) {
      for (const [k, v] of Object.entries(f.attributes)) addField(extra, k, v, counts, ctx.redactor);
    }
  } else {
    flagged = true;
    draft.message = source.text;
    errors.push(`unparseable: ${source.reason}`);
  }

  if ((source.kind === 'object' || source.kind === 'text') && source.appendix)
    appendTrace(draft, source.appendix);
  if (draft.stack_trace !== undefined) {
    // A stack ends where its text does: the newline a library prints after it is no part of it.
    draft.stack_trace = withoutTrailingNewlines(draft.stack_trace);
    if (draft.error_type === undefined) {
      const type = stackErrorType(draft.stack_trace, draft.message);
      if (type !== undefined) draft.error_type = type;
      // An error spread into the event (winston's `format.errors`) leaves its `name` beside `stack`.
      if (type !== undefined && attributes.name === type) delete attributes.name;
    }
  }

  const defaults = source.defaults;
  if (defaults?.attributes) {
    for (const [k, v] of Object.entries(defaults.attributes)) {
      if (!(k in attributes)) attributes[k] = ctx.redactor.text(v, counts);
    }
  }

  const r = ctx.redactor;
  // The service first: a zone-less time is read in the zone configured for it.
  let service = draft.service === undefined ? undefined : r.text(draft.service, counts);
  const serviceMissing = service === undefined || service === '';
  if (service === undefined || service === '') service = defaults?.service ?? 'unknown';

  // Time: the event's own, else the envelope's, else arrival (its category's window is checked later).
  let timeMs = draft.timestampMs ?? defaults?.timestampMs;
  if (timeMs !== undefined && timeMs === draft.timestampMs && draft.timestampZoneless) {
    const zone = ctx.timeZones.zoneFor(service, defaults?.source);
    if (zone) {
      timeMs = zone.toUtc(timeMs);
    } else {
      errors.push(ZONELESS_ERROR);
    }
  }
  if (timeMs === undefined) {
    timeMs = ctx.arrivalMs;
    if (!flagged && !errors.some((e) => e.startsWith('invalid timestamp'))) {
      errors.push('missing timestamp: used arrival time');
    }
  }

  let level = draft.level;
  if (level === undefined) {
    level = 'INFO';
    if (!flagged && !levelless && !errors.some((e) => e.startsWith('unknown level'))) {
      errors.push('missing level: defaulted to INFO');
    }
  }
  if (serviceMissing && !flagged && defaults?.service === undefined) {
    errors.push('missing service: defaulted to "unknown"');
  }

  let message = draft.message;
  if (message === undefined) {
    message = '';
    if (!flagged) errors.push('missing message');
  }
  // `user_id=42` written in the text: the column is filled too (the text keeps only its pseudonym).
  // Else a prose id (`user 1001 logged in`, `uid: 1001`): the scan that pseudonymizes it in the text
  // reports the first one (`Redactor.message`), so its expression runs once.
  const fromText = draft.user_id === undefined && !flagged;
  let userId = draft.user_id ?? (fromText ? userIdPairInText(message) : undefined);

  const userIdsBefore = counts.user_id ?? 0;
  let redactedMessage: string;
  if (fromText && userId === undefined) {
    const redacted = r.message(message, counts);
    redactedMessage = redacted.text;
    userId = redacted.proseUserId;
  } else {
    redactedMessage = r.text(message, counts);
  }
  // An id taken from the text was counted where the text was redacted: filling the column from it is
  // the same occurrence, not a second one (unless the text scan missed it, then the column counts it).
  const columnCounts = draft.user_id === undefined && (counts.user_id ?? 0) > userIdsBefore ? {} : counts;
  const record: LogRecord = {
    timestamp: timeMs === draft.timestampMs && draft.timestampIso ? draft.timestampIso : toIso(timeMs),
    level,
    service,
    logger: draft.logger === undefined ? null : r.text(draft.logger, counts),
    message: redactedMessage,
    correlation_id: draft.correlation_id ?? null,
    trace_id: draft.trace_id ?? null,
    span_id: draft.span_id ?? null,
    user_id: userId === undefined ? null : r.pseudonym(userId, columnCounts),
    error_type: draft.error_type === undefined ? null : r.text(draft.error_type, counts),
    stack_trace: draft.stack_trace === undefined ? null : r.text(draft.stack_trace, counts),
    duration_ms: draft.duration_ms ?? null,
    http_method: draft.http_method ?? null,
    http_path: draft.http_path === undefined ? null : r.text(draft.http_path, counts),
    http_status: draft.http_status ?? null,
    attributes,
    metrics,
    redactions: counts,
    ingest_time: ctx.arrivalIso,
    schema_errors: errors,
    // Of the redacted message: a template never holds what redaction removed.
    message_template: messageTemplate(redactedMessage),
  };
  return { record, explicitCategory: draft.category ?? defaults?.category, timeMs };
}
