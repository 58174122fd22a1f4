import { describe, expect, it } from 'vitest';
import {
  decodeRecords,
  FirehoseProcessor,
  FORWARD_FAILED_ERROR,
  LAMBDA_RESPONSE_LIMIT_BYTES,
  type RecordSink,
  type SinkResult,
  SPLIT_FAILED_ERROR,
  streamNameFromArn,
  type TransformInputRecord,
} from '../../src/transform';
import { ARRIVAL, cwl, input, json, settings } from './helpers';

/** An in-memory Firehose: records what was put, and answers per record as `accept` says. */
class MemorySink implements RecordSink {
  readonly puts: Array<{ stream: string; records: string[] }> = [];

  constructor(
    private readonly accept: (stream: string, index: number) => boolean = () => true,
    private readonly permanent = false,
  ) {}

  async put(stream: string, records: readonly Uint8Array[]): Promise<SinkResult> {
    this.puts.push({ stream, records: records.map((r) => Buffer.from(r).toString('utf8')) });
    const delivered = records.map((_, i) => this.accept(stream, i));
    const failed = delivered.some((d) => !d);
    return {
      delivered,
      permanent: this.permanent && failed,
      attempts: 1,
      errorCodes: failed ? [this.permanent ? 'AccessDeniedException' : 'ServiceUnavailableException'] : [],
    };
  }
}

const locked = json({ level: 'info', service: 'admin', logger: 'breakglass', message: 'role assumed' });
const plain = json({ level: 'info', service: 'api', message: 'hello' });

/** Records big enough that twelve of them overflow one response. */
function bulky(count: number): TransformInputRecord[] {
  const line = json({ level: 'info', service: 'bulk', msg: 'x'.repeat(40), n: 1 });
  const data = `${Array.from({ length: 2_400 }, () => line).join('\n')}\n`;
  return Array.from({ length: count }, (_, i) => input(data, `big-${i}`, ARRIVAL + i));
}

