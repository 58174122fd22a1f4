/**
 * `transformRecords`: the Firehose data-transformation core. Pure (no environment, no SDK): the Lambda
 * handler (through `FirehoseProcessor`) and the local pipeline both call it.
 *
 * Guarantees: every input `recordId` appears exactly once in the output; one bad record never affects
 * another (an unexpected error becomes `ProcessingFailed` for that record only); the serialized
 * response stays within `maxResponseBytes` (`response.ts`).
 */
import { FIREHOSE_PUT_LIMITS } from '../producer/pack';
import { PENDING_PSEUDONYM } from '../redact/pseudonym';
import { Redactor } from '../redact/redactor';
import type { Category, PartitionKeys } from '../schema';
import { quote, setAttribute } from './attributes';
import type { Candidate, SplitPart, Summary } from './candidate';
import { categoryByRules, isCategory } from './categorize';
import { type DecodedRecord, type DecodeOptions, decodeRecord, type Pieces } from './decode';
import { addToSummary, collectMetrics, startSummary } from './metrics';
import { type EventSource, type NormalizeContext, type NormalizedEvent, normalizeEvent } from './normalize';
import {
  compactOutput,
  DEFAULT_MAX_RESPONSE_BYTES,
  deferOldest,
  entrySize,
  fitResponse,
  inputBytes,
  MIN_EVENT_OUTPUT_BYTES,
  processingFailed,
} from './response';
import { partitionKeysFor, serializeRecord } from './serialize';
import { lineOptionsOf } from './sources/options';
import { toIso } from './timestamp';
import type {
  TransformInputRecord,
  TransformMetrics,
  TransformOutputRecord,
  TransformSettings,
} from './types';
import { TimeZones } from './zone';

/** `Candidate.failure` of a record failed for a pending subject key. */
const PENDING_KEYS_FAILURE = 'PendingSubjectKey';

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
  /**
   * Split a record whose events belong to different partitions (category, day or hour): a CloudWatch
   * Logs payload (CloudWatch batches whatever a log group wrote), or lines packed by a shipper that does
   * not pack per category and hour. A Firehose output record has one set of partition keys, so delivered
   * whole, every event would land in the first one's partition. Such a record is returned `Dropped` and
   * listed in `split` with its parts (the pieces of one partition each: log events, or lines, marked so
   * that they are never split again), for the caller to put into this stream; each part is transformed
   * in full by a later invocation.
   * @default false (events of another partition are delivered in the first one's, with a schema error)
   */
  splitPacked?: boolean;
  /**
   * Pieces (log events, or lines) to leave out of particular records, by `recordId`: the parts of a
   * split record that were delivered, when putting the others failed and the record is delivered here
   * after all.
   * @default none
   */
  omitPieces?: ReadonlyMap<string, ReadonlySet<number>>;
}

/** A record split by partition (`splitPacked`): the input, returned `Dropped`, and its parts. */
export interface SplitRecord {
  readonly input: TransformInputRecord;
  readonly parts: readonly SplitPart[];
}

export interface TransformOutput {
  records: TransformOutputRecord[];
  metrics: TransformMetrics;
  /** With `forwardLocked`: the input records set aside for the audit stream (returned `Dropped`). */
  forward: TransformInputRecord[];
  /** With `deferOversized`: the input records set aside for re-ingestion (returned `Dropped`). */
  deferred: TransformInputRecord[];
  /**
   * Records returned `ProcessingFailed` because a subject key was not at hand (`settings.pseudonyms`):
   * nothing of them is in the output; resolve the keys and transform them again.
   */
  pendingKeys: TransformInputRecord[];
  /** With `splitPacked`: the records split by partition (returned `Dropped`), with their parts. */
  split: SplitRecord[];
}

/** Per-settings state worth keeping across invocations: the redactor with its caches. */
interface Engine {
  readonly settings: TransformSettings;
  readonly redactor: Redactor;
  readonly maxPastMs: number;
  readonly maxFutureMs: number;
  readonly timeZones: TimeZones;
  readonly decode: DecodeOptions;
}

const engines = new WeakMap<TransformSettings, Engine>();

