/**
 * `transformRecords`: the Firehose data-transformation core. Pure (no environment, no SDK): the Lambda
 * handler and the local pipeline both call it.
 *
 * Guarantees: every input `recordId` appears exactly once in the output; one bad record never affects
 * another (an unexpected error becomes `ProcessingFailed` for that record only); the serialized
 * response stays within `maxResponseBytes` (largest records fall back to a compact flagged form, then to
 * `ProcessingFailed`, whose raw bytes Firehose writes under the error prefix).
 */
import { messageTemplate } from '../patterns/mask';
import { Redactor } from '../redact/redactor';
import type { Category, Level, LogRecord, PartitionKeys } from '../schema';
import { categoryByRules, isCategory } from './categorize';
import { type DecodedRecord, decodeRecord } from './decode';
import { type NormalizeContext, type NormalizedEvent, normalizeEvent, quote } from './normalize';
import { toIso } from './timestamp';
import {
  emptyMetrics,
  type TransformInputRecord,
  type TransformMetrics,
  type TransformOutputRecord,
  type TransformSettings,
} from './types';

/** Lambda's synchronous response limit (6 MB). */
export const LAMBDA_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024;

/**
 * Default response budget: below the Lambda limit, leaving room for the handler's own adjustments
 * (a schema error added when audit forwarding fails).
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 6_000_000;

export interface TransformOptions {
  /**
   * Source of randomness for DEBUG sampling, uniform in [0, 1).
   * @default Math.random
   */
  random?: () => number;
  /**
   * Budget for the serialized response `{"records":[…]}` in bytes.
   * @default DEFAULT_MAX_RESPONSE_BYTES (6,000,000)
   */
  maxResponseBytes?: number;
  /**
   * Clock used only when a record has no valid `approximateArrivalTimestamp`.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Set aside records whose category is locked (stream `logs` only): they are returned `Dropped` and
   * listed in `forward`, so the caller can send their original bytes to the audit stream. Their events
   * are not counted in the metrics (the audit stream's transform counts them).
   * @default false
   */
  forwardLocked?: boolean;
  /**
   * Schema errors to add to every event of particular records, by `recordId` (e.g. why a record that
   * should have been forwarded to the audit stream is delivered here).
   * @default none
   */
  recordErrors?: ReadonlyMap<string, string>;
  /**
   * When the response would exceed `maxResponseBytes`, set records aside (oldest arrival first) instead
   * of shrinking them: they are returned `Dropped` and listed in `deferred`, so the caller can put their
   * original bytes back into the delivery stream (re-ingestion) and they are transformed in full by a
   * later invocation. Only records whose own output fits a response are deferred; the rest still fall
   * back to the compact form or `ProcessingFailed`.
   * @default false
   */
  deferOversized?: boolean;
}

export interface TransformOutput {
  records: TransformOutputRecord[];
  metrics: TransformMetrics;
  /** With `forwardLocked`: the input records set aside for the audit stream (returned `Dropped`). */
  forward: TransformInputRecord[];
  /** With `deferOversized`: the input records set aside for re-ingestion (returned `Dropped`). */
  deferred: TransformInputRecord[];
}

const LEVEL_RANK: Readonly<Record<Level, number>> = { DEBUG: 0, INFO: 1, WARN: 2, ERROR: 3, CRITICAL: 4 };

/** Per-settings state worth keeping across invocations: the redactor with its caches. */
interface Engine {
  readonly settings: TransformSettings;
  readonly redactor: Redactor;
  readonly maxPastMs: number;
  readonly maxFutureMs: number;
}

const engines = new WeakMap<TransformSettings, Engine>();

function engineFor(settings: TransformSettings): Engine {
  let engine = engines.get(settings);
  if (!engine) {
    engine = {
      settings,
      redactor: new Redactor({ ...settings.redaction, pseudonymKey: settings.pseudonymKey }),
      maxPastMs: settings.transform.maxPastHours * 3_600_000,
      maxFutureMs: settings.transform.maxFutureMinutes * 60_000,
    };
    engines.set(settings, engine);
  }
  return engine;
}

/** What the metrics and the compact fallback need from a record's delivered events. */
interface Summary {
  events: number;
  eventsWithSchemaErrors: number;
  unparseable: number;
  redactions: Record<string, number>;
  /** Most severe level among the events. */
  level: Level;
  /** The first event (the record's category and partition come from it). */
  first: Pick<LogRecord, 'timestamp' | 'service' | 'logger' | 'ingest_time'>;
}

