import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BatchGetItemCommand,
  type BatchGetItemCommandInput,
  DynamoDBClient,
  PutItemCommand,
  type PutItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandInput,
} from '@aws-sdk/client-firehose';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context, FirehoseTransformationEvent, FirehoseTransformationResult } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TRANSFORM_ENV } from '../../lambdas/transform/constants';
import { DEFAULT_CONFIG } from '../../src/config';
import { subjectPseudonym, subjectRef } from '../../src/privacy/subject';
import { pseudonymizeUserId } from '../../src/redact/pseudonym';
import {
  decodeRecords,
  LAMBDA_RESPONSE_LIMIT_BYTES,
  SPLIT_FAILED_ERROR,
  transformConfigSlice,
} from '../../src/transform';

const FIXTURES = join(__dirname, '..', 'fixtures', 'events', 'firehose');
const SECRET = 'handler-test-key';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:loglake-pseudonym-AbCdEf';

function fixture(name: string): FirehoseTransformationEvent {
  return JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as FirehoseTransformationEvent;
}

const firehoseMock = mockClient(FirehoseClient);
const secretsMock = mockClient(SecretsManagerClient);
const dynamoMock = mockClient(DynamoDBClient);
/** The subject key table, as DynamoDB would hold it (ref → key). */
let subjectKeys: Map<string, Uint8Array>;

interface Mocks {
  /** Per PutRecordBatch call (1-based): which entries (by index) fail. */
  failEntries: (call: number, size: number) => boolean[];
  secretError?: Error;
  /** The subject key table is unreachable. */
  dynamoError?: Error;
}

let mocks: Mocks;
let stdout: string[];
let stderr: string[];

const firehoseCalls = (): PutRecordBatchCommandInput[] =>
  firehoseMock.commandCalls(PutRecordBatchCommand).map((c) => c.args[0].input);
const secretCalls = () => secretsMock.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input);

beforeEach(() => {
  vi.resetModules();
  mocks = { failEntries: (_c, n) => Array.from({ length: n }, () => false) };
  secretsMock.reset();
  secretsMock.on(GetSecretValueCommand).callsFake(async () => {
    if (mocks.secretError) throw mocks.secretError;
    return { SecretString: SECRET };
  });
  subjectKeys = new Map();
  dynamoMock.reset();
  dynamoMock.on(BatchGetItemCommand).callsFake(async (input: BatchGetItemCommandInput) => {
    if (mocks.dynamoError) throw mocks.dynamoError;
    const [table, request] = Object.entries(input.RequestItems ?? {})[0] ?? [];
    const items = (request?.Keys ?? []).flatMap((k) => {
      const key = subjectKeys.get(k.ref?.S ?? '');
      return key ? [{ ref: { S: k.ref?.S ?? '' }, key: { B: key } }] : [];
    });
    return { Responses: { [table ?? '']: items } };
  });
  dynamoMock.on(PutItemCommand).callsFake(async (input: PutItemCommandInput) => {
    if (mocks.dynamoError) throw mocks.dynamoError;
    const ref = input.Item?.ref?.S ?? '';
    const key = input.Item?.key?.B;
    if (key) subjectKeys.set(ref, key);
    return {};
  });
  firehoseMock.reset();
  firehoseMock.on(PutRecordBatchCommand).callsFake(async (input: PutRecordBatchCommandInput) => {
    const call = firehoseMock.commandCalls(PutRecordBatchCommand).length;
    const fails = mocks.failEntries(call, input.Records?.length ?? 0);
    return {
      FailedPutCount: fails.filter(Boolean).length,
      RequestResponses: fails.map((f, i) =>
        f ? { ErrorCode: 'ServiceUnavailableException' } : { RecordId: `r${i}` },
      ),
    };
  });
  stdout = [];
  stderr = [];
  // Powertools writes EMF and logs with its own Console on process.stdout (warnings on stderr).
  vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    stdout.push(String(chunk));
    return true;
  }) as never);
  vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    stderr.push(String(chunk));
    return true;
  }) as never);
  vi.stubEnv(TRANSFORM_ENV.settings, JSON.stringify(transformConfigSlice(DEFAULT_CONFIG)));
  vi.stubEnv(TRANSFORM_ENV.stream, 'logs');
  vi.stubEnv(TRANSFORM_ENV.pseudonymSecretArn, SECRET_ARN);
  vi.stubEnv(TRANSFORM_ENV.auditStreamName, '');
  vi.stubEnv(TRANSFORM_ENV.subjectKeyTable, 'loglake-subject-keys');
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

