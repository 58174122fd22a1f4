/**
 * The alarm Lambda's slice of the config, carried in one environment variable. Lambda allows 4 KB of
 * environment in total, and a dozen rules as JSON would not fit: the JSON is deflated and base64-encoded
 * (rules compress about 5:1, their keys repeat).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { z } from 'zod';
import { configError, configErrorFromZod } from '../errors';
import { CATEGORIES, type Category } from '../schema';
import {
  type AlertRule,
  type AlertRuleSettings,
  type AlertsConfig,
  alertRuleSchema,
  enabledRules,
  RULE_NAME,
  suppressionWindowSchema,
} from './config';

export interface AlarmSettings {
  /** Enabled rules, by name. */
  readonly rules: Readonly<Record<string, AlertRuleSettings>>;
  readonly delayMinutes: number;
  readonly maxSamples: number;
  readonly maxGroups: number;
  readonly suppress: AlertsConfig['suppress'];
  /** Categories held in the audit stream's table (a rule over them queries that table). */
  readonly lockedCategories: readonly Category[];
}

const settingsSchema = z.strictObject({
  rules: z.record(z.string().regex(RULE_NAME), alertRuleSchema),
  delayMinutes: z.number().int().min(0),
  maxSamples: z.number().int().min(0),
  maxGroups: z.number().int().min(1),
  suppress: z.array(suppressionWindowSchema),
  lockedCategories: z.array(z.enum(CATEGORIES)),
});

/** The slice of `alerts` the alarm Lambda needs, enabled rules only. */
export function alarmSettings(alerts: AlertsConfig, lockedCategories: readonly Category[]): AlarmSettings {
  return {
    rules: Object.fromEntries(Object.entries(alerts.rules).filter(([, r]) => r.enabled)),
    delayMinutes: alerts.delayMinutes,
    maxSamples: alerts.maxSamples,
    maxGroups: alerts.maxGroups,
    suppress: alerts.suppress,
    lockedCategories,
  };
}

export function encodeAlarmSettings(settings: AlarmSettings): string {
  return deflateRawSync(Buffer.from(JSON.stringify(settings), 'utf8'), { level: 9 }).toString('base64');
}

/** @throws ConfigError when the value is not what {@link encodeAlarmSettings} produced. */
export function decodeAlarmSettings(encoded: string, source = 'alarm settings'): AlarmSettings {
  const title = 'Invalid alarm settings';
  let raw: unknown;
  try {
    raw = JSON.parse(inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8'));
  } catch (cause) {
    throw configError(
      title,
      [{ path: source, message: 'not deflated base64 JSON', received: encoded.slice(0, 40) }],
      { cause },
    );
  }
  const parsed = settingsSchema.safeParse(raw, { reportInput: true });
  if (parsed.success) return parsed.data;
  throw configErrorFromZod(title, parsed.error.issues, { source, input: raw });
}

/** The rules of decoded settings, named, in a stable order. */
export function settingsRules(settings: AlarmSettings): AlertRule[] {
  return enabledRules({ rules: settings.rules });
}