describe('FirehoseProcessor', () => {
  it('forwards locked-category records to the audit stream and returns them Dropped', async () => {
    const sink = new MemorySink();
    const processor = new FirehoseProcessor(settings('logs'), { sink, auditStream: 'loglake-audit' });

    const result = await processor.process([input(locked, 'a'), input(plain, 'b')], 'loglake-logs');

    expect(result.records.map((r) => [r.recordId, r.result])).toEqual([
      ['a', 'Dropped'],
      ['b', 'Ok'],
    ]);
    expect(sink.puts).toEqual([{ stream: 'loglake-audit', records: [locked] }]);
    expect(result.metrics).toMatchObject({ forwardedRecords: 1, auditForwardFailed: 0 });
    expect(result.failures).toEqual([]);
  });

  it('keeps a record it could not forward, with a schema error, and reports the failure', async () => {
    const sink = new MemorySink(() => false);
    const processor = new FirehoseProcessor(settings('logs'), { sink, auditStream: 'loglake-audit' });

    const result = await processor.process([input(locked, 'a'), input(plain, 'b')], 'loglake-logs');

    expect(result.records.map((r) => r.result)).toEqual(['Ok', 'Ok']);
    expect(result.records[0]?.metadata?.partitionKeys.category).toBe('audit');
    expect(decodeRecords(result.records[0]?.data ?? '')[0]?.schema_errors).toContain(FORWARD_FAILED_ERROR);
    expect(decodeRecords(result.records[1]?.data ?? '')[0]?.schema_errors).not.toContain(
      FORWARD_FAILED_ERROR,
    );
    expect(result.metrics).toMatchObject({ forwardedRecords: 0, auditForwardFailed: 1 });
    expect(result.metrics.records).toEqual({ Ok: 2, Dropped: 0, ProcessingFailed: 0 });
    expect(result.failures).toEqual([
      expect.objectContaining({
        purpose: 'forward to the audit stream',
        stream: 'loglake-audit',
        records: 1,
      }),
    ]);
  });

  it('does not forward on the audit stream, nor without an audit stream', async () => {
    const sink = new MemorySink();
    const onAudit = new FirehoseProcessor(settings('audit'), { sink, auditStream: 'loglake-audit' });
    const without = new FirehoseProcessor(settings('logs'), { sink });

    const a = await onAudit.process([input(locked)], 'loglake-audit');
    const b = await without.process([input(locked)], 'loglake-logs');

    expect(sink.puts).toEqual([]);
    expect([a.records[0]?.result, b.records[0]?.result]).toEqual(['Ok', 'Ok']);
  });

  it('re-ingests what does not fit one response into its own stream', async () => {
    const sink = new MemorySink();
    const processor = new FirehoseProcessor(settings('logs'), { sink });
    const inputs = bulky(12);

    const result = await processor.process(inputs, 'loglake-logs');

    const dropped = result.records.filter((r) => r.result === 'Dropped').map((r) => r.recordId);
    expect(dropped.length).toBeGreaterThan(0);
    expect(sink.puts.every((p) => p.stream === 'loglake-logs')).toBe(true);
    expect(sink.puts.flatMap((p) => p.records)).toHaveLength(dropped.length);
    expect(result.metrics.deferredRecords).toBe(dropped.length);
    expect(Buffer.byteLength(JSON.stringify({ records: result.records }))).toBeLessThanOrEqual(
      LAMBDA_RESPONSE_LIMIT_BYTES,
    );
  });

  it('re-ingests nothing when the stream name is unknown', async () => {
    const sink = new MemorySink();
    const processor = new FirehoseProcessor(settings('logs'), { sink });

    const result = await processor.process(bulky(12), undefined);

    expect(sink.puts).toEqual([]);
    expect(result.records.every((r) => r.result === 'Ok')).toBe(true);
  });

  it('delivers records it could not re-ingest here, compacted within the shared budget', async () => {
    // The first deferred record is accepted, the others are not.
    const sink = new MemorySink((_stream, index) => index === 0);
    const processor = new FirehoseProcessor(settings('logs'), { sink });
    const inputs = bulky(12);

    const result = await processor.process(inputs, 'loglake-logs');

    expect(result.records.map((r) => r.recordId)).toEqual(inputs.map((r) => r.recordId));
    expect(result.records.filter((r) => r.result === 'Dropped')).toHaveLength(1);
    expect(result.metrics).toMatchObject({ deferredRecords: 1 });
    expect(result.metrics.reingestFailed).toBeGreaterThan(0);
    expect(result.metrics.oversizedRecords).toBeGreaterThan(0);
    expect(Buffer.byteLength(JSON.stringify({ records: result.records }))).toBeLessThanOrEqual(
      LAMBDA_RESPONSE_LIMIT_BYTES,
    );
  });

  it('stops re-ingesting after a permanent error, for the life of the processor', async () => {
    const sink = new MemorySink(() => false, true);
    const processor = new FirehoseProcessor(settings('logs'), { sink });

    const first = await processor.process(bulky(12), 'loglake-logs');
    await processor.process(bulky(12), 'loglake-logs');

    expect(sink.puts).toHaveLength(1);
    expect(first.records.every((r) => r.result === 'Ok')).toBe(true);
    expect(first.failures[0]).toMatchObject({ purpose: 're-ingest oversized records', permanent: true });
  });

  describe('a CloudWatch Logs payload mixing categories', () => {
    const payload = () =>
      cwl({
        messageType: 'DATA_MESSAGE',
        owner: '123456789012',
        logGroup: '/aws/lambda/api',
        logStream: 's',
        subscriptionFilters: ['loglake'],
        logEvents: [
          { id: '1', timestamp: ARRIVAL - 2_000, message: json({ level: 'info', msg: 'one' }) },
          { id: '2', timestamp: ARRIVAL - 1_000, message: json({ level: 'error', msg: 'two' }) },
          { id: '3', timestamp: ARRIVAL - 500, message: json({ level: 'info', msg: 'three' }) },
        ],
      });

    it('puts its parts into its own stream and returns it Dropped', async () => {
      const sink = new MemorySink();
      const processor = new FirehoseProcessor(settings('logs'), { sink });

      const result = await processor.process([input(payload(), 'cw'), input(plain, 'b')], 'loglake-logs');

      expect(result.records.map((r) => r.result)).toEqual(['Dropped', 'Ok']);
      expect(sink.puts.map((p) => [p.stream, p.records.length])).toEqual([['loglake-logs', 2]]);
      expect(result.metrics).toMatchObject({ splitRecords: 1, reingestFailed: 0 });
      expect(result.metrics.records).toEqual({ Ok: 1, Dropped: 1, ProcessingFailed: 0 });
    });

    it('delivers the log events of the parts it could not put, flagged, and no others', async () => {
      const sink = new MemorySink((_, i) => i === 1);
      const processor = new FirehoseProcessor(settings('logs'), { sink });

      const result = await processor.process([input(payload(), 'cw')], 'loglake-logs');

      expect(result.records[0]?.result).toBe('Ok');
      const records = decodeRecords(result.records[0]?.data ?? '');
      expect(records.map((r) => r.message)).toEqual(['one', 'three']);
      expect(records.every((r) => r.schema_errors.includes(SPLIT_FAILED_ERROR))).toBe(true);
      expect(result.metrics).toMatchObject({ splitRecords: 0, reingestFailed: 1 });
      expect(result.failures[0]).toMatchObject({
        purpose: 're-ingest the parts of records mixing partitions',
      });
    });

    it('stops splitting after a permanent error, and delivers such records whole', async () => {
      const sink = new MemorySink(() => false, true);
      const processor = new FirehoseProcessor(settings('logs'), { sink });

      await processor.process([input(payload(), 'cw')], 'loglake-logs');
      const later = await processor.process([input(payload(), 'cw2')], 'loglake-logs');

      expect(sink.puts).toHaveLength(1);
      expect(decodeRecords(later.records[0]?.data ?? '').map((r) => r.message)).toEqual([
        'one',
        'two',
        'three',
      ]);
    });
  });
});

describe('streamNameFromArn', () => {
  it('reads the stream name from a delivery stream ARN, and nothing from anything else', () => {
    expect(streamNameFromArn('arn:aws:firehose:eu-west-1:123456789012:deliverystream/loglake-logs')).toBe(
      'loglake-logs',
    );
    expect(streamNameFromArn('arn:aws:kinesis:eu-west-1:123456789012:stream/x')).toBeUndefined();
    expect(streamNameFromArn(undefined)).toBeUndefined();
  });
});