function engineFor(settings: TransformSettings): Engine {
  let engine = engines.get(settings);
  if (!engine) {
    engine = {
      settings,
      redactor: new Redactor({
        ...settings.redaction,
        pseudonymKey: settings.pseudonymKey,
        ...(settings.pseudonyms === undefined ? {} : { pseudonyms: settings.pseudonyms }),
      }),
      maxPastMs: (settings.transform.maxPastHours ?? Number.POSITIVE_INFINITY) * 3_600_000,
      maxFutureMs: settings.transform.maxFutureMinutes * 60_000,
      timeZones: new TimeZones(settings.transform.timeZones),
      decode: {
        startPattern: new RegExp(settings.transform.multiline.startPattern),
        lines: lineOptionsOf(settings.transform),
      },
    };
    engines.set(settings, engine);
  }
  return engine;
}

/**
 * Transforms a batch of Firehose records. Each `Ok` record's `data` is base64 of UTF-8 NDJSON, one
 * `LogRecord` per line, each line ending in `\n`; `metadata.partitionKeys` is `{ category, dt, hour }`.
 */
export function transformRecords(
  records: readonly TransformInputRecord[],
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
    splitPacked: options.splitPacked === true,
    omitPieces: options.omitPieces,
  };
  const { order, openings } = byOpening(records);
  const candidates = new Array<Candidate>(records.length);
  for (let start = 0; start < order.length; ) {
    const alike = sameOpening(order, openings, start);
    if (alike >= STREAM_RUN) {
      // A run of records that open alike (one producer's): each decoded, normalized and written in turn.
      for (const index of order.slice(start, start + alike)) {
        candidates[index] = transformOne(streamed(records, index, run), run);
      }
      start += alike;
      continue;
    }
    const window = prepareWindow(records, order, start, run);
    for (const prepared of window) candidates[prepared.index] = transformOne(prepared, run);
    start += window.length;
  }
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
  const pendingBeforeFit = engine.redactor.pendingCount;
  fitResponse(candidates, run.maxBytes, engine.redactor);
  if (engine.redactor.pendingCount !== pendingBeforeFit) failPlaceholders(candidates);
  const pendingKeys = candidates.filter((c) => c.failure === PENDING_KEYS_FAILURE).map((c) => c.input);
  const split: SplitRecord[] = [];
  for (const c of candidates) if (c.split) split.push({ input: c.input, parts: c.split });
  return {
    records: candidates.map((c) => c.output),
    metrics: collectMetrics(candidates),
    forward,
    deferred,
    pendingKeys,
    split,
  };
}

/**
 * A compact form made while fitting the response asked for a key no longer cached (rare: the cache
 * expired or filled up mid-batch): the records holding the placeholder are failed, never stored.
 */
function failPlaceholders(candidates: Candidate[]): void {
  for (const c of candidates) {
    if (c.output.result !== 'Ok') continue;
    if (!Buffer.from(c.output.data, 'base64').toString('utf8').includes(PENDING_PSEUDONYM)) continue;
    c.output = processingFailed(c.input);
    c.summary = undefined;
    c.failure = PENDING_KEYS_FAILURE;
    c.size = entrySize(c.output);
  }
}

/** Settings of one `transformRecords` call. */
interface Run {
  readonly engine: Engine;
  readonly random: () => number;
  readonly now: () => number;
  readonly recordErrors: ReadonlyMap<string, string> | undefined;
  readonly maxBytes: number;
  readonly splitPacked: boolean;
  readonly omitPieces: ReadonlyMap<string, ReadonlySet<number>> | undefined;
}

/**
 * Events normalized per window: about this many, from whole records taken {@link byOpening}.
 * Normalizing a window's events grouped by shape (all Fluent Bit records, then all OTLP records, …)
 * instead of in arrival order keeps one producer's code and data hot at a time: where producers
 * interleave in a batch, the two orders take a tenth to two fifths off the transform's time
 * (`bench/transform.bench.ts` prints the mixed corpus interleaved and ordered by kind). A small window
 * keeps the events young: they die with their rows.
 */
const WINDOW_EVENTS = 128;

/** A record decoded, its events normalized ahead of {@link deliver} (see {@link prepareWindow}). */
interface Prepared {
  /** The record's place in the batch. */
  readonly index: number;
  readonly input: TransformInputRecord;
  readonly arrivalMs: number;
  /**
   * `undefined` for a record transformed one by one, or when decoding or normalizing it ahead threw:
   * {@link transformOne} decodes it (again), so an error fails this record alone.
   */
  decoded: DecodedRecord | undefined;
  /** The record's events, normalized; `undefined` when {@link deliver} normalizes them itself. */
  events: NormalizedEvent[] | undefined;
  /** Normalizing asked for a subject key that was not at hand. */
  pending: boolean;
}

