/**
 * The access-log function's handler over mocked S3, Firehose and DynamoDB clients (aws-sdk-client-mock):
 * an S3 event notification's object claimed in the ledger, read pinned to the notified write, streamed,
 * gunzipped, parsed, put and closed; a done object not read again; a missing or rewritten object closed
 * without lines; an undeliverable object thrown so Lambda retries it. And `objectLines` over real gzip
 * streams. The ledger's conditions run against MiniStack's DynamoDB in
 * test/sources/dynamodb-ledger.emulator.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandInput,
} from '@aws-sdk/client-firehose';
import { GetObjectCommand, NoSuchKey, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { Context, S3Event } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ACCESS_LOGS_ENV } from '../../lambdas/access-logs/constants';
import { DEFAULT_CONFIG } from '../../src/config';
import { objectLines } from '../../src/sources/access-logs';

const FIXTURES = join(__dirname, '..', 'fixtures', 'aws-sources');
const s3 = mockClient(S3Client);
const firehose = mockClient(FirehoseClient);
const dynamodb = mockClient(DynamoDBClient);
const SEQUENCER = '0055AED6DCD90281E5';

/** What Lambda passes: a request id (the lease owner) and the time left (the lease). */
const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 300_000 } as Context;

/** The ledger claims every object as new. */
const claimsNew = () =>
  dynamodb.on(UpdateItemCommand).callsFake((i: UpdateItemCommandInput) => ({
    Attributes: i.ReturnValues === 'ALL_NEW' ? { attempt: { N: '1' }, nextLine: { N: '1' } } : undefined,
  }));

function s3Event(bucket: string, key: string): S3Event {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: '2026-11-30T12:00:00.000Z',
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'AWS:AIDAEXAMPLE' },
        requestParameters: { sourceIPAddress: '192.0.2.1' },
        responseElements: { 'x-amz-request-id': 'R', 'x-amz-id-2': 'I' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'loglake',
          bucket: { name: bucket, ownerIdentity: { principalId: 'A' }, arn: `arn:aws:s3:::${bucket}` },
          object: { key, size: 1, eTag: '0123abcd', sequencer: SEQUENCER },
        },
      },
    ],
  };
}

async function loadHandler() {
  vi.resetModules();
  vi.stubEnv(ACCESS_LOGS_ENV.stream, 'loglake-logs');
  vi.stubEnv(ACCESS_LOGS_ENV.ledger, 'loglake-ledger');
  vi.stubEnv(ACCESS_LOGS_ENV.source, JSON.stringify({ format: 'alb' }));
  vi.stubEnv(
    ACCESS_LOGS_ENV.rules,
    JSON.stringify({
      rules: DEFAULT_CONFIG.transform.rules,
      defaultCategory: DEFAULT_CONFIG.transform.defaultCategory,
    }),
  );
  return import('../../lambdas/access-logs/index');
}

const sentLines = () =>
  firehose
    .commandCalls(PutRecordBatchCommand)
    .flatMap((c) => (c.args[0].input as PutRecordBatchCommandInput).Records ?? [])
    .flatMap((r) =>
      Buffer.from(r.Data as Uint8Array)
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== ''),
    )
    .map((l) => JSON.parse(l) as Record<string, unknown>);

beforeEach(() => {
  s3.reset();
  firehose.reset();
  dynamodb.reset();
  vi.spyOn(process.stdout, 'write').mockImplementation((() => true) as never);
});