/**
 * The working state of one record between transformation and the response-size check. Events are not
 * kept (they die young, which keeps garbage collection cheap); a compact fallback re-decodes the input.
 */
interface Candidate {
  readonly input: TransformInputRecord;
  output: TransformOutputRecord;
  summary?: Summary;
  arrivalMs: number;
  /** Size of this record's entry in the serialized response. */
  size: number;
  compact: boolean;
  control: boolean;
  sampledOut: number;
  forwarded: boolean;
  deferred: boolean;
  failure?: string;
}

/**
 * Smallest output of one event: a record with all 19 columns, empty values and two timestamps is
 * ~340 bytes of JSON, ~450 in base64. A record with more events than the budget holds at that size
 * cannot be delivered in full, so it goes straight to the compact form.
 */
const MIN_EVENT_OUTPUT_BYTES = 440;

/**
 * Transforms a batch of Firehose records. Each `Ok` record's `data` is base64 of UTF-8 NDJSON, one
 * {@link LogRecord} per line, each line ending in `\n`; `metadata.partitionKeys` is
 * `{ category, dt, hour }`.
 */
export function transformRecords(
  records: TransformInputRecord[],
  settings: TransformSettings,
  options: TransformOptions = {},
): TransformOutput {
  const engine = engineFor(settings);
  const run: Run = {
    engine,
    random: options.random ?? Math.random,
    now: options.now ?? Date.now,
    recordErrors: options.recordErrors,
    maxBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
  };
  const candidates = records.map((input) => transformOne(input, run));
  const forward: TransformInputRecord[] = [];
  if (options.forwardLocked && settings.stream === 'logs') {
    for (const c of candidates) {
      const category = c.output.metadata?.partitionKeys.category;
      if (c.output.result !== 'Ok' || category === undefined || !settings.categories[category].locked)
        continue;
      c.output = { recordId: c.input.recordId, result: 'Dropped', data: '' };
      c.summary = undefined;
      c.forwarded = true;
      c.size = entrySize(c.output);
      forward.push(c.input);
    }
  }
  const deferred = options.deferOversized ? deferOldest(candidates, run.maxBytes) : [];
  fitResponse(candidates, run);
  return { records: candidates.map((c) => c.output), metrics: collectMetrics(candidates), forward, deferred };
}

/** Settings of one `transformRecords` call. */
interface Run {
  readonly engine: Engine;
  readonly random: () => number;
  readonly now: () => number;
  readonly recordErrors: ReadonlyMap<string, string> | undefined;
  readonly maxBytes: number;
}

function transformOne(input: TransformInputRecord, run: Run): Candidate {
  const arrival = input.approximateArrivalTimestamp;
  const arrivalMs = Number.isFinite(arrival) && arrival > 0 ? arrival : run.now();
  const candidate: Candidate = {
    input,
    output: { recordId: input.recordId, result: 'Dropped', data: '' },
    arrivalMs,
    size: 0,
    compact: false,
    control: false,
    sampledOut: 0,
    forwarded: false,
    deferred: false,
  };
  try {
    deliver(candidate, decodeRecord(inputBytes(input)), run);
  } catch (error) {
    // A defect must not fail the batch: this record alone goes to the error prefix, raw.
    candidate.output = processingFailed(input);
    candidate.summary = undefined;
    candidate.failure = error instanceof Error ? error.name : 'Error';
  }
  candidate.size = entrySize(candidate.output);
  return candidate;
}

function inputBytes(input: TransformInputRecord): Buffer {
  return Buffer.from(typeof input.data === 'string' ? input.data : '', 'base64');
}

function processingFailed(input: TransformInputRecord): TransformOutputRecord {
  return {
    recordId: input.recordId,
    result: 'ProcessingFailed',
    data: typeof input.data === 'string' ? input.data : '',
  };
}

