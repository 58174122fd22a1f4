/**
 * Input detection for one Firehose record: CloudWatch Logs subscription payloads (gzip, or already
 * decompressed by Firehose), JSON (one object, possibly pretty-printed, an array, NDJSON lines packed
 * by a shipper), batch documents (OTLP/JSON, `producers/`), collector envelopes (Fluent Bit, Fluentd,
 * Docker json-file, Vector, CRI lines: `envelopes.ts`) whose payload is read as if it had arrived
 * alone, and text lines grouped into multi-line events (`multiline.ts`). Undecodable bytes become one
 * flagged event. Never throws.
 */

import { isUtf8 } from 'node:buffer';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { CloudWatchLogsDecodedData } from 'aws-lambda';
import { parseWithExactIntegers } from '../exact-json';
import { categoryFromFilterNames } from '../sources/names';
import { firstNonBlank } from './chars';
import { criDefaults, parseCriLine, unwrapEnvelope } from './envelopes';
import { DEFAULT_START_PATTERN, exceptionType, groupLines, type LineGroup } from './multiline';
import type { EventDefaults, EventSource, TraceAppendix } from './normalize';
import { expandBatch, recognizeLine } from './producers';
import { type LineOptions, NO_LINE_OPTIONS } from './sources/line';
import { continuedFields, parseTextLine, type TextFields } from './text';

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
      /**
       * The record's pieces (CloudWatch Logs log events, or packed lines), when it has several and its
       * events may belong to different partitions (`transform.ts` splits such a record by re-ingestion).
       */
      readonly pieces?: Pieces;
    };

/**
 * The pieces a record can be cut into without changing how any of its events is read: the log events
 * of a CloudWatch Logs payload, or the lines of packed NDJSON or text (a multi-line event's further
 * lines go with its first; a partial CRI entry's lines with their start).
 */
export interface Pieces {
  /** How many pieces the record has. */
  readonly count: number;
  /** Per decoded event, the piece it starts in. */
  readonly pieceOf: readonly number[];
  /**
   * A record of only the pieces at `indexes` (ascending), marked with {@link SPLIT_MARKER} so that it is
   * never split again: the same CloudWatch Logs envelope with fewer log events (gzip'd, as CloudWatch
   * Logs sends it), or the lines in a `{"loglakeSplitFrom": …, "text": …}` document. Lines grow there by
   * their JSON escaping (a quote, a newline), so such a part can be larger than the received record.
   */
  part(indexes: readonly number[], from: string): Buffer;
}

/**
 * Marks a record that the transform made by splitting a received one: such a record is never split
 * again (one re-ingestion hop at most), whatever the clock says when it comes back.
 */
export const SPLIT_MARKER = 'loglakeSplitFrom';

export interface DecodeOptions {
  /**
   * Lines matching this begin a plain-text event; lines after one that look like no event of their
   * own continue it (`transform.multiline.startPattern`).
   * @default /^\d{4}-\d{2}-\d{2}/
   */
  readonly startPattern?: RegExp;
  /**
   * What the AWS services' line formats need (custom VPC Flow Logs formats).
   * @default no custom format
   */
  readonly lines?: LineOptions;
  /**
   * Pieces (see {@link Pieces}) to leave out: the ones already delivered as parts of a split record
   * (when putting the other parts failed and the record is delivered here after all).
   * @default none
   */
  readonly omitPieces?: ReadonlySet<number>;
}

