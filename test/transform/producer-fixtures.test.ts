import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FirehoseTransformationEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../src/schema';
import { decodeRecords, FirehoseProcessor, type RecordSink } from '../../src/transform';
import { settings } from './helpers';

// Every recorded producer fixture (test/fixtures/producers/<library>/) through the real transform, as
// Firehose delivers it: base64 records in a Firehose transformation event. Each expected event's lines
// are one record, as a collector or a CloudWatch Logs subscription delivers one (multi-line) log event;
// the whole output is also sent as one record, where the transform itself must find the event
// boundaries. expected.json is asserted column by column.

const PRODUCERS = join(__dirname, '..', 'fixtures', 'producers');
/** 2026-12-03T18:00:00.000Z: after every fixture's own time, well within every retention. */
const ARRIVAL = Date.UTC(2026, 11, 3, 18);
const ARRIVAL_ISO = new Date(ARRIVAL).toISOString();

type Columns = Pick<
  LogRecord,
  | 'level'
  | 'service'
  | 'logger'
  | 'message'
  | 'correlation_id'
  | 'trace_id'
  | 'span_id'
  | 'error_type'
  | 'stack_trace'
  | 'duration_ms'
  | 'attributes'
  | 'metrics'
> & { timestamp: string | null };

interface Expected {
  events: Array<{ lines: number[]; logRecord?: string; record: Columns }>;
}

const COLUMNS = [
  'timestamp',
  'level',
  'service',
  'logger',
  'message',
  'correlation_id',
  'trace_id',
  'span_id',
  'error_type',
  'stack_trace',
  'duration_ms',
] as const satisfies ReadonlyArray<keyof Columns>;

/** Attributes the transform adds about delivery, not about the producer's event. */
const DELIVERY_ATTRIBUTES = new Set(['original_category']);

const noSink: RecordSink = {
  put() {
    throw new Error('a producer fixture must not be forwarded or re-ingested');
  },
};

function event(groups: readonly string[]): FirehoseTransformationEvent {
  return {
    invocationId: 'producer-fixtures',
    deliveryStreamArn: 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/loglake-logs',
    region: 'eu-west-1',
    records: groups.map((data, i) => ({
      recordId: String(i),
      approximateArrivalTimestamp: ARRIVAL,
      data: Buffer.from(data, 'utf8').toString('base64'),
    })),
  };
}

/** One Firehose record per group of lines; every event record decoded, in order. */
async function transform(groups: readonly string[]): Promise<LogRecord[][]> {
  const processor = new FirehoseProcessor(settings('logs'), { sink: noSink });
  const firehose = event(groups);
  const result = await processor.process(firehose.records, 'loglake-logs');
  return result.records.map((r) => {
    expect(r.result, `record ${r.recordId}`).toBe('Ok');
    return decodeRecords(r.data);
  });
}

function expectRecord(actual: LogRecord | undefined, want: Columns, where: string): void {
  expect(actual, where).toBeDefined();
  const got = actual as LogRecord;
  for (const column of COLUMNS) {
    // A required column the producer has no value for gets the record contract's default
    // (docs/design.md): the arrival time, service "unknown" (with a schema error saying so).
    const value =
      column === 'timestamp'
        ? (want.timestamp ?? ARRIVAL_ISO)
        : column === 'service'
          ? (want.service ?? 'unknown')
          : want[column];
    expect(got[column], `${where}: ${column}`).toEqual(value);
  }
  const attributes = Object.fromEntries(
    Object.entries(got.attributes).filter(([k]) => !DELIVERY_ATTRIBUTES.has(k)),
  );
  expect(attributes, `${where}: attributes`).toEqual(want.attributes);
  expect(got.metrics, `${where}: metrics`).toEqual(want.metrics);
}

const folders = readdirSync(PRODUCERS).filter((name) => statSync(join(PRODUCERS, name)).isDirectory());

describe.each(folders)('producer %s', (name) => {
  const dir = join(PRODUCERS, name);
  const source = JSON.parse(readFileSync(join(dir, 'source.json'), 'utf8')) as { output: string };
  const text = readFileSync(join(dir, source.output), 'utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
  // Events sharing their lines (one OTLP export line, several log records) come from one record.
  const groups = [...new Set(expected.events.map((e) => e.lines.join(',')))];

  it('reads each event, delivered as its own record, as expected.json says', async () => {
    // Act
    const records = await transform(
      groups.map(
        (g) =>
          `${g
            .split(',')
            .map((n) => lines[Number(n) - 1])
            .join('\n')}\n`,
      ),
    );

    // Assess
    const byGroup = new Map(groups.map((g, i) => [g, [...(records[i] ?? [])]]));
    for (const [i, e] of expected.events.entries()) {
      const got = byGroup.get(e.lines.join(','))?.shift();
      expectRecord(got, e.record, `event ${i + 1} (lines ${e.lines.join(',')})`);
    }
    for (const [g, rest] of byGroup) expect(rest, `extra events from lines ${g}`).toEqual([]);
  });

  it('finds the same events in the whole output sent as one record', async () => {
    // Act: one record; where its events belong to several partitions it is split, and Firehose brings
    // the parts back to the function.
    const parts: Uint8Array[] = [];
    const sink: RecordSink = {
      async put(_stream, records) {
        parts.push(...records);
        return { delivered: records.map(() => true), permanent: false, attempts: 1, errorCodes: [] };
      },
    };
    const processor = new FirehoseProcessor(settings('logs'), { sink });
    const first = await processor.process(event([text]).records, 'loglake-logs');
    const again = await processor.process(
      parts.map((p, i) => ({
        recordId: `part-${i}`,
        approximateArrivalTimestamp: ARRIVAL,
        data: Buffer.from(p).toString('base64'),
      })),
      'loglake-logs',
    );
    const records = [...first.records, ...again.records].flatMap((r) =>
      r.result === 'Ok' ? decodeRecords(r.data) : [],
    );

    // Assess: boundaries, levels, messages and stacks, each event once (a split groups them by
    // partition, so in another order).
    const columns = (r: Pick<LogRecord, 'level' | 'message' | 'error_type' | 'stack_trace'>) =>
      JSON.stringify([r.level, r.message, r.error_type, r.stack_trace]);
    expect(records.map(columns).sort()).toEqual(
      expected.events.map((e) => columns(e.record as LogRecord)).sort(),
    );
    expect(parts.length === 0 || first.records[0]?.result === 'Dropped').toBe(true);
  });
});