/**
 * The order records are decoded, normalized and delivered in (each output keeps its input's place):
 * by their first 12 bytes (16 base64 characters), ties in arrival order, so one producer's records,
 * which open alike (`{"log":"{\"`, `{"resourceLogs"`, `REPORT Requ`, a date), are taken together. The
 * order changes no output; DEBUG sampling draws its random numbers in it.
 */
function byOpening(records: readonly TransformInputRecord[]): { order: number[]; openings: string[] } {
  const openings = records.map((r) => (typeof r.data === 'string' ? r.data.slice(0, 16) : ''));
  const order = records.map((_, n) => n);
  order.sort((a, b) => {
    const x = openings[a] as string;
    const y = openings[b] as string;
    return x < y ? -1 : x > y ? 1 : a - b;
  });
  return { order, openings };
}

/**
 * Records opening alike in a row from which on they are transformed one by one, as they come: one
 * producer's records gain nothing from a window (their events share a shape), and each record's events
 * written right after they are normalized stay in the caches. Paired with the windows on the bundled
 * transform under Node 24, this kept the project's corpus (one shape) at 0.78–1.07 of the time before
 * the windows, where windows alone took 0.96–1.27.
 */
const STREAM_RUN = 16;

/** How many records from `start` of `order` open as the one at `start` does. */
function sameOpening(order: readonly number[], openings: readonly string[], start: number): number {
  const first = openings[order[start] as number];
  let k = start + 1;
  while (k < order.length && openings[order[k] as number] === first) k++;
  return k - start;
}

/** A record as it comes, with its arrival: for {@link transformOne} to decode and normalize itself. */
function streamed(records: readonly TransformInputRecord[], index: number, run: Run): Prepared {
  const input = records[index] as TransformInputRecord;
  const arrival = input.approximateArrivalTimestamp;
  const arrivalMs = Number.isFinite(arrival) && arrival > 0 ? arrival : run.now();
  return { index, input, arrivalMs, decoded: undefined, events: undefined, pending: false };
}

/**
 * Decodes the records of `order` from `start` until the window holds {@link WINDOW_EVENTS} events (one
 * record at least), then normalizes those events grouped by {@link shapeOf}. Normalizing is pure but
 * for the redactor's caches, so the order changes no output. A record whose event throws is left for
 * {@link transformOne} to do again in full, so the error fails that record alone, as before.
 */
function prepareWindow(
  records: readonly TransformInputRecord[],
  order: readonly number[],
  start: number,
  run: Run,
): Prepared[] {
  const window: Prepared[] = [];
  const jobs: Array<{ readonly shape: string; readonly record: number; readonly event: number }> = [];
  const contexts: NormalizeContext[] = [];
  for (let k = start; k < order.length && (k === start || jobs.length < WINDOW_EVENTS); k++) {
    const prepared = streamed(records, order[k] as number, run);
    const { input, arrivalMs } = prepared;
    const r = window.push(prepared) - 1;
    try {
      prepared.decoded = decodeRecord(inputBytes(input), decodeOptions(input, run));
    } catch {
      continue;
    }
    const decoded = prepared.decoded;
    if (decoded.kind !== 'events' || isHopeless(decoded, run)) continue;
    prepared.events = new Array<NormalizedEvent>(decoded.events.length);
    contexts[r] = contextFor(arrivalMs, run.engine);
    for (let i = 0; i < decoded.events.length; i++) {
      jobs.push({ shape: shapeOf(decoded.events[i] as EventSource), record: r, event: i });
    }
  }
  if (grouped(jobs)) {
    // Each shape's events already together (a stream of one producer, the common case): nothing to
    // gain, so each record's events are normalized as its rows are written, which keeps them younger.
    for (const prepared of window) prepared.events = undefined;
    return window;
  }
  jobs.sort((a, b) => (a.shape < b.shape ? -1 : a.shape > b.shape ? 1 : 0));
  const { redactor } = run.engine;
  for (const job of jobs) {
    const prepared = window[job.record] as Prepared;
    const events = prepared.events;
    if (events === undefined || prepared.decoded?.kind !== 'events') continue;
    const pendingBefore = redactor.pendingCount;
    try {
      events[job.event] = normalizeEvent(
        prepared.decoded.events[job.event] as EventSource,
        contexts[job.record] as NormalizeContext,
      );
    } catch {
      prepared.decoded = undefined;
      prepared.events = undefined;
      continue;
    }
    if (redactor.pendingCount !== pendingBefore) prepared.pending = true;
  }
  return window;
}

