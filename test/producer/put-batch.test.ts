import {
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandInput,
  type PutRecordBatchCommandOutput,
} from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { FIREHOSE_PUT_LIMITS } from '../../src/producer/pack';
import { describeCallError, entryErrors, putRecordsReliably } from '../../src/producer/put-batch';

type Send = (input: PutRecordBatchCommandInput) => Promise<Partial<PutRecordBatchCommandOutput>>;

/** A real client whose PutRecordBatch answers come from `send` (the boundary faked, nothing else). */
function clientWith(send: Send): { client: FirehoseClient; calls: PutRecordBatchCommandInput[] } {
  const client = new FirehoseClient({ region: 'eu-west-1' });
  const calls: PutRecordBatchCommandInput[] = [];
  mockClient(client)
    .on(PutRecordBatchCommand)
    .callsFake(async (input: PutRecordBatchCommandInput) => {
      calls.push(input);
      return send(input);
    });
  return { client, calls };
}

const noSleep = { sleep: async () => undefined, random: () => 0.5 };
const ok = (n: number) => ({
  FailedPutCount: 0,
  RequestResponses: Array.from({ length: n }, (_, i) => ({ RecordId: `id${i}` })),
});

describe('putRecordsReliably (call limits)', () => {
  const sent = (calls: PutRecordBatchCommandInput[]) => calls.map((c) => c.Records?.length ?? 0);

  it('keeps at most 500 records per call', async () => {
    const { client, calls } = clientWith(async (c) => ok(c.Records?.length ?? 0));
    const records = Array.from({ length: 1201 }, () => Buffer.from('0123456789'));
    const result = await putRecordsReliably(client, 'audit', records, noSleep);
    expect(sent(calls)).toEqual([
      FIREHOSE_PUT_LIMITS.maxBatchRecords,
      FIREHOSE_PUT_LIMITS.maxBatchRecords,
      201,
    ]);
    expect(result.delivered.every(Boolean)).toBe(true);
  });

  it('keeps at most 4 MiB per call', async () => {
    const { client, calls } = clientWith(async (c) => ok(c.Records?.length ?? 0));
    const max = FIREHOSE_PUT_LIMITS.maxBatchBytes;
    const records = [max / 2, max / 2, 1, max].map((n) => Buffer.alloc(n));
    await putRecordsReliably(client, 'audit', records, noSleep);
    expect(sent(calls)).toEqual([2, 1, 1]);
  });
});

describe('entryErrors', () => {
  it('reads each entry positionally and counts an unanswered entry as failed', () => {
    expect(
      entryErrors(4, {
        RequestResponses: [{ RecordId: 'a' }, { ErrorCode: 'ServiceUnavailableException' }, {}],
      }),
    ).toEqual([undefined, 'ServiceUnavailableException', 'NoRecordId', 'NoResponseEntry']);
  });
});

describe('putRecordsReliably', () => {
  it('sends every record to the stream and reports them delivered', async () => {
    const { client, calls } = clientWith(async (c) => ok(c.Records?.length ?? 0));
    const result = await putRecordsReliably(client, 'audit', [Buffer.from('a'), Buffer.from('b')], noSleep);
    expect(result.delivered).toEqual([true, true]);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.DeliveryStreamName).toBe('audit');
    expect(calls[0]?.Records?.map((r) => Buffer.from(r.Data ?? []).toString())).toEqual(['a', 'b']);
  });

  it('retries only the entries that failed (FailedPutCount)', async () => {
    let call = 0;
    const { client, calls } = clientWith(async (c) => {
      call++;
      if (call === 1) {
        return {
          FailedPutCount: 1,
          RequestResponses: [
            { RecordId: 'x' },
            { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'slow down' },
          ],
        };
      }
      return ok(c.Records?.length ?? 0);
    });
    const result = await putRecordsReliably(client, 'audit', [Buffer.from('a'), Buffer.from('b')], noSleep);
    expect(result.delivered).toEqual([true, true]);
    expect(calls.map((c) => c.Records?.map((r) => Buffer.from(r.Data ?? []).toString()))).toEqual([
      ['a', 'b'],
      ['b'],
    ]);
  });

  it('retries a call that threw, with growing backoff', async () => {
    let call = 0;
    const sleeps: number[] = [];
    const { client } = clientWith(async (c) => {
      call++;
      if (call < 3) throw Object.assign(new Error('throttled'), { name: 'ThrottlingException' });
      return ok(c.Records?.length ?? 0);
    });
    const result = await putRecordsReliably(client, 'audit', [Buffer.from('a')], {
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      random: () => 0.999,
      baseDelayMs: 100,
    });
    expect(result.delivered).toEqual([true]);
    expect(sleeps).toEqual([99, 199]);
  });

  it('gives up after maxAttempts and names the last error', async () => {
    const { client, calls } = clientWith(async () => ({
      FailedPutCount: 1,
      RequestResponses: [{ ErrorCode: 'InternalFailure' }],
    }));
    const result = await putRecordsReliably(client, 'audit', [Buffer.from('a')], {
      ...noSleep,
      maxAttempts: 3,
    });
    expect(result.delivered).toEqual([false]);
    expect(result.lastErrors.get(0)).toBe('InternalFailure');
    expect(calls).toHaveLength(3);
  });

  it('treats a short answer as failure of the unanswered entries', async () => {
    const { client } = clientWith(async () => ({ FailedPutCount: 0, RequestResponses: [{ RecordId: 'x' }] }));
    const result = await putRecordsReliably(client, 'audit', [Buffer.from('a'), Buffer.from('b')], {
      ...noSleep,
      maxAttempts: 1,
    });
    expect(result.delivered).toEqual([true, false]);
    expect(result.lastErrors.get(1)).toBe('NoResponseEntry');
  });
});

describe('putRecordsReliably (permanent errors)', () => {
  it('stops at once on an error that retrying cannot fix', async () => {
    const { client, calls } = clientWith(async () => {
      throw Object.assign(new Error('not allowed'), { name: 'AccessDeniedException' });
    });
    const result = await putRecordsReliably(client, 'logs', [Buffer.from('a')], noSleep);
    expect(result).toMatchObject({ delivered: [false], permanent: true, attempts: 1 });
    expect(calls).toHaveLength(1);
  });
});

describe('describeCallError', () => {
  it('names the endpoint and the cause of a failed call', () => {
    // Prepare
    const url = 'http://127.0.0.1:1';
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const notFound = Object.assign(new Error('Firehose nope under account 1 not found.'), {
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 400 },
    });
    const aborted = Object.assign(new Error('Request aborted'), { name: 'AbortError' });

    // Act + Assess
    expect(describeCallError(refused, url)).toBe('cannot connect to http://127.0.0.1:1: ECONNREFUSED');
    expect(describeCallError(reset, url)).toBe('connection to http://127.0.0.1:1 dropped: ECONNRESET');
    expect(describeCallError(notFound, url)).toBe(
      'http://127.0.0.1:1 answered ResourceNotFoundException (HTTP 400): Firehose nope under account 1 not found.',
    );
    expect(describeCallError(aborted, url)).toBe('no answer from http://127.0.0.1:1 in time');
    expect(describeCallError('boom', url)).toBe('boom');
  });
});
