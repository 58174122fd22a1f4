/**
 * Input detection for one Firehose record: CloudWatch Logs subscription payloads (gzip, or already
 * decompressed by Firehose), JSON objects (one, a JSON array of them, or NDJSON lines packed by a
 * shipper, or one pretty-printed object), logfmt and plain text lines (indented continuation lines
 * such as stack frames stay with their event). Undecodable bytes become one flagged event.
 */

import { isUtf8 } from 'node:buffer';
import { gunzipSync } from 'node:zlib';
import type { CloudWatchLogsDecodedData } from 'aws-lambda';
import type { EventDefaults, EventSource } from './normalize';
import { parseTextLine } from './text';

export type DecodedRecord =
  /** CloudWatch Logs CONTROL_MESSAGE (a reachability probe): Dropped. */
  | { readonly kind: 'control' }
  /** No content at all (empty or whitespace only): Dropped, nothing to keep. */
  | { readonly kind: 'empty' }
  /**
   * Events, plus the record's text (what a compact flagged record would hold) and a schema error that
   * applies to every event of the record, if any.
   */
  | {
      readonly kind: 'events';
      readonly events: EventSource[];
      readonly text: string;
      readonly recordError?: string;
    };

/** Decompressed size cap: a CloudWatch Logs payload is at most ~1 MB before compression; stop gzip bombs. */
const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decodes one record's bytes into events. Never throws. */
export function decodeRecord(bytes: Buffer): DecodedRecord {
  let content = bytes;
  if (isGzip(bytes)) {
    try {
      content = gunzipSync(bytes, { maxOutputLength: MAX_INFLATED_BYTES });
    } catch {
      return flagged(bytes, 'invalid or oversized gzip data');
    }
  }
  let text = content.toString('utf8');
  // Decoding replaces invalid bytes with U+FFFD; only then is the (second) validity pass needed.
  const utf8 = !text.includes('\uFFFD') || isUtf8(content);
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const recordError = utf8 ? undefined : 'invalid UTF-8 bytes replaced with U+FFFD';

  const events = textEvents(text);
  // A whole-record JSON document may be a CloudWatch Logs payload (decompressed, or pretty-printed).
  if (!Array.isArray(events)) return events;
  if (events.length === 0) return { kind: 'empty' };
  return recordError ? { kind: 'events', events, text, recordError } : { kind: 'events', events, text };
}

function flagged(bytes: Buffer, reason: string): DecodedRecord {
  const text = bytes.toString('utf8');
  return { kind: 'events', events: [{ kind: 'flagged', text, reason }], text };
}

function isCwlPayload(v: unknown): v is CloudWatchLogsDecodedData {
  if (v === null || typeof v !== 'object') return false;
  const o = v as Partial<Record<keyof CloudWatchLogsDecodedData, unknown>>;
  return typeof o.messageType === 'string' && Array.isArray(o.logEvents);
}

function cloudWatchLogs(payload: CloudWatchLogsDecodedData): DecodedRecord {
  if (payload.messageType === 'CONTROL_MESSAGE') return { kind: 'control' };
  const group = typeof payload.logGroup === 'string' ? payload.logGroup : undefined;
  const attributes: Record<string, string> = {};
  if (group) attributes['aws.log_group'] = group;
  if (typeof payload.logStream === 'string') attributes['aws.log_stream'] = payload.logStream;
  if (typeof payload.owner === 'string') attributes['aws.account_id'] = payload.owner;
  const service = group
    ?.split('/')
    .filter((s) => s !== '')
    .pop();
  const events: EventSource[] = [];
  const lines: string[] = [];
  for (const logEvent of payload.logEvents as unknown[]) {
    if (logEvent === null || typeof logEvent !== 'object') continue;
    const { id, timestamp, message } = logEvent as Partial<Record<string, unknown>>;
    const defaults: EventDefaults = {
      ...(typeof timestamp === 'number' && Number.isFinite(timestamp) ? { timestampMs: timestamp } : {}),
      ...(service ? { service } : {}),
      ...(group ? { source: group } : {}),
      attributes: typeof id === 'string' ? { ...attributes, 'aws.log_event_id': id } : attributes,
    };
    const body =
      typeof message === 'string' ? message.replace(/\r?\n$/, '') : JSON.stringify(message ?? null);
    lines.push(body);
    events.push(lineEvent(body, defaults, true));
  }
  if (events.length === 0) return { kind: 'empty' };
  return { kind: 'events', events, text: lines.join('\n') };
}

/** One line (or one CloudWatch Logs message) as an event. */
function lineEvent(line: string, defaults: EventDefaults | undefined, whole: boolean): EventSource {
  const first = line.trimStart().charCodeAt(0);
  if (first === 123 /* { */) {
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
        return withDefaults({ kind: 'object', object: parsed as Record<string, unknown> }, defaults);
      }
    } catch {
      if (!whole) return { kind: 'flagged', text: line, reason: 'invalid JSON' };
      // A CloudWatch message that merely starts with `{` is text.
    }
  }
  const parsed = parseTextLine(line, defaults?.timestampMs);
  return withDefaults(
    parsed.kind === 'object'
      ? { kind: 'object', object: parsed.object }
      : { kind: 'text', fields: parsed.fields },
    defaults,
  );
}

function withDefaults(source: EventSource, defaults: EventDefaults | undefined): EventSource {
  return defaults ? { ...source, defaults } : source;
}

/** A line that continues the previous text event (stack frames, `Caused by:`). */
function isContinuation(line: string): boolean {
  const c = line.charCodeAt(0);
  return c === 32 || c === 9 || line.startsWith('Caused by:');
}

/** Events of a whole-record JSON document, or the record itself for a CloudWatch Logs payload. */
function documentEvents(value: unknown): EventSource[] | DecodedRecord {
  return isCwlPayload(value) ? cloudWatchLogs(value) : jsonEvents(value);
}

function textEvents(text: string): EventSource[] | DecodedRecord {
  const trimmed = text.trim();
  const first = trimmed.charCodeAt(0);
  // One JSON document (an object, possibly pretty-printed, or an array of events).
  if ((first === 123 || first === 91) && !/\n\s*[{[]/.test(trimmed)) {
    const whole = parseJson(trimmed);
    if (whole !== undefined) return documentEvents(whole);
  }
  const events: EventSource[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] as string;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') continue;
    const c = line.trimStart().charCodeAt(0);
    if (c === 123 || c === 91) {
      const parsed = parseJson(line);
      if (parsed !== undefined) {
        events.push(...jsonEvents(parsed));
        continue;
      }
      // Perhaps one pretty-printed document spanning all lines.
      if (events.length === 0) {
        const whole = parseJson(trimmed);
        if (whole !== undefined) return documentEvents(whole);
      }
      events.push({ kind: 'flagged', text: line, reason: 'invalid JSON' });
      continue;
    }
    const previous = events[events.length - 1];
    if (previous?.kind === 'text' && isContinuation(line)) {
      events[events.length - 1] = {
        ...previous,
        fields: { ...previous.fields, message: `${previous.fields.message}\n${line}` },
      };
      continue;
    }
    events.push(lineEvent(line, undefined, false));
  }
  return events;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function jsonEvents(value: unknown): EventSource[] {
  if (Array.isArray(value)) return value.flatMap((item) => jsonEvents(item));
  if (value !== null && typeof value === 'object') {
    return [{ kind: 'object', object: value as Record<string, unknown> }];
  }
  if (value === null) return [];
  const text = typeof value === 'string' ? value : String(value);
  return text.trim() === '' ? [] : [lineEvent(text, undefined, true)];
}