/** Whether each shape's jobs are already together (one run per shape). */
function grouped(jobs: ReadonlyArray<{ readonly shape: string }>): boolean {
  const done = new Set<string>();
  let current: string | undefined;
  for (const { shape } of jobs) {
    if (shape === current) continue;
    if (done.has(shape)) return false;
    if (current !== undefined) done.add(current);
    current = shape;
  }
  return true;
}

/**
 * What groups events that run the same code: the source's kind and its first key (a producer's
 * objects open with the same field), or a text line's fields and whether a stack trace follows.
 */
function shapeOf(source: EventSource): string {
  switch (source.kind) {
    case 'object':
      for (const key in source.object) return `o${key}`;
      return 'o';
    case 'recognized':
      for (const key in source.recognized.columns) return `r${key}`;
      return 'r';
    case 'text': {
      let shape = source.appendix === undefined ? 't' : 'T';
      for (const key in source.fields) shape += key.slice(0, 2);
      return shape;
    }
    default:
      return source.kind;
  }
}

function decodeOptions(input: TransformInputRecord, run: Run): DecodeOptions {
  const omit = run.omitPieces?.get(input.recordId);
  return omit === undefined ? run.engine.decode : { ...run.engine.decode, omitPieces: omit };
}

/** Too many events to ever fit: only the first is needed (category, partition, compact form). */
function isHopeless(decoded: DecodedRecord & { kind: 'events' }, run: Run): boolean {
  return decoded.events.length * MIN_EVENT_OUTPUT_BYTES > run.maxBytes;
}

function contextFor(arrivalMs: number, engine: Engine): NormalizeContext {
  return {
    redactor: engine.redactor,
    arrivalMs,
    arrivalIso: toIso(arrivalMs),
    timeZones: engine.timeZones,
  };
}

function transformOne(prepared: Prepared, run: Run): Candidate {
  const { input, arrivalMs } = prepared;
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
  const { redactor } = run.engine;
  const pendingBefore = redactor.pendingCount;
  const omit = run.omitPieces?.get(input.recordId);
  if (omit !== undefined) candidate.omit = omit;
  const runError = run.recordErrors?.get(input.recordId);
  if (runError !== undefined) candidate.runError = runError;
  try {
    if (prepared.decoded === undefined) {
      // Taken one by one, or decoding or normalizing ahead threw: here, so an error fails this record alone.
      prepared.events = undefined;
      prepared.decoded = decodeRecord(inputBytes(input), decodeOptions(input, run));
    }
    deliver(candidate, prepared.decoded, prepared.events, run);
    if (prepared.pending || redactor.pendingCount !== pendingBefore) {
      // A subject key was not at hand: store nothing of this record rather than a placeholder.
      candidate.output = processingFailed(input);
      candidate.summary = undefined;
      candidate.split = undefined;
      candidate.failure = PENDING_KEYS_FAILURE;
    }
  } catch (error) {
    // A defect must not fail the batch: this record alone goes to the error prefix, raw.
    candidate.output = processingFailed(input);
    candidate.summary = undefined;
    candidate.split = undefined;
    candidate.failure = error instanceof Error ? error.name : 'Error';
  }
  candidate.size = entrySize(candidate.output);
  return candidate;
}

/**
 * Categorizes and samples the events of a record (normalized ahead in `events`, or here when it is
 * `undefined`), and encodes its `Ok` output.
 */
