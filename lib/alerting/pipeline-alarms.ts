import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import type { AlertsConfig, PipelineAlarm, Severity } from '../../src/alerts/config';
import { pipelineKindMark } from '../../src/alerts/pipeline';
import { ERROR_PREFIX, type StreamName } from '../../src/schema';
import type { LogLakeAccessLogs } from '../access-logs';
import { DEAD_LETTER_RETENTION } from '../private/dead-letters';
import type { MetricStream, StreamMetrics } from '../stream-metrics';

/** One CloudWatch alarm on the pipeline, with the severity and text its alert carries. */
export interface PipelineAlarmSpec {
  readonly kind: PipelineAlarm;
  readonly alarm: cloudwatch.Alarm;
  readonly severity: Severity;
  readonly description: string;
}

const FIVE_MINUTES = Duration.minutes(5);
const GT = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;
/** Construct id prefix of each stream's alarms. */
const PREFIXES: Readonly<Record<MetricStream, string>> = { logs: 'Logs', audit: 'Audit', waf: 'Waf' };

/** A function's dead-letter queue: events it failed on after Lambda's retries, kept 14 days for a redrive. */
export interface DeadLetterSource {
  /** The kind of its alarm on waiting events (the one on their age is `deadLettersExpiring`). */
  readonly kind: Extract<PipelineAlarm, 'accessLogsDeadLetters' | 'subscriberDeadLetters'>;
  /** Construct id prefix of its alarms. */
  readonly id: string;
  /** What waits in it and what is missing meanwhile, for the alarms' descriptions. */
  readonly what: string;
  /** Events waiting (Maximum). */
  readonly messages: cloudwatch.IMetric;
  /** Seconds the oldest event has waited (Maximum). */
  readonly oldestAge: cloudwatch.IMetric;
}

/** What the pipeline alarms watch besides the lanes' streams. */
export interface PipelineAlarmSources {
  /** Streams that run a lane's transform (the WAF stream): their Firehose alarms only. @default none */
  readonly addedStreams?: readonly MetricStream[];
  /**
   * Log groups under a prefix left unsubscribed at CloudWatch Logs' filter limit
   * (`ILogLake.metricLogGroupsAtFilterLimit`). @default no such alarm (no prefix is subscribed)
   */
  readonly logGroupsAtFilterLimit?: cloudwatch.IMetric;
  /** Dead-letter queues of the lake's functions (access-log sources, the prefix subscriber). @default none */
  readonly deadLetters?: readonly DeadLetterSource[];
  /** Failed runs of the erasure executor (`ILogLake.metricErasureFailedRuns`). @default no such alarm */
  readonly erasureFailedRuns?: cloudwatch.IMetric;
  /** Failed runs of the compaction (`ILogLake.metricCompactionFailedRuns`). @default no such alarm */
  readonly compactionFailedRuns?: cloudwatch.IMetric;
}

/** The access-log source's dead-letter queue, as the pipeline alarms watch it. */
export function accessLogsDeadLetters(source: LogLakeAccessLogs): DeadLetterSource {
  return {
    kind: 'accessLogsDeadLetters',
    id: source.node.id,
    what: `Access logs (${source.node.path}): objects not shipped after three attempts; their lines are not in the lake`,
    messages: source.metricDeadLetters(),
    oldestAge: source.metricOldestDeadLetterAge(),
  };
}

/** Age at which a dead-letter event is reported as about to expire: four days before SQS deletes it. */
const DEAD_LETTER_EXPIRING = DEAD_LETTER_RETENTION.minus(Duration.days(4));

/** The two alarms on a dead-letter queue: events waiting, and the oldest of them about to expire. */
export function createDeadLetterAlarms(
  scope: Construct,
  pipeline: AlertsConfig['pipeline'],
  source: DeadLetterSource,
): PipelineAlarmSpec[] {
  const redrive = 'redrive them to the function (README, "Pipeline alarms")';
  return [
    pipelineAlarm(scope, pipeline, {
      kind: source.kind,
      id: `${source.id}DeadLettersAlarm`,
      description: `${source.what}; ${redrive}`,
      metric: source.messages,
      threshold: 1,
      comparison: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    }),
    pipelineAlarm(scope, pipeline, {
      kind: 'deadLettersExpiring',
      id: `${source.id}DeadLettersExpiringAlarm`,
      description: `${source.what}; the oldest has waited over ${DEAD_LETTER_EXPIRING.toDays()} days and SQS deletes it at ${DEAD_LETTER_RETENTION.toDays()}: ${redrive} now`,
      metric: source.oldestAge,
      threshold: DEAD_LETTER_EXPIRING.toSeconds(),
      comparison: GT,
    }),
  ];
}

interface AlarmOptions {
  readonly kind: PipelineAlarm;
  readonly id: string;
  readonly description: string;
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  readonly comparison: cloudwatch.ComparisonOperator;
  /** @default 1 */
  readonly evaluationPeriods?: number;
}

