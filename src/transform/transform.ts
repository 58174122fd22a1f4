/**
 * `transformRecords`: the Firehose data-transformation core. Pure (no environment, no SDK): the Lambda
 * handler and the local pipeline both call it.
 *
 * Guarantees: every input `recordId` appears exactly once in the output; one bad record never affects
 * another (an unexpected error becomes `ProcessingFailed` for that record only); the serialized
 * response stays within `maxResponseBytes` (largest records fall back to a compact flagged form, then to
 * `ProcessingFailed`, whose raw bytes Firehose writes under the error prefix).
 */
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
   * A schema error added to every event of every record of this call (e.g. why a record that should
   * have been forwarded is delivered here).
   * @default none
   */
  extraSchemaError?: string;
}

export interface TransformOutput {
  records: TransformOutputRecord[];
  metrics: TransformMetrics;
  /** With `forwardLocked`: the input records set aside for the audit stream (returned `Dropped`). */
  forward: TransformInputRecord[];
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

/** The working state of one record between transformation and the response-size check. */
interface Candidate {
  readonly input: TransformInputRecord;
  output: TransformOutputRecord;
  /** Delivered events (for `Ok`). */
  events: NormalizedEvent[];
  /** Record text and arrival, kept to build the compact form if the response is too large. */
  text?: string;
  arrivalMs: number;
  /** Size of this record's entry in the serialized response. */
  size: number;
  compact: boolean;
  control: boolean;
  sampledOut: number;
  forwarded: boolean;
  failure?: string;
}

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
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const candidates = records.map((input) =>
    transformOne(input, engine, random, now, options.extraSchemaError),
  );
  const forward: TransformInputRecord[] = [];
  if (options.forwardLocked && settings.stream === 'logs') {
    for (const c of candidates) {
      const category = c.output.metadata?.partitionKeys.category;
      if (c.output.result !== 'Ok' || category === undefined || !settings.categories[category].locked)
        continue;
      c.output = { recordId: c.input.recordId, result: 'Dropped', data: '' };
      c.events = [];
      c.forwarded = true;
      c.size = entrySize(c.output);
      forward.push(c.input);
    }
  }
  fitResponse(candidates, engine, options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES);
  return { records: candidates.map((c) => c.output), metrics: collectMetrics(candidates), forward };
}

function transformOne(
  input: TransformInputRecord,
  engine: Engine,
  random: () => number,
  now: () => number,
  extraSchemaError: string | undefined,
): Candidate {
  const arrival = input.approximateArrivalTimestamp;
  const arrivalMs = Number.isFinite(arrival) && arrival > 0 ? arrival : now();
  const candidate: Candidate = {
    input,
    output: { recordId: input.recordId, result: 'Dropped', data: '' },
    events: [],
    arrivalMs,
    size: 0,
    compact: false,
    control: false,
    sampledOut: 0,
    forwarded: false,
  };
  try {
    const bytes = Buffer.from(typeof input.data === 'string' ? input.data : '', 'base64');
    const decoded = decodeRecord(bytes);
    deliver(candidate, decoded, engine, random, extraSchemaError);
  } catch (error) {
    // A defect must not fail the batch: this record alone goes to the error prefix, raw.
    candidate.output = processingFailed(input);
    candidate.events = [];
    candidate.failure = error instanceof Error ? error.name : 'Error';
  }
  candidate.size = entrySize(candidate.output);
  return candidate;
}

function processingFailed(input: TransformInputRecord): TransformOutputRecord {
  return {
    recordId: input.recordId,
    result: 'ProcessingFailed',
    data: typeof input.data === 'string' ? input.data : '',
  };
}

