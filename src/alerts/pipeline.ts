/**
 * The pipeline's own failures, in the same alert shape as the rules:
 * - CloudWatch alarm state changes (Firehose delivery, throttling, freshness; transform errors and
 *   throttles; ProcessingFailed records) arrive through EventBridge and become alerts.
 * - New objects under the Firehose error prefix become arrivals, counted by the `error_output` rules.
 */
import type {
  CloudWatchAlarmData,
  EventBridgeEvent,
  S3ObjectCreatedNotificationEventDetail,
} from 'aws-lambda';
import { ERROR_PREFIX } from '../schema';
import { type Alert, alertId } from './alert';
import type { Severity } from './config';
import { groupKey } from './observe';

export type AlarmStateChangeEvent = EventBridgeEvent<'CloudWatch Alarm State Change', CloudWatchAlarmData>;
export type ObjectCreatedEvent = EventBridgeEvent<'Object Created', S3ObjectCreatedNotificationEventDetail>;

/** What the alarm Lambda knows of a pipeline alarm. */
export interface PipelineAlarmInfo {
  readonly severity: Severity;
  /** @default the alarm's own description, from its state change event */
  readonly description?: string;
}

/**
 * The end of a pipeline alarm's description: its kind (`PIPELINE_ALARMS`). The alarm Lambda finds the
 * severity by the kind the alarm's own state change event names, so its environment holds one
 * severity per kind (a few hundred bytes) rather than one per alarm, which grew with every stream and
 * access-log source towards Lambda's 4 KB limit on the environment.
 */
export function pipelineKindMark(kind: string): string {
  return ` [loglake:${kind}]`;
}

const KIND_MARK = / \[loglake:([A-Za-z]+)\]$/;

/**
 * The severity of the pipeline alarm whose description is `description`, by the kind it ends with;
 * `undefined` for a description without one (an alarm loglake did not make) or a kind `severities`
 * does not name.
 */
export function pipelineAlarmInfo(
  description: string | undefined,
  severities: Readonly<Record<string, Severity>>,
): PipelineAlarmInfo | undefined {
  const kind = description?.match(KIND_MARK)?.[1];
  const severity = kind === undefined ? undefined : severities[kind];
  return severity === undefined ? undefined : { severity };
}

/** The `reasonData` CloudWatch attaches to a metric alarm's state (JSON in a string). */
interface ReasonData {
  readonly threshold?: number;
  readonly recentDatapoints?: readonly number[];
  readonly evaluatedDatapoints?: ReadonlyArray<{ readonly value?: number }>;
  readonly period?: number;
  readonly unit?: string;
}

function parseReason(text: string | undefined): ReasonData {
  if (!text) return {};
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as ReasonData) : {};
  } catch {
    return {};
  }
}

/**
 * An alert for a CloudWatch alarm state change: ALARM → firing, ALARM → OK → resolved. Other
 * transitions (INSUFFICIENT_DATA, OK → OK) notify nobody and give undefined.
 */
export function alertFromAlarmChange(
  event: AlarmStateChangeEvent,
  info: PipelineAlarmInfo | undefined,
): Alert | undefined {
  const { alarmName, state, previousState, configuration } = event.detail;
  let status: Alert['status'];
  if (state.value === 'ALARM' && previousState.value !== 'ALARM') status = 'firing';
  else if (state.value === 'OK' && previousState.value === 'ALARM') status = 'resolved';
  else return undefined;
  const reason = parseReason(state.reasonData);
  const metricQuery = 'metrics' in configuration ? configuration.metrics[0] : undefined;
  const stat = metricQuery && 'metricStat' in metricQuery ? metricQuery.metricStat : undefined;
  const periodSeconds = reason.period ?? stat?.period ?? 300;
  const end = Date.parse(state.timestamp) || Date.parse(event.time);
  const group: Record<string, string> = { ...(stat?.metric.dimensions ?? {}) };
  const key = groupKey(group);
  const datapoint = reason.evaluatedDatapoints?.[0]?.value ?? reason.recentDatapoints?.[0] ?? Number.NaN;
  const firedAt = new Date(end).toISOString();
  return {
    version: 1,
    id: alertId(alarmName, key, status, firedAt),
    source: 'cloudwatch',
    status,
    rule: alarmName,
    description: info?.description ?? configuration.description?.replace(KIND_MARK, '') ?? alarmName,
    severity: info?.severity ?? 'high',
    kind: 'cloudwatch_alarm',
    value: Number.isFinite(datapoint) ? datapoint : 0,
    threshold: reason.threshold ?? 0,
    unit: reason.unit ?? stat?.unit ?? '',
    window: {
      start: new Date(end - periodSeconds * 1000).toISOString(),
      end: firedAt,
      minutes: Math.max(1, Math.round(periodSeconds / 60)),
    },
    group,
    groupKey: key,
    firedAt,
    since: firedAt,
    repeat: false,
    samples: [],
    details: {
      state: state.value,
      previousState: previousState.value,
      reason: state.reason,
      ...(stat ? { metric: `${stat.metric.namespace}/${stat.metric.name}`, statistic: stat.stat } : {}),
    },
  };
}

/** A new object under the Firehose error prefix. */
export interface ErrorArrival {
  /** Arrival time, ISO-8601. */
  readonly at: string;
  /** Firehose's error output type: the path segment after `errors/` (`processing-failed`, …). */
  readonly type: string;
  /** Which delivery stream's bucket: `logs` or `audit`, or the bucket name when unknown. */
  readonly stream: string;
  /** `bucket/key`, unique per object. */
  readonly object: string;
}

/** The error output type from a key `errors/<type>/…`; undefined for keys outside the error prefix. */
export function errorOutputType(key: string): string | undefined {
  const parts = key.split('/');
  if (parts[0] !== ERROR_PREFIX || parts.length < 3 || !parts[1]) return undefined;
  return parts[1];
}

/**
 * An S3 "Object Created" event under the error prefix → an arrival; undefined for other keys (the
 * EventBridge rule filters on the prefix already; this is the second line of defence).
 * @param streams bucket name → stream name
 */
export function arrivalFromObjectCreated(
  event: ObjectCreatedEvent,
  streams: Readonly<Record<string, string>>,
): ErrorArrival | undefined {
  // S3 event keys are URL-encoded (spaces as '+').
  const key = decodeURIComponent(event.detail.object.key.replace(/\+/g, ' '));
  const type = errorOutputType(key);
  if (!type) return undefined;
  const bucket = event.detail.bucket.name;
  return {
    at: new Date(event.time).toISOString(),
    type,
    stream: streams[bucket] ?? bucket,
    object: `${bucket}/${key}`,
  };
}

/** Aggregates of an `error_output` rule from the arrivals inside its window: one group per error type and stream. */
export function aggregateArrivals(
  arrivals: readonly ErrorArrival[],
  window: { readonly start: string; readonly end: string },
  maxSamples: number,
): { group: Record<string, string>; total: number; errors: number; samples: string[] }[] {
  const start = Date.parse(window.start);
  const end = Date.parse(window.end);
  const groups = new Map<
    string,
    { group: Record<string, string>; total: number; errors: number; samples: string[] }
  >();
  for (const a of arrivals) {
    const t = Date.parse(a.at);
    if (t < start || t >= end) continue;
    const group = { type: a.type, stream: a.stream };
    const k = groupKey(group);
    let g = groups.get(k);
    if (!g) {
      g = { group, total: 0, errors: 0, samples: [] };
      groups.set(k, g);
    }
    g.total++;
    g.errors++;
    if (g.samples.length < maxSamples) g.samples.push(a.object);
  }
  return [...groups.values()];
}