describe('access-log handler', () => {
  it('streams a gzip ALB object named by its URL-encoded key into the logs stream, once claimed, then closes it', async () => {
    // Prepare
    const body = gzipSync(readFileSync(join(FIXTURES, 'alb.log')));
    s3.on(GetObjectCommand, { Bucket: 'elb-logs', Key: 'AWSLogs/1/elb log.gz' }).resolves({
      Body: Readable.from([body.subarray(0, 10), body.subarray(10)]) as never,
    });
    firehose.on(PutRecordBatchCommand).callsFake((i: PutRecordBatchCommandInput) => ({
      FailedPutCount: 0,
      RequestResponses: (i.Records ?? []).map((_, n) => ({ RecordId: `r${n}` })),
    }));
    claimsNew();
    const { handler } = await loadHandler();

    // Act
    const reports = await handler(s3Event('elb-logs', 'AWSLogs/1/elb+log.gz'), context);

    // Assess
    expect(reports).toEqual([
      expect.objectContaining({ outcome: 'shipped', lines: 3, unparsed: 0, attempt: 1 }),
    ]);
    expect(firehose.commandCalls(PutRecordBatchCommand)[0]?.args[0].input.DeliveryStreamName).toBe(
      'loglake-logs',
    );
    const lines = sentLines();
    expect(lines.map((l) => l.elb_status_code).sort()).toEqual(['200', '200', '502']);
    expect(new Set(lines.map((l) => l['access_log.object']))).toEqual(
      new Set(['s3://elb-logs/AWSLogs/1/elb log.gz']),
    );
    const updates = dynamodb.commandCalls(UpdateItemCommand).map((c) => c.args[0].input);
    expect(updates.map((u) => [u.TableName, u.Key])).toEqual(
      Array(3).fill([
        'loglake-ledger',
        { object: { S: 's3://elb-logs/AWSLogs/1/elb log.gz' }, delivery: { S: SEQUENCER } },
      ]),
    );
    // The claim (owner: the request id), one checkpoint after the object's 3 lines, the close.
    expect(updates[0]?.ExpressionAttributeValues?.[':owner']).toEqual({ S: 'req-1' });
    expect(updates[1]?.ExpressionAttributeValues?.[':next']).toEqual({ N: '4' });
    expect(updates[2]?.ExpressionAttributeValues?.[':done']).toEqual({ S: 'done' });
  });

  it('reads the object only while it is the notified write (If-Match on the event’s ETag)', async () => {
    s3.on(GetObjectCommand).resolves({
      Body: Readable.from([readFileSync(join(FIXTURES, 'alb.log'))]) as never,
    });
    firehose.on(PutRecordBatchCommand).callsFake((i: PutRecordBatchCommandInput) => ({
      FailedPutCount: 0,
      RequestResponses: (i.Records ?? []).map((_, n) => ({ RecordId: `r${n}` })),
    }));
    claimsNew();
    const { handler } = await loadHandler();
    await handler(s3Event('elb-logs', 'a.log'), context);
    expect(s3.commandCalls(GetObjectCommand)[0]?.args[0].input).toEqual({
      Bucket: 'elb-logs',
      Key: 'a.log',
      IfMatch: '"0123abcd"',
    });
  });

  it('sends nothing and reads nothing for a second notification of an object already shipped', async () => {
    dynamodb.on(UpdateItemCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        Item: { state: { S: 'done' }, outcome: { S: 'shipped' }, attempt: { N: '1' } },
      }),
    );
    const { handler } = await loadHandler();
    const reports = await handler(s3Event('elb-logs', 'a.log'), context);
    expect(reports).toEqual([expect.objectContaining({ outcome: 'already-shipped', lines: 0 })]);
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(0);
  });

  it('fails a notification while another attempt holds the object, so Lambda retries it later', async () => {
    dynamodb.on(UpdateItemCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        Item: {
          state: { S: 'in_progress' },
          owner: { S: 'req-0' },
          leaseUntil: { N: String(Date.now() + 60_000) },
        },
      }),
    );
    const { handler } = await loadHandler();
    await expect(handler(s3Event('elb-logs', 'a.log'), context)).rejects.toThrow(
      /s3:\/\/elb-logs\/a\.log: being shipped by another attempt \(req-0\)/,
    );
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it('closes an object deleted, or written again, before it was read; ignores S3’s test event', async () => {
    claimsNew();
    const { handler } = await loadHandler();
    s3.on(GetObjectCommand).rejects(new NoSuchKey({ message: 'gone', $metadata: {} }));
    await expect(handler(s3Event('elb-logs', 'gone.gz'), context)).resolves.toEqual([
      expect.objectContaining({ outcome: 'gone', lines: 0 }),
    ]);
    s3.on(GetObjectCommand).rejects(
      new S3ServiceException({
        name: 'PreconditionFailed',
        $fault: 'client',
        message: 'At least one of the pre-conditions you specified did not hold',
        $metadata: { httpStatusCode: 412 },
      }),
    );
    await expect(handler(s3Event('elb-logs', 'rewritten.gz'), context)).resolves.toEqual([
      expect.objectContaining({ outcome: 'replaced', lines: 0 }),
    ]);
    await expect(handler({ Event: 's3:TestEvent' } as unknown as S3Event, context)).resolves.toEqual([]);
    expect(firehose.commandCalls(PutRecordBatchCommand)).toHaveLength(0);
    const outcomes = dynamodb
      .commandCalls(UpdateItemCommand)
      .map((c) => c.args[0].input.ExpressionAttributeValues?.[':outcome']?.S)
      .filter((o) => o !== undefined);
    expect(outcomes).toEqual(['gone', 'replaced']);
  });

  it('throws when Firehose refuses for good, so Lambda retries the object from its checkpoint', async () => {
    s3.on(GetObjectCommand).resolves({
      Body: Readable.from([readFileSync(join(FIXTURES, 'alb.log'))]) as never,
    });
    const denied = Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' });
    firehose.on(PutRecordBatchCommand).rejects(denied);
    claimsNew();
    const { handler } = await loadHandler();
    await expect(handler(s3Event('elb-logs', 'a.log'), context)).rejects.toThrow(
      /s3:\/\/elb-logs\/a\.log.*retried from its last checkpoint/,
    );
  });

  it('refuses to start on a bad environment, naming the variable', async () => {
    vi.resetModules();
    vi.stubEnv(ACCESS_LOGS_ENV.stream, 'loglake-logs');
    vi.stubEnv(ACCESS_LOGS_ENV.ledger, 'loglake-ledger');
    vi.stubEnv(ACCESS_LOGS_ENV.source, JSON.stringify({ format: 'nginx' }));
    await expect(import('../../lambdas/access-logs/index')).rejects.toThrow(
      /LOGLAKE_ACCESS_LOG_SOURCE\.format/,
    );
  });
});

describe('objectLines', () => {
  const collect = async (chunks: Buffer[]) => {
    const out: string[] = [];
    for await (const l of objectLines(Readable.from(chunks))) out.push(l);
    return out;
  };

  it('gives the same lines plain or gzipped, whatever the chunking, multi-byte characters included (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !/[\r\n]/.test(s)),
          { minLength: 1, maxLength: 20 },
        ),
        fc.boolean(),
        fc.integer({ min: 1, max: 7 }),
        async (lines, zip, size) => {
          const raw = Buffer.from(`${lines.join('\n')}\n`);
          const bytes = zip ? gzipSync(raw) : raw;
          const chunks: Buffer[] = [];
          for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
          expect(await collect(chunks)).toEqual(lines);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('rejects a cut gzip stream instead of giving part of it silently', async () => {
    const zipped = gzipSync(Buffer.from('a\nb\nc\n'.repeat(1000)));
    await expect(collect([zipped.subarray(0, zipped.length - 20)])).rejects.toThrow(/unexpected end of file/);
  });
});
