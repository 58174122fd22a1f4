/**
 * The access-log path in MiniStack: the real handler runs as a Lambda (test/helpers/emulator-lambda.ts);
 * a gzip ALB log put into a bucket fires the bucket's S3 event notification, the function streams the
 * object and puts its lines on a Firehose stream, which delivers them to S3; the delivered lines go
 * through the real transform. An object outside the notification's prefix is not read. A second
 * notification of the same object write (S3 delivers notifications at least once) finds it done in the
 * ledger table (MiniStack's DynamoDB) and sends nothing.
 *
 * The resources are made through the APIs, not `cdk deploy`: the template's notification, grants and
 * dead-letter queue are asserted in test/infra/sources.test.ts (MiniStack's CloudFormation runs CDK's
 * notification custom resource, but a second full deploy would double the emulator suite's time).
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DeleteTableCommand, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { CreateDeliveryStreamCommand, FirehoseClient } from '@aws-sdk/client-firehose';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_LOGS_ENV } from '../../lambdas/access-logs/constants';
import { DEFAULT_CONFIG } from '../../src/config';
import { ACCESS_LOG_LEDGER_ATTRIBUTES as A } from '../../src/sources/access-log-ledger';
import { decodeRecords, transformRecords } from '../../src/transform';
import { acquireEmulator, emulatorClientConfig, releaseEmulator } from '../helpers/emulator';
import { type DeployedFunction, deployFunction } from '../helpers/emulator-lambda';
import { createLedgerTable } from '../helpers/ledger-contract';
import { ROOT } from '../infra/helpers';
import { input, settings } from '../transform/helpers';

const s3 = new S3Client(emulatorClientConfig);
const firehose = new FirehoseClient(emulatorClientConfig);
const dynamodb = new DynamoDBClient(emulatorClientConfig);
const id = randomUUID().slice(0, 8);
const source = `alb-logs-${id}`;
const lakeBucket = `lake-${id}`;
const stream = `lake-logs-${id}`;
const ledger = `access-log-ledger-${id}`;
const key = 'AWSLogs/123456789012/elasticloadbalancing/us-east-1/app.log.gz';
let fn: DeployedFunction;
const fixture = readFileSync(path.join(ROOT, 'test/fixtures/aws-sources/alb.log'));

/** Lines Firehose delivered to the lake bucket, waiting up to a minute until `enough` holds. */
async function delivered(
  enough: (lines: Record<string, string>[]) => boolean,
): Promise<Record<string, string>[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: lakeBucket }));
    const lines: Record<string, string>[] = [];
    for (const o of listed.Contents ?? []) {
      const body = await s3.send(new GetObjectCommand({ Bucket: lakeBucket, Key: o.Key }));
      const text = (await body.Body?.transformToString()) ?? '';
      for (const l of text.split('\n'))
        if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, string>);
    }
    if (enough(lines) || Date.now() > deadline) return lines;
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

beforeAll(async () => {
  acquireEmulator();
  await s3.send(new CreateBucketCommand({ Bucket: source }));
  await s3.send(new CreateBucketCommand({ Bucket: lakeBucket }));
  await firehose.send(
    new CreateDeliveryStreamCommand({
      DeliveryStreamName: stream,
      DeliveryStreamType: 'DirectPut',
      ExtendedS3DestinationConfiguration: {
        BucketARN: `arn:aws:s3:::${lakeBucket}`,
        RoleARN: 'arn:aws:iam::000000000000:role/firehose',
        BufferingHints: { IntervalInSeconds: 60, SizeInMBs: 1 },
      },
    }),
  );
  await createLedgerTable(dynamodb, ledger);
  fn = await deployFunction({
    name: `loglake-access-logs-${id}`,
    entry: 'lambdas/access-logs/index.ts',
    environment: {
      [ACCESS_LOGS_ENV.stream]: stream,
      [ACCESS_LOGS_ENV.ledger]: ledger,
      [ACCESS_LOGS_ENV.source]: JSON.stringify({ format: 'alb' }),
      [ACCESS_LOGS_ENV.rules]: JSON.stringify({
        rules: DEFAULT_CONFIG.transform.rules,
        defaultCategory: DEFAULT_CONFIG.transform.defaultCategory,
      }),
    },
  });
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: source,
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          {
            LambdaFunctionArn: fn.arn,
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'AWSLogs/' }] } },
          },
        ],
      },
    }),
  );
});