function deliver(
  candidate: Candidate,
  decoded: DecodedRecord,
  engine: Engine,
  random: () => number,
  extraSchemaError: string | undefined,
): void {
  if (decoded.kind === 'control') {
    candidate.control = true;
    return;
  }
  if (decoded.kind === 'empty') return;
  const { settings, redactor } = engine;
  const ctx: NormalizeContext = {
    redactor,
    arrivalMs: candidate.arrivalMs,
    maxPastMs: engine.maxPastMs,
    maxFutureMs: engine.maxFutureMs,
  };
  const events = decoded.events.map((source) => normalizeEvent(source, ctx));
  for (const error of [decoded.recordError, extraSchemaError]) {
    if (error) for (const e of events) e.record.schema_errors.push(error);
  }

  const categories = events.map((e) => eventCategory(e, engine));
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
  if (!policy.locked && policy.sampleRate < 1) {
    kept = events.filter((e) => e.record.level !== 'DEBUG' || random() < policy.sampleRate);
    candidate.sampledOut = events.length - kept.length;
  }
  const first = kept[0];
  if (!first) return;
  candidate.events = kept;
  candidate.text = decoded.text;
  candidate.output = okRecord(
    candidate.input.recordId,
    kept.map((e) => e.record),
    category,
    first.timeMs,
  );
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

/** `{ category, dt, hour }` from an instant (UTC). */
export function partitionKeysFor(category: Category, timeMs: number): PartitionKeys {
  const iso = toIso(timeMs);
  return { category, dt: iso.slice(0, 10), hour: iso.slice(11, 13) };
}

/** NDJSON of records, each line ending in `\n`. */
export function encodeRecords(records: readonly LogRecord[]): string {
  let out = '';
  for (const r of records) out += `${JSON.stringify(r)}\n`;
  return out;
}

function okRecord(
  recordId: string,
  records: LogRecord[],
  category: Category,
  timeMs: number,
): TransformOutputRecord {
  return {
    recordId,
    result: 'Ok',
    data: Buffer.from(encodeRecords(records), 'utf8').toString('base64'),
    metadata: { partitionKeys: partitionKeysFor(category, timeMs) },
  };
}

/** Bytes this record adds to the serialized response (including the separating comma). */
function entrySize(output: TransformOutputRecord): number {
  const { data, ...rest } = output;
  // `data` is base64 (ASCII, no escaping): count it without serializing it again.
  return Buffer.byteLength(JSON.stringify({ ...rest, data: '' }), 'utf8') + data.length + 1;
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
function compactRecord(candidate: Candidate, engine: Engine): LogRecord | undefined {
  const first = candidate.events[0];
  if (!first || candidate.text === undefined) return undefined;
  const counts: Record<string, number> = {};
  const redactor = engine.redactor;
  const lines = candidate.text.split('\n').map((line) => {
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
  let level: Level = first.record.level;
  for (const e of candidate.events)
    if (LEVEL_RANK[e.record.level] > LEVEL_RANK[level]) level = e.record.level;
  return {
    timestamp: first.record.timestamp,
    level,
    service: first.record.service,
    logger: first.record.logger,
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
    attributes: { oversized_events: String(candidate.events.length) },
    redactions: counts,
    ingest_time: first.record.ingest_time,
    schema_errors: [
      `oversized: ${candidate.events.length} events kept as one flagged record (message holds the redacted record text) to keep the Firehose response under 6 MB`,
    ],
  };
}

/** Shrinks the largest `Ok` records until the response fits `maxBytes` (see module doc). */
function fitResponse(candidates: Candidate[], engine: Engine, maxBytes: number): void {
  let total = ENVELOPE_BYTES;
  for (const c of candidates) total += c.size;
  if (total <= maxBytes) return;
  const bySize = () => candidates.filter((c) => c.output.result === 'Ok').sort((a, b) => b.size - a.size);
  for (const c of bySize()) {
    if (total <= maxBytes) return;
    const compact = compactRecord(c, engine);
    const keys = c.output.metadata?.partitionKeys;
    if (!compact || !keys) continue;
    const output: TransformOutputRecord = {
      recordId: c.input.recordId,
      result: 'Ok',
      data: Buffer.from(encodeRecords([compact]), 'utf8').toString('base64'),
      metadata: { partitionKeys: keys },
    };
    const size = entrySize(output);
    if (size >= c.size) continue;
    total += size - c.size;
    c.output = output;
    c.size = size;
    c.compact = true;
    c.events = [{ record: compact, explicitCategory: undefined, timeMs: Date.parse(compact.timestamp) }];
  }
  // Still too large: the biggest records go to the error prefix (raw), then lose even their echo.
  for (const emptyData of [false, true]) {
    for (const c of candidates.slice().sort((a, b) => b.size - a.size)) {
      if (total <= maxBytes) return;
      if (c.output.result === 'Dropped') continue;
      const failed = processingFailed(c.input);
      if (emptyData) failed.data = '';
      const size = entrySize(failed);
      if (size >= c.size) continue;
      total += size - c.size;
      c.output = failed;
      c.size = size;
      c.compact = true;
      c.events = [];
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
    m.sampledOutEvents += c.sampledOut;
    if (c.output.result !== 'Ok') continue;
    const category = c.output.metadata?.partitionKeys.category;
    if (category) {
      m.recordsByCategory[category] = (m.recordsByCategory[category] ?? 0) + 1;
      m.eventsByCategory[category] = (m.eventsByCategory[category] ?? 0) + c.events.length;
    }
    m.bytesOut += Math.floor(c.output.data.length * 0.75);
    for (const e of c.events) {
      const r = e.record;
      if (r.schema_errors.length > 0) m.eventsWithSchemaErrors++;
      if (r.schema_errors.some((s) => s.startsWith('unparseable'))) m.unparseableEvents++;
      for (const [kind, n] of Object.entries(r.redactions))
        m.redactions[kind] = (m.redactions[kind] ?? 0) + n;
    }
  }
  return m;
}
