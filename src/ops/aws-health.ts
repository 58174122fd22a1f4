/**
 * `loglake health --stack`: a deployed lake's delivery streams (status), data freshness (Firehose's
 * DeliveryToS3.DataFreshness), records the transform could not process (ProcessingFailed, written raw
 * under errors/) and the stack's CloudWatch alarms. Same checks shape and exit statuses as the local
 * health: ok, warning, critical.
 */
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  type CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricStatisticsCommand,
} from '@aws-sdk/client-cloudwatch';
import { DescribeDeliveryStreamCommand, type FirehoseClient } from '@aws-sdk/client-firehose';
import { stackResources } from '../compliance/aws';
import { PROCESSING_FAILED, TRANSFORM_METRICS } from '../metrics';
import type { StreamName } from '../schema';
import { type HealthCheck, type HealthStatus, worst } from './health';

export interface StackHealthReport {
  readonly status: HealthStatus;
  readonly checkedAt: string;
  readonly stack: string;
  readonly checks: readonly HealthCheck[];
}

export interface StackHealthThresholds {
  /** Data freshness (age of the oldest record not yet in S3) from which a stream warns. @default 15 min */
  readonly freshnessWarnSeconds: number;
  /** From which it is critical. @default 1 h */
  readonly freshnessCriticalSeconds: number;
}

export const DEFAULT_STACK_HEALTH_THRESHOLDS: StackHealthThresholds = {
  freshnessWarnSeconds: 900,
  freshnessCriticalSeconds: 3600,
};

export interface StackHealthOptions {
  readonly stack: string;
  /** Delivery stream name by stream, from the stack's outputs. */
  readonly streams: Partial<Record<StreamName, string>>;
  readonly clients: {
    readonly firehose: FirehoseClient;
    readonly cloudwatch: CloudWatchClient;
    readonly cloudformation: CloudFormationClient;
  };
  readonly thresholds?: StackHealthThresholds;
  readonly now?: Date;
}

const HOUR = 3_600_000;

export async function stackHealth(options: StackHealthOptions): Promise<StackHealthReport> {
  const now = options.now ?? new Date();
  const t = options.thresholds ?? DEFAULT_STACK_HEALTH_THRESHOLDS;
  const { firehose, cloudwatch, cloudformation } = options.clients;
  const checks: HealthCheck[] = [];
  for (const [stream, name] of Object.entries(options.streams) as Array<[StreamName, string]>) {
    const { DeliveryStreamDescription: d } = await firehose.send(
      new DescribeDeliveryStreamCommand({ DeliveryStreamName: name }),
    );
    const state = d?.DeliveryStreamStatus ?? 'UNKNOWN';
    checks.push({
      name: `stream.${stream}`,
      status: state === 'ACTIVE' ? 'ok' : state === 'CREATING' ? 'warning' : 'critical',
      detail: `${name}: ${state}${d?.FailureDescription ? ` (${d.FailureDescription.Type}: ${d.FailureDescription.Details})` : ''}`,
      values: { status: state },
    });

    const freshness = await statistic(cloudwatch, now, 'Maximum', 15 * 60_000, {
      Namespace: 'AWS/Firehose',
      MetricName: 'DeliveryToS3.DataFreshness',
      Dimensions: [{ Name: 'DeliveryStreamName', Value: name }],
    });
    checks.push({
      name: `freshness.${stream}`,
      status:
        freshness === undefined
          ? 'ok'
          : freshness >= t.freshnessCriticalSeconds
            ? 'critical'
            : freshness >= t.freshnessWarnSeconds
              ? 'warning'
              : 'ok',
      detail:
        freshness === undefined
          ? 'no DeliveryToS3.DataFreshness datapoint in the last 15 min (no traffic)'
          : `oldest record not yet in S3: ${Math.round(freshness)} s (warn ${t.freshnessWarnSeconds} s, critical ${t.freshnessCriticalSeconds} s)`,
      values: { seconds: freshness ?? null },
    });

    const failed = await statistic(cloudwatch, now, 'Sum', HOUR, {
      Namespace: TRANSFORM_METRICS.namespace,
      MetricName: TRANSFORM_METRICS.names.records,
      Dimensions: [
        { Name: TRANSFORM_METRICS.dimensions.service, Value: TRANSFORM_METRICS.service },
        { Name: TRANSFORM_METRICS.dimensions.stream, Value: stream },
        { Name: TRANSFORM_METRICS.dimensions.result, Value: PROCESSING_FAILED },
      ],
    });
    checks.push({
      name: `processing-failed.${stream}`,
      status: (failed ?? 0) > 0 ? 'warning' : 'ok',
      detail: `${failed ?? 0} record(s) ProcessingFailed in the last hour (kept raw under errors/, security persona only)`,
      values: { records: failed ?? 0 },
    });
  }

  const alarmNames: string[] = (await stackResources(cloudformation, options.stack))
    .filter((r) => r.ResourceType === 'AWS::CloudWatch::Alarm' && r.PhysicalResourceId)
    .map((r) => r.PhysicalResourceId as string);
  const firing: string[] = [];
  let known = 0;
  for (let i = 0; i < alarmNames.length; i += 100) {
    const { MetricAlarms } = await cloudwatch.send(
      new DescribeAlarmsCommand({ AlarmNames: alarmNames.slice(i, i + 100) }),
    );
    for (const a of MetricAlarms ?? []) {
      known++;
      if (a.StateValue === 'ALARM')
        firing.push(`${a.AlarmName} (since ${a.StateUpdatedTimestamp?.toISOString()})`);
    }
  }
  checks.push({
    name: 'alarms',
    status: firing.length > 0 ? 'critical' : 'ok',
    detail:
      firing.length > 0
        ? `${firing.length} of ${known} alarm(s) in ALARM: ${firing.join(', ')}`
        : `${known} alarm(s) of the stack, none in ALARM`,
    values: { alarms: known, firing: firing.length },
  });
  return {
    status: worst(checks.map((c) => c.status)),
    checkedAt: now.toISOString(),
    stack: options.stack,
    checks,
  };
}

/** One statistic of a metric over the last `windowMs` (the extreme or the sum of its 1-minute points). */
async function statistic(
  cloudwatch: CloudWatchClient,
  now: Date,
  stat: 'Maximum' | 'Sum',
  windowMs: number,
  metric: { Namespace: string; MetricName: string; Dimensions: Array<{ Name: string; Value: string }> },
): Promise<number | undefined> {
  const { Datapoints } = await cloudwatch.send(
    new GetMetricStatisticsCommand({
      ...metric,
      StartTime: new Date(now.getTime() - windowMs),
      EndTime: now,
      Period: 60,
      Statistics: [stat],
    }),
  );
  const values = (Datapoints ?? []).map((d) => d[stat]).filter((v): v is number => typeof v === 'number');
  if (values.length === 0) return undefined;
  return stat === 'Maximum' ? Math.max(...values) : values.reduce((a, b) => a + b, 0);
}