/** One pipeline alarm, missing data not breaching, with the severity of its kind. */
function pipelineAlarm(
  scope: Construct,
  pipeline: AlertsConfig['pipeline'],
  o: AlarmOptions,
): PipelineAlarmSpec {
  const alarm = new cloudwatch.Alarm(scope, o.id, {
    alarmDescription: `${o.description}${pipelineKindMark(o.kind)}`,
    metric: o.metric,
    threshold: o.threshold,
    comparisonOperator: o.comparison,
    evaluationPeriods: o.evaluationPeriods ?? 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  Validations.of(alarm).acknowledge({
    id: 'NIST.800.53.R5-CloudWatchAlarmAction',
    reason:
      'State changes of this alarm reach SNS through EventBridge and the alarm Lambda (one message shape, deduplicated); a direct action would notify twice.',
  });
  return { kind: o.kind, alarm, severity: pipeline.severities[o.kind], description: o.description };
}

/**
 * The pipeline's own alarms, per stream: Firehose delivery, throttling and freshness; the transform's
 * errors, throttles, ProcessingFailed records, parts it could not re-ingest and events it could not
 * forward to the audit stream; log groups the prefix subscriber had to leave out; events waiting in the
 * dead-letter queues of the access-log sources and the prefix subscriber; failed runs of the erasure
 * executor and the compaction.
 * They notify through EventBridge and the alarm Lambda, not through alarm actions, so every alert leaves
 * in one message shape.
 */
export function createPipelineAlarms(
  scope: Construct,
  pipeline: AlertsConfig['pipeline'],
  metrics: StreamMetrics,
  streams: readonly StreamName[],
  sources: PipelineAlarmSources = {},
): PipelineAlarmSpec[] {
  const out: PipelineAlarmSpec[] = [];
  const add = (
    kind: PipelineAlarm,
    id: string,
    description: string,
    metric: cloudwatch.IMetric,
    threshold: number,
    comparison: cloudwatch.ComparisonOperator,
    evaluationPeriods = 1,
  ) => {
    out.push(
      pipelineAlarm(scope, pipeline, {
        kind,
        id,
        description,
        metric,
        threshold,
        comparison,
        evaluationPeriods,
      }),
    );
  };
  const firehoseAlarms = (stream: MetricStream) => {
    const P = PREFIXES[stream];
    const sum = { stream, statistic: 'Sum', period: FIVE_MINUTES };
    add(
      'firehoseDelivery',
      `${P}DeliveryAlarm`,
      `Firehose ${stream}: deliveries to S3 are failing`,
      metrics.metricDeliverySuccess({ stream, statistic: 'Minimum', period: FIVE_MINUTES }),
      1,
      cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      2,
    );
    add(
      'firehoseThrottling',
      `${P}ThrottlingAlarm`,
      `Firehose ${stream}: producers are throttled (records rejected)`,
      metrics.metricThrottledRecords(sum),
      0,
      GT,
    );
    add(
      'firehoseFreshness',
      `${P}FreshnessAlarm`,
      `Firehose ${stream}: the oldest undelivered record is older than ${pipeline.freshnessThresholdSeconds} s`,
      metrics.metricDeliveryFreshness({ stream, statistic: 'Maximum', period: FIVE_MINUTES }),
      pipeline.freshnessThresholdSeconds,
      GT,
    );
  };
  for (const stream of streams) {
    firehoseAlarms(stream);
    const P = PREFIXES[stream];
    const sum = { stream, statistic: 'Sum', period: FIVE_MINUTES };
    add(
      'transformErrors',
      `${P}TransformErrorsAlarm`,
      `Transform Lambda (${stream}): invocations failed; Firehose retries, then writes raw records to ${ERROR_PREFIX}/`,
      metrics.metricTransformErrors(sum),
      0,
      GT,
    );
    add(
      'transformThrottles',
      `${P}TransformThrottlesAlarm`,
      `Transform Lambda (${stream}): invocations throttled`,
      metrics.metricTransformThrottles(sum),
      0,
      GT,
    );
    add(
      'processingFailed',
      `${P}ProcessingFailedAlarm`,
      `Transform (${stream}): records marked ProcessingFailed (kept raw under ${ERROR_PREFIX}/)`,
      metrics.metricProcessingFailed(sum),
      0,
      GT,
    );
    add(
      'reingestFailed',
      `${P}ReingestFailedAlarm`,
      `Transform (${stream}): records could not be put back on the stream (split parts, oversized records); they are stored flagged in the partition of the record they came in instead of their own`,
      metrics.metricReingestFailed(sum),
      0,
      GT,
    );
    if (stream === 'logs') {
      add(
        'auditForwardFailed',
        `${P}AuditForwardFailedAlarm`,
        `Transform (${stream}): audit or security events could not be forwarded to the audit stream (they are still in the logs stream)`,
        metrics.metricAuditForwardFailed(sum),
        0,
        GT,
      );
    }
  }
  for (const stream of sources.addedStreams ?? []) firehoseAlarms(stream);
  if (sources.logGroupsAtFilterLimit) {
    add(
      'logGroupsAtFilterLimit',
      'LogGroupsAtFilterLimitAlarm',
      'CloudWatch Logs: log groups under a subscribed prefix already have two subscription filters of others and were left out of the lake (the subscriber function logs their names)',
      sources.logGroupsAtFilterLimit,
      0,
      GT,
    );
  }
  for (const source of sources.deadLetters ?? [])
    out.push(...createDeadLetterAlarms(scope, pipeline, source));
  if (sources.erasureFailedRuns) {
    add(
      'erasureFailedRuns',
      'ErasureFailedRunsAlarm',
      'Erasure executor: a run failed; the due requests it could not carry out wait for the next run (the function logs which and why)',
      sources.erasureFailedRuns,
      0,
      GT,
    );
  }
  if (sources.compactionFailedRuns) {
    add(
      'compactionFailedRuns',
      'CompactionFailedRunsAlarm',
      'Compaction: a run failed; the hours it could not rewrite keep their small objects until a run succeeds (the function logs which and why)',
      sources.compactionFailedRuns,
      0,
      GT,
    );
  }
  return out;
}
