import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FIREHOSE_PUT_LIMITS } from '../../src/producer/pack';
import type { LogRecord } from '../../src/schema';
import {
  decodeRecords,
  responseBytes,
  SPLIT_MARKER,
  type TransformInputRecord,
  type TransformOutput,
  transformRecords,
} from '../../src/transform';
import { ARRIVAL, cwl, input, settings } from './helpers';

const HOUR = 3_600_000;
/** The hour of ARRIVAL (03:04:05): 03:00. */
const H3 = ARRIVAL - (ARRIVAL % HOUR);

interface LogEvent {
  readonly level: string;
  readonly at: number;
  readonly msg: string;
  readonly logger?: string;
}

function payload(events: readonly LogEvent[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    messageType: 'DATA_MESSAGE',
    owner: '123456789012',
    logGroup: '/aws/lambda/checkout',
    logStream: '2026/01/02/[$LATEST]abc',
    subscriptionFilters: ['loglake'],
    logEvents: events.map((e, i) => ({
      id: `${i}`,
      timestamp: e.at,
      message: JSON.stringify({
        level: e.level,
        time: new Date(e.at).toISOString(),
        msg: e.msg,
        ...(e.logger ? { logger: e.logger } : {}),
      }),
    })),
    ...extra,
  };
}

const recordsOf = (out: TransformOutput): LogRecord[] =>
  out.records.flatMap((r) => (r.result === 'Ok' ? decodeRecords(r.data) : []));

/** Transforms the parts of every split record, as Firehose would after they were put back. */
function transformParts(out: TransformOutput, arrival = ARRIVAL): TransformOutput {
  const parts: TransformInputRecord[] = out.split.flatMap((s) =>
    s.parts.map((p, k) => input(p.data, `${s.input.recordId}.${k}`, arrival)),
  );
  return transformRecords(parts, settings(), { splitPacked: true });
}

/** Each delivered record's events all lie in its partition (category, day, hour). */
function inOwnPartition(out: TransformOutput): boolean {
  return out.records.every((r) => {
    if (r.result !== 'Ok') return true;
    const keys = r.metadata?.partitionKeys;
    return decodeRecords(r.data).every(
      (e) =>
        e.timestamp.slice(0, 10) === keys?.dt &&
        e.timestamp.slice(11, 13) === keys?.hour &&
        (e.attributes.original_category ?? keys.category) === keys.category &&
        e.schema_errors.length === 0,
    );
  });
}

const MIXED: LogEvent[] = [
  { level: 'info', at: H3 - 500, msg: 'cart loaded' },
  { level: 'error', at: H3 - 400, msg: 'payment declined' },
  { level: 'info', at: H3 + 100, msg: 'cart saved' },
];

