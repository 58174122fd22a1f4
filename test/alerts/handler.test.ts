/**
 * The alarm Lambda's handler with real EventBridge event shapes (scheduled event, CloudWatch alarm state
 * change, S3 Object Created). Its state lives in a real DynamoDB (the emulator's), so retries see what
 * the first invocation wrote under DynamoDB's own conditions; Athena and SNS are stubbed with
 * aws-sdk-client-mock (the emulator's Athena cannot run the rule queries).
 */
import { AthenaClient, GetQueryExecutionCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient, PutRecordCommand } from '@aws-sdk/client-firehose';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { BatchWriteCommand, DynamoDBDocumentClient, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ALARM_ENV } from '../../lambdas/alarm/constants';
import type { Alert } from '../../src/alerts/alert';
import { resolveConfig } from '../../src/config';
import { answerAthena, putEvents } from '../helpers/athena-stub';
import { emulatorClientConfig } from '../helpers/emulator';
import {
  ALARM_ACCESS_AUDIT,
  type AlarmHandler,
  alarmFiring,
  errorObjectCreated,
  scheduledEvent,
  startAlarmLambda,
  topic,
} from './fixtures';

const athena = mockClient(AthenaClient);
const sns = mockClient(SNSClient);
const firehose = mockClient(FirehoseClient);
const TABLE = `alert-state-${Date.now()}`;
const raw = new DynamoDBClient(emulatorClientConfig);
const db = DynamoDBDocumentClient.from(raw);

let handler: AlarmHandler;
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  // Only the error-rate rule, so the Athena conversation is one query.
  const config = resolveConfig({
    alerts: {
      rules: {
        'security-critical': { enabled: false },
        'volume-anomaly': { enabled: false },
        'firehose-errors': { enabled: false },
        'bulk-read': { enabled: false },
      },
    },
  });
  ({ handler, close } = await startAlarmLambda(raw, config, TABLE, {
    [ALARM_ENV.buckets]: JSON.stringify({ 'loglakestack-logsbucket-1a2b3c4d5e6f': 'logs' }),
    [ALARM_ENV.pipelineSeverities]: JSON.stringify({
      firehoseFreshness: 'critical',
      firehoseDelivery: 'low',
    }),
    [ALARM_ENV.searchTarget]: '--athena --stack LogLakeStack',
    [ALARM_ENV.accessAudit]: JSON.stringify(ALARM_ACCESS_AUDIT),
  }));
});

afterAll(() => close?.());

/** Every item of the state table. */
async function items(): Promise<Record<string, unknown>[]> {
  return (await db.send(new ScanCommand({ TableName: TABLE, ConsistentRead: true }))).Items ?? [];
}

/** Athena's answer to the error-rate query. */
const athenaAnswers = (rows: string[][]) =>
  answerAthena(athena, {
    columns: [
      'service',
      'count',
      'errors',
      'error_rate',
      'first_seen',
      'last_seen',
      'sample_correlation_ids',
    ],
    rows,
  });

beforeEach(async () => {
  athena.reset();
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  firehose.reset();
  firehose.on(PutRecordCommand).resolves({ RecordId: 'r-1' });
  // Each test starts from an empty table, as a new deployment would.
  const keys = (await items()).map((i) => ({ DeleteRequest: { Key: { pk: i.pk, sk: i.sk } } }));
  for (let i = 0; i < keys.length; i += 25) {
    await db.send(new BatchWriteCommand({ RequestItems: { [TABLE]: keys.slice(i, i + 25) } }));
  }
});

