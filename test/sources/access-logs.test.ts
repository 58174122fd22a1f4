/**
 * The access-log function's core: an object's lines packed into Firehose records, sent with the
 * shipper's PutRecordBatch retries (a mocked Firehose client answering as Firehose does), and read back
 * by the real transform: every line arrives once, in its partition, or the object fails whole.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config';
import { putRecordsReliably } from '../../src/producer/put-batch';
import type { LogRecord } from '../../src/schema';
import {
  AccessLogDeliveryError,
  type AccessLogSource,
  type PutBatch,
  shipAccessLog,
} from '../../src/sources/access-logs';
import { decodeRecords, transformRecords } from '../../src/transform';
import { input, settings } from '../transform/helpers';

const FIXTURES = join(__dirname, '..', 'fixtures', 'aws-sources');
const fixture = (file: string) => readFileSync(join(FIXTURES, file), 'utf8').split('\n');
const RULES = DEFAULT_CONFIG.transform;
const firehose = mockClient(FirehoseClient);
afterEach(() => firehose.reset());

/** Firehose accepting everything, remembering what it accepted. */
function accepting(): { put: PutBatch; accepted: Uint8Array[] } {
  const accepted: Uint8Array[] = [];
  firehose.on(PutRecordBatchCommand).callsFake((i: PutRecordBatchCommand['input']) => {
    const records = i.Records ?? [];
    for (const r of records) accepted.push(r.Data as Uint8Array);
    return { FailedPutCount: 0, RequestResponses: records.map((_, n) => ({ RecordId: `id-${n}` })) };
  });
  const client = new FirehoseClient({ region: 'us-east-1' });
  return {
    put: (records) => putRecordsReliably(client, 'loglake-logs', records, { sleep: async () => {} }),
    accepted,
  };
}

/** The records the transform makes of what Firehose accepted, with each record's partition. */
function lake(accepted: readonly Uint8Array[], at: number): { category: string; record: LogRecord }[] {
  const out = transformRecords(
    accepted.map((d, i) => input(d, `r${i}`, at)),
    settings(),
  ).records;
  return out.flatMap((o) => {
    expect(o.result).toBe('Ok');
    return decodeRecords(o.data).map((record) => ({
      category: o.metadata?.partitionKeys.category ?? '',
      record,
    }));
  });
}

const ship = (lines: Iterable<string>, source: AccessLogSource, put: PutBatch, extra = {}) =>
  shipAccessLog({ lines, source, object: 's3://logs-bucket/AWSLogs/x.log.gz', rules: RULES, put, ...extra });