/** Normalizes, categorizes and samples the events of a record, and encodes its `Ok` output. */
function deliver(candidate: Candidate, decoded: DecodedRecord, run: Run): void {
  if (decoded.kind === 'control') {
    candidate.control = true;
    return;
  }
  if (decoded.kind === 'empty') return;
  const { settings, redactor } = run.engine;
  const ctx: NormalizeContext = {
    redactor,
    arrivalMs: candidate.arrivalMs,
    arrivalIso: toIso(candidate.arrivalMs),
    maxPastMs: run.engine.maxPastMs,
    maxFutureMs: run.engine.maxFutureMs,
  };
  // Too many events to ever fit: only the first is needed (category, partition, compact form).
  const hopeless = decoded.events.length * MIN_EVENT_OUTPUT_BYTES > run.maxBytes;
  const sources = hopeless ? decoded.events.slice(0, 1) : decoded.events;
  const events = sources.map((source) => normalizeEvent(source, ctx));
  for (const error of [decoded.recordError, run.recordErrors?.get(candidate.input.recordId)]) {
    if (error) for (const e of events) e.record.schema_errors.push(error);
  }

  const categories = events.map((e) => eventCategory(e, run.engine));
  let category = categories[0] ?? settings.transform.defaultCategory;
  events.forEach((e, i) => {
    const own = categories[i] as Category;
    if (own !== category) {
      setAttribute(e.record.attributes, 'original_category', own);
      e.record.schema_errors.push(
        `category "${own}" differs from the record's category "${category}": events packed in one record share the first event's category`,
      );
    }
  });
  if (settings.stream === 'audit' && !settings.categories[category].locked) {
    events.forEach((e, i) => {
      const own = categories[i] as Category;
      if (own === category) {
        setAttribute(e.record.attributes, 'original_category', own);
        e.record.schema_errors.push(
          `category "${own}" is not locked: delivered as "audit" on the audit stream`,
        );
      }
    });
    category = 'audit';
  }

  const policy = settings.categories[category];
  let kept = events;
  if (!policy.locked && policy.sampleRate < 1 && !hopeless) {
    kept = events.filter((e) => e.record.level !== 'DEBUG' || run.random() < policy.sampleRate);
    candidate.sampledOut = events.length - kept.length;
  }
  const first = kept[0];
  if (!first) return;
  const records = kept.map((e) => e.record);
  const keys = partitionKeysFor(category, first.record.timestamp);
  candidate.summary = summarize(records);
  if (hopeless) {
    candidate.summary.events = decoded.events.length;
    candidate.output = compactOutput(candidate, run.engine, keys, decoded);
    candidate.compact = true;
    return;
  }
  candidate.output = {
    recordId: candidate.input.recordId,
    result: 'Ok',
    data: Buffer.from(encodeRecords(records), 'utf8').toString('base64'),
    metadata: { partitionKeys: keys },
  };
}

function summarize(records: readonly LogRecord[]): Summary {
  const first = records[0] as LogRecord;
  const summary: Summary = {
    events: records.length,
    eventsWithSchemaErrors: 0,
    unparseable: 0,
    redactions: {},
    level: first.level,
    first: {
      timestamp: first.timestamp,
      service: first.service,
      logger: first.logger,
      ingest_time: first.ingest_time,
    },
  };
  for (const r of records) {
    if (r.schema_errors.length > 0) {
      summary.eventsWithSchemaErrors++;
      if (r.schema_errors.some((e) => e.startsWith('unparseable'))) summary.unparseable++;
    }
    for (const kind in r.redactions)
      summary.redactions[kind] = (summary.redactions[kind] ?? 0) + (r.redactions[kind] ?? 0);
    if (LEVEL_RANK[r.level] > LEVEL_RANK[summary.level]) summary.level = r.level;
  }
  return summary;
}

function eventCategory(event: NormalizedEvent, engine: Engine): Category {
  const { settings, redactor } = engine;
  const explicit = event.explicitCategory;
  if (explicit !== undefined) {
    const value = explicit.trim().toLowerCase();
    if (isCategory(value)) return value;
    event.record.schema_errors.push(`invalid category ${quote(explicit, redactor)}: categorized by rules`);
    setAttribute(event.record.attributes, 'category', redactor.text(explicit, event.record.redactions));
  }
  return categoryByRules(event.record, settings.transform.rules, settings.transform.defaultCategory);
}

function setAttribute(attributes: Record<string, string>, key: string, value: string): void {
  let k = key;
  for (let i = 2; k in attributes; i++) k = `${key}~${i}`;
  attributes[k] = value;
}

/** `{ category, dt, hour }` from an instant (epoch ms, or its ISO-8601 UTC text). */
export function partitionKeysFor(category: Category, time: number | string): PartitionKeys {
  const iso = typeof time === 'string' ? time : toIso(time);
  return { category, dt: iso.slice(0, 10), hour: iso.slice(11, 13) };
}

