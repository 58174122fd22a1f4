import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import type { AlertsConfig, PipelineAlarm, Severity } from '../../src/alerts/config';
import { ERROR_PREFIX, type StreamName } from '../../src/schema';
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

/** What the pipeline alarms watch besides the lanes' streams. */
export interface PipelineAlarmSources {
  /** Streams that run a lane's transform (the WAF stream): their Firehose alarms only. @default none */
  readonly addedStreams?: readonly MetricStream[];
  /**
   * Log groups under a prefix left unsubscribed at CloudWatch Logs' filter limit
   * (`ILogLake.metricLogGroupsAtFilterLimit`). @default no such alarm (no prefix is subscribed)
   */
  readonly logGroupsAtFilterLimit?: cloudwatch.IMetric;
}

/**
 * The pipeline's own alarms, per stream: Firehose delivery, throttling and freshness; the transform's
 * errors, throttles, ProcessingFailed records, parts it could not re-ingest and events it could not
 * forward to the audit stream; and log groups the prefix subscriber had to leave out.
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
    const alarm = new cloudwatch.Alarm(scope, id, {
      alarmDescription: description,
      metric,
      threshold,
      comparisonOperator: comparison,
      evaluationPeriods,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    Validations.of(alarm).acknowledge({
      id: 'NIST.800.53.R5-CloudWatchAlarmAction',
      reason:
        'State changes of this alarm reach SNS through EventBridge and the alarm Lambda (one message shape, deduplicated); a direct action would notify twice.',
    });
    out.push({ kind, alarm, severity: pipeline.severities[kind], description });
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
  return out;
}
