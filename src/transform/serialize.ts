/**
 * The output encoding: one {@link LogRecord} per NDJSON line, and the partition keys Firehose receives.
 */
import type { Category, LogRecord, PartitionKeys } from '../schema';
import { toIso } from './timestamp';

/** `{ category, dt, hour }` from an instant (epoch ms, or its ISO-8601 UTC text). */
export function partitionKeysFor(category: Category, time: number | string): PartitionKeys {
  const iso = typeof time === 'string' ? time : toIso(time);
  return { category, dt: iso.slice(0, 10), hour: iso.slice(11, 13) };
}

function json(value: string | null): string {
  return value === null ? 'null' : JSON.stringify(value);
}

/** `JSON.stringify` of a map, `{}` without the call when it is empty (most events' metrics, redactions). */
function map(value: Readonly<Record<string, unknown>>): string {
  for (const _ in value) return JSON.stringify(value);
  return '{}';
}

/**
 * `JSON.stringify(record)`, written out column by column: the same bytes (column order is the
 * `LogRecord` order, and a test holds the two equal), about a fifth faster on the hot path. Timestamps
 * and levels are plain ASCII by construction and need no escaping.
 */
export function serializeRecord(r: LogRecord): string {
  return `{"timestamp":"${r.timestamp}","level":"${r.level}","service":${JSON.stringify(r.service)},"logger":${json(r.logger)},"message":${JSON.stringify(r.message)},"correlation_id":${json(r.correlation_id)},"trace_id":${json(r.trace_id)},"span_id":${json(r.span_id)},"user_id":${json(r.user_id)},"error_type":${json(r.error_type)},"stack_trace":${json(r.stack_trace)},"duration_ms":${r.duration_ms === null ? 'null' : JSON.stringify(r.duration_ms)},"http_method":${json(r.http_method)},"http_path":${json(r.http_path)},"http_status":${r.http_status === null ? 'null' : JSON.stringify(r.http_status)},"attributes":${map(r.attributes)},"metrics":${map(r.metrics)},"redactions":${map(r.redactions)},"ingest_time":"${r.ingest_time}","schema_errors":${r.schema_errors.length === 0 ? '[]' : JSON.stringify(r.schema_errors)},"message_template":${json(r.message_template)}}`;
}

/** NDJSON of records, each line ending in `\n`. */
export function encodeRecords(records: readonly LogRecord[]): string {
  let out = '';
  for (const r of records) out += `${serializeRecord(r)}\n`;
  return out;
}
