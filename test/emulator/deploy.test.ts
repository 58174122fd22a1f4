/**
 * Deploys the stack into MiniStack with the real CDK CLI (`cdk bootstrap` + `cdk deploy`, emulator
 * target), sends logs with the real Firehose client and reads the delivered objects back with the
 * real S3 client and DuckDB; then watches the deployed schedule evaluate an alert rule and publish to
 * SNS, read from an SQS queue the test subscribes. MiniStack is shared with the other emulator tests
 * through a lease (test/helpers/emulator.ts): started on 127.0.0.1:4566 (or `LOGLAKE_EMULATOR_PORT`)
 * unless something already answers there (CI starts it in `.ci/run`), stopped by its last user.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { CloudFormationClient, DescribeStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DescribeSubscriptionFiltersCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { type AttributeValue, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import {
  type _Object,
  GetObjectCommand,
  GetObjectRetentionCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
  type TransitionStorageClass,
} from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient, SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert';
import {
  deployedLake,
  readAccessMatrix,
  readAlertCoverage,
  readEncryption,
  readIntegrity,
  readRetention,
} from '../../src/compliance/aws';
import { planStackCleanup } from '../../src/compliance/aws-cleanup';
import { DEFAULT_CONFIG, type LogLakeConfigOverride } from '../../src/config';
import { DynamoDbSubjectRequestStore } from '../../src/privacy/dynamodb-requests';
import { DynamoDbSubjectKeyStore } from '../../src/privacy/dynamodb-store';
import { lookupPseudonyms } from '../../src/privacy/keyring';
import { NO_SUBJECT_PSEUDONYM, searchPseudonyms } from '../../src/privacy/lookup';
import { SUBJECT_KEY_ATTRIBUTES } from '../../src/privacy/store';
import { subjectPseudonym, subjectRef } from '../../src/privacy/subject';
import { RECORD_COLUMNS } from '../../src/schema';
import { wafStreamName } from '../../src/sources/names';
import { loglake } from '../helpers/cli';
import {
  acquireEmulator,
  EMULATOR_ENDPOINT,
  EMULATOR_REGION,
  emulatorClientConfig,
  releaseEmulator,
} from '../helpers/emulator';
import { invokeFunction } from '../helpers/emulator-lambda';
import { withoutRecorderWarning } from '../helpers/recorder-warning';
import { ROOT } from '../infra/helpers';
import { envWithoutAws, run } from '../infra/tools';

const ENDPOINT = EMULATOR_ENDPOINT;
const REGION = EMULATOR_REGION;
const ACCOUNT = '000000000000';
const STACK = 'LogLakeEmulatorTest';
const emulatorEnv = envWithoutAws({
  AWS_ENDPOINT_URL: ENDPOINT,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: REGION,
  AWS_DEFAULT_REGION: REGION,
});
const clientConfig = emulatorClientConfig;
const firehose = new FirehoseClient(clientConfig);
const cwl = new CloudWatchLogsClient(clientConfig);
const s3 = new S3Client(clientConfig);
const athena = new AthenaClient(clientConfig);
const sns = new SNSClient(clientConfig);
const sqs = new SQSClient(clientConfig);
const kms = new KMSClient(clientConfig);
const iam = new IAMClient(clientConfig);
const cfn = new CloudFormationClient(clientConfig);
const cloudwatch = new CloudWatchClient(clientConfig);
const dynamodb = new DynamoDBClient(clientConfig);
const secrets = new SecretsManagerClient(clientConfig);

/**
 * The lake config of this deploy: the defaults, except alerting, set up so one test can watch a real
 * scheduled evaluation end to end within about two minutes:
 * - every minute (EventBridge's shortest rate) and without the delivery delay, so an error object put
 *   now falls inside the window of the next evaluation;
 * - only the rule MiniStack can evaluate: `firehose-errors` counts error-object arrivals (S3 event →
 *   EventBridge → alarm Lambda → DynamoDB). The other default rules query Athena, and MiniStack's Athena
 *   (DuckDB) has neither execution parameters nor the Trino functions the rule queries use; the README's
 *   emulator gaps say where they are covered instead;
 * - a 3-minute window, because MiniStack fires a rate rule 60-70 s apart (a 1-minute window could fall
 *   between two evaluations), and re-notification every minute, so a re-run on the same emulator while an
 *   earlier run's incident is still open gets a message too.
 */
/** A log group the stack subscribes by name (`sources.cloudWatchLogs.logGroups`); made before the deploy. */
const SUBSCRIBED_GROUP = '/loglake-emulator-test/orders';

const EMULATOR_CONFIG: LogLakeConfigOverride = {
  sources: { cloudWatchLogs: { logGroups: [SUBSCRIBED_GROUP] } },
  alerts: {
    scheduleMinutes: 1,
    delayMinutes: 0,
    rules: {
      'error-rate': { enabled: false },
      'security-critical': { enabled: false },
      'volume-anomaly': { enabled: false },
      'bulk-read': { enabled: false },
      'firehose-errors': { windowMinutes: 3, renotifyMinutes: 1 },
    },
  },
};

type Outputs = Record<string, string>;
type Template = {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  Outputs: Record<string, { Value: unknown }>;
};

let queueUrl: string | undefined;
let subscriptionArn: string | undefined;
let workdir: string;
let outputs: Outputs;
/** Unique per run: the emulator may hold objects of earlier runs. */
const runId = randomUUID();
const correlationId = `emu-${runId}`;

