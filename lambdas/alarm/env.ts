/** The alarm Lambda's environment, read and validated once at cold start. */
import { z } from 'zod';
import { SEVERITIES, type Severity } from '../../src/alerts/config';
import type { PipelineAlarmInfo } from '../../src/alerts/pipeline';
import { type AlarmSettings, decodeAlarmSettings } from '../../src/alerts/settings';
import { ConfigError } from '../../src/errors';
import { ALARM_ENV } from './constants';

export interface AlarmEnv {
  readonly settings: AlarmSettings;
  readonly tableName: string;
  readonly topics: Readonly<Record<Severity, string>>;
  readonly workgroup: string;
  readonly database: string;
  readonly tables: { readonly logs: string; readonly audit?: string | undefined };
  readonly buckets: Readonly<Record<string, string>>;
  readonly pipelineAlarms: Readonly<Record<string, PipelineAlarmInfo>>;
  readonly searchTarget: string | undefined;
}

const severity = z.enum(SEVERITIES);
const json = <T extends z.ZodType>(schema: T) =>
  z.string().transform((s, ctx): z.infer<T> => {
    try {
      const parsed = schema.safeParse(JSON.parse(s));
      if (parsed.success) return parsed.data;
      ctx.addIssue({
        code: 'custom',
        message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      });
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not JSON' });
    }
    return z.NEVER;
  });

const envSchema = z.object({
  [ALARM_ENV.settings]: z.string().min(1),
  [ALARM_ENV.table]: z.string().min(1),
  [ALARM_ENV.topics]: json(z.record(severity, z.string().startsWith('arn:'))),
  [ALARM_ENV.workgroup]: z.string().min(1),
  [ALARM_ENV.database]: z.string().min(1),
  [ALARM_ENV.tables]: json(z.object({ logs: z.string().min(1), audit: z.string().min(1).optional() })),
  [ALARM_ENV.buckets]: json(z.record(z.string(), z.string())),
  [ALARM_ENV.pipelineAlarms]: json(z.record(z.string(), z.object({ severity, description: z.string() }))),
  [ALARM_ENV.searchTarget]: z.string().optional(),
});

/** @throws ConfigError naming each missing or malformed variable. */
export function readEnv(env: NodeJS.ProcessEnv = process.env): AlarmEnv {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({
      path: i.path.map(String).join('.'),
      message: i.message,
      received: env[String(i.path[0])],
    }));
    throw new ConfigError(
      `alarm Lambda environment: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`,
      problems,
    );
  }
  const e = parsed.data;
  const topics = e[ALARM_ENV.topics] as Partial<Record<Severity, string>>;
  const missing = SEVERITIES.filter((s) => !topics[s]);
  if (missing.length > 0) {
    throw new ConfigError(
      `alarm Lambda environment: ${ALARM_ENV.topics}: no topic for ${missing.join(', ')}`,
      [{ path: ALARM_ENV.topics, message: `no topic for ${missing.join(', ')}`, received: topics }],
    );
  }
  return {
    settings: decodeAlarmSettings(e[ALARM_ENV.settings], ALARM_ENV.settings),
    tableName: e[ALARM_ENV.table],
    topics: topics as Record<Severity, string>,
    workgroup: e[ALARM_ENV.workgroup],
    database: e[ALARM_ENV.database],
    tables: e[ALARM_ENV.tables],
    buckets: e[ALARM_ENV.buckets],
    pipelineAlarms: e[ALARM_ENV.pipelineAlarms],
    searchTarget: e[ALARM_ENV.searchTarget] || undefined,
  };
}