/** Decompressed size cap: a CloudWatch Logs payload is at most ~1 MB before compression; stop gzip bombs. */
const MAX_INFLATED_BYTES = 64 * 1024 * 1024;
/** Envelopes inside envelopes (a CRI line in a Fluent Bit record) are unwrapped this deep at most. */
const MAX_DEPTH = 4;
const DEFAULT_START = new RegExp(DEFAULT_START_PATTERN);

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Decodes one record's bytes into events. Never throws. */
export function decodeRecord(bytes: Buffer, options: DecodeOptions = {}): DecodedRecord {
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

  const reader = new Reader(
    options.startPattern ?? DEFAULT_START,
    options.lines ?? NO_LINE_OPTIONS,
    options.omitPieces,
  );
  const whole = wholeDocument(text);
  if (whole !== undefined) reader.value(whole, undefined, 0);
  else reader.text(text, undefined, 0);
  const events = reader.events();
  if (events.length === 0) return reader.control ? { kind: 'control' } : { kind: 'empty' };
  // A CloudWatch Logs payload's text is its messages (what a compact flagged record holds).
  const recordText = reader.ownText ?? text;
  const pieces = reader.pieces();
  return {
    kind: 'events',
    events,
    text: recordText,
    ...(recordError ? { recordError } : {}),
    ...(pieces ? { pieces } : {}),
  };
}

/** A part of split lines: `{"loglakeSplitFrom": from, "text": "<the lines>\n"}`. */
function linesPart(lines: readonly string[], indexes: readonly number[], from: string): Buffer {
  let text = '';
  for (const k of indexes) text += `${lines[k]}\n`;
  return Buffer.from(JSON.stringify({ [SPLIT_MARKER]: from, text }), 'utf8');
}

/** A part made by {@link linesPart}: its text, read as the lines were. */
function isLinesPart(v: Record<string, unknown>): v is { text: string } {
  return typeof v[SPLIT_MARKER] === 'string' && typeof v.text === 'string' && Object.keys(v).length === 2;
}

/**
 * A part of a split CloudWatch Logs payload: the same envelope with only the log events at `indexes`,
 * marked with {@link SPLIT_MARKER}, gzip'd as CloudWatch Logs delivers it. Never larger than the
 * received payload, so it fits wherever that one did.
 */
