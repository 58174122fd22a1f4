/**
 * Keeping the Firehose response under Lambda's 6 MB: the size of each output entry without serializing
 * the response, deferral of whole records for re-ingestion, the compact flagged form, and
 * `ProcessingFailed` as the last resort (Firehose writes the raw bytes under the error prefix).
 */
import { parseKeepingIntegers } from '../exact-json';
import { messageTemplate } from '../patterns/mask';
import type { Redactor } from '../redact/redactor';
import type { LogRecord, PartitionKeys } from '../schema';
import type { Candidate, Summary } from './candidate';
import { type DecodedRecord, decodeRecord } from './decode';
import { summarize } from './metrics';
import { encodeRecords } from './serialize';
import type { TransformInputRecord, TransformOutputRecord } from './types';

/** Lambda's synchronous response limit (6 MB). */
export const LAMBDA_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024;

/**
 * Default response budget: below the Lambda limit, leaving room for the handler's own adjustments
 * (a schema error added when audit forwarding fails).
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 6_000_000;

/**
 * Smallest output of one event: a record with all columns, empty values and two timestamps is ~340
 * bytes of JSON, ~450 in base64. A record with more events than the budget holds at that size cannot be
 * delivered in full, so it goes straight to the compact form.
 */
export const MIN_EVENT_OUTPUT_BYTES = 440;

/** `{"records":[` + `]}` */
const ENVELOPE_BYTES = 14;

/** Length of `JSON.stringify(s)` without serializing when `s` needs no escaping (the common case). */
function jsonLength(s: string): number {
  return /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/.test(s)
    ? s.length + 2
    : Buffer.byteLength(JSON.stringify(s), 'utf8');
}

/** Bytes this record adds to the serialized response (including the separating comma). */
export function entrySize(output: TransformOutputRecord): number {
  // {"recordId":…,"result":…,"data":"…"} — `data` is base64 (ASCII, no escaping).
  let size = 33 + jsonLength(output.recordId) + jsonLength(output.result) + output.data.length + 1;
  const keys = output.metadata?.partitionKeys;
  if (keys) {
    // ,"metadata":{"partitionKeys":{"category":…,"dt":…,"hour":…}}
    size += 57 + jsonLength(keys.category) + jsonLength(keys.dt) + jsonLength(keys.hour);
  }
  return size;
}

/** Size in bytes of `JSON.stringify({ records })`, without serializing the data again. */
export function responseBytes(records: readonly TransformOutputRecord[]): number {
  let total = ENVELOPE_BYTES;
  for (const r of records) total += entrySize(r);
  return total;
}

function totalSize(candidates: readonly Candidate[]): number {
  let total = ENVELOPE_BYTES;
  for (const c of candidates) total += c.size;
  return total;
}

/** The input bytes of a record (a missing `data` reads as empty). */
export function inputBytes(input: TransformInputRecord): Buffer {
  return Buffer.from(typeof input.data === 'string' ? input.data : '', 'base64');
}

/** `ProcessingFailed` echoing the record's original data. */
export function processingFailed(input: TransformInputRecord): TransformOutputRecord {
  return {
    recordId: input.recordId,
    result: 'ProcessingFailed',
    data: typeof input.data === 'string' ? input.data : '',
  };
}

/**
 * The compact flagged form of a record: one row whose message is the record's text redacted line by
 * line (JSON lines field by field), instead of one row per event. Used only to stay under the
 * response limit; the row says so in `schema_errors`.
 */
export function compactOutput(
  candidate: Candidate,
  redactor: Redactor,
  keys: PartitionKeys,
  decoded?: DecodedRecord,
): TransformOutputRecord {
  const summary = candidate.summary as Summary;
  const again =
    decoded ??
    decodeRecord(inputBytes(candidate.input), candidate.omit ? { omitPieces: candidate.omit } : {});
  const text = again.kind === 'events' ? again.text : '';
  const counts: Record<string, number> = {};
  const lines = text.split('\n').map((line) => {
    const t = line.trim();
    if (t.startsWith('{') || t.startsWith('[')) {
      try {
        return JSON.stringify(redactor.value('', parseKeepingIntegers(t), counts));
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
    attributes: {},
    metrics: { oversized_events: summary.events },
    redactions: counts,
    ingest_time: summary.first.ingest_time,
    schema_errors: [
      `oversized: ${summary.events} events kept as one flagged record (message holds the redacted record text) to keep the Firehose response under 6 MB`,
      // What every event would have said of the whole record (why it is in this stream, its bytes).
      ...(again.kind === 'events' && again.recordError !== undefined ? [again.recordError] : []),
      ...(candidate.runError !== undefined ? [candidate.runError] : []),
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

/** Sets `Ok` records aside (as `Dropped`), oldest first, until the response fits; see `deferOversized`. */
export function deferOldest(candidates: Candidate[], maxBytes: number): TransformInputRecord[] {
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

/**
 * Shrinks the largest `Ok` records to their compact form until the response fits within `maxBytes`;
 * if that is not enough, the largest go to the error prefix (raw), then lose even their echo.
 */
export function fitResponse(candidates: Candidate[], maxBytes: number, redactor: Redactor): void {
  let total = totalSize(candidates);
  if (total <= maxBytes) return;
  const largest = candidates
    .filter((c) => c.output.result === 'Ok' && !c.compact)
    .sort((a, b) => b.size - a.size);
  for (const c of largest) {
    if (total <= maxBytes) return;
    const keys = c.output.metadata?.partitionKeys;
    if (!keys || !c.summary) continue;
    const summary = c.summary;
    let output: TransformOutputRecord;
    try {
      output = compactOutput(c, redactor, keys);
    } catch {
      // A defect must not fail the batch: this record stays whole, and goes to the error prefix below
      // if the response still does not fit.
      c.summary = summary;
      continue;
    }
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
      c.summary = undefined;
    }
  }
}