describe('handler', () => {
  it('evaluates the rules on a scheduled event and publishes a breach to the severity topic', async () => {
    // Prepare
    athenaAnswers([
      [
        'checkout',
        '200',
        '30',
        '0.15',
        '2025-01-06 11:58:00.000',
        '2025-01-06 12:02:59.000',
        '["c-1","c-2"]',
      ],
      ['search', '400', '4', '0.01', '2025-01-06 11:58:00.000', '2025-01-06 12:02:59.000', '[]'],
    ]);
    // Act
    await handler(scheduledEvent());
    // Assess
    const start = athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input;
    expect(start).toMatchObject({ WorkGroup: 'loglake', QueryExecutionContext: { Database: 'loglake' } });
    expect(start?.QueryString).toContain('"loglake"."logs"');
    expect(start?.ExecutionParameters).toContain("'2025-01-06'");
    expect(start?.ClientRequestToken).toMatch(/^[0-9a-f]{64}$/);
    const published = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      TopicArn: topic('high'),
      MessageStructure: 'json',
      Subject: '[HIGH] FIRING error-rate service=checkout: 15.0%',
      MessageAttributes: { severity: { DataType: 'String', StringValue: 'high' } },
    });
    const alert = JSON.parse(JSON.parse(published[0]?.Message ?? '{}').sqs) as Alert;
    expect(alert).toMatchObject({
      rule: 'error-rate',
      value: 0.15,
      threshold: 0.05,
      group: { service: 'checkout' },
      samples: ['c-1', 'c-2'],
      window: { start: '2025-01-06T11:58:00.000Z', end: '2025-01-06T12:03:00.000Z', minutes: 5 },
    });
    expect(alert.search).toMatch(
      /^loglake search --since 2025-01-06T11:58:00.000Z .* --athena --stack LogLakeStack$/,
    );
    // The rule's read is an access event on the audit stream, as the function's role.
    const events = putEvents(firehose, ALARM_ACCESS_AUDIT.stream);
    expect(events).toHaveLength(1);
    expect(events[0]?.access).toMatchObject({
      principal: ALARM_ACCESS_AUDIT.principal,
      command: 'alert-evaluate',
      rule: 'error-rate',
      rows: '2',
    });
  });

  it('sends nothing twice and runs no second query when EventBridge retries the same scheduled event', async () => {
    athenaAnswers([['checkout', '200', '30', '0.15', '', '', '["c-1"]']]);
    await handler(scheduledEvent());
    await handler(scheduledEvent());
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(1);
  });

  it('re-publishes an alert whose publish failed when the scheduled event is retried', async () => {
    athenaAnswers([['checkout', '200', '30', '0.15', '', '', '[]']]);
    sns.on(PublishCommand).rejectsOnce(new Error('throttled')).resolves({ MessageId: 'm-2' });
    await expect(handler(scheduledEvent())).rejects.toThrow('throttled');
    await handler(scheduledEvent());
    expect(sns.commandCalls(PublishCommand)).toHaveLength(2);
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(1);
  });

  it('starts the retried query with the same idempotency token, so Athena does not scan twice', async () => {
    // Prepare
    athenaAnswers([['checkout', '200', '30', '0.15', '', '', '[]']]);
    athena
      .on(GetQueryExecutionCommand)
      .rejectsOnce(new Error('socket hang up'))
      .resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' } } });

    // Act
    await expect(handler(scheduledEvent())).rejects.toThrow('socket hang up');
    await handler(scheduledEvent());

    // Assess
    const tokens = athena
      .commandCalls(StartQueryExecutionCommand)
      .map((c) => c.args[0].input.ClientRequestToken);
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(tokens[1]).toBe(tokens[0]);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
  });

  it('fails the invocation (so EventBridge retries) when Athena fails the query', async () => {
    answerAthena(athena, { columns: [], rows: [], failure: 'Bytes scanned limit was exceeded' });
    // The rule's execution failed, and so did the one started once more under a token of its own.
    await expect(handler(scheduledEvent())).rejects.toThrow(
      /error-rate: Athena query q-2 failed: Bytes scanned limit/,
    );
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('forwards a pipeline alarm state change once, with the severity the construct assigned', async () => {
    await handler(alarmFiring());
    await handler(alarmFiring());
    const published = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ TopicArn: topic('critical') });
    expect(published[0]?.Subject).toMatch(/^\[CRITICAL\] FIRING LogLakeStack-LogsFreshnessAlarm/);
  });

  it('records an error object arrival for the error_output rules', async () => {
    await handler(errorObjectCreated());
    const stored = await db.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'errors' },
      }),
    );
    expect(stored.Items).toHaveLength(1);
    const [item] = stored.Items ?? [];
    expect(item).toMatchObject({
      pk: 'errors',
      type: 'processing-failed',
      stream: 'logs',
      at: '2025-01-06T12:01:12.000Z',
    });
    expect(String(item?.sk)).toMatch(
      /^2025-01-06T12:01:12.000Z#loglakestack-logsbucket-1a2b3c4d5e6f\/errors\//,
    );
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('ignores an event it was not built for', async () => {
    const event = { ...scheduledEvent(), 'detail-type': 'EC2 Instance State-change Notification' };
    await expect(handler(event as never)).resolves.toEqual({ handled: 'ignored' });
  });
});