afterAll(async () => {
  await dynamodb.send(new DeleteTableCommand({ TableName: ledger }));
  dynamodb.destroy();
  releaseEmulator();
});

/** The ledger records of an object, waiting up to a minute until one is done. */
async function ledgerRecords(object: string): Promise<Record<string, string>[]> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const res = await dynamodb.send(
      new QueryCommand({
        TableName: ledger,
        KeyConditionExpression: '#o = :o',
        ExpressionAttributeNames: { '#o': A.object },
        ExpressionAttributeValues: { ':o': { S: object } },
        ConsistentRead: true,
      }),
    );
    const items = (res.Items ?? []).map((i) =>
      Object.fromEntries(Object.entries(i).map(([k, v]) => [k, v.S ?? v.N ?? ''])),
    );
    if (items.some((i) => i[A.state] === 'done') || Date.now() > deadline) return items;
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

describe('access logs in MiniStack', () => {
  it('streams a new gzip ALB log into the stream, each line once, and only objects under the prefix', async () => {
    await s3.send(new PutObjectCommand({ Bucket: source, Key: 'elsewhere/skip.log', Body: fixture }));
    await s3.send(new PutObjectCommand({ Bucket: source, Key: key, Body: gzipSync(fixture) }));

    const lines = (await delivered((l) => l.length >= 3)).sort(
      (a, b) => Number(a['access_log.line']) - Number(b['access_log.line']),
    );

    expect(lines.map((l) => l['access_log.object'])).toEqual(Array(3).fill(`s3://${source}/${key}`));
    expect(lines.map((l) => l['access_log.line']).sort()).toEqual(['1', '2', '3']);
    const records = transformRecords(
      [input(lines.map((l) => JSON.stringify(l)).join('\n'), 'r0', Date.parse('2018-07-02T23:00:00Z'))],
      settings(),
    ).records.flatMap((o) => decodeRecords(o.data));
    expect(records.map((r) => [r.service, r.http_status, r.level])).toEqual([
      ['aws.alb', 200, 'INFO'],
      ['aws.alb', 200, 'INFO'],
      ['aws.alb', 502, 'ERROR'],
    ]);
    expect(records[2]?.attributes.client_ip).toBe('203.0.113.0');
  });
  it('sends nothing for a second notification of the same object write: the ledger has it done', async () => {
    // Prepare: the write the first test shipped, as its ledger record and S3 name it.
    const object = `s3://${source}/${key}`;
    const records = await ledgerRecords(object);
    expect(records).toEqual([
      expect.objectContaining({ [A.state]: 'done', [A.outcome]: 'shipped', [A.lines]: '3' }),
    ]);
    const head = await s3.send(new HeadObjectCommand({ Bucket: source, Key: key }));
    const again = {
      Records: [
        {
          eventVersion: '2.1',
          eventSource: 'aws:s3',
          awsRegion: 'us-east-1',
          eventTime: new Date().toISOString(),
          eventName: 'ObjectCreated:Put',
          s3: {
            s3SchemaVersion: '1.0',
            bucket: { name: source, arn: `arn:aws:s3:::${source}` },
            object: {
              key,
              size: 1,
              eTag: (head.ETag ?? '').replace(/"/g, ''),
              sequencer: records[0]?.[A.delivery],
            },
          },
        },
      ],
    };

    // Act: S3's duplicate notification, then a new object whose lines mark the end of what was sent.
    const invocation = await fn.invoke(again);
    const marker = 'AWSLogs/123456789012/elasticloadbalancing/us-east-1/marker.log';
    await s3.send(new PutObjectCommand({ Bucket: source, Key: marker, Body: fixture }));
    const lines = await delivered((l) =>
      l.some((e) => e['access_log.object'] === `s3://${source}/${marker}`),
    );

    // Assess: Firehose delivers in order, so anything the duplicate had put would be there by now.
    expect(invocation.error).toBeUndefined();
    expect(invocation.result).toEqual([
      expect.objectContaining({ object, outcome: 'already-shipped', lines: 0, records: 0 }),
    ]);
    expect(lines.filter((e) => e['access_log.object'] === object)).toHaveLength(3);
  });
});