export function splitPayload(
  payload: CloudWatchLogsDecodedData,
  indexes: readonly number[],
  from: string,
): Buffer {
  const logEvents = indexes.map((k) => payload.logEvents[k]);
  return gzipSync(JSON.stringify({ ...payload, logEvents, [SPLIT_MARKER]: from }));
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

function parseJson(text: string): unknown {
  try {
    // Integers beyond 2^53 keep their exact digits (as strings): an id is stored as it was sent.
    return parseWithExactIntegers(text);
  } catch {
    return undefined;
  }
}

/** The text as one JSON document (an object, possibly pretty-printed, or an array), if it is one. */
function wholeDocument(text: string): unknown {
  const trimmed = text.trim();
  const first = trimmed.charCodeAt(0);
  if ((first !== 123 && first !== 91) || /\n\s*[{[]/.test(trimmed)) return undefined;
  return parseJson(trimmed);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** What the reader found, in order: text lines still to be grouped, or finished events. */
type Unit =
  | { readonly kind: 'line'; readonly text: string; readonly defaults: EventDefaults | undefined }
  /** Lines known to be one event (a CloudWatch Logs event's message). */
  | { readonly kind: 'group'; readonly lines: string[]; readonly defaults: EventDefaults | undefined }
  | { readonly kind: 'event'; readonly source: EventSource };

/** Reads a record's content into units, then groups the text lines into events. */
class Reader {
  private readonly units: Unit[] = [];
  /** The record was a CloudWatch Logs CONTROL_MESSAGE. */
  control = false;
  /** What a compact flagged record holds instead of the record's text (CloudWatch Logs messages). */
  ownText: string | undefined;
  /** The record was made by a split, or holds a CloudWatch Logs payload among its lines: never split. */
  private isPart = false;
  /** The record's pieces, when it may be split (several of them). */
  private pieceSource: Omit<Pieces, 'pieceOf'> | undefined;
  /** Per unit, the piece it was read from. */
  private readonly unitPiece: number[] = [];
  /** Per event from {@link Reader.events}, the piece it starts in. */
  private eventPiece: number[] = [];

  constructor(
    private readonly startPattern: RegExp,
    private readonly lineOptions: LineOptions,
    private readonly omitPieces: ReadonlySet<number> | undefined,
  ) {}

  /** Where each event came from, when the record has several pieces and is not itself a part. */
  pieces(): Pieces | undefined {
    const source = this.pieceSource;
    if (source === undefined || this.isPart || this.eventPiece.length < 2) return undefined;
    return { count: source.count, part: source.part, pieceOf: this.eventPiece };
  }

  /** The units read since the last call came from `piece`. */
  private attribute(piece: number): void {
    while (this.unitPiece.length < this.units.length) this.unitPiece.push(piece);
  }

  /** A text line of an AWS service's format (a VPC flow) is one event of its own, never grouped. */
  private serviceLine(line: string, defaults: EventDefaults | undefined): boolean {
    const read = recognizeLine(line, this.lineOptions);
    if (read === undefined) return false;
    const source: EventSource =
      'recognized' in read
        ? { kind: 'recognized', recognized: read.recognized }
        : { kind: 'object', object: read.object };
    this.units.push({ kind: 'event', source: withDefaults(source, defaults) });
    return true;
  }

  /** A payload of text: one JSON document, or lines (JSON, CRI entries, text). */
  text(text: string, defaults: EventDefaults | undefined, depth: number): void {
    const before = this.units.length;
    const lines = text.split('\n');
    // The record's own lines are its pieces (a split's part holds whole lines).
    const top = depth === 0 && this.pieceSource === undefined;
    if (top && lines.length > 1) {
      this.pieceSource = { count: lines.length, part: (indexes, from) => linesPart(lines, indexes, from) };
    }
    const omit = top ? this.omitPieces : undefined;
    let piece = 0;
    let partial: { text: string; defaults: EventDefaults; piece: number } | undefined;
    for (let i = 0; i < lines.length; i++) {
      if (top) {
        this.attribute(piece);
        piece = i;
        if (omit?.has(i)) continue;
      }
      let line = lines[i] as string;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      const c = line.charCodeAt(0);
      const cri = c >= 48 && c <= 57 && depth < MAX_DEPTH ? parseCriLine(line) : undefined;
      if (cri) {
        // Partial (`P`) entries are one line the runtime split: joined up to the final (`F`) entry.
        partial = partial
          ? { text: partial.text + cri.text, defaults: partial.defaults, piece: partial.piece }
          : { text: cri.text, defaults: criDefaults(cri, defaults), piece: i };
        if (cri.partial) continue;
        // A joined entry starts where its first part did.
        piece = partial.piece;
        this.payloadLine(partial.text, partial.defaults, depth + 1);
        partial = undefined;
        continue;
      }
      if (partial) {
        this.payloadLine(partial.text, partial.defaults, depth + 1);
        if (top) this.attribute(partial.piece);
        partial = undefined;
      }
      const at = firstNonBlank(line);
      if (at < 0) {
        this.blank(line, defaults);
        continue;
      }
      const first = line.charCodeAt(at);
      if (first === 123 || first === 91) {
        const parsed = parseJson(line);
        if (parsed !== undefined) {
          this.value(parsed, defaults, depth);
          continue;
        }
        // Perhaps one pretty-printed document spanning all lines: one piece.
        if (this.units.length === before) {
          const whole = parseJson(text.trim());
          if (whole !== undefined) {
            if (top) this.pieceSource = undefined;
            this.value(whole, defaults, depth);
            return;
          }
        }
        // `[2026-01-02 03:04:05] [warn] …` is a text line; a broken `{…}` is JSON that lost something.
        if (first === 123) {
          this.units.push({
            kind: 'event',
            source: withDefaults({ kind: 'flagged', text: line, reason: 'invalid JSON' }, defaults),
          });
          continue;
        }
      }
      if (!this.serviceLine(line, defaults)) this.units.push({ kind: 'line', text: line, defaults });
    }
    if (top && omit !== undefined && omit.size > 0) {
      // The compact form holds the record's text: the lines delivered as parts must not come twice.
      this.ownText = lines.filter((_, i) => !omit.has(i)).join('\n');
    }
    if (top) this.attribute(piece);
    if (partial) {
      this.payloadLine(partial.text, partial.defaults, depth + 1);
      if (top) this.attribute(partial.piece);
    }
  }

  /** One unwrapped line (a CRI entry's text): JSON, or a text line that may continue its neighbours. */
  private payloadLine(text: string, defaults: EventDefaults, depth: number): void {
    const at = firstNonBlank(text);
    if (at < 0) {
      this.blank(text, defaults);
      return;
    }
    const first = text.charCodeAt(at);
    if (first === 123 || first === 91) {
      const parsed = parseJson(text);
      if (parsed !== undefined) {
        this.value(parsed, defaults, depth);
        return;
      }
    }
    this.units.push({ kind: 'line', text, defaults });
  }

  /**
   * A blank line matters only inside a multi-line event (between a chained Python traceback's parts):
   * it is kept after a text line of the same origin, and the grouping drops it at an event's edge.
   */
  private blank(text: string, defaults: EventDefaults | undefined): void {
    const last = this.units[this.units.length - 1];
    if (last?.kind === 'line' && sameOrigin(last.defaults, defaults)) {
      this.units.push({ kind: 'line', text, defaults });
    }
  }

  /** A parsed JSON value: events, a batch, an envelope, or an array of them. */
  value(v: unknown, defaults: EventDefaults | undefined, depth: number): void {
    if (Array.isArray(v)) {
      for (const item of v) this.value(item, defaults, depth);
      return;
    }
    if (v === null || v === undefined) return;
    if (depth === 0 && isCwlPayload(v)) {
      if (v.messageType === 'CONTROL_MESSAGE') this.control = true;
      else if (this.pieceSource !== undefined) {
        // One line of several: the record's pieces are its lines, and a part cut by this payload's log
        // events would leave the other lines out. Read its events, and deliver the record whole.
        this.isPart = true;
        this.cloudWatchLogs(v);
      } else {
        this.isPart = SPLIT_MARKER in v;
        this.pieceSource = {
          count: v.logEvents.length,
          part: (indexes, from) => splitPayload(v, indexes, from),
        };
        this.ownText = this.cloudWatchLogs(v);
      }
      return;
    }
    if (depth === 0 && this.pieceSource === undefined && isObject(v) && isLinesPart(v)) {
      // A part of split lines (a whole record: a line among others shaped like one is only a line, or
      // the record's text would become that line's): read exactly as those lines were, never split again.
      this.isPart = true;
      this.ownText = v.text;
      this.text(v.text, undefined, 0);
      return;
    }
    if (!isObject(v)) {
      const text = typeof v === 'string' ? v : String(v);
      if (text.trim() !== '') this.units.push({ kind: 'line', text, defaults });
      return;
    }
    if (depth < MAX_DEPTH) {
      const batch = expandBatch(v);
      if (batch !== undefined) {
        for (const event of batch) this.value(event, defaults, depth + 1);
        return;
      }
      const envelope = unwrapEnvelope(v, defaults);
      if (envelope !== undefined) {
        if (typeof envelope.payload === 'string') this.text(envelope.payload, envelope.defaults, depth + 1);
        else this.value(envelope.payload, envelope.defaults, depth + 1);
        return;
      }
    }
    this.units.push({ kind: 'event', source: withDefaults({ kind: 'object', object: v }, defaults) });
  }

  /** A CloudWatch Logs DATA_MESSAGE: one event per log event. Returns the record's text. */
  private cloudWatchLogs(payload: CloudWatchLogsDecodedData): string {
    const group = typeof payload.logGroup === 'string' ? payload.logGroup : undefined;
    const attributes: Record<string, string> = {};
    if (group) attributes['aws.log_group'] = group;
    if (typeof payload.logStream === 'string') attributes['aws.log_stream'] = payload.logStream;
    if (typeof payload.owner === 'string') attributes['aws.account_id'] = payload.owner;
    const category = categoryFromFilterNames(payload.subscriptionFilters);
    const service = group
      ?.split('/')
      .filter((s) => s !== '')
      .pop();
    // What every log event of the payload carries (a log event adds its time and id).
    const base: EventDefaults = {
      ...(service ? { service } : {}),
      ...(group ? { source: group } : {}),
      ...(category ? { category } : {}),
      attributes,
    };
    const texts: string[] = [];
    const logEvents = payload.logEvents as unknown[];
    for (let k = 0; k < logEvents.length; k++) {
      // Units read from log event k are those pushed from here on (until the next log event's).
      this.attribute(k - 1);
      const logEvent = logEvents[k];
      if (this.omitPieces?.has(k)) continue;
      if (!isObject(logEvent)) {
        // Not what CloudWatch Logs sends, but what the record holds: kept flagged, never dropped.
        const text = JSON.stringify(logEvent);
        texts.push(text);
        this.units.push({
          kind: 'event',
          source: withDefaults(
            { kind: 'flagged', text, reason: 'CloudWatch Logs log event is not an object' },
            base,
          ),
        });
        continue;
      }
      const { id, timestamp, message } = logEvent;
      const defaults: EventDefaults = {
        ...(typeof timestamp === 'number' && Number.isFinite(timestamp) ? { timestampMs: timestamp } : {}),
        ...base,
        attributes: typeof id === 'string' ? { ...attributes, 'aws.log_event_id': id } : attributes,
      };
      const body =
        typeof message === 'string' ? message.replace(/\r?\n$/, '') : JSON.stringify(message ?? null);
      texts.push(body);
      // A JSON message is read as a document (Lambda's JSON format, an envelope); any other message is
      // one event, its further lines (a stack trace) attached to the first.
      const trimmed = body.trimStart();
      if (trimmed.startsWith('{')) {
        const parsed = parseJson(body);
        if (isObject(parsed)) {
          this.value(parsed, defaults, 1);
          continue;
        }
      }
      const lines = body.split(/\r?\n/).filter((l) => l.trim() !== '');
      if (lines.length === 1 && this.serviceLine(lines[0] as string, defaults)) continue;
      if (lines.length > 0) this.units.push({ kind: 'group', lines, defaults });
    }
    this.attribute(logEvents.length - 1);
    return texts.join('\n');
  }

  /**
   * The events: text lines grouped into multi-line events. Lambda's START, END and REPORT lines stay
   * one event each: a CloudWatch Logs subscription may deliver them in different records, and the same
   * log must give the same events however it was batched.
   */
  events(): EventSource[] {
    const events: EventSource[] = [];
    const units = this.units;
    const unitLog = this.unitPiece;
    const tracked = this.pieceSource !== undefined && !this.isPart;
    const eventLog: number[] = [];
    this.eventPiece = eventLog;
    for (let i = 0; i < units.length; ) {
      const unit = units[i] as Unit;
      if (unit.kind === 'event') {
        events.push(unit.source);
        if (tracked) eventLog.push(unitLog[i] as number);
        i++;
        continue;
      }
      if (unit.kind === 'group') {
        events.push(textEvent(unit.lines, wholeGroup(unit.lines), unit.defaults));
        if (tracked) eventLog.push(unitLog[i] as number);
        i++;
        continue;
      }
      // A run of lines of one origin (one container's stream, or the record's own text).
      let j = i + 1;
      while (j < units.length) {
        const next = units[j] as Unit;
        if (next.kind !== 'line' || !sameOrigin(unit.defaults, next.defaults)) break;
        j++;
      }
      if (j === i + 1) {
        events.push(textEvent([unit.text], { start: 0, end: 1, traceAt: 1 }, unit.defaults));
        if (tracked) eventLog.push(unitLog[i] as number);
      } else {
        const run = units.slice(i, j) as Array<Extract<Unit, { kind: 'line' }>>;
        const lines = run.map((u) => u.text);
        for (const group of groupLines(lines, this.startPattern)) {
          events.push(textEvent(lines, group, run[group.start]?.defaults));
          if (tracked) eventLog.push(unitLog[i + group.start] as number);
        }
      }
      i = j;
    }
    return events;
  }
}

function sameOrigin(a: EventDefaults | undefined, b: EventDefaults | undefined): boolean {
  return a === b || (a?.origin !== undefined && a.origin === b?.origin);
}

/** All of a CloudWatch Logs event's lines as one event; the trace starts at its first trace line. */
function wholeGroup(lines: readonly string[]): LineGroup {
  let traceAt = lines.length;
  if (lines.length > 1) {
    for (const g of groupLines(lines, undefined)) {
      if (g.traceAt < g.end) {
        traceAt = g.traceAt;
        break;
      }
    }
  }
  return { start: 0, end: lines.length, traceAt };
}

function withDefaults(source: EventSource, defaults: EventDefaults | undefined): EventSource {
  if (!defaults) return source;
  // Spelled out per kind rather than spread: one event per line passes here, and a spread of sources of
  // several shapes is a slow generic copy.
  switch (source.kind) {
    case 'object':
      return source.appendix === undefined
        ? { kind: 'object', object: source.object, defaults }
        : { kind: 'object', object: source.object, appendix: source.appendix, defaults };
    case 'text':
      return source.appendix === undefined
        ? { kind: 'text', fields: source.fields, defaults }
        : { kind: 'text', fields: source.fields, appendix: source.appendix, defaults };
    case 'recognized':
      return { kind: 'recognized', recognized: source.recognized, defaults };
    case 'flagged':
      return { kind: 'flagged', text: source.text, reason: source.reason, defaults };
  }
}

/** One text event: its head line parsed, further lines as message continuation or stack trace. */
function textEvent(
  lines: readonly string[],
  group: LineGroup,
  defaults: EventDefaults | undefined,
): EventSource {
  const { start, end, traceAt } = group;
  const head = lines[start] as string;
  let appendix: TraceAppendix | undefined;
  if (end - start > 1 || traceAt === start) {
    const stack = lines.slice(traceAt, end);
    appendix = {
      message: lines.slice(start + 1, traceAt),
      stack,
      errorType: stack.length > 0 ? exceptionType(stack) : undefined,
    };
  }
  if (traceAt === start && appendix) {
    // A trace without a log line of its own: its exception line is the message, at ERROR.
    const at = exceptionLineIndex(appendix.stack);
    const message = appendix.stack[at] as string;
    const stack = appendix.stack.filter((_, k) => k !== at);
    const fields: TextFields = { message, level: 'ERROR' };
    return withDefaults(
      { kind: 'text', fields, appendix: { message: [], stack, errorType: appendix.errorType } },
      defaults,
    );
  }
  const parsed = parseTextLine(head, defaults?.timestampMs);
  const source: EventSource =
    parsed.kind === 'object'
      ? { kind: 'object', object: parsed.object, ...(appendix ? { appendix } : {}) }
      : {
          kind: 'text',
          fields: appendix ? continuedFields(parsed.fields, appendix.message) : parsed.fields,
          ...(appendix ? { appendix } : {}),
        };
  return withDefaults(source, defaults);
}

/** The line of a headless trace that names the exception (a Python traceback's last), else the first. */
function exceptionLineIndex(stack: readonly string[]): number {
  if (!/^Traceback \(most recent call last\):/.test(stack[0] ?? '')) return 0;
  for (let k = stack.length - 1; k > 0; k--) {
    const line = stack[k] as string;
    if (line.charCodeAt(0) !== 32 && line.charCodeAt(0) !== 9 && /^[A-Za-z_][\w.]*(?::|$)/.test(line))
      return k;
  }
  return 0;
}