async function invoke(event: FirehoseTransformationEvent): Promise<FirehoseTransformationResult> {
  const { handler } = await import('../../lambdas/transform/index');
  const result = await handler(event, {} as Context, () => undefined);
  if (!result) throw new Error('handler returned nothing');
  return result;
}

function emf(): Array<Record<string, unknown>> {
  return stdout
    .join('')
    .split('\n')
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('handler', () => {
  it('transforms a direct-put event: every record once, Ok with partition keys', async () => {
    const event = fixture('direct-put');
    const result = await invoke(event);
    expect(result.records.map((r) => r.recordId)).toEqual(event.records.map((r) => r.recordId));
    expect(result.records.every((r) => r.result === 'Ok')).toBe(true);
    for (const r of result.records) {
      expect(r.metadata?.partitionKeys).toMatchObject({ dt: '2026-01-02', hour: '03' });
      expect(() => decodeRecords(r.data ?? '')).not.toThrow();
    }
    const all = result.records.map((r) => Buffer.from(r.data ?? '', 'base64').toString()).join('');
    for (const secret of [
      'ghp_R5fpRQYVktul9Uu1MnGLNHNHMcaje5WH0Eoq',
      'marek@example.org',
      'tXog4ABgDO',
      '4111 1111 1111 1111',
      '+44 20 7946 0958',
      'hunter2',
      '"alice"',
    ]) {
      expect(all).not.toContain(secret);
    }
    // The subject's own key, created in the table for this first sight of alice, not the lake key.
    const key = subjectKeys.get(subjectRef(SECRET, 'alice'));
    expect(key).toBeDefined();
    expect(all).toContain(subjectPseudonym(key as Uint8Array, 'alice'));
    expect(all).not.toContain(pseudonymizeUserId('alice', SECRET));
  });

  it('sends records needing a subject key to the error prefix when the key table stays unreachable', async () => {
    mocks.dynamoError = Object.assign(new Error('connect ETIMEDOUT'), { name: 'TimeoutError' });
    const event = fixture('direct-put');

    const result = await invoke(event);

    const failed = result.records.filter((r) => r.result === 'ProcessingFailed');
    expect(failed.length).toBeGreaterThan(0);
    // Firehose writes these bytes under the error prefix: the input, untouched.
    for (const r of failed) {
      expect(r.data).toBe(event.records.find((i) => i.recordId === r.recordId)?.data);
    }
    const delivered = result.records
      .filter((r) => r.result === 'Ok')
      .map((r) => Buffer.from(r.data ?? '', 'base64').toString())
      .join('');
    expect(delivered).not.toContain('alice');
    expect(delivered).not.toContain('u_pending');
    expect(result.records).toHaveLength(event.records.length);
    expect([...stdout, ...stderr].join('')).toContain('subject key store unavailable');
  });

  it('reads CloudWatch Logs payloads, splits one mixing categories by re-ingestion, and drops control messages', async () => {
    const event = fixture('cloudwatch-logs');
    const result = await invoke(event);
    // The payload holds an ERROR (category errors) among runtime lines: it goes back as two parts.
    expect(result.records.map((r) => r.result)).toEqual(['Dropped', 'Dropped']);
    const puts = firehoseCalls();
    expect(puts).toHaveLength(1);
    expect(puts[0]?.DeliveryStreamName).toBe(event.deliveryStreamArn.split('/').pop());
    const parts = puts[0]?.Records ?? [];
    expect(parts).toHaveLength(2);

    // Firehose delivers the parts to the function again: each is one partition, never split again.
    const again = await invoke({
      ...event,
      records: parts.map((p, i) => ({
        recordId: `part-${i}`,
        approximateArrivalTimestamp: event.records[0]?.approximateArrivalTimestamp ?? 0,
        data: Buffer.from(p.Data ?? new Uint8Array()).toString('base64'),
      })),
    });
    expect(again.records.map((r) => r.result)).toEqual(['Ok', 'Ok']);
    expect(firehoseCalls()).toHaveLength(1);
    expect(again.records.map((r) => r.metadata?.partitionKeys.category)).toEqual(['runtime', 'errors']);
    const [runtime, errors] = again.records.map((r) => decodeRecords(r.data ?? ''));
    // START and REPORT are one event each; REPORT's duration and memory are numbers.
    expect(runtime?.map((r) => r.level)).toEqual(['INFO', 'INFO', 'INFO']);
    expect(errors?.map((r) => r.level)).toEqual(['ERROR']);
    expect(runtime?.[0]?.message).toMatch(/^START RequestId: /);
    expect(runtime?.[2]?.message).toMatch(/^REPORT RequestId: /);
    expect(runtime?.[2]?.duration_ms).toBe(102.25);
    expect(runtime?.[2]?.metrics).toMatchObject({ max_memory_used_mb: 70, memory_size_mb: 128 });
    expect([...(runtime ?? []), ...(errors ?? [])].every((r) => r.schema_errors.length === 0)).toBe(true);
    expect(emf().some((b) => b.SplitRecords === 1)).toBe(true);
  });

  it('delivers a record mixing categories whole, flagged, when its parts cannot be re-ingested', async () => {
    // The first part (runtime lines) is acknowledged; the other fails on every attempt.
    mocks.failEntries = (c, n) => Array.from({ length: n }, (_, i) => !(c === 1 && i === 0));
    const result = await invoke(fixture('cloudwatch-logs'));
    expect(result.records.map((r) => r.result)).toEqual(['Ok', 'Dropped']);
    const records = decodeRecords(result.records[0]?.data ?? '');
    // The delivered part (runtime lines) is not delivered twice: only the ERROR stays here.
    expect(records.map((r) => r.level)).toEqual(['ERROR']);
    expect(records[0]?.schema_errors).toContain(SPLIT_FAILED_ERROR);
  });

  it('on the audit stream, turns unlocked categories into audit', async () => {
    vi.stubEnv(TRANSFORM_ENV.stream, 'audit');
    const result = await invoke(fixture('audit-stream'));
    expect(result.records.map((r) => r.metadata?.partitionKeys.category)).toEqual(['audit', 'audit']);
    expect(decodeRecords(result.records[1]?.data ?? '')[0]?.attributes.original_category).toBe('runtime');
  });

  it('publishes EMF metrics in the LogLake namespace with the stream as a dimension', async () => {
    await invoke(fixture('direct-put'));
    const blobs = emf();
    const records = blobs.find((b) => b.Result === 'Ok');
    expect(records).toMatchObject({ Records: 8, Stream: 'logs' });
    expect(JSON.stringify(records?._aws)).toContain('"Namespace":"LogLake"');
    expect(blobs.some((b) => b.Kind === 'github_token' && b.Redactions === 1)).toBe(true);
    expect(blobs.some((b) => typeof b.BytesIn === 'number' && (b.BytesIn as number) > 0)).toBe(true);
  });

  it('sets the Stream dimension once per cold start: no "already been added" warning on later calls', async () => {
    const { handler } = await import('../../lambdas/transform/index');
    for (let i = 0; i < 3; i++) await handler(fixture('direct-put'), {} as Context, () => undefined);
    expect(`${stdout.join('')}${stderr.join('')}`).not.toContain('has already been added');
    const ok = emf().filter((b) => b.Result === 'Ok');
    expect(ok).toHaveLength(3);
    expect(ok.every((b) => b.Stream === 'logs')).toBe(true);
  });

  it('does not log event contents', async () => {
    await invoke(fixture('direct-put'));
    expect(stdout.join('\n')).not.toContain('ghp_R5fp');
  });

  it('fetches the pseudonym secret once per cold start', async () => {
    const { handler } = await import('../../lambdas/transform/index');
    await handler(fixture('direct-put'), {} as Context, () => undefined);
    await handler(fixture('direct-put'), {} as Context, () => undefined);
    expect(secretCalls()).toHaveLength(1);
    expect(secretCalls()[0]?.SecretId).toBe(SECRET_ARN);
  });

  it('throws (systemic failure) when the secret cannot be read, and retries on the next invocation', async () => {
    const { handler } = await import('../../lambdas/transform/index');
    mocks.secretError = Object.assign(new Error('denied'), { name: 'AccessDeniedException' });
    await expect(handler(fixture('direct-put'), {} as Context, () => undefined)).rejects.toThrow('denied');
    mocks.secretError = undefined;
    await expect(handler(fixture('direct-put'), {} as Context, () => undefined)).resolves.toBeDefined();
    expect(secretCalls()).toHaveLength(2);
  });

  it('throws a ConfigError naming every invalid variable', async () => {
    vi.stubEnv(TRANSFORM_ENV.stream, 'debug');
    vi.stubEnv(
      TRANSFORM_ENV.settings,
      JSON.stringify({ ...transformConfigSlice(DEFAULT_CONFIG), redaction: { ipv4PrefixLength: 40 } }),
    );
    await expect(invoke(fixture('direct-put'))).rejects.toThrow(
      /LOGLAKE_STREAM: must be one of logs, audit \(received "debug"\)[\s\S]*LOGLAKE_TRANSFORM_SETTINGS\.redaction/,
    );
  });

  describe('with an audit stream configured', () => {
    beforeEach(() => {
      vi.stubEnv(TRANSFORM_ENV.auditStreamName, 'loglake-audit');
    });

    const event = (): FirehoseTransformationEvent => {
      const e = fixture('audit-stream');
      return {
        ...e,
        deliveryStreamArn: 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/loglake-logs',
      };
    };

    it('forwards locked-category records (original bytes) and returns them Dropped', async () => {
      const e = event();
      const result = await invoke(e);
      expect(result.records.map((r) => r.result)).toEqual(['Dropped', 'Ok']);
      expect(firehoseCalls()).toHaveLength(1);
      expect(firehoseCalls()[0]?.DeliveryStreamName).toBe('loglake-audit');
      const sent = firehoseCalls()[0]?.Records?.map((r) => Buffer.from(r.Data ?? []).toString('base64'));
      expect(sent).toEqual([e.records[0]?.data]);
    });

    it('retries failed entries and keeps records in logs with a schema error if forwarding still fails', async () => {
      mocks.failEntries = (_call, n) => Array.from({ length: n }, () => true);
      const result = await invoke(event());
      expect(firehoseCalls().length).toBe(4);
      expect(result.records.map((r) => r.result)).toEqual(['Ok', 'Ok']);
      const kept = decodeRecords(result.records[0]?.data ?? '');
      expect(result.records[0]?.metadata?.partitionKeys.category).toBe('audit');
      expect(kept[0]?.schema_errors).toContain('locked category could not be forwarded to audit stream');
      expect(emf().some((b) => b.AuditForwardFailed === 1)).toBe(true);
    });
  });

  it('re-ingests the largest records into its own stream when the response would exceed 6 MB', async () => {
    const line = JSON.stringify({ level: 'info', service: 'bulk', msg: 'x'.repeat(40), n: 1 });
    const data = Buffer.from(`${Array.from({ length: 2_400 }, () => line).join('\n')}\n`).toString('base64');
    const base = fixture('direct-put');
    const event: FirehoseTransformationEvent = {
      ...base,
      records: Array.from({ length: 12 }, (_, i) => ({
        recordId: `big-${i}`,
        approximateArrivalTimestamp: 1767323045000,
        data,
      })),
    };
    const result = await invoke(event);
    const size = Buffer.byteLength(JSON.stringify(result));
    expect(size).toBeLessThanOrEqual(LAMBDA_RESPONSE_LIMIT_BYTES);
    const dropped = result.records.filter((r) => r.result === 'Dropped').map((r) => r.recordId);
    expect(dropped.length).toBeGreaterThan(0);
    expect(result.records.filter((r) => r.result === 'Ok').length).toBe(12 - dropped.length);
    const reingested = firehoseCalls().flatMap((c) => c.Records ?? []);
    expect(firehoseCalls().every((c) => c.DeliveryStreamName === 'loglake-logs')).toBe(true);
    expect(reingested).toHaveLength(dropped.length);
  });

  it('falls back to compact records, and stops re-ingesting, when it may not write to its own stream', async () => {
    const { handler } = await import('../../lambdas/transform/index');
    firehoseMock
      .on(PutRecordBatchCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const line = JSON.stringify({ level: 'info', service: 'bulk', msg: 'x'.repeat(40), n: 1 });
    const data = Buffer.from(`${Array.from({ length: 2_400 }, () => line).join('\n')}\n`).toString('base64');
    const event: FirehoseTransformationEvent = {
      ...fixture('direct-put'),
      records: Array.from({ length: 12 }, (_, i) => ({
        recordId: `big-${i}`,
        approximateArrivalTimestamp: 1767323045000,
        data,
      })),
    };
    const first = await handler(event, {} as Context, () => undefined);
    expect(firehoseCalls()).toHaveLength(1);
    expect(first?.records.every((r) => r.result === 'Ok')).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(first))).toBeLessThanOrEqual(LAMBDA_RESPONSE_LIMIT_BYTES);
    const compact = first?.records.filter((r) => decodeRecords(r.data ?? '').length === 1) ?? [];
    expect(compact.length).toBeGreaterThan(0);
    await handler(event, {} as Context, () => undefined);
    expect(firehoseCalls()).toHaveLength(1);
  });
});
