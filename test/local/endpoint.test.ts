import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import {
  ListDeliveryStreamsCommand,
  type ListDeliveryStreamsCommandInput,
  PutRecordBatchCommand,
  PutRecordCommand,
} from '@aws-sdk/client-firehose';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryError } from '../../src/errors';
import { FIREHOSE_LIMITS } from '../../src/local/server';
import { firehoseClient, searchLake, startTestLocal, type TestLocal } from '../helpers/local';

let local: TestLocal | undefined;
afterEach(async () => {
  await local?.dispose();
  local = undefined;
});

const corpus = readFileSync('/work/shared/corpus/redaction-public.jsonl', 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as { log: unknown; secrets: string[]; keep: string[] });

async function expectAwsError(promise: Promise<unknown>, name: string, message: RegExp, status = 400) {
  const error = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  expect(error?.name).toBe(name);
  expect(error?.message).toMatch(message);
  expect(error?.$metadata?.httpStatusCode).toBe(status);
}

describe('local pipeline end to end', () => {
  it('makes every record sent with the real SDK searchable by its correlation id, redacted', async () => {
    // Prepare
    local = await startTestLocal();
    const now = Date.now();
    const cases = corpus
      .filter((c) => typeof c.log === 'object')
      .slice(0, 200)
      .map((c, i) => ({
        ...c,
        id: `e2e-${i}`,
        line: JSON.stringify({
          ...(c.log as object),
          timestamp: new Date(now - i * 1000).toISOString(),
          correlation_id: `e2e-${i}`,
        }),
      }));

    // Act
    for (let i = 0; i < cases.length; i += 50) {
      const batch = cases.slice(i, i + 50);
      const out = await local.client.send(
        new PutRecordBatchCommand({
          DeliveryStreamName: 'logs',
          Records: batch.map((c) => ({ Data: Buffer.from(`${c.line}\n`) })),
        }),
      );
      expect(out.FailedPutCount).toBe(0);
      expect(out.RequestResponses?.every((r) => r.RecordId)).toBe(true);
    }
    await local.pipeline.flush();

    // Assess
    for (const c of cases.slice(0, 40)) {
      const found = await searchLake(local.dataDir, { correlationId: c.id });
      expect(found).toHaveLength(1);
      const text = JSON.stringify(found);
      for (const secret of c.secrets) expect(text).not.toContain(secret);
    }
    const all = await searchLake(local.dataDir);
    expect(all.map((r) => r.correlation_id).sort()).toEqual(cases.map((c) => c.id).sort());
    expect(JSON.stringify(all)).not.toMatch(/ghp_[A-Za-z0-9]{36}/);
  });

  it('answers PutRecord with a record id and delivers it to the audit stream’s tree', async () => {
    // Prepare
    local = await startTestLocal();

    // Act
    const out = await local.client.send(
      new PutRecordCommand({
        DeliveryStreamName: 'audit',
        Record: {
          Data: Buffer.from(
            JSON.stringify({
              level: 'INFO',
              logger: 'billing.audit',
              message: 'approved',
              audit: true,
              correlation_id: 'a-1',
            }),
          ),
        },
      }),
    );
    await local.pipeline.flush();

    // Assess
    expect(out.RecordId).toMatch(/.+/);
    const [record] = await searchLake(local.dataDir, { correlationId: 'a-1' });
    expect(record?.category).toBe('audit');
  });

  it('keeps a record that is not valid UTF-8, flagged with a schema error', async () => {
    // Prepare
    local = await startTestLocal();

    // Act
    await local.client.send(
      new PutRecordCommand({
        DeliveryStreamName: 'logs',
        Record: { Data: Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x0a]) },
      }),
    );
    await local.pipeline.flush();

    // Assess
    const records = await searchLake(local.dataDir);
    expect(records).toHaveLength(1);
    expect(records[0]?.schema_errors).toContain('invalid UTF-8 bytes replaced with U+FFFD');
  });
});

