/**
 * The alarm Lambda's handler with the new kinds and routing: an absence rule that names a channel and
 * escalates, state in the emulator's DynamoDB across scheduled events, Athena and SNS stubbed with
 * aws-sdk-client-mock (as in handler.test.ts; the emulator's Athena cannot run the rule queries).
 */
import { AthenaClient, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALARM_ENV } from '../../lambdas/alarm/constants';
import type { Alert } from '../../src/alerts/alert';
import { resolveConfig } from '../../src/config';
import { answerAthena } from '../helpers/athena-stub';
import { emulatorClientConfig } from '../helpers/emulator';
import { type AlarmHandler, scheduledEvent, startAlarmLambda, topic } from './fixtures';

const athena = mockClient(AthenaClient);
const sns = mockClient(SNSClient);
const TABLE = `alert-routing-${Date.now()}`;
const raw = new DynamoDBClient(emulatorClientConfig);

let handler: AlarmHandler;
let close: (() => Promise<void>) | undefined;

beforeAll(async () => {
  const config = resolveConfig({
    alerts: {
      channels: {
        'ops-slack': { type: 'chatbot', slackWorkspaceId: 'T0123ABCD', slackChannelId: 'C0123ABCD' },
        pager: { type: 'paging', url: 'https://events.example.com/sns' },
      },
      rules: {
        'error-rate': { enabled: false },
        'security-critical': { enabled: false },
        'volume-anomaly': { enabled: false },
        'firehose-errors': { enabled: false },
        'bulk-read': { enabled: false },
        'worker-silent': {
          description: 'No logs from the worker service in 5 minutes',
          severity: 'medium',
          kind: 'absence',
          filter: { services: ['worker'] },
          groupBy: ['service'],
          windowMinutes: 5,
          absence: { baselineMinutes: 60 },
          renotifyMinutes: 0,
          channels: ['ops-slack', 'pager'],
          escalation: { afterMinutes: 10 },
        },
      },
    },
  });
  ({ handler, close } = await startAlarmLambda(raw, config, TABLE, {
    [ALARM_ENV.channels]: JSON.stringify({
      'ops-slack': { topicArn: topic('ops-slack'), format: 'chatbot' },
      pager: { topicArn: topic('pager'), format: 'sns' },
    }),
  }));
});

afterAll(() => close?.());

/** Athena's answer to the absence query: the worker's events of the baseline, last one at `lastSeen`. */
function athenaAnswers(lastSeen: string) {
  athena.reset();
  answerAthena(athena, {
    columns: ['service', 'count', 'errors', 'error_rate', 'first_seen', 'last_seen'],
    rows: [['worker', '120', '0', '0', '2025-01-06 11:00:00.000', lastSeen]],
  });
}

const at = (time: string) => ({ ...scheduledEvent(), time });

describe('handler: absence rule with channels and escalation', () => {
  it('fires to its severity topic and its channels, escalates once, then resolves at the escalated severity', async () => {
    // Prepare: the worker's last event at 11:50; window 11:58-12:03 at the 12:05 slot.
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    athenaAnswers('2025-01-06 11:50:00.000');

    // Act 1: the first slot fires.
    await handler(at('2025-01-06T12:05:00Z'));

    // Assess 1: the medium topic, the Chatbot channel in Chatbot's schema, the pager with the JSON alert.
    const first = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    expect(first.map((p) => p.TopicArn)).toEqual([topic('medium'), topic('ops-slack'), topic('pager')]);
    const query = athena.commandCalls(StartQueryExecutionCommand)[0]?.args[0].input;
    expect(query?.ExecutionParameters).toContain("'worker'");
    const chatbot = JSON.parse(first[1]?.Message ?? '{}');
    expect(chatbot).toMatchObject({
      version: '1.0',
      source: 'custom',
      content: { textType: 'client-markdown', title: expect.stringContaining('FIRING worker-silent') },
      metadata: { threadId: 'worker-silent|service=worker' },
    });
    expect(first[1]?.MessageStructure).toBeUndefined();
    const paged = JSON.parse(JSON.parse(first[2]?.Message ?? '{}').https) as Alert;
    expect(paged).toMatchObject({
      kind: 'absence',
      severity: 'medium',
      channels: ['ops-slack', 'pager'],
      group: { service: 'worker' },
      unit: 'minutes',
      value: 13,
    });

    // Act 2: 12:10 still silent (held: renotify 0); 12:15 silent 10 minutes after it started: escalated.
    sns.resetHistory();
    athenaAnswers('2025-01-06 11:50:00.000');
    await handler(at('2025-01-06T12:10:00Z'));
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    await handler(at('2025-01-06T12:15:00Z'));

    // Assess 2
    const escalated = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    expect(escalated.map((p) => p.TopicArn)).toEqual([topic('high'), topic('ops-slack'), topic('pager')]);
    const alert = JSON.parse(JSON.parse(escalated[0]?.Message ?? '{}').sqs) as Alert;
    expect(alert).toMatchObject({ severity: 'high', escalatedFrom: 'medium', repeat: true });
    expect(escalated[0]?.Subject).toMatch(/^\[HIGH\] STILL FIRING worker-silent/);

    // Act 3: the worker is back at 12:16.
    sns.resetHistory();
    athenaAnswers('2025-01-06 12:16:00.000');
    await handler(at('2025-01-06T12:20:00Z'));

    // Assess 3: the resolve reaches the escalated severity's subscribers and the channels.
    const resolved = sns.commandCalls(PublishCommand).map((c) => c.args[0].input);
    expect(resolved.map((p) => p.TopicArn)).toEqual([topic('high'), topic('ops-slack'), topic('pager')]);
    expect(resolved[0]?.MessageAttributes?.status?.StringValue).toBe('resolved');
  });
});
