/**
 * The transform's counters: per-record summaries of delivered events, and the per-call totals the
 * handler publishes as CloudWatch metrics.
 */
import type { Level, LogRecord } from '../schema';
import type { Candidate, Summary } from './candidate';
import type { TransformMetrics } from './types';

const LEVEL_RANK: Readonly<Record<Level, number>> = { DEBUG: 0, INFO: 1, WARN: 2, ERROR: 3, CRITICAL: 4 };

export function emptyMetrics(): TransformMetrics {
  return {
    records: { Ok: 0, Dropped: 0, ProcessingFailed: 0 },
    recordsByCategory: {},
    eventsByCategory: {},
    redactions: {},
    eventsWithSchemaErrors: 0,
    unparseableEvents: 0,
    sampledOutEvents: 0,
    controlMessages: 0,
    oversizedRecords: 0,
    forwardedRecords: 0,
    deferredRecords: 0,
    auditForwardFailed: 0,
    reingestFailed: 0,
    splitRecords: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
}

/** Adds `b` into `a` (for metrics of several `transformRecords` calls in one invocation). */
export function mergeMetrics(a: TransformMetrics, b: TransformMetrics): TransformMetrics {
  const sum = <K extends string>(x: Partial<Record<K, number>>, y: Partial<Record<K, number>>) => {
    for (const k of Object.keys(y) as K[]) x[k] = (x[k] ?? 0) + (y[k] ?? 0);
  };
  sum(a.records, b.records);
  sum(a.recordsByCategory, b.recordsByCategory);
  sum(a.eventsByCategory, b.eventsByCategory);
  sum(a.redactions, b.redactions);
  a.eventsWithSchemaErrors += b.eventsWithSchemaErrors;
  a.unparseableEvents += b.unparseableEvents;
  a.sampledOutEvents += b.sampledOutEvents;
  a.controlMessages += b.controlMessages;
  a.oversizedRecords += b.oversizedRecords;
  a.forwardedRecords += b.forwardedRecords;
  a.deferredRecords += b.deferredRecords;
  a.auditForwardFailed += b.auditForwardFailed;
  a.reingestFailed += b.reingestFailed;
  a.splitRecords += b.splitRecords;
  a.bytesIn += b.bytesIn;
  a.bytesOut += b.bytesOut;
  return a;
}

/** The summary of a record's delivered events (at least one). */
export function summarize(records: readonly LogRecord[]): Summary {
  const summary = startSummary(records[0] as LogRecord);
  for (const r of records) addToSummary(summary, r);
  return summary;
}

/** An empty summary whose first event is `first` (count it with {@link addToSummary}). */
export function startSummary(first: LogRecord): Summary {
  return {
    events: 0,
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
}

/** Counts one delivered event into `summary` (as the event is written, so it need not be kept). */
export function addToSummary(summary: Summary, r: LogRecord): void {
  summary.events++;
  if (r.schema_errors.length > 0) {
    summary.eventsWithSchemaErrors++;
    if (r.schema_errors.some((e) => e.startsWith('unparseable'))) summary.unparseable++;
  }
  for (const kind in r.redactions)
    summary.redactions[kind] = (summary.redactions[kind] ?? 0) + (r.redactions[kind] ?? 0);
  if (LEVEL_RANK[r.level] > LEVEL_RANK[summary.level]) summary.level = r.level;
}

/** Totals over the records of one call, from their final outputs. */
export function collectMetrics(candidates: readonly Candidate[]): TransformMetrics {
  const m = emptyMetrics();
  for (const c of candidates) {
    m.bytesIn += Math.floor((c.input.data?.length ?? 0) * 0.75);
    m.records[c.output.result]++;
    if (c.control) m.controlMessages++;
    if (c.compact) m.oversizedRecords++;
    if (c.forwarded) m.forwardedRecords++;
    if (c.deferred) m.deferredRecords++;
    if (c.split) m.splitRecords++;
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
