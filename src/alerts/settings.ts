/**
 * The alarm Lambda's slice of the config, carried in one environment variable. Lambda allows 4 KB of
 * environment in total, and a dozen rules as JSON would not fit: the JSON is deflated and base64-encoded
 * (rules compress about 5:1, their keys repeat).
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { z } from 'zod';
import { configError, configErrorFromZod } from '../errors';
import { CATEGORIES, type Category, STREAMS, type StreamName } from '../schema';
import {
  type AlertRule,
  type AlertRuleSettings,
  type AlertsConfig,
  alertRuleSchema,
  enabledRules,
  RULE_NAME,
  suppressionWindowSchema,
} from './config';
import { streamsFor } from './query';

export interface AlarmSettings {
  /** Enabled rules, by name. */
  readonly rules: Readonly<Record<string, AlertRuleSettings>>;
  readonly delayMinutes: number;
  readonly maxSamples: number;
  readonly maxGroups: number;
  readonly suppress: AlertsConfig['suppress'];
  /** Categories held in the audit stream's table (a rule over them queries that table). */
  readonly lockedCategories: readonly Category[];
  /**
   * A longer delay for rules reading a stream that buffers longer than the default (the audit stream),
   * so their windows end only after its events have arrived. @default `delayMinutes` for every stream
   */
  readonly streamDelayMinutes?: Partial<Record<StreamName, number>>;
}

const settingsSchema = z.strictObject({
  rules: z.record(z.string().regex(RULE_NAME), alertRuleSchema),
  delayMinutes: z.number().int().min(0),
  maxSamples: z.number().int().min(0),
  maxGroups: z.number().int().min(1),
  suppress: z.array(suppressionWindowSchema),
  lockedCategories: z.array(z.enum(CATEGORIES)),
  streamDelayMinutes: z.partialRecord(z.enum(STREAMS), z.number().int().min(0)).optional(),
});

/** The slice of `alerts` the alarm Lambda needs, enabled rules only. */
export function alarmSettings(
  alerts: AlertsConfig,
  lockedCategories: readonly Category[],
  streamDelayMinutes?: Partial<Record<StreamName, number>>,
): AlarmSettings {
  return {
    ...(streamDelayMinutes && Object.keys(streamDelayMinutes).length > 0 ? { streamDelayMinutes } : {}),
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

/**
 * The delay of one rule: the longest of the streams it reads (Firehose delivers a stream's events up to
 * its buffer interval late); a rule that reads no stream keeps `delayMinutes`.
 */
export function ruleDelayMinutes(rule: Pick<AlertRule, 'filter' | 'kind'>, settings: AlarmSettings): number {
  const streams = streamsFor(rule, settings.lockedCategories);
  return Math.max(
    settings.delayMinutes,
    ...streams.map((s) => settings.streamDelayMinutes?.[s] ?? settings.delayMinutes),
  );
}

/**
 * Per-stream delays for streams whose S3 buffer outlasts `delayMinutes`: the buffer interval in whole
 * minutes plus one for processing. Empty when every stream fits the shared delay.
 */
export function streamDelays(
  delayMinutes: number,
  bufferSeconds: Partial<Record<StreamName, number>>,
): Partial<Record<StreamName, number>> {
  const out: Partial<Record<StreamName, number>> = {};
  for (const [stream, seconds] of Object.entries(bufferSeconds) as Array<[StreamName, number]>) {
    const needed = Math.ceil(seconds / 60) + 1;
    if (needed > delayMinutes) out[stream] = needed;
  }
  return out;
}

/** The rules of decoded settings, named, in a stable order. */
export function settingsRules(settings: AlarmSettings): AlertRule[] {
  return enabledRules({ rules: settings.rules });
}