describe('shipAccessLog', () => {
  it('sends every CloudFront line under the #Fields header, stamped with its object and line, skipping the header', async () => {
    const { put, accepted } = accepting();
    const report = await ship(fixture('cloudfront.log'), { format: 'cloudfront' }, put);
    expect(report).toMatchObject({ lines: 3, unparsed: 0, truncated: 0 });
    const events = lake(accepted, Date.parse('2019-12-13T23:00:00Z'));
    expect(events.map((e) => e.record.service)).toEqual([
      'aws.cloudfront',
      'aws.cloudfront',
      'aws.cloudfront',
    ]);
    expect(events.map((e) => e.record.attributes['access_log.line']).sort()).toEqual(['3', '4', '5']);
    expect(new Set(events.map((e) => e.record.attributes['access_log.object']))).toEqual(
      new Set(['s3://logs-bucket/AWSLogs/x.log.gz']),
    );
  });

  it('packs per category: an S3 AccessDenied goes in its own record, filed in security', async () => {
    const { put, accepted } = accepting();
    await ship(fixture('s3-access.log'), { format: 's3' }, put);
    expect(accepted).toHaveLength(2);
    const events = lake(accepted, Date.parse('2019-02-06T01:00:00Z'));
    const denied = events.find((e) => e.record.error_type === 'AccessDenied');
    expect(denied?.category).toBe('security');
    expect(events.filter((e) => e.category === 'api_access')).toHaveLength(2);
    expect(events.every((e) => e.record.schema_errors.every((s) => !s.includes('differs')))).toBe(true);
  });

  it('puts every event in the configured category', async () => {
    const { put, accepted } = accepting();
    await ship(fixture('alb.log'), { format: 'alb', category: 'security' }, put);
    const events = lake(accepted, Date.parse('2018-07-02T23:00:00Z'));
    expect(events.map((e) => e.category)).toEqual(['security', 'security', 'security']);
  });

  it('keeps a line the parser does not take, as flagged text', async () => {
    const { put, accepted } = accepting();
    const report = await ship(['not an ALB line', ...fixture('alb.log')], { format: 'alb' }, put);
    expect(report).toMatchObject({ lines: 4, unparsed: 1 });
    const events = lake(accepted, Date.parse('2018-07-02T23:00:00Z'));
    const text = events.find((e) => e.record.message === 'not an ALB line');
    expect(text?.record.attributes['access_log.unparsed']).toBe('alb');
    expect(text?.record.service).toBe('aws.alb');
  });

  it('cuts a line longer than a record, flags it with its size, and loses nothing else', async () => {
    const { put, accepted } = accepting();
    const long = `http 2018-07-02T22:23:00.186641Z app/lb/1 "${'x'.repeat(5000)}`;
    const report = await ship([long, fixture('alb.log')[0] as string], { format: 'alb' }, put, {
      maxRecordBytes: 2048,
    });
    expect(report).toMatchObject({ lines: 2, truncated: 1 });
    const events = lake(accepted, Date.parse('2018-07-02T23:00:00Z'));
    const cut = events.find((e) => e.record.attributes['access_log.truncated_bytes'] !== undefined);
    expect(cut?.record.attributes['access_log.truncated_bytes']).toBe(String(long.length));
    expect(events).toHaveLength(2);
  });

  it('retries entries Firehose failed and delivers each line once', async () => {
    let calls = 0;
    const accepted: Uint8Array[] = [];
    firehose.on(PutRecordBatchCommand).callsFake((i: PutRecordBatchCommand['input']) => {
      calls++;
      const records = i.Records ?? [];
      // The first call fails its first entry (ServiceUnavailable), as Firehose does under load.
      const responses = records.map((r, n) => {
        if (calls === 1 && n === 0)
          return { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'slow down' };
        accepted.push(r.Data as Uint8Array);
        return { RecordId: `id-${calls}-${n}` };
      });
      return { FailedPutCount: calls === 1 ? 1 : 0, RequestResponses: responses };
    });
    const client = new FirehoseClient({ region: 'us-east-1' });
    const put: PutBatch = (records) => putRecordsReliably(client, 's', records, { sleep: async () => {} });
    await ship(fixture('s3-access.log'), { format: 's3' }, put);
    expect(calls).toBe(2);
    expect(lake(accepted, Date.parse('2019-02-06T01:00:00Z'))).toHaveLength(3);
  });

  it('fails the whole object when a record stays unacknowledged, naming the object', async () => {
    firehose.on(PutRecordBatchCommand).resolves({
      FailedPutCount: 1,
      RequestResponses: [{ ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'down' }],
    });
    const client = new FirehoseClient({ region: 'us-east-1' });
    const put: PutBatch = (records) =>
      putRecordsReliably(client, 's', records, { sleep: async () => {}, maxAttempts: 2 });
    const error = await ship(fixture('alb.log'), { format: 'alb' }, put).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessLogDeliveryError);
    expect((error as Error).message).toContain('s3://logs-bucket/AWSLogs/x.log.gz');
  });

  it('loses no line and sends none twice, across record and batch limits (property)', async () => {
    const albLine = fc
      .record({
        ip: fc.ipV4(),
        status: fc.integer({ min: 100, max: 599 }),
        minute: fc.integer({ min: 0, max: 119 }),
      })
      .map((f) => {
        const t = new Date(Date.UTC(2018, 6, 2, 22, f.minute)).toISOString().replace('.000Z', '.186641Z');
        return `https ${t} app/lb/50dc6c495c0c9188 ${f.ip}:2817 10.0.0.1:80 0.001 0.002 0.003 ${f.status} 200 1 2 "GET https://example.com:443/ HTTP/1.1" "curl/8" - -`;
      });
    const other = fc
      .string({ minLength: 1, maxLength: 30 })
      .filter((s) => !/[\r\n]/.test(s) && s.trim() !== '');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(albLine, other), { minLength: 1, maxLength: 60 }), async (ls) => {
        firehose.reset();
        const { put, accepted } = accepting();
        const report = await ship(ls, { format: 'alb' }, put, { maxRecordBytes: 1500, maxBatchRecords: 3 });
        expect(report.lines).toBe(ls.length);
        const sent = accepted.flatMap((d) =>
          Buffer.from(d)
            .toString('utf8')
            .split('\n')
            .filter((l) => l !== ''),
        );
        const lineNos = sent.map((l) => (JSON.parse(l) as Record<string, string>)['access_log.line']);
        expect(lineNos.map(Number).sort((a, b) => a - b)).toEqual(ls.map((_, i) => i + 1));
      }),
      { numRuns: 40 },
    );
  });
});