function mustRun(command: string, args: string[]): string {
  const r = run(command, args, emulatorEnv);
  if (r.status !== 0) {
    throw new Error(
      `${path.basename(command)} ${args.slice(0, 2).join(' ')} failed (${r.status}):\n${r.stderr.slice(-4000)}`,
    );
  }
  return r.stdout;
}

/**
 * MiniStack's CloudFormation creates buckets but does not apply BucketEncryption,
 * ObjectLockConfiguration or LifecycleConfiguration (it stores none of them). Apply the deployed
 * template's own settings through the S3 API, which MiniStack does implement, so delivered objects are
 * encrypted and locked as on AWS, and the compliance report reads back the rules the template deploys.
 */
async function applyBucketSettingsFromTemplate(template: Template): Promise<void> {
  for (const [output, bucket] of [
    ['LogsBucketName', outputs.LogsBucketName],
    ['AuditBucketName', outputs.AuditBucketName],
    ['QueryResultsBucketName', outputs.QueryResultsBucketName],
  ] as const) {
    const ref = (template.Outputs[output]?.Value as { Ref?: string } | undefined)?.Ref ?? '';
    const props = template.Resources[ref]?.Properties ?? {};
    const encryption = props.BucketEncryption as {
      ServerSideEncryptionConfiguration: {
        BucketKeyEnabled: boolean;
        ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' };
      }[];
    };
    const rule = encryption.ServerSideEncryptionConfiguration[0];
    await s3.send(
      new PutBucketEncryptionCommand({
        Bucket: bucket,
        ServerSideEncryptionConfiguration: {
          Rules: [
            {
              BucketKeyEnabled: rule?.BucketKeyEnabled,
              // The template references the key by Fn::GetAtt; the deployed ARN is a stack output.
              ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: outputs.KeyArn },
            },
          ],
        },
      }),
    );
    await applyLifecycleFromTemplate(bucket ?? '', props.LifecycleConfiguration as CfnLifecycle);
    const lock = props.ObjectLockConfiguration as
      | {
          ObjectLockEnabled: 'Enabled';
          Rule: { DefaultRetention: { Mode: 'GOVERNANCE' | 'COMPLIANCE'; Days: number } };
        }
      | undefined;
    if (lock) {
      await s3.send(
        new PutObjectLockConfigurationCommand({
          Bucket: bucket,
          ObjectLockConfiguration: {
            ObjectLockEnabled: 'Enabled',
            Rule: { DefaultRetention: lock.Rule.DefaultRetention },
          },
        }),
      );
    }
  }
}

interface CfnLifecycle {
  Rules: Array<{
    Id?: string;
    Status: 'Enabled' | 'Disabled';
    Prefix?: string;
    ExpirationInDays?: number;
    ExpiredObjectDeleteMarker?: boolean;
    ObjectSizeGreaterThan?: string;
    Transitions?: Array<{ StorageClass: TransitionStorageClass; TransitionInDays: number }>;
    NoncurrentVersionExpiration?: { NoncurrentDays: number };
    AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number };
  }>;
}

/** The template's lifecycle rules (CloudFormation's shape) put through the S3 API's. */
async function applyLifecycleFromTemplate(
  bucket: string,
  lifecycle: CfnLifecycle | undefined,
): Promise<void> {
  if (!lifecycle) return;
  await s3.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: bucket,
      LifecycleConfiguration: {
        Rules: lifecycle.Rules.map((r) => ({
          ID: r.Id,
          Status: r.Status,
          Filter:
            r.ObjectSizeGreaterThan !== undefined
              ? { And: { Prefix: r.Prefix, ObjectSizeGreaterThan: Number(r.ObjectSizeGreaterThan) } }
              : { Prefix: r.Prefix ?? '' },
          ...(r.ExpirationInDays !== undefined && { Expiration: { Days: r.ExpirationInDays } }),
          ...(r.ExpiredObjectDeleteMarker !== undefined && {
            Expiration: { ExpiredObjectDeleteMarker: r.ExpiredObjectDeleteMarker },
          }),
          ...(r.Transitions && {
            Transitions: r.Transitions.map((t) => ({
              StorageClass: t.StorageClass,
              Days: t.TransitionInDays,
            })),
          }),
          ...(r.NoncurrentVersionExpiration && {
            NoncurrentVersionExpiration: r.NoncurrentVersionExpiration,
          }),
          ...(r.AbortIncompleteMultipartUpload && {
            AbortIncompleteMultipartUpload: r.AbortIncompleteMultipartUpload,
          }),
        })),
      },
    }),
  );
}

async function listAll(bucket: string, prefix: string): Promise<_Object[]> {
  const out: _Object[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    out.push(...(page.Contents ?? []));
    token = page.NextContinuationToken;
  } while (token);
  return out;
}