function json(value: string | null): string {
  return value === null ? 'null' : JSON.stringify(value);
}

/**
 * `JSON.stringify(record)`, written out column by column: the same bytes (column order is the
 * `LogRecord` order, and a test holds the two equal), about a fifth faster on the hot path. Timestamps
 * and levels are plain ASCII by construction and need no escaping.
 */
export function serializeRecord(r: LogRecord): string {
  return `{"timestamp":"${r.timestamp}","level":"${r.level}","service":${JSON.stringify(r.service)},"logger":${json(r.logger)},"message":${JSON.stringify(r.message)},"correlation_id":${json(r.correlation_id)},"trace_id":${json(r.trace_id)},"span_id":${json(r.span_id)},"user_id":${json(r.user_id)},"error_type":${json(r.error_type)},"stack_trace":${json(r.stack_trace)},"duration_ms":${r.duration_ms === null ? 'null' : JSON.stringify(r.duration_ms)},"http_method":${json(r.http_method)},"http_path":${json(r.http_path)},"http_status":${r.http_status === null ? 'null' : JSON.stringify(r.http_status)},"attributes":${JSON.stringify(r.attributes)},"redactions":${JSON.stringify(r.redactions)},"ingest_time":"${r.ingest_time}","schema_errors":${JSON.stringify(r.schema_errors)},"message_template":${json(r.message_template)}}`;
}

/** NDJSON of records, each line ending in `\n`. */
export function encodeRecords(records: readonly LogRecord[]): string {
  let out = '';
  for (const r of records) out += `${serializeRecord(r)}\n`;
  return out;
}

/** Length of `JSON.stringify(s)` without serializing when `s` needs no escaping (the common case). */
function jsonLength(s: string): number {
  return /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/.test(s)
    ? s.length + 2
    : Buffer.byteLength(JSON.stringify(s), 'utf8');
}

/** Bytes this record adds to the serialized response (including the separating comma). */
function entrySize(output: TransformOutputRecord): number {
  // {"recordId":…,"result":…,"data":"…"} — `data` is base64 (ASCII, no escaping).
  let size = 33 + jsonLength(output.recordId) + jsonLength(output.result) + output.data.length + 1;
  const keys = output.metadata?.partitionKeys;
  if (keys) {
    // ,"metadata":{"partitionKeys":{"category":…,"dt":…,"hour":…}}
    size += 57 + jsonLength(keys.category) + jsonLength(keys.dt) + jsonLength(keys.hour);
  }
  return size;
}

/** `{"records":[` + `]}` */
const ENVELOPE_BYTES = 14;

/** Size in bytes of `JSON.stringify({ records })`, without serializing the data again. */
export function responseBytes(records: readonly TransformOutputRecord[]): number {
  let total = ENVELOPE_BYTES;
  for (const r of records) total += entrySize(r);
  return total;
}

/**
 * The compact flagged form of a record: one row whose message is the record's text redacted line by
 * line (JSON lines field by field), instead of one row per event. Used only to stay under the
 * response limit; the row says so in `schema_errors`.
 */
function compactOutput(
  candidate: Candidate,
  engine: Engine,
  keys: PartitionKeys,
  decoded?: DecodedRecord,
): TransformOutputRecord {
  const summary = candidate.summary as Summary;
  const again = decoded ?? decodeRecord(inputBytes(candidate.input));
  const text = again.kind === 'events' ? again.text : '';
  const counts: Record<string, number> = {};
  const redactor = engine.redactor;
  const lines = text.split('\n').map((line) => {
    const t = line.trim();
    if (t.startsWith('{') || t.startsWith('[')) {
      try {
        return JSON.stringify(redactor.value('', JSON.parse(t) as unknown, counts));
      } catch {
        // not JSON after all: redact as text
      }
    }
    return redactor.text(line, counts);
  });
  const record: LogRecord = {
    timestamp: summary.first.timestamp,
    level: summary.level,
    service: summary.first.service,
    logger: summary.first.logger,
    message: lines.join('\n'),
    correlation_id: null,
    trace_id: null,
    span_id: null,
    user_id: null,
    error_type: null,
    stack_trace: null,
    duration_ms: null,
    http_method: null,
    http_path: null,
    http_status: null,
    attributes: { oversized_events: String(summary.events) },
    redactions: counts,
    ingest_time: summary.first.ingest_time,
    schema_errors: [
      `oversized: ${summary.events} events kept as one flagged record (message holds the redacted record text) to keep the Firehose response under 6 MB`,
    ],
    message_template: messageTemplate(lines.join('\n')),
  };
  candidate.summary = { ...summarize([record]), events: 1 };
  return {
    recordId: candidate.input.recordId,
    result: 'Ok',
    data: Buffer.from(encodeRecords([record]), 'utf8').toString('base64'),
    metadata: { partitionKeys: keys },
  };
}

