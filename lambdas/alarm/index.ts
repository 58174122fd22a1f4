/**
 * The alarm Lambda. EventBridge invokes it for three things:
 * - `Scheduled Event`: evaluate every rule for the schedule slot (Athena), keep state (DynamoDB),
 *   publish alerts (SNS by severity). Retries of the same slot are recognised and send nothing twice.
 * - `CloudWatch Alarm State Change`: a pipeline alarm changed state → the same alert shape on SNS.
 * - `Object Created` under `errors/`: record the arrival; the `error_output` rules count arrivals.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ScheduledEvent } from 'aws-lambda';
import { LakeSource } from '../../src/alerts/lake';
import {
  type AlarmStateChangeEvent,
  alertFromAlarmChange,
  arrivalFromObjectCreated,
  type ObjectCreatedEvent,
  pipelineAlarmInfo,
} from '../../src/alerts/pipeline';
import { EvaluationError, type RunReport, runEvaluation } from '../../src/alerts/run';
import { ruleDelayMinutes, settingsRules } from '../../src/alerts/settings';
import { withAccessScope } from '../../src/audit/access';
import { athenaRequestToken, athenaRows } from '../../src/query/athena';
import { alarmAccessScope } from './access';
import { DynamoAlarmLog, DynamoArrivalLog, DynamoStateStore, SnsNotifier } from './aws';
import { readEnv } from './env';

export type AlarmEvent = ScheduledEvent<Record<string, unknown>> | AlarmStateChangeEvent | ObjectCreatedEvent;

const env = readEnv();
const logger = new Logger({ serviceName: 'loglake-alarm' });
const db = DynamoDBDocumentClient.from(new DynamoDBClient({}), {
  marshallOptions: { removeUndefinedValues: true },
});
const sns = new SNSClient({});
const athena = new AthenaClient({});
// Every rule query is recorded as an access event on the audit stream (unless access auditing is off).
const access =
  env.accessAudit && alarmAccessScope(env.accessAudit, env.settings.lockedCategories, new FirehoseClient({}));

const store = new DynamoStateStore(db, env.tableName);
const arrivals = new DynamoArrivalLog(db, env.tableName);
const alarmLog = new DynamoAlarmLog(db, env.tableName);
const notifier = new SnsNotifier(sns, env.topics, env.channels);
const rules = settingsRules(env.settings);
const source = new LakeSource({
  dialect: 'athena',
  maxSamples: env.settings.maxSamples,
  maxGroups: env.settings.maxGroups,
  lockedCategories: env.settings.lockedCategories,
  tables: (streams) =>
    streams.flatMap((s) => {
      const table = env.tables[s];
      return table ? [{ database: env.database, table }] : [];
    }),
  run: (built, rule) =>
    athenaRows(athena, built, {
      workGroup: env.workgroup,
      database: env.database,
      clientRequestToken: athenaRequestToken(rule.name, built),
    }),
  arrivals: (window) => arrivals.list(window.start, window.end),
});

export async function handler(event: AlarmEvent): Promise<RunReport | { handled: string }> {
  switch (event['detail-type']) {
    case 'Scheduled Event':
      return scheduled(event as ScheduledEvent<Record<string, unknown>>);
    case 'CloudWatch Alarm State Change':
      return alarmChanged(event as AlarmStateChangeEvent);
    case 'Object Created':
      return objectCreated(event as ObjectCreatedEvent);
    default: {
      // Not ours (a mis-targeted rule): failing would only make EventBridge retry it.
      const other = event as { 'detail-type'?: string; source?: string; id?: string };
      logger.warn('ignoring event', { detailType: other['detail-type'], source: other.source, id: other.id });
      return { handled: 'ignored' };
    }
  }
}

async function scheduled(event: ScheduledEvent<Record<string, unknown>>): Promise<RunReport> {
  const at = new Date(event.time);
  try {
    const evaluate = () =>
      runEvaluation(
        rules,
        at,
        { source, store, notifier },
        {
          delayMinutes: (rule) => ruleDelayMinutes(rule, env.settings),
          globalSuppress: env.settings.suppress,
          ...(env.searchTarget ? { searchTarget: env.searchTarget } : {}),
        },
      );
    const report = await (access ? withAccessScope(access, evaluate) : evaluate());
    logReport(report);
    return report;
  } catch (error) {
    if (error instanceof EvaluationError) logReport(error.report);
    throw error;
  }
}

async function alarmChanged(event: AlarmStateChangeEvent): Promise<{ handled: string }> {
  const alert = alertFromAlarmChange(
    event,
    pipelineAlarmInfo(event.detail.configuration.description, env.pipelineSeverities),
  );
  if (!alert) return { handled: 'no notification for this transition' };
  if (await alarmLog.wasSent(alert.id)) return { handled: 'already sent' };
  await notifier.send([alert]);
  await alarmLog.markSent(alert.id);
  logger.info('pipeline alarm sent', { id: alert.id, status: alert.status, severity: alert.severity });
  return { handled: 'sent' };
}

async function objectCreated(event: ObjectCreatedEvent): Promise<{ handled: string }> {
  const arrival = arrivalFromObjectCreated(event, env.buckets);
  if (!arrival) return { handled: 'not under the error prefix' };
  await arrivals.record(arrival);
  logger.info('error object recorded', { type: arrival.type, stream: arrival.stream });
  return { handled: 'recorded' };
}

function logReport(report: RunReport): void {
  for (const o of report.outcomes) {
    if (o.outcome === 'failed') logger.error('rule failed', { rule: o.rule, error: o.error });
    else logger.info('rule evaluated', { slot: report.slot, ...o });
  }
}