/** Objects under `prefix` that appeared since `before` was listed, waiting for Firehose to deliver. */
async function newObjects(
  bucket: string,
  prefix: string,
  before: Set<string>,
  atLeast = 1,
): Promise<_Object[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const fresh = (await listAll(bucket, prefix)).filter((o) => o.Key && !before.has(o.Key));
    if (fresh.length >= atLeast || Date.now() > deadline) return fresh;
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function keys(bucket: string, prefix: string): Promise<Set<string>> {
  return new Set((await listAll(bucket, prefix)).map((o) => o.Key ?? ''));
}

type Row = Record<string, unknown>;

/** Rows of a delivered Parquet object, read with DuckDB. */
async function readParquet(bucket: string, key: string): Promise<{ columns: string[]; rows: Row[] }> {
  const body = await (
    await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  ).Body?.transformToByteArray();
  if (!body) throw new Error(`empty object ${key}`);
  const file = path.join(workdir, `${randomUUID()}.parquet`);
  writeFileSync(file, body);
  const db = await DuckDBInstance.create(':memory:');
  const connection = await db.connect();
  try {
    const reader = await connection.runAndReadAll(`SELECT * FROM read_parquet('${file}')`);
    return { columns: reader.columnNames(), rows: reader.getRowObjectsJson() as Row[] };
  } finally {
    connection.closeSync();
    db.closeSync();
  }
}

/** Run one query in a workgroup and return its rows (header row dropped) as objects. */
async function query(workGroup: string, sql: string): Promise<Record<string, string | undefined>[]> {
  const { QueryExecutionId } = await athena.send(
    new StartQueryExecutionCommand({
      QueryString: sql,
      WorkGroup: workGroup,
      QueryExecutionContext: { Database: outputs.DatabaseName },
    }),
  );
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { QueryExecution } = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId }));
    const state = QueryExecution?.Status?.State;
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED' || state === 'CANCELLED' || Date.now() > deadline) {
      throw new Error(`query ${state ?? 'timed out'}: ${QueryExecution?.Status?.StateChangeReason ?? ''}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  const { ResultSet } = await athena.send(new GetQueryResultsCommand({ QueryExecutionId }));
  const [header, ...rows] = ResultSet?.Rows ?? [];
  const names = (header?.Data ?? []).map((d) => d.VarCharValue ?? '');
  return rows.map((r) => Object.fromEntries(names.map((n, i) => [n, r.Data?.[i]?.VarCharValue])));
}

interface SnsEnvelope {
  readonly Type: string;
  readonly TopicArn: string;
  readonly Subject?: string;
  readonly Message: string;
  readonly MessageAttributes?: Record<string, { Type: string; Value: string }>;
}

/** The first alert on the queue matching `wanted`, long-polling until it comes or 3 minutes pass. */
async function alertFor(
  queue: string,
  wanted: (alert: Alert) => boolean,
): Promise<{ envelope: SnsEnvelope; alert: Alert }> {
  const deadline = Date.now() + 180_000;
  const seen: string[] = [];
  while (Date.now() < deadline) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue, MaxNumberOfMessages: 10, WaitTimeSeconds: 10 }),
    );
    for (const m of Messages ?? []) {
      const envelope = JSON.parse(m.Body ?? '{}') as SnsEnvelope;
      const alert = JSON.parse(envelope.Message) as Alert;
      if (wanted(alert)) return { envelope, alert };
      seen.push(alert.id);
    }
  }
  throw new Error(`no matching alert within 3 minutes; other alerts seen: ${seen.join(', ') || 'none'}`);
}

/**
 * The rows carrying `correlationId` in objects delivered under `prefix` since `before` was listed,
 * waiting until `count` of them arrived (Firehose may split one batch into several objects).
 */
async function deliveredRows(
  bucket: string,
  prefix: string,
  before: Set<string>,
  correlationId: string,
  count: number,
): Promise<Row[]> {
  const deadline = Date.now() + 60_000;
  const read = new Map<string, Row[]>();
  for (;;) {
    for (const object of await newObjects(bucket, prefix, before)) {
      const key = object.Key ?? '';
      if (!read.has(key)) read.set(key, (await readParquet(bucket, key)).rows);
    }
    const rows = [...read.values()].flat().filter((r) => r.correlation_id === correlationId);
    if (rows.length >= count || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Every item of the subject key table, as `ref` → the item's attributes (strings and bytes as text). */
async function subjectKeyItems(table: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    for (const item of page.Items ?? []) {
      const text = Object.values(item)
        .map((v) => v.S ?? (v.B ? Buffer.from(v.B).toString('latin1') : JSON.stringify(v)))
        .join(' ');
      out.set(item[SUBJECT_KEY_ATTRIBUTES.ref]?.S ?? '', text);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/** Each inner array becomes one record of NDJSON lines: one event per record, or several packed. */
async function send(stream: string, records: object[][]): Promise<void> {
  const result = await firehose.send(
    new PutRecordBatchCommand({
      DeliveryStreamName: stream,
      Records: records.map((events) => ({
        Data: Buffer.from(events.map((e) => `${JSON.stringify(e)}\n`).join('')),
      })),
    }),
  );
  expect(result.FailedPutCount).toBe(0);
}

describe('LogLake deployed on MiniStack', () => {
  beforeAll(async () => {
    acquireEmulator();
    workdir = mkdtempSync(path.join(tmpdir(), 'loglake-emulator-'));
    const cdk = path.join(ROOT, 'node_modules/.bin/cdk');
    const common = ['--no-notices', '--output', path.join(workdir, 'cdk.out')];
    mustRun(cdk, ['bootstrap', `aws://${ACCOUNT}/${REGION}`, ...common]);
    await cwl.send(new CreateLogGroupCommand({ logGroupName: SUBSCRIBED_GROUP })).catch((error: Error) => {
      if (error.name !== 'ResourceAlreadyExistsException') throw error;
    });
    const outputsFile = path.join(workdir, 'outputs.json');
    mustRun(cdk, [
      'deploy',
      ...common,
      '--require-approval',
      'never',
      '-c',
      'loglake:target=emulator',
      '-c',
      `loglake:stackName=${STACK}`,
      '-c',
      `loglake=${JSON.stringify(EMULATOR_CONFIG)}`,
      '--outputs-file',
      outputsFile,
    ]);
    outputs = (JSON.parse(readFileSync(outputsFile, 'utf8')) as Record<string, Outputs>)[STACK] ?? {};
    const template = JSON.parse(
      readFileSync(path.join(workdir, 'cdk.out', 'LogLake.template.json'), 'utf8'),
    ) as Template;
    await applyBucketSettingsFromTemplate(template);
  }, 600_000);

  afterAll(async () => {
    if (subscriptionArn) await sns.send(new UnsubscribeCommand({ SubscriptionArn: subscriptionArn }));
    if (queueUrl) await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
    releaseEmulator();
    if (workdir) rmSync(workdir, { recursive: true, force: true });
    for (const client of [firehose, s3, athena, sns, sqs, kms, iam, cfn, cloudwatch, dynamodb, secrets])
      client.destroy();
  });

  it('deploys every stack output', () => {
    expect(outputs).toMatchObject({
      LogsStreamName: 'loglake-logs',
      AuditStreamName: 'loglake-audit',
      DatabaseName: 'loglake',
      LogsTableName: 'logs',
      AuditTableName: 'audit',
      WorkGroupName: 'loglake',
    });
    expect(outputs.LogsBucketName).toBeTruthy();
    for (const severity of ['Critical', 'High', 'Medium', 'Low']) {
      expect(outputs[`${severity}AlertTopicArn`]).toMatch(/^arn:aws:sns:us-east-1:000000000000:/);
    }
    expect(outputs.AuditBucketName).toBeTruthy();
  });

  it('transforms, redacts and partitions events into KMS-encrypted Parquet in the DESIGN layout', async () => {
    const bucket = outputs.LogsBucketName ?? '';
    const before = await keys(bucket, 'logs/');
    const now = new Date();

    await send(outputs.LogsStreamName ?? '', [
      [
        {
          timestamp: now.toISOString(),
          level: 'info',
          service: 'checkout',
          message: 'payment accepted password=hunter2-secret for alice@example.com',
          correlation_id: correlationId,
          user_id: 'user-42',
          order_id: 'o-1',
        },
      ],
      [
        {
          timestamp: now.toISOString(),
          level: 'error',
          service: 'checkout',
          message: 'card declined',
          error_type: 'CardError',
          correlation_id: correlationId,
        },
      ],
      // Packed by a shipper: two events of one category in one record, delivered as two rows.
      [1, 2].map((n) => ({
        timestamp: now.toISOString(),
        level: 'INFO',
        service: 'checkout',
        message: `packed event ${n}`,
        correlation_id: `${correlationId}-packed`,
      })),
    ]);
    const delivered = await newObjects(bucket, 'logs/', before, 3);

    expect(delivered.length).toBeGreaterThanOrEqual(3);
    const dt = now.toISOString().slice(0, 10);
    const hour = now.toISOString().slice(11, 13);
    const all: Array<Row & { key: string }> = [];
    for (const object of delivered) {
      const key = object.Key ?? '';
      expect(key).toMatch(new RegExp(`^logs/category=(runtime|errors)/dt=${dt}/hour=${hour}/.*\\.parquet$`));
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      expect(head.ServerSideEncryption).toBe('aws:kms');
      expect(head.SSEKMSKeyId).toBe(outputs.KeyArn);
      const parquet = await readParquet(bucket, key);
      expect(parquet.columns).toEqual(RECORD_COLUMNS.map((c) => c.name));
      all.push(...parquet.rows.map((r) => ({ ...r, key })));
    }
    const packed = all.filter((r) => r.correlation_id === `${correlationId}-packed`);
    expect(packed.map((r) => r.message).sort()).toEqual(['packed event 1', 'packed event 2']);
    expect(new Set(packed.map((r) => r.key)).size).toBe(1);
    const rows = all.filter((r) => r.correlation_id === correlationId);
    expect(rows).toHaveLength(2);
    const info = rows.find((r) => r.level === 'INFO');
    const error = rows.find((r) => r.level === 'ERROR');
    expect(info?.service).toBe('checkout');
    expect(String(info?.message)).not.toContain('hunter2-secret');
    expect(String(info?.message)).not.toContain('alice@example.com');
    expect(String(info?.message)).toContain('payment accepted');
    expect(info?.user_id).not.toBe('user-42');
    expect(JSON.stringify(info?.attributes)).toContain('o-1');
    expect(error?.error_type).toBe('CardError');
    expect(delivered.some((o) => o.Key?.startsWith('logs/category=errors/'))).toBe(true);
  });

  it('delivers a WAF log put on the deployed aws-waf-logs stream through the same transform: an ALLOW in api_access, its cookie redacted', async () => {
    const bucket = outputs.LogsBucketName ?? '';
    const before = await keys(bucket, 'logs/category=api_access/');
    const requestId = `waf-${runId}`;
    // AWS's documented ALLOW (test/fixtures/aws-sources/waf.ndjson line 1) with a session cookie added, sent
    // now. Not a BLOCK: those are security events, forwarded from inside the transform to the audit stream,
    // and MiniStack serves that nested PutRecordBatch only after the invoking one returns (the Lambda times
    // out); the forward itself is covered in test/transform and the audit test below.
    const [allow] = readFileSync(path.join(ROOT, 'test/fixtures/aws-sources/waf.ndjson'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    const waf = JSON.parse(allow ?? '{}') as {
      timestamp: number;
      httpRequest: { requestId?: string; headers: { name: string; value: string }[] };
    };
    waf.timestamp = Date.now();
    waf.httpRequest.requestId = requestId;
    waf.httpRequest.headers.push({ name: 'Cookie', value: 'session=8f14e45fceea167a5a36dedd4bea2543' });

    await send(wafStreamName('loglake'), [[waf]]);
    const delivered = await newObjects(bucket, 'logs/category=api_access/', before);

    const rows: Row[] = [];
    for (const object of delivered) rows.push(...(await readParquet(bucket, object.Key ?? '')).rows);
    const row = rows.find((r) => r.correlation_id === requestId);
    expect(row).toMatchObject({ service: 'aws.waf', level: 'INFO' });
    expect(String(row?.message)).toBe('ALLOW GET /CanaryTest by Default_Action');
    expect(JSON.stringify(row)).not.toContain('8f14e45fceea167a5a36dedd4bea2543');
  });

  it('subscribes the configured log group to the deployed logs stream, and reads what the subscription sends', async () => {
    // The deployed filter, read back: the lake's name, every event, into the logs stream, through the role.
    const { subscriptionFilters = [] } = await cwl.send(
      new DescribeSubscriptionFiltersCommand({ logGroupName: SUBSCRIBED_GROUP }),
    );
    expect(subscriptionFilters).toHaveLength(1);
    const [filter] = subscriptionFilters;
    expect(filter).toMatchObject({ filterName: 'loglake-lake', filterPattern: '' });
    expect(filter?.destinationArn).toMatch(/:deliverystream\/loglake-logs$/);
    expect(filter?.roleArn).toMatch(/^arn:aws:iam::000000000000:role\//);

    // MiniStack stores Firehose destinations of subscription filters but delivers only to Lambda ones, so
    // the payload CloudWatch Logs would put (gzip'd DATA_MESSAGE naming the filter) is put here instead.
    const bucket = outputs.LogsBucketName ?? '';
    const before = await keys(bucket, 'logs/category=errors/');
    const correlationId = `cwl-${runId}`;
    const message = JSON.stringify({
      level: 'error',
      message: 'payment declined',
      correlation_id: correlationId,
    });
    const payload = {
      messageType: 'DATA_MESSAGE',
      owner: ACCOUNT,
      logGroup: SUBSCRIBED_GROUP,
      logStream: '2026/12/02/[$LATEST]0123456789abcdef',
      subscriptionFilters: [filter?.filterName],
      logEvents: [{ id: '37516444', timestamp: Date.now(), message }],
    };
    const put = await firehose.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: outputs.LogsStreamName ?? '',
        Records: [{ Data: gzipSync(JSON.stringify(payload)) }],
      }),
    );
    expect(put.FailedPutCount).toBe(0);
    const delivered = await newObjects(bucket, 'logs/category=errors/', before);

    const rows: Row[] = [];
    for (const object of delivered) rows.push(...(await readParquet(bucket, object.Key ?? '')).rows);
    const row = rows.find((r) => r.correlation_id === correlationId);
    expect(row).toMatchObject({ service: 'orders', level: 'ERROR', message: 'payment declined' });
    expect(JSON.stringify(row)).toContain(SUBSCRIBED_GROUP);
  });

  it('finds the delivered events through Athena on the deployed Glue table, partitions included', async () => {
    // The SQL is fixed text with the test's own id: valid for Athena (Trino) and MiniStack (DuckDB) alike.
    const rows = await query(
      outputs.WorkGroupName ?? '',
      `SELECT correlation_id, level, service, category FROM logs WHERE correlation_id = '${correlationId}' ORDER BY level`,
    );

    expect(rows).toEqual([
      { correlation_id: correlationId, level: 'ERROR', service: 'checkout', category: 'errors' },
      { correlation_id: correlationId, level: 'INFO', service: 'checkout', category: 'runtime' },
    ]);
  });

  it('delivers the audit stream into the Object Lock bucket, locked by default retention', async () => {
    const bucket = outputs.AuditBucketName ?? '';
    const before = await keys(bucket, 'logs/');
    const correlationId = `emu-audit-${runId}`;

    await send(outputs.AuditStreamName ?? '', [
      [
        {
          timestamp: new Date().toISOString(),
          level: 'INFO',
          service: 'billing',
          logger: 'billing.audit',
          message: 'refund approved by operator',
          category: 'audit',
          correlation_id: correlationId,
        },
      ],
    ]);
    const delivered = await newObjects(bucket, 'logs/', before);

    expect(delivered).toHaveLength(1);
    const key = delivered[0]?.Key ?? '';
    expect(key).toMatch(/^logs\/category=audit\/dt=\d{4}-\d{2}-\d{2}\/hour=\d{2}\//);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
    const retention = await s3.send(new GetObjectRetentionCommand({ Bucket: bucket, Key: key }));
    expect(retention.Retention?.Mode).toBe('GOVERNANCE');
    const days = ((retention.Retention?.RetainUntilDate?.getTime() ?? 0) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(364);
    expect(days).toBeLessThanOrEqual(365);
    const { rows } = await readParquet(bucket, key);
    expect(rows.map((r) => r.correlation_id)).toEqual([correlationId]);
  });
  it('alerts through the deployed schedule: a new error object reaches a queue subscribed to the topic', async () => {
    // Prepare: a queue of the test's own, subscribed to the topic of the rule's severity (high).
    const topicArn = outputs.HighAlertTopicArn ?? '';
    queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `loglake-alerts-${runId.slice(0, 8)}` })))
      .QueueUrl;
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const queueArn = Attributes?.QueueArn ?? '';
    // What AWS requires for SNS to deliver (MiniStack does not enforce it).
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: queueUrl,
        Attributes: {
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'sns.amazonaws.com' },
                Action: 'sqs:SendMessage',
                Resource: queueArn,
                Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
              },
            ],
          }),
        },
      }),
    );
    subscriptionArn = (
      await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'sqs', Endpoint: queueArn }))
    ).SubscriptionArn;
    // MiniStack's Firehose drops ProcessingFailed records instead of writing them under the error
    // prefix, so the test writes the object Firehose would: same bucket, same key layout, same body shape.
    const bucket = outputs.LogsBucketName ?? '';
    const putAt = new Date();
    const key = `errors/processing-failed/dt=${putAt.toISOString().slice(0, 10)}/loglake-logs-${runId}`;
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: `${JSON.stringify({
          attemptsMade: 4,
          arrivalTimestamp: putAt.getTime(),
          errorCode: 'Lambda.ProcessingFailed',
          errorMessage: 'record could not be processed',
          rawData: Buffer.from('not a log line').toString('base64'),
        })}\n`,
      }),
    );

    // Act: the S3 event records the arrival; the next scheduled evaluation counts it and publishes.
    const object = `${bucket}/${key}`;
    const received = await alertFor(
      queueUrl ?? '',
      (a) => a.rule === 'firehose-errors' && a.samples.includes(object),
    );

    // Assess
    expect(received.envelope).toMatchObject({ Type: 'Notification', TopicArn: topicArn });
    expect(received.envelope.Subject).toMatch(
      /^\[HIGH\] (FIRING|STILL FIRING) firehose-errors stream=logs,type=processing-failed: /,
    );
    expect(received.envelope.MessageAttributes).toMatchObject({
      severity: { Type: 'String', Value: 'high' },
      status: { Type: 'String', Value: 'firing' },
      rule: { Type: 'String', Value: 'firehose-errors' },
      source: { Type: 'String', Value: 'rule' },
    });
    const alert = received.alert;
    expect(alert).toMatchObject({
      source: 'rule',
      status: 'firing',
      kind: 'error_output',
      severity: 'high',
      threshold: 0,
      group: { type: 'processing-failed', stream: 'logs' },
      window: { minutes: 3 },
    });
    expect(alert.value).toBeGreaterThanOrEqual(1);
    // Evaluated by a schedule slot (a whole minute) after the object arrived, with it inside the window.
    const firedAt = Date.parse(alert.firedAt);
    expect(firedAt % 60_000).toBe(0);
    expect(firedAt).toBeGreaterThan(putAt.getTime());
    expect(Date.parse(alert.window.start)).toBeLessThanOrEqual(putAt.getTime());
    expect(alert.window.end).toBe(alert.firedAt);
  }, 240_000);

  it('reads the compliance evidence back from the deployed resources (compliance-report --stack)', async () => {
    // Arrange: one audit event delivered into the Object Lock bucket in the period.
    const lake = deployedLake(STACK, REGION, outputs);
    const bucket = outputs.AuditBucketName ?? '';
    const before = await keys(bucket, 'logs/');
    const since = new Date(Date.now() - 3_600_000);
    await send(outputs.AuditStreamName ?? '', [
      [
        {
          timestamp: new Date().toISOString(),
          level: 'INFO',
          service: 'billing',
          message: 'evidence',
          category: 'audit',
        },
      ],
    ]);
    const [delivered] = await newObjects(bucket, 'logs/', before);
    const key = delivered?.Key ?? '';
    const until = new Date(Date.now() + 60_000);
    const config = DEFAULT_CONFIG;

    // Act
    const retention = await readRetention(s3, lake, config, config, until);
    const encryption = await readEncryption(s3, kms, lake);
    const access = await readAccessMatrix(iam, lake, config);
    const integrity = await readIntegrity(s3, lake, config, { since, until, now: new Date() });
    const alerts = await readAlertCoverage(
      { cloudformation: cfn, cloudwatch, dynamodb },
      lake,
      config,
      since,
    );
    const cleanup = await planStackCleanup(s3, lake, config, new Date());

    // Assert: what the template deployed, read back.
    expect(retention.status).toBe('ok');
    for (const row of retention.rows) expect(row[2]).toBe(row[1]);
    expect(retention.rows.find((r) => r[0] === 'audit')?.slice(3, 6)).toEqual([
      'GOVERNANCE 365 days',
      `${/dt=(\d{4}-\d{2}-\d{2})/.exec(key)?.[1]}T00:00:00.000Z`,
      bucket,
    ]);
    expect(encryption.status).toBe('ok');
    expect(encryption.rows).toContainEqual(['KMS key rotation', outputs.KeyArn, 'every 365 days', true]);
    expect(encryption.rows.filter((r) => r[0] === 'TLS-only bucket policy')).toHaveLength(3);
    // The persona roles' deployed policies grant exactly the configuration's matrix.
    expect(access.status).toBe('ok');
    for (const row of access.rows) expect([row[2], row[3]]).toEqual([row[4], row[5]]);
    expect(integrity.status).toBe('ok');
    expect(integrity.rows.find((r) => r[0] === `${bucket}/${key}`)?.[5]).toMatch(/^GOVERNANCE until /);
    expect(alerts.summary[0]).toMatch(
      /^5 rule\(s\) \(state from LogLakeEmulatorTest-LogLakeAlertingStateTable/,
    );
    expect(alerts.rows.filter((r) => r[2] === 'cloudwatch alarm').length).toBeGreaterThan(0);
    // The earlier audit test's object may come first: both expire at the same midnight.
    expect(cleanup.next.find((n) => n.category === 'audit')?.key).toMatch(
      new RegExp(`^${bucket}/logs/category=audit/dt=`),
    );
    expect(cleanup.withoutRule).toEqual([]);

    // A delivered object overwritten (a new version of a locked key) is found as changed.
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'rewritten' }));
    const tampered = await readIntegrity(s3, lake, config, { since, until, now: new Date() });
    expect(tampered.status).toBe('violation');
    expect(tampered.summary).toContain(`FINDING: changed ${bucket}/${key}: 2 versions of a delivered object`);
  });

  it('resolves subject keys in the deployed key table, and erasing one (subject erase --stack) unlinks only that person', async () => {
    // Arrange: two people new to this emulator, the lake key the deployed transform reads.
    const table = outputs.SubjectKeyTableName ?? '';
    const lakeKey =
      (await secrets.send(new GetSecretValueCommand({ SecretId: outputs.PseudonymSecretArn })))
        .SecretString ?? '';
    expect(lakeKey.length).toBeGreaterThan(0);
    const store = new DynamoDbSubjectKeyStore(dynamodb, table);
    const [alice, bob] = [`1001-${runId}`, `2002-${runId}`];
    const [refA, refB] = [subjectRef(lakeKey, alice), subjectRef(lakeKey, bob)];
    const itemsBefore = await subjectKeyItems(table);
    expect(itemsBefore.has(refA) || itemsBefore.has(refB)).toBe(false);
    const bucket = outputs.LogsBucketName ?? '';
    const before = await keys(bucket, 'logs/');
    const cid = `emu-subject-${runId}`;
    const event = (user: string, message: string) => ({
      timestamp: new Date().toISOString(),
      level: 'INFO',
      service: 'accounts',
      message,
      correlation_id: cid,
      user_id: user,
    });

    // Act 1: both people's events through the real Firehose client, one person twice.
    await send(outputs.LogsStreamName ?? '', [
      [event(alice, `user ${alice} logged in`)],
      [event(bob, `user ${bob} logged in`)],
      [event(alice, `uid: ${alice} changed a setting`)],
    ]);
    const rows = await deliveredRows(bucket, 'logs/', before, cid, 3);

    // Assert 1: one key item per person, found by the lake-keyed reference; no raw id anywhere in it.
    const itemsAfter = await subjectKeyItems(table);
    const created = [...itemsAfter.keys()].filter((ref) => !itemsBefore.has(ref));
    expect(created.sort()).toEqual([refA, refB].sort());
    for (const [ref, text] of itemsAfter) {
      for (const raw of [alice, bob]) {
        expect(ref).not.toBe(raw);
        expect(text).not.toContain(raw);
      }
    }
    const stored = await store.get([refA, refB]);
    const [keyA, keyB] = [stored.get(refA), stored.get(refB)];
    expect(keyA).toHaveLength(32);
    expect(keyB).toHaveLength(32);
    // The delivered records carry what src/privacy derives with the stored key, in the field and in prose.
    const pseudonymA = subjectPseudonym(keyA as Uint8Array, alice);
    const pseudonymB = subjectPseudonym(keyB as Uint8Array, bob);
    expect(pseudonymA).not.toBe(pseudonymB);
    expect(rows).toHaveLength(3);
    expect(rows.map((r) => r.user_id).sort()).toEqual([pseudonymA, pseudonymA, pseudonymB].sort());
    for (const row of rows) {
      const text = JSON.stringify(row);
      expect(text).not.toContain(alice);
      expect(text).not.toContain(bob);
      expect(String(row.message)).toContain(String(row.user_id));
    }

    // Act 2: the privacy officer erases one person with the real CLI against the deployed stack.
    const auditBucket = outputs.AuditBucketName ?? '';
    const auditBefore = await keys(auditBucket, 'logs/');
    const erase = await loglake(
      [
        'subject',
        'erase',
        '--user',
        alice,
        '--reason',
        'emulator erasure',
        '--stack',
        STACK,
        '--persona',
        'privacy-officer',
      ],
      emulatorEnv,
    );

    // Assert 2: only that person's key is gone; a lookup by the raw id finds nothing for them.
    expect(withoutRecorderWarning(erase.stderr)).toBe('');
    expect(erase.code).toBe(0);
    expect(erase.stdout).toContain(`subject ${refA.slice(0, 16)} key destroyed in dynamodb:${table}`);
    const remaining = await subjectKeyItems(table);
    expect(remaining.has(refA)).toBe(false);
    expect(remaining.has(refB)).toBe(true);
    const lookups = await lookupPseudonyms(lakeKey, store, [alice, bob]);
    expect(lookups.get(alice)).toBeUndefined();
    expect(lookups.get(bob)).toBe(pseudonymB);
    expect(await searchPseudonyms(lakeKey, store, [alice])).toEqual([NO_SUBJECT_PSEUDONYM]);
    expect(await searchPseudonyms(lakeKey, store, [bob])).toEqual([pseudonymB]);
    // The request is an audit event in the locked bucket, by reference, never by raw id.
    const [audit] = await newObjects(auditBucket, 'logs/', auditBefore);
    const auditRows = (await readParquet(auditBucket, audit?.Key ?? '')).rows.map((r) => JSON.stringify(r));
    const request = auditRows.find((r) => r.includes(refA));
    expect(request).toContain('key destroyed');
    expect(request).toContain('Art. 17(3)(b)');
    expect(auditRows.join('\n')).not.toContain(alice);
  }, 240_000);

  it('carries out a scheduled erasure (subject erase --after --stack) when due, never one not yet due or cancelled', async () => {
    // Arrange: three people with keys in the deployed table, and the deployed executor's name. MiniStack
    // fires rate rules, but the executor's is hourly: the test invokes the deployed function directly,
    // as its schedule would.
    const keyTable = outputs.SubjectKeyTableName ?? '';
    const requestTable = outputs.SubjectRequestTableName ?? '';
    expect(requestTable).not.toBe('');
    const lakeKey =
      (await secrets.send(new GetSecretValueCommand({ SecretId: outputs.PseudonymSecretArn })))
        .SecretString ?? '';
    const store = new DynamoDbSubjectKeyStore(dynamodb, keyTable);
    const requests = new DynamoDbSubjectRequestStore(dynamodb, requestTable);
    const [carol, dave, erin] = [`3003-${runId}`, `4004-${runId}`, `5005-${runId}`];
    const [refC, refD, refE] = [carol, dave, erin].map((u) => subjectRef(lakeKey, u)) as [
      string,
      string,
      string,
    ];
    await store.getOrCreate([refC, refD, refE]);
    const resources = await cfn.send(new DescribeStackResourcesCommand({ StackName: STACK }));
    const executor = resources.StackResources?.find(
      (r) =>
        r.ResourceType === 'AWS::Lambda::Function' &&
        r.LogicalResourceId?.startsWith('LogLakeErasuresExecutor'),
    )?.PhysicalResourceId;
    expect(executor).toBeTruthy();
    const auditBucket = outputs.AuditBucketName ?? '';
    const auditBefore = await keys(auditBucket, 'logs/');
    const subject = (verb: string, user: string, ...rest: string[]) =>
      loglake(
        ['subject', verb, '--user', user, '--stack', STACK, '--persona', 'privacy-officer', ...rest],
        emulatorEnv,
      );

    // Act 1: Carol's erasure due in 2 s, Dave's too but withdrawn, Erin's due in an hour.
    const scheduled: Record<string, number> = {};
    for (const [user, after] of [
      [carol, '2s'],
      [dave, '2s'],
      [erin, '1h'],
    ] as const) {
      const r = await subject('erase', user, '--reason', 'emulator window', '--after', after);
      expect(withoutRecorderWarning(r.stderr)).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('scheduled for');
      scheduled[user] = Date.now();
    }
    const cancel = await subject('cancel', dave, '--reason', 'withdrawn by the person');
    expect(cancel.code).toBe(0);
    await new Promise((r) => setTimeout(r, Math.max(0, (scheduled[carol] ?? 0) + 3_000 - Date.now())));

    // Act 2: past Carol's due time the executor runs, then runs again (a retried or duplicated run).
    const due = await runScheduled(executor ?? '');
    const again = await runScheduled(executor ?? '');

    // Assert: only the due, uncancelled one is carried out, once; the others keep their keys.
    expect(due).toEqual({ erased: [{ subject: refC, destroyed: true }] });
    expect(again).toEqual({ erased: [] });
    const left = await store.get([refC, refD, refE]);
    expect(left.has(refC)).toBe(false);
    expect(left.has(refD)).toBe(true);
    expect(left.has(refE)).toBe(true);
    expect(await requests.get(refC)).toMatchObject({ state: 'done', outcome: 'key destroyed' });
    expect(await requests.get(refD)).toMatchObject({ state: 'cancelled' });
    const pending = await subject('status', erin);
    expect(pending.stdout).toContain('request: erasure pending, due');
    expect(pending.stdout).toContain('key:     present');
    const after = await subject('status', carol);
    expect(after.stdout).toContain('(its records are anonymized)');
    // The executor's erase event is in the audit category, by reference, never by raw id.
    const rows = await auditRowsWith(auditBucket, auditBefore, `${refC}`, 'scheduled erasure');
    const erased = rows.find((r) => r.includes(refC) && r.includes('scheduled erasure'));
    expect(erased).toContain('key destroyed');
    expect(erased).toContain('Art. 17(3)(b)');
    expect(rows.join('\n')).not.toContain(carol);
  }, 600_000);
});

/** Runs a deployed scheduled function as its EventBridge schedule would, failing on a function error. */
async function runScheduled(name: string): Promise<unknown> {
  const { error, result } = await invokeFunction(name, {
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    time: new Date().toISOString(),
  });
  if (error) throw new Error(`Invoke ${name}: ${error} ${JSON.stringify(result)}`);
  return result;
}

/** Rows (as JSON text) of the audit objects delivered since `before`, waiting until one holds every `needle`. */
async function auditRowsWith(bucket: string, before: Set<string>, ...needles: string[]): Promise<string[]> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const rows: string[] = [];
    for (const o of await newObjects(bucket, 'logs/', before))
      rows.push(...(await readParquet(bucket, o.Key ?? '')).rows.map((r) => JSON.stringify(r)));
    if (rows.some((r) => needles.every((n) => r.includes(n))) || Date.now() > deadline) return rows;
    await new Promise((r) => setTimeout(r, 2_000));
  }
}
