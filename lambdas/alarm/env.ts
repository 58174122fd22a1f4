/** The alarm Lambda's environment, read and validated once at cold start. */
import { z } from 'zod';
import { SEVERITIES, type Severity } from '../../src/alerts/config';
import { type AlarmSettings, decodeAlarmSettings } from '../../src/alerts/settings';
import { jsonVariable, optionalVariable, parseEnvironment, requiredVariable } from '../../src/environment';
import type { ChannelRoute } from './aws';
import { ALARM_ENV } from './constants';

export interface AlarmEnv {
  readonly settings: AlarmSettings;
  readonly tableName: string;
  readonly topics: Readonly<Record<Severity, string>>;
  readonly workgroup: string;
  readonly database: string;
  readonly tables: { readonly logs: string; readonly audit?: string | undefined };
  readonly buckets: Readonly<Record<string, string>>;
  /** Severity by pipeline alarm kind. */
  readonly pipelineSeverities: Readonly<Record<string, Severity>>;
  readonly searchTarget: string | undefined;
  /** The rules' channels: topic and message format by channel name. */
  readonly channels: Readonly<Record<string, ChannelRoute>>;
  /** Where the rules' queries are recorded as access events; absent when access auditing is off. */
  readonly accessAudit: AlarmAccessAudit | undefined;
}

export interface AlarmAccessAudit {
  /** The delivery stream of the `audit` category. */
  readonly stream: string;
  /** Who reads: the function's role ARN. */
  readonly principal: string;
  /** `accessAudit.bulkReadRows` of the config. */
  readonly bulkReadRows: number;
}

const severity = z.enum(SEVERITIES);
const topicArn = z.string().startsWith('arn:');

const envSchema = z
  .object({
    [ALARM_ENV.settings]: requiredVariable(),
    [ALARM_ENV.table]: requiredVariable(),
    // A record keyed by an enum requires every key: an alert of a severity without a topic could not leave.
    [ALARM_ENV.topics]: jsonVariable(z.record(severity, topicArn)),
    [ALARM_ENV.workgroup]: requiredVariable(),
    [ALARM_ENV.database]: requiredVariable(),
    [ALARM_ENV.tables]: jsonVariable(
      z.object({ logs: z.string().min(1), audit: z.string().min(1).optional() }),
    ),
    [ALARM_ENV.buckets]: jsonVariable(z.record(z.string(), z.string())),
    [ALARM_ENV.pipelineSeverities]: jsonVariable(z.record(z.string(), severity)),
    [ALARM_ENV.searchTarget]: optionalVariable(),
    // Absent when no channel is defined (and in deployments from before channels existed).
    [ALARM_ENV.channels]: jsonVariable(
      z.record(z.string(), z.object({ topicArn, format: z.enum(['sns', 'chatbot']) })),
    ).optional(),
    [ALARM_ENV.accessAudit]: jsonVariable(
      z.strictObject({
        stream: z.string().min(1),
        principal: z.string().min(1),
        bulkReadRows: z.number().int().min(1),
      }),
    ).optional(),
  })
  .transform(
    (e): AlarmEnv => ({
      settings: decodeAlarmSettings(e[ALARM_ENV.settings], ALARM_ENV.settings),
      tableName: e[ALARM_ENV.table],
      topics: e[ALARM_ENV.topics],
      workgroup: e[ALARM_ENV.workgroup],
      database: e[ALARM_ENV.database],
      tables: e[ALARM_ENV.tables],
      buckets: e[ALARM_ENV.buckets],
      pipelineSeverities: e[ALARM_ENV.pipelineSeverities],
      searchTarget: e[ALARM_ENV.searchTarget],
      channels: e[ALARM_ENV.channels] ?? {},
      accessAudit: e[ALARM_ENV.accessAudit],
    }),
  );

/** @throws ConfigError naming each missing or malformed variable and the value received. */
export function readEnv(env: NodeJS.ProcessEnv = process.env): AlarmEnv {
  return parseEnvironment(envSchema, env, 'Invalid alarm Lambda environment');
}