describe('local endpoint limits and errors', () => {
  it('rejects an unknown stream with ResourceNotFoundException', async () => {
    // Prepare
    local = await startTestLocal();

    // Act
    const call = local.client.send(
      new PutRecordCommand({ DeliveryStreamName: 'nope', Record: { Data: Buffer.from('x') } }),
    );

    // Assess
    await expectAwsError(
      call,
      'ResourceNotFoundException',
      /Firehose nope under account 000000000000 not found/,
    );
  });

  it('rejects more than 500 records in one batch', async () => {
    // Prepare
    local = await startTestLocal();
    const records = Array.from({ length: FIREHOSE_LIMITS.maxBatchRecords + 1 }, () => ({
      Data: Buffer.from('{}'),
    }));

    // Act
    const call = local.client.send(
      new PutRecordBatchCommand({ DeliveryStreamName: 'logs', Records: records }),
    );

    // Assess
    await expectAwsError(
      call,
      'ValidationException',
      /at 'records' failed to satisfy constraint: Member must have length less than or equal to 500/,
    );
  });

  it('rejects a record over 1,000 KiB and accepts one of exactly 1,000 KiB', async () => {
    // Prepare
    local = await startTestLocal();
    const limit = FIREHOSE_LIMITS.maxRecordBytes;

    // Act
    const over = local.client.send(
      new PutRecordCommand({ DeliveryStreamName: 'logs', Record: { Data: Buffer.alloc(limit + 1, 0x61) } }),
    );
    await expectAwsError(
      over,
      'ValidationException',
      /at 'record.data' failed to satisfy constraint: Member must have length less than or equal to 1024000/,
    );
    const exact = await local.client.send(
      new PutRecordCommand({ DeliveryStreamName: 'logs', Record: { Data: Buffer.alloc(limit, 0x61) } }),
    );

    // Assess
    expect(exact.RecordId).toBeTruthy();
  });

  it('rejects a batch over 4 MiB in total', async () => {
    // Prepare
    local = await startTestLocal();
    const records = Array.from({ length: 5 }, () => ({ Data: Buffer.alloc(900_000, 0x61) }));

    // Act
    const call = local.client.send(
      new PutRecordBatchCommand({ DeliveryStreamName: 'logs', Records: records }),
    );

    // Assess
    await expectAwsError(call, 'InvalidArgumentException', /Records size exceeds 4 MB limit/);
  });

  it('answers a 20 MB request with InvalidArgumentException instead of resetting the connection', async () => {
    // Prepare: 25 records of 800 KB (each under the record limit), 20 MB of data, 27 MB on the wire
    local = await startTestLocal();
    const records = Array.from({ length: 25 }, () => ({ Data: Buffer.alloc(800_000, 0x61) }));

    // Act
    const call = local.client.send(
      new PutRecordBatchCommand({ DeliveryStreamName: 'logs', Records: records }),
    );
    await expectAwsError(call, 'InvalidArgumentException', /request body of more than \d+ bytes/);
    // The same connection (keep-alive) serves the next call.
    const after = await local.client.send(
      new PutRecordCommand({ DeliveryStreamName: 'logs', Record: { Data: Buffer.from('{}') } }),
    );

    // Assess
    expect(after.RecordId).toBeTruthy();
    expect(local.pipeline.stats.recordsAccepted).toBe(1);
  });

  it('answers an oversized body to a client that sends it all before reading (as botocore does)', async () => {
    // Prepare: Python's http.client writes the whole body, then reads the answer, like the AWS CLI
    local = await startTestLocal();
    const { hostname, port } = new URL(local.endpoint.url);
    const script = [
      'import http.client, sys',
      'c = http.client.HTTPConnection(sys.argv[1], int(sys.argv[2]), timeout=60)',
      "c.request('POST', '/', body=b' ' * (20 * 1024 * 1024), headers={'X-Amz-Target': 'Firehose_20150804.PutRecordBatch'})",
      'r = c.getresponse()',
      'print(r.status, r.read().decode())',
    ].join('\n');

    // Act
    const answer = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn('python3', ['-c', script, hostname, port]);
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        err += d.toString();
      });
      child.on('close', (code) => resolve({ code, out, err }));
    });

    // Assess
    expect(answer.err).toBe('');
    expect(answer.out).toMatch(
      /^400 \{"__type":"InvalidArgumentException","message":"request body of more than/,
    );
  });

  it('pages ListDeliveryStreams with Limit and ExclusiveStartDeliveryStreamName, like Firehose', async () => {
    // Prepare
    local = await startTestLocal();
    const { client } = local;
    const list = (input: ListDeliveryStreamsCommandInput) =>
      client.send(new ListDeliveryStreamsCommand(input));

    // Act
    const all = await list({});
    const first = await list({ Limit: 1 });
    const second = await list({
      Limit: 1,
      ExclusiveStartDeliveryStreamName: first?.DeliveryStreamNames?.[0],
    });
    const kinesis = await list({ DeliveryStreamType: 'KinesisStreamAsSource' });
    const zero = list({ Limit: 0 });

    // Assess
    expect(all).toMatchObject({ DeliveryStreamNames: ['audit', 'logs'], HasMoreDeliveryStreams: false });
    expect(first).toMatchObject({ DeliveryStreamNames: ['audit'], HasMoreDeliveryStreams: true });
    expect(second).toMatchObject({ DeliveryStreamNames: ['logs'], HasMoreDeliveryStreams: false });
    expect(kinesis).toMatchObject({ DeliveryStreamNames: [], HasMoreDeliveryStreams: false });
    await expectAwsError(
      zero,
      'ValidationException',
      /'limit' failed to satisfy constraint: Member must have value greater than or equal to 1/,
    );
  });

  it('answers a request that is not a Firehose call with an AWS-shaped error', async () => {
    // Prepare
    local = await startTestLocal();

    // Act
    const bad = await fetch(local.endpoint.url, {
      method: 'POST',
      headers: {
        'x-amz-target': 'Firehose_20150804.PutRecordBatch',
        'content-type': 'application/x-amz-json-1.1',
      },
      body: '{not json',
    });
    const unknown = await fetch(local.endpoint.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'Firehose_20150804.DeleteDeliveryStream' },
      body: '{}',
    });

    // Assess
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ __type: 'SerializationException' });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ __type: 'UnknownOperationException' });
  });

  it('throttles with ServiceUnavailableException once too much waits for delivery, then recovers', async () => {
    // Prepare
    local = await startTestLocal();
    Object.assign(local.pipeline, { maxPendingBytes: 1000 });
    await local.client.send(
      new PutRecordCommand({ DeliveryStreamName: 'logs', Record: { Data: Buffer.alloc(2000, 0x61) } }),
    );

    // Act
    const throttled = local.client.send(
      new PutRecordCommand({ DeliveryStreamName: 'logs', Record: { Data: Buffer.from('{}') } }),
    );
    await expectAwsError(throttled, 'ServiceUnavailableException', /Slow down/, 503);
    await local.pipeline.flush();
    const after = await local.client.send(
      new PutRecordCommand({ DeliveryStreamName: 'logs', Record: { Data: Buffer.from('{}') } }),
    );

    // Assess
    expect(after.RecordId).toBeTruthy();
  });

  it('answers an unexpected failure with 500 InternalFailure and its message, without the error class', async () => {
    // Prepare: the pipeline fails in a way the endpoint has no answer of its own for.
    local = await startTestLocal();
    Object.assign(local.pipeline, {
      put: async () => {
        throw new DeliveryError('the lake directory is not writable');
      },
    });

    // Act: a raw HTTP call, to read the body as any client gets it.
    const res = await fetch(local.endpoint.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'Firehose_20150804.PutRecord' },
      body: JSON.stringify({
        DeliveryStreamName: 'logs',
        Record: { Data: Buffer.from('{}').toString('base64') },
      }),
    });

    // Assess
    expect(res.status).toBe(500);
    expect(res.headers.get('x-amzn-errortype')).toBe('InternalFailure');
    expect(await res.json()).toEqual({
      __type: 'InternalFailure',
      message: 'the lake directory is not writable',
    });
  });

  it('stops at once while a client has sent only part of its headers or body, delivering what was acknowledged', async () => {
    // Prepare: one client stalls mid-body, another mid-headers (a paused or vanished producer).
    local = await startTestLocal();
    const { port } = new URL(local.endpoint.url);
    const body = JSON.stringify({ DeliveryStreamName: 'logs', Record: { Data: 'e30K' } });
    const stalled = (text: string) =>
      new Promise<Socket>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => socket.write(text, () => resolve(socket)));
        socket.on('error', () => undefined);
      });
    const sockets = [
      await stalled(
        `POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Firehose_20150804.PutRecord\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
      ),
      await stalled('POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Ta'),
    ];
    await local.client.send(
      new PutRecordCommand({
        DeliveryStreamName: 'logs',
        Record: { Data: Buffer.from('{"correlation_id":"acked"}\n') },
      }),
    );

    // A request read whole and still in the pipeline when the stop begins gets its answer.
    const { pipeline } = local;
    const put = pipeline.put.bind(pipeline);
    Object.assign(pipeline, {
      put: async (...args: Parameters<typeof put>) => {
        await new Promise((resolve) => setTimeout(resolve, 500));
        return put(...args);
      },
    });
    const inFlight = local.client.send(
      new PutRecordCommand({
        DeliveryStreamName: 'logs',
        Record: { Data: Buffer.from('{"correlation_id":"in-flight"}\n') },
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));

    // Act
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      local.stop().then(() => 'stopped'),
      new Promise((resolve) => {
        timer = setTimeout(() => resolve('still waiting'), 15_000);
      }),
    ]);
    clearTimeout(timer);
    for (const s of sockets) s.destroy();

    // Assess
    expect(outcome).toBe('stopped');
    expect(Date.now() - started).toBeLessThan(4_000);
    expect((await inFlight).$metadata.httpStatusCode).toBe(200);
    expect(pipeline.stats.recordsAccepted).toBe(2);
    expect(await searchLake(local.dataDir, { correlationId: 'acked' })).toHaveLength(1);
    expect(await searchLake(local.dataDir, { correlationId: 'in-flight' })).toHaveLength(1);
  });

  it('refuses a second pipeline on the same data directory', async () => {
    // Prepare
    local = await startTestLocal();

    // Act
    const second = startTestLocal({ dataDir: local.dataDir });

    // Assess
    await expect(second).rejects.toThrow(/is in use by process/);
    // The first pipeline is untouched: a fresh client still gets records acknowledged.
    const client = firehoseClient(local.endpoint.url);
    const put = await client.send(
      new PutRecordCommand({ DeliveryStreamName: 'logs', Record: { Data: Buffer.from('{}\n') } }),
    );
    client.destroy();
    expect(put.$metadata.httpStatusCode).toBe(200);
    expect(put.RecordId).toMatch(/\S/);
    expect(local.pipeline.stats.recordsAccepted).toBe(1);
  });
});