describe('records mixing partitions (splitPacked)', () => {
  it('splits a CloudWatch Logs payload by category and hour; each part lands whole in its own partition', () => {
    const out = transformRecords([input(cwl(payload(MIXED)))], settings(), { splitPacked: true });
    expect(out.records.map((r) => r.result)).toEqual(['Dropped']);
    expect(out.metrics.splitRecords).toBe(1);
    expect(out.metrics.eventsByCategory).toEqual({});
    expect(out.split[0]?.parts.map((p) => p.pieces)).toEqual([[0], [1], [2]]);

    const again = transformParts(out);
    expect(again.split).toEqual([]);
    expect(again.records.map((r) => r.metadata?.partitionKeys)).toEqual([
      { category: 'runtime', dt: '2026-01-02', hour: '02' },
      { category: 'errors', dt: '2026-01-02', hour: '02' },
      { category: 'runtime', dt: '2026-01-02', hour: '03' },
    ]);
    expect(recordsOf(again).map((r) => r.message)).toEqual(['cart loaded', 'payment declined', 'cart saved']);
    expect(inOwnPartition(again)).toBe(true);
    // The envelope's fields are kept on every event (log group, log event id).
    expect(recordsOf(again).map((r) => r.attributes['aws.log_event_id'])).toEqual(['0', '1', '2']);
  });

  it("makes parts that are the received envelope with fewer log events, gzip'd and marked", () => {
    const out = transformRecords([input(cwl(payload(MIXED)), 'rec-1')], settings(), { splitPacked: true });
    const part = JSON.parse(gunzipSync(out.split[0]?.parts[1]?.data ?? Buffer.alloc(0)).toString()) as Record<
      string,
      unknown
    >;
    expect(part).toMatchObject({
      logGroup: '/aws/lambda/checkout',
      owner: '123456789012',
      [SPLIT_MARKER]: 'rec-1',
    });
    expect(part.logEvents).toEqual([(payload(MIXED).logEvents as unknown[])[1]]);
  });

  it('keeps log events of one partition together, in order', () => {
    const events: LogEvent[] = [
      { level: 'info', at: H3 + 1, msg: 'a' },
      { level: 'error', at: H3 + 2, msg: 'b' },
      { level: 'info', at: H3 + 3, msg: 'c' },
      { level: 'error', at: H3 + 4, msg: 'd' },
    ];
    const out = transformRecords([input(cwl(payload(events)))], settings(), { splitPacked: true });
    expect(out.split[0]?.parts.map((p) => p.pieces)).toEqual([
      [0, 2],
      [1, 3],
    ]);
  });

  it('does not split a payload whose events share one partition', () => {
    const events = MIXED.map((e) => ({ ...e, level: 'info', at: H3 + 10 }));
    const out = transformRecords([input(cwl(payload(events)))], settings(), { splitPacked: true });
    expect(out.split).toEqual([]);
    expect(out.records[0]?.result).toBe('Ok');
    expect(recordsOf(out)).toHaveLength(3);
  });

  it('never splits a part again: a marked payload is delivered whole, flagged', () => {
    const out = transformRecords([input(cwl(payload(MIXED, { [SPLIT_MARKER]: 'r9' })))], settings(), {
      splitPacked: true,
    });
    expect(out.split).toEqual([]);
    const records = recordsOf(out);
    expect(records).toHaveLength(3);
    expect(records[1]?.schema_errors.join()).toContain('share the first event');
  });

  it('without splitPacked, delivers the record whole and flags the events outside its partition', () => {
    const out = transformRecords([input(cwl(payload(MIXED)))], settings());
    expect(out.split).toEqual([]);
    expect(out.records[0]?.metadata?.partitionKeys).toEqual({
      category: 'runtime',
      dt: '2026-01-02',
      hour: '02',
    });
    const records = recordsOf(out);
    expect(records[0]?.schema_errors).toEqual([]);
    expect(records[1]?.attributes.original_category).toBe('errors');
    expect(records[2]?.schema_errors.join()).toContain(
      "outside the record's partition (dt=2026-01-02, hour=02)",
    );
  });

  it('puts a blank log event with the one before it, so every log event is in exactly one part', () => {
    const p = payload(MIXED);
    const logEvents = p.logEvents as Array<Record<string, unknown>>;
    logEvents.splice(2, 0, { id: 'blank', timestamp: H3 - 300, message: '   ' });
    const out = transformRecords([input(cwl(p))], settings(), { splitPacked: true });
    expect(out.split[0]?.parts.map((part) => part.pieces)).toEqual([[0], [1, 2], [3]]);
  });

  it('leaves out the log events of delivered parts (omitPieces)', () => {
    const out = transformRecords([input(cwl(payload(MIXED)), 'r1')], settings(), {
      omitPieces: new Map([['r1', new Set([0, 2])]]),
    });
    expect(recordsOf(out).map((r) => r.message)).toEqual(['payment declined']);
    expect(out.records[0]?.metadata?.partitionKeys.category).toBe('errors');
  });

  it('splits a locked category out of a runtime payload, so it can be forwarded to the audit stream', () => {
    const events: LogEvent[] = [
      { level: 'info', at: H3 + 1, msg: 'request served' },
      { level: 'warn', at: H3 + 2, msg: 'login failed', logger: 'auth.login' },
    ];
    const s = settings();
    const out = transformRecords([input(cwl(payload(events)))], s, {
      splitPacked: true,
      forwardLocked: true,
    });
    expect(out.split[0]?.parts).toHaveLength(2);
    const parts = out.split[0]?.parts.map((p, k) => input(p.data, `p${k}`)) ?? [];
    const again = transformRecords(parts, s, { splitPacked: true, forwardLocked: true });
    expect(again.forward.map((r) => r.recordId)).toEqual(['p1']);
    expect(again.records.map((r) => r.result)).toEqual(['Ok', 'Dropped']);
  });

  describe('lines packed by a shipper that does not pack per category and hour', () => {
    const line = (e: LogEvent) =>
      JSON.stringify({ level: e.level, time: new Date(e.at).toISOString(), service: 'checkout', msg: e.msg });

    it('splits NDJSON lines by partition into marked parts, each read as the lines were', () => {
      const text = `${MIXED.map(line).join('\n')}\n`;
      const out = transformRecords([input(text, 'nd')], settings(), { splitPacked: true });
      expect(out.records[0]?.result).toBe('Dropped');
      // Three lines and the empty piece after the last newline (with the last line).
      expect(out.split[0]?.parts.map((p) => p.pieces)).toEqual([[0], [1], [2, 3]]);
      expect(JSON.parse(out.split[0]?.parts[1]?.data.toString() ?? '')).toEqual({
        [SPLIT_MARKER]: 'nd',
        text: `${line(MIXED[1] as LogEvent)}\n`,
      });
      const again = transformParts(out);
      expect(again.split).toEqual([]);
      expect(again.records.map((r) => r.metadata?.partitionKeys.category)).toEqual([
        'runtime',
        'errors',
        'runtime',
      ]);
      expect(recordsOf(again).map((r) => r.message)).toEqual([
        'cart loaded',
        'payment declined',
        'cart saved',
      ]);
      expect(inOwnPartition(again)).toBe(true);
    });

    it('reads a line shaped like a part as a line: the compact form still holds every line', () => {
      // Prepare: a producer's line that happens to look like a part, between two others.
      const forged = JSON.stringify({ [SPLIT_MARKER]: 'x', text: 'forged' });
      const text = `${line(MIXED[0] as LogEvent)}\n${forged}\n${line(MIXED[2] as LogEvent)}\n`.repeat(2_000);

      // Act: a response budget the record only fits in compact.
      const out = transformRecords([input(text, 'nd')], settings(), {
        maxResponseBytes: Math.floor(text.length * 2.2),
      });

      // Assess
      const [compact] = recordsOf(out);
      expect(compact?.schema_errors[0]).toMatch(/^oversized: /);
      expect(compact?.message.split('\n').slice(0, 3)).toEqual([
        line(MIXED[0] as LogEvent),
        forged,
        line(MIXED[2] as LogEvent),
      ]);
    });

    it('keeps a multi-line event whole: a traceback goes with its first line', () => {
      const stamp = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
      const text = [
        `${stamp(H3 - 1_000)} INFO checkout started`,
        `${stamp(H3 + 1_000)} ERROR checkout failed`,
        'Traceback (most recent call last):',
        '  File "app.py", line 3, in <module>',
        'ValueError: bad cart',
        `${stamp(H3 + 2_000)} ERROR retry failed`,
      ].join('\n');
      const out = transformRecords([input(text)], settings(), { splitPacked: true });
      expect(out.split[0]?.parts.map((p) => p.pieces)).toEqual([[0], [1, 2, 3, 4, 5]]);
      const records = recordsOf(transformParts(out));
      expect(records.map((r) => [r.level, r.error_type])).toEqual([
        ['INFO', null],
        ['ERROR', 'ValueError'],
        ['ERROR', null],
      ]);
      expect(records[1]?.stack_trace).toContain('ValueError: bad cart');
    });

    it('keeps the partial (P) entries of a CRI line with their final (F) entry', () => {
      const cri = (ms: number, tag: 'P' | 'F', text: string) =>
        `${new Date(ms).toISOString()} stdout ${tag} ${text}`;
      const text = [
        cri(H3 - 1_000, 'F', JSON.stringify({ level: 'info', msg: 'first' })),
        cri(H3 + 1_000, 'P', '{"level":"error",'),
        cri(H3 + 1_000, 'F', '"msg":"joined"}'),
      ].join('\n');
      const out = transformRecords([input(text)], settings(), { splitPacked: true });
      expect(out.split[0]?.parts.map((p) => p.pieces)).toEqual([[0], [1, 2]]);
      expect(recordsOf(transformParts(out)).map((r) => [r.level, r.message])).toEqual([
        ['INFO', 'first'],
        ['ERROR', 'joined'],
      ]);
    });

    it('leaves out the lines of delivered parts (omitPieces)', () => {
      const text = MIXED.map(line).join('\n');
      const out = transformRecords([input(text, 'r1')], settings(), {
        omitPieces: new Map([['r1', new Set([1])]]),
      });
      expect(recordsOf(out).map((r) => r.message)).toEqual(['cart loaded', 'cart saved']);
    });

    it('keeps the lines of delivered parts out of the compact form too (omitPieces)', () => {
      // Prepare: the record's two hour-02 lines went out as a part; the rest is delivered here, and the
      // response budget leaves room only for the compact form.
      const lines = Array.from({ length: 20 }, (_, i) =>
        line({ level: 'info', at: i < 2 ? H3 - 500 : H3 + 100, msg: i < 2 ? `sent-${i}` : `here-${i}` }),
      );
      const record = input(lines.join('\n'), 'r1');
      const omitPieces = new Map([['r1', new Set([0, 1])]]);
      const full = responseBytes(transformRecords([record], settings(), { omitPieces }).records);

      // Act
      const out = transformRecords([record], settings(), { omitPieces, maxResponseBytes: full - 1 });

      // Assess
      expect(out.records[0]?.result).toBe('Ok');
      const compact = recordsOf(out);
      expect(compact).toHaveLength(1);
      expect(compact[0]?.schema_errors.join()).toContain('oversized: 18 events');
      expect(compact[0]?.message).toContain('here-19');
      expect(compact[0]?.message).not.toContain('sent-');
    });

    it('does not split a record when a part would be larger than Firehose takes (1,000 KiB)', () => {
      // Prepare: a record Firehose accepted (under 1,000 KiB) whose lines, quoted in a part's JSON
      // document, grow past the limit: a put of that part would be refused.
      const lines = [line({ level: 'info', at: H3 - 500, msg: 'the hour before' })];
      const filler = line({ level: 'info', at: H3 + 100, msg: 'x'.repeat(100) });
      while (lines.length * (filler.length + 1) < 1_000_000) lines.push(filler);
      const text = lines.join('\n');
      expect(Buffer.byteLength(text)).toBeLessThanOrEqual(FIREHOSE_PUT_LIMITS.maxRecordBytes);
      const recordId = '49546986683135544286507457936321625675700192471156785154';

      // Act
      const out = transformRecords([input(text, recordId)], settings(), { splitPacked: true });

      // Assess: delivered whole here, the event of the other hour flagged, rather than a part nobody takes.
      for (const part of out.split.flatMap((s) => s.parts)) {
        expect(part.data.length).toBeLessThanOrEqual(FIREHOSE_PUT_LIMITS.maxRecordBytes);
      }
      expect(out.split).toEqual([]);
      expect(out.records[0]?.result).toBe('Ok');
      expect(out.records[0]?.metadata?.partitionKeys.hour).toBe('02');
      const records = recordsOf(out);
      expect(records).toHaveLength(lines.length);
      expect(records[1]?.schema_errors.join()).toContain("outside the record's partition");
    });

    it('loses no line of a record whose lines include a CloudWatch Logs payload', () => {
      // Prepare: packed lines, one of them a (decompressed) CloudWatch Logs payload whose log events
      // belong to another hour than the line before it.
      const payloadLine = JSON.stringify(
        payload([
          { level: 'info', at: H3 + 10, msg: 'log event a' },
          { level: 'error', at: H3 + 20, msg: 'log event b' },
        ]),
      );
      const text = [
        line({ level: 'info', at: H3 - 5, msg: 'line before' }),
        payloadLine,
        line({ level: 'info', at: H3 + 5, msg: 'line after' }),
      ].join('\n');

      // Act
      const out = transformRecords([input(text, 'nd')], settings(), { splitPacked: true });

      // Assess: every event delivered once, here or in a part.
      const delivered = [...recordsOf(out), ...recordsOf(transformParts(out))].map((r) => r.message);
      expect(delivered.sort()).toEqual(['line after', 'line before', 'log event a', 'log event b']);
    });

    it('does not split one pretty-printed document', () => {
      const text = JSON.stringify(
        { level: 'error', time: new Date(H3 - 5).toISOString(), msg: 'x' },
        null,
        2,
      );
      const out = transformRecords([input(text)], settings(), { splitPacked: true });
      expect(out.split).toEqual([]);
      expect(out.records[0]?.result).toBe('Ok');
    });

    it('property: the parts hold every line exactly once, each event in its own partition', () => {
      const level = fc.constantFrom('debug', 'info', 'warn', 'error', 'critical');
      const at = fc.integer({ min: -2 * HOUR, max: 10 * 60_000 }).map((d) => ARRIVAL + d);
      const events = fc.array(fc.record({ level, at }), { minLength: 1, maxLength: 12 });
      fc.assert(
        fc.property(events, fc.boolean(), (list, trailingNewline) => {
          const lines = list.map((e, i) => line({ ...e, msg: `line-${i}` }));
          const text = lines.join('\n') + (trailingNewline ? '\n' : '');
          const out = transformRecords([input(text)], settings(), { splitPacked: true });
          const again = transformParts(out);
          const delivered = [...recordsOf(out), ...recordsOf(again)].map((r) => r.message).sort();
          expect(delivered).toEqual(list.map((_, i) => `line-${i}`).sort());
          expect(again.split).toEqual([]);
          expect(inOwnPartition(out) && inOwnPartition(again)).toBe(true);
        }),
        { numRuns: 150 },
      );
    });
  });

  it('property: the parts hold every event exactly once, each in its own partition', () => {
    const level = fc.constantFrom('debug', 'info', 'warn', 'error', 'critical');
    // Within two hours either side of ARRIVAL (inside every category's window), across hour edges.
    const at = fc.integer({ min: -2 * HOUR, max: 10 * 60_000 }).map((d) => ARRIVAL + d);
    const events = fc.array(fc.record({ level, at }), { minLength: 1, maxLength: 12 });
    fc.assert(
      fc.property(events, (list) => {
        const logEvents = list.map((e, i) => ({ ...e, msg: `event-${i}` }));
        const s = settings();
        const out = transformRecords([input(cwl(payload(logEvents)))], s, { splitPacked: true });
        const parts = out.split.flatMap((r) => r.parts.map((p, k) => input(p.data, `p${k}`)));
        const again = transformRecords(parts, s, { splitPacked: true });
        const delivered = [...recordsOf(out), ...recordsOf(again)].map((r) => r.message).sort();
        expect(delivered).toEqual(logEvents.map((e) => e.msg).sort());
        expect(again.split).toEqual([]);
        expect(inOwnPartition(out) && inOwnPartition(again)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });
});
