import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../src/schema';
import { ARRIVAL, json, normalizeOne, settings, transformOne } from './helpers';

const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();
const event = (timeMs: number, extra: Record<string, unknown> = {}) =>
  json({ time: iso(timeMs), level: 'info', service: 'billing', msg: 'imported', ...extra });

describe('event time and backfill', () => {
  it("keeps a backfilled event's own time within its category's retention, and partitions by it", () => {
    const time = ARRIVAL - 20 * DAY - 3 * 3_600_000;
    const { output, records } = transformOne(event(time));
    expect(records[0]?.timestamp).toBe(iso(time));
    expect(records[0]?.schema_errors).toEqual([]);
    expect(output.metadata?.partitionKeys).toEqual({
      category: 'runtime',
      dt: iso(time).slice(0, 10),
      hour: iso(time).slice(11, 13),
    });
  });

  it("bounds the past by each category's retention", () => {
    const old = ARRIVAL - 60 * DAY;
    // errors keep 90 days, runtime 30, debug 14.
    expect(normalizeOne(event(old, { level: 'error' })).timestamp).toBe(iso(old));
    expect(normalizeOne(event(old)).timestamp).toBe(iso(ARRIVAL));
    const debug = normalizeOne(event(ARRIVAL - 20 * DAY, { level: 'debug' }));
    expect(debug.timestamp).toBe(iso(ARRIVAL));
    expect(debug.schema_errors[0]).toMatch(/older than the 14-day retention of category "debug"/);
  });

  it('keeps years-old audit events (7-year retention)', () => {
    const time = ARRIVAL - 2 * 365 * DAY;
    const { output, records } = transformOne(event(time, { audit: true }));
    expect(output.metadata?.partitionKeys.category).toBe('audit');
    expect(records[0]?.timestamp).toBe(iso(time));
  });

  it('honours a configured maxPastHours below the retention', () => {
    const s = settings('logs', { transform: { maxPastHours: 48 } });
    const time = ARRIVAL - 3 * DAY;
    const record = normalizeOne(event(time), s);
    expect(record.timestamp).toBe(iso(ARRIVAL));
    expect(record.attributes.original_timestamp).toBe(iso(time));
    expect(record.schema_errors[0]).toMatch(
      /more than 48 hours before arrival .* \(transform\.maxPastHours\)/,
    );
  });

  it('flags an event from too far in the future and uses its arrival time', () => {
    const time = ARRIVAL + 16 * 60_000;
    const record = normalizeOne(event(time));
    expect(record.timestamp).toBe(iso(ARRIVAL));
    expect(record.schema_errors[0]).toMatch(/is more than 15 minutes after arrival/);
  });

  it('flags only the events of a packed record that fall outside', () => {
    const lines = [event(ARRIVAL - 2 * DAY), event(ARRIVAL - 45 * DAY), event(ARRIVAL - 10 * DAY)].join('\n');
    const { records } = transformOne(lines);
    const usedArrival = (r: LogRecord) => r.schema_errors.filter((e) => e.endsWith('used arrival time'));
    expect(records.map((r) => usedArrival(r).length)).toEqual([0, 1, 0]);
    // Packed in one record, the later events share the first one's partition, and say so.
    const outside = (r: LogRecord) =>
      r.schema_errors.filter((e) => e.includes("outside the record's partition"));
    expect(records.map((r) => outside(r).length)).toEqual([0, 1, 1]);
    expect(records.map((r) => r.timestamp)).toEqual([
      iso(ARRIVAL - 2 * DAY),
      iso(ARRIVAL),
      iso(ARRIVAL - 10 * DAY),
    ]);
  });
});