function deliver(
  candidate: Candidate,
  decoded: DecodedRecord,
  events: readonly NormalizedEvent[] | undefined,
  run: Run,
): void {
  if (decoded.kind === 'control') {
    candidate.control = true;
    return;
  }
  if (decoded.kind === 'empty') return;
  const { settings, redactor } = run.engine;
  const ctx = contextFor(candidate.arrivalMs, run.engine);
  const hopeless = isHopeless(decoded, run);
  const count = hopeless ? 1 : decoded.events.length;
  const recordError = decoded.recordError;
  const runError = candidate.runError;
  // Where each piece (log event, line) belongs: the partition of the first event that starts in it.
  const pieces = run.splitPacked && !hopeless ? decoded.pieces : undefined;
  const pieceKeys: Array<string | undefined> = [];
  let lastPiece = -1;
  let firstHour: string | undefined;
  // One pass per event, in order: categorize (the record's category is the first event's), check its
  // time, sample, then write its row and count it. No event outlives its window (`prepareWindow`), so
  // the garbage dies young.
  let category: Category | undefined;
  let firstCategory: Category = settings.transform.defaultCategory;
  let toAudit = false;
  let sampling = false;
  let sampleRate = 1;
  let times: TimeWindow | undefined;
  let summary: Summary | undefined;
  let keys: PartitionKeys | undefined;
  let out = '';
  let kept = 0;
  for (let i = 0; i < count; i++) {
    const e = events?.[i] ?? normalizeEvent(decoded.events[i] as EventSource, ctx);
    const record = e.record;
    if (recordError) record.schema_errors.push(recordError);
    if (runError) record.schema_errors.push(runError);
    const own = eventCategory(e, run.engine);
    let piece = -1;
    if (pieces !== undefined) {
      const k = pieces.pieceOf[i] as number;
      if (k !== lastPiece) piece = lastPiece = k;
    }
    if (category === undefined) {
      firstCategory = own;
      category = mappedCategory(own, settings);
      toAudit = settings.stream === 'audit' && !settings.categories[own].locked;
      const policy = settings.categories[category];
      times = timeWindow(candidate.arrivalMs, category, run.engine);
      sampling = !policy.locked && policy.sampleRate < 1 && !hopeless;
      sampleRate = policy.sampleRate;
    }
    if (own !== firstCategory) {
      setAttribute(record.attributes, 'original_category', own);
      record.schema_errors.push(
        `category "${own}" differs from the record's category "${firstCategory}": events packed in one record share the first event's category`,
      );
    } else if (toAudit) {
      setAttribute(record.attributes, 'original_category', own);
      record.schema_errors.push(`category "${own}" is not locked: delivered as "audit" on the audit stream`);
    }
    checkEventTime(e, times as TimeWindow, ctx.arrivalIso, category, run.engine);
    if (piece >= 0 && pieceKeys[piece] === undefined) {
      // In the record's own category the time check above is the event's own; else it needs its own.
      pieceKeys[piece] =
        mappedCategory(own, settings) === category
          ? record.timestamp.slice(0, 13)
          : ownPartition(e, own, candidate.arrivalMs, run.engine);
    }
    if (sampling && record.level === 'DEBUG' && run.random() >= sampleRate) continue;
    kept++;
    if (summary === undefined) {
      summary = startSummary(record);
      keys = partitionKeysFor(category, record.timestamp);
      firstHour = record.timestamp.slice(0, 13);
    } else if (record.timestamp.slice(0, 13) !== firstHour) {
      record.schema_errors.push(
        `timestamp ${record.timestamp} is outside the record's partition (dt=${keys?.dt}, hour=${keys?.hour}): events packed in one record share the first event's partition`,
      );
    }
    addToSummary(summary, record);
    if (!hopeless) out += `${serializeRecord(record)}\n`;
  }
  if (pieces !== undefined) {
    const parts = splitParts(pieces, pieceKeys, candidate.input.recordId);
    if (parts !== undefined) {
      // Every part is transformed by a later invocation; nothing of this one is delivered or counted.
      candidate.split = parts;
      return;
    }
  }
  candidate.sampledOut = count - kept;
  if (summary === undefined || keys === undefined) return;
  candidate.summary = summary;
  if (hopeless) {
    summary.events = decoded.events.length;
    candidate.output = compactOutput(candidate, redactor, keys, decoded);
    candidate.compact = true;
    return;
  }
  candidate.output = {
    recordId: candidate.input.recordId,
    result: 'Ok',
    data: Buffer.from(out, 'utf8').toString('base64'),
    metadata: { partitionKeys: keys },
  };
}

