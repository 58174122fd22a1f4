/** Real EventBridge event shapes from `test/fixtures/events/eventbridge/`, typed with `@types/aws-lambda`. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ScheduledEvent } from 'aws-lambda';
import { ALARM_ENV } from '../../lambdas/alarm/constants';
import type { AlarmAccessAudit } from '../../lambdas/alarm/env';
import type { AlarmStateChangeEvent, ObjectCreatedEvent } from '../../src/alerts/pipeline';
import { alarmSettings, encodeAlarmSettings } from '../../src/alerts/settings';
import type { LogLakeConfig } from '../../src/config';
import {
  acquireEmulator,
  createStateTable,
  EMULATOR_ENDPOINT,
  EMULATOR_REGION,
  releaseEmulator,
} from '../helpers/emulator';

const dir = join(__dirname, '..', 'fixtures', 'events', 'eventbridge');
const load = <T>(name: string): T => JSON.parse(readFileSync(join(dir, name), 'utf8')) as T;

export const scheduledEvent = () => load<ScheduledEvent<Record<string, never>>>('scheduled-event.json');
export const alarmFiring = () => load<AlarmStateChangeEvent>('alarm-state-change-alarm.json');
export const alarmOk = () => load<AlarmStateChangeEvent>('alarm-state-change-ok.json');
export const errorObjectCreated = () => load<ObjectCreatedEvent>('s3-object-created-error.json');

/** An SNS topic ARN of the alarm Lambda's severities and channels in the tests. */
export const topic = (name: string) => `arn:aws:sns:eu-west-1:123456789012:loglake-${name}`;

/**
 * Where the alarm Lambda records its rules' queries (`ALARM_ENV.accessAudit`): the audit stream, the
 * function's role, the config's default bulk-read threshold.
 */
export const ALARM_ACCESS_AUDIT: AlarmAccessAudit = {
  stream: 'loglake-audit',
  principal: 'arn:aws:iam::123456789012:role/LogLakeStack-AlertingFunctionServiceRole-1A2B3C',
  bulkReadRows: 10_000,
};

/**
 * The alarm Lambda's environment as the construct sets it, for `config`'s rules, with its state in
 * `table` on the emulator's DynamoDB (Athena, SNS and Firehose are the tests' stubs). `extra` adds or
 * overrides entries.
 */
export function alarmLambdaEnv(
  config: LogLakeConfig,
  table: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    [ALARM_ENV.settings]: encodeAlarmSettings(alarmSettings(config.alerts, ['security', 'audit'])),
    [ALARM_ENV.table]: table,
    [ALARM_ENV.topics]: JSON.stringify(
      Object.fromEntries(['critical', 'high', 'medium', 'low'].map((s) => [s, topic(s)])),
    ),
    // The built-in security channel, as the construct always sets it.
    [ALARM_ENV.channels]: JSON.stringify({ security: { topicArn: topic('security'), format: 'sns' } }),
    [ALARM_ENV.workgroup]: 'loglake',
    [ALARM_ENV.database]: 'loglake',
    [ALARM_ENV.tables]: JSON.stringify({ logs: 'logs', audit: 'audit' }),
    [ALARM_ENV.buckets]: JSON.stringify({}),
    [ALARM_ENV.pipelineSeverities]: JSON.stringify({}),
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    // The handler's own DynamoDB client (a module singleton) talks to the emulator.
    AWS_ENDPOINT_URL_DYNAMODB: EMULATOR_ENDPOINT,
    AWS_REGION: EMULATOR_REGION,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    ...extra,
  };
}

/** The alarm Lambda's handler, as its module exports it. */
export type AlarmHandler = typeof import('../../lambdas/alarm/index').handler;

/**
 * The alarm Lambda's handler over the emulator: a fresh state table `table` (through `client`), the
 * environment of {@link alarmLambdaEnv} set, then the handler imported, since it reads its environment
 * once on import. `close()` deletes the table, destroys `client` and releases the emulator.
 */
export async function startAlarmLambda(
  client: DynamoDBClient,
  config: LogLakeConfig,
  table: string,
  extra: Record<string, string> = {},
): Promise<{ handler: AlarmHandler; close: () => Promise<void> }> {
  acquireEmulator();
  await createStateTable(client, table);
  Object.assign(process.env, alarmLambdaEnv(config, table, extra));
  const { handler } = await import('../../lambdas/alarm/index');
  return {
    handler,
    close: async () => {
      await client.send(new DeleteTableCommand({ TableName: table }));
      client.destroy();
      releaseEmulator();
    },
  };
}