function totalSize(candidates: readonly Candidate[]): number {
  let total = ENVELOPE_BYTES;
  for (const c of candidates) total += c.size;
  return total;
}

/** Sets `Ok` records aside (as `Dropped`), oldest first, until the response fits; see `deferOversized`. */
function deferOldest(candidates: Candidate[], maxBytes: number): TransformInputRecord[] {
  let total = totalSize(candidates);
  const deferred: TransformInputRecord[] = [];
  if (total <= maxBytes) return deferred;
  // Oldest arrivals first (then largest): a re-ingested record comes back with a new arrival time, so
  // it is among the last to be set aside again and cannot be starved under sustained load.
  const order = candidates
    .filter((c) => c.output.result === 'Ok' && !c.compact)
    .sort((a, b) => a.arrivalMs - b.arrivalMs || b.size - a.size);
  for (const c of order) {
    if (total <= maxBytes) break;
    // A record that cannot fit even alone would come back forever: leave it to the compact fallback.
    if (c.size + ENVELOPE_BYTES > maxBytes) continue;
    const output: TransformOutputRecord = { recordId: c.input.recordId, result: 'Dropped', data: '' };
    const size = entrySize(output);
    total += size - c.size;
    c.output = output;
    c.size = size;
    c.summary = undefined;
    c.deferred = true;
    deferred.push(c.input);
  }
  return deferred;
}

/** Shrinks the largest `Ok` records until the response fits (see module doc). */
function fitResponse(candidates: Candidate[], run: Run): void {
  let total = totalSize(candidates);
  if (total <= run.maxBytes) return;
  const largest = candidates
    .filter((c) => c.output.result === 'Ok' && !c.compact)
    .sort((a, b) => b.size - a.size);
  for (const c of largest) {
    if (total <= run.maxBytes) return;
    const keys = c.output.metadata?.partitionKeys;
    if (!keys || !c.summary) continue;
    const summary = c.summary;
    const output = compactOutput(c, run.engine, keys);
    const size = entrySize(output);
    if (size >= c.size) {
      c.summary = summary;
      continue;
    }
    total += size - c.size;
    c.output = output;
    c.size = size;
    c.compact = true;
  }
  // Still too large: the biggest records go to the error prefix (raw), then lose even their echo.
  for (const emptyData of [false, true]) {
    for (const c of candidates.slice().sort((a, b) => b.size - a.size)) {
      if (total <= run.maxBytes) return;
      if (c.output.result === 'Dropped') continue;
      const failed = processingFailed(c.input);
      if (emptyData) failed.data = '';
      const size = entrySize(failed);
      if (size >= c.size) continue;
      total += size - c.size;
      c.output = failed;
      c.size = size;
      c.compact = true;
      c.summary = undefined;
    }
  }
}

function collectMetrics(candidates: readonly Candidate[]): TransformMetrics {
  const m = emptyMetrics();
  for (const c of candidates) {
    m.bytesIn += Math.floor((c.input.data?.length ?? 0) * 0.75);
    m.records[c.output.result]++;
    if (c.control) m.controlMessages++;
    if (c.compact) m.oversizedRecords++;
    if (c.forwarded) m.forwardedRecords++;
    if (c.deferred) m.deferredRecords++;
    m.sampledOutEvents += c.sampledOut;
    const s = c.summary;
    if (c.output.result !== 'Ok' || !s) continue;
    const category = c.output.metadata?.partitionKeys.category;
    if (category) {
      m.recordsByCategory[category] = (m.recordsByCategory[category] ?? 0) + 1;
      m.eventsByCategory[category] = (m.eventsByCategory[category] ?? 0) + s.events;
    }
    m.bytesOut += Math.floor(c.output.data.length * 0.75);
    m.eventsWithSchemaErrors += s.eventsWithSchemaErrors;
    m.unparseableEvents += s.unparseable;
    for (const kind in s.redactions)
      m.redactions[kind] = (m.redactions[kind] ?? 0) + (s.redactions[kind] ?? 0);
  }
  return m;
}