/** The category an event of category `own` is delivered in on this stream (see `deliver`). */
function mappedCategory(own: Category, settings: TransformSettings): Category {
  return settings.stream === 'audit' && !settings.categories[own].locked ? 'audit' : own;
}

/**
 * The partition an event of another category would have alone (as the audit stream maps it, at the
 * time {@link checkEventTime} would keep under that category's window): `category/YYYY-MM-DDTHH`. Keys
 * of events in the record's own category are the bare `YYYY-MM-DDTHH`, so the two never collide.
 */
function ownPartition(e: NormalizedEvent, own: Category, arrivalMs: number, engine: Engine): string {
  const category = mappedCategory(own, engine.settings);
  const window = timeWindow(arrivalMs, category, engine);
  const ms = e.timeMs >= window.earliest && e.timeMs <= window.latest ? e.timeMs : arrivalMs;
  return `${category}/${toIso(ms).slice(0, 13)}`;
}

/**
 * The parts of a record by partition, in order of first appearance, or `undefined` when all its
 * pieces belong to one, or when a part would be larger than Firehose takes (the record is then
 * delivered whole, as without `splitPacked`). A piece in which no event starts (a blank line, a stack
 * trace's further lines, an empty log event) goes with the one before it, so that every piece is in
 * exactly one part and a multi-line event stays whole.
 */
function splitParts(
  pieces: Pieces,
  keys: ReadonlyArray<string | undefined>,
  from: string,
): SplitPart[] | undefined {
  const groups = new Map<string, number[]>();
  let current = keys.find((k) => k !== undefined);
  if (current === undefined) return undefined;
  for (let k = 0; k < pieces.count; k++) {
    current = keys[k] ?? current;
    const group = groups.get(current);
    if (group) group.push(k);
    else groups.set(current, [k]);
  }
  if (groups.size < 2) return undefined;
  const parts = [...groups.values()].map((indexes) => ({
    pieces: indexes,
    data: pieces.part(indexes, from),
  }));
  // Firehose refuses the whole PutRecordBatch call for one record over its limit (a permanent error,
  // which also ends re-ingestion for the container): a part that cannot be put is never made.
  if (parts.some((p) => p.data.length > FIREHOSE_PUT_LIMITS.maxRecordBytes)) return undefined;
  return parts;
}

const DAY_MS = 86_400_000;

/** The instants an event's own time must lie between to be kept (see {@link checkEventTime}). */
interface TimeWindow {
  readonly arrivalMs: number;
  readonly earliest: number;
  readonly latest: number;
  readonly pastMs: number;
  readonly expiryDays: number;
}

function timeWindow(arrivalMs: number, category: Category, engine: Engine): TimeWindow {
  const expiryDays = engine.settings.categories[category].expiryDays;
  const pastMs = Math.min(engine.maxPastMs, expiryDays * DAY_MS);
  return {
    arrivalMs,
    earliest: arrivalMs - pastMs,
    latest: arrivalMs + engine.maxFutureMs,
    pastMs,
    expiryDays,
  };
}

/**
 * Keeps an event's own time while it lies within its category's retention (and `maxPastHours`, if
 * set) and at most `maxFutureMinutes` ahead of arrival: backfilled history lands in its own partition.
 * Outside, the event is stamped with its arrival time, the original kept in `original_timestamp`.
 */
function checkEventTime(
  e: NormalizedEvent,
  window: TimeWindow,
  arrivalIso: string,
  category: Category,
  engine: Engine,
): void {
  if (e.timeMs >= window.earliest && e.timeMs <= window.latest) return;
  const original = e.record.timestamp;
  const reason =
    e.timeMs > window.latest
      ? `more than ${engine.settings.transform.maxFutureMinutes} minutes after arrival ${arrivalIso}`
      : window.pastMs === engine.maxPastMs
        ? `more than ${engine.settings.transform.maxPastHours} hours before arrival ${arrivalIso} (transform.maxPastHours)`
        : `older than the ${window.expiryDays}-day retention of category "${category}" at arrival ${arrivalIso}`;
  e.record.schema_errors.push(`timestamp ${original} is ${reason}: used arrival time`);
  setAttribute(e.record.attributes, 'original_timestamp', original);
  e.record.timestamp = arrivalIso;
  e.timeMs = window.arrivalMs;
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
