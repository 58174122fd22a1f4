import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { StreamName } from '../../src/schema';
import type { StreamMetrics } from '../stream-metrics';

export interface PipelineDashboardProps {
  readonly metrics: StreamMetrics;
  readonly streams: readonly StreamName[];
  /** The alarm Lambda: invocations, errors, duration. */
  readonly alarmFunction: lambda.IFunction;
  /** Drawn as a line on the freshness graph. */
  readonly freshnessThresholdSeconds: number;
  /** Shown in one status widget. */
  readonly alarms: readonly cloudwatch.IAlarm[];
}

/** A CloudWatch dashboard of the pipeline: ingestion, delivery, the transform and alerting. */
export function createDashboard(scope: Construct, props: PipelineDashboardProps): cloudwatch.Dashboard {
  const five = Duration.minutes(5);
  const { metrics, alarmFunction: fn } = props;
  const perStream = (f: (stream: StreamName) => cloudwatch.IMetric) => props.streams.map(f);
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', { defaultInterval: Duration.hours(6) });
  dashboard.addWidgets(
    new cloudwatch.TextWidget({
      markdown: '# loglake pipeline\nIngestion (Firehose), transform, delivery to S3 and alerting.',
      width: 24,
      height: 2,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Incoming records',
      left: perStream((stream) =>
        metrics.metricIncomingRecords({ stream, statistic: 'Sum', period: five, label: stream }),
      ),
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'Incoming bytes',
      left: perStream((stream) =>
        metrics.metricIncomingBytes({ stream, statistic: 'Sum', period: five, label: stream }),
      ),
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'Throttled records',
      left: perStream((stream) =>
        metrics.metricThrottledRecords({ stream, statistic: 'Sum', period: five, label: stream }),
      ),
      width: 8,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Delivery to S3 success (min)',
      left: perStream((stream) =>
        metrics.metricDeliverySuccess({ stream, statistic: 'Minimum', period: five, label: stream }),
      ),
      leftYAxis: { min: 0, max: 1 },
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'Data freshness (s, max)',
      left: perStream((stream) =>
        metrics.metricDeliveryFreshness({ stream, statistic: 'Maximum', period: five, label: stream }),
      ),
      leftAnnotations: [{ value: props.freshnessThresholdSeconds, label: 'alarm' }],
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'Transform duration (p99, ms)',
      left: perStream((stream) =>
        metrics.metricTransformDuration({ stream, statistic: 'p99', period: five, label: stream }),
      ),
      width: 8,
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Transform errors and throttles',
      left: [
        ...perStream((stream) =>
          metrics.metricTransformErrors({
            stream,
            statistic: 'Sum',
            period: five,
            label: `${stream} errors`,
          }),
        ),
        ...perStream((stream) =>
          metrics.metricTransformThrottles({
            stream,
            statistic: 'Sum',
            period: five,
            label: `${stream} throttles`,
          }),
        ),
      ],
      width: 8,
    }),
    new cloudwatch.GraphWidget({
      title: 'Alarm Lambda',
      left: [
        fn.metricInvocations({ statistic: 'Sum', period: five }),
        fn.metricErrors({ statistic: 'Sum', period: five }),
      ],
      right: [fn.metricDuration({ statistic: 'Maximum', period: five })],
      width: 8,
    }),
    new cloudwatch.AlarmStatusWidget({ title: 'Pipeline alarms', alarms: [...props.alarms], width: 8 }),
  );
  return dashboard;
}
