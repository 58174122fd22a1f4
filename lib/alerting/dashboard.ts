import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { StreamName } from '../../src/schema';
import type { StreamMetricOptions, StreamMetrics } from '../stream-metrics';

export interface PipelineDashboardProps {
  readonly metrics: StreamMetrics;
  readonly streams: readonly StreamName[];
  /** The alarm Lambda: invocations, errors, duration. */
  readonly alarmFunction: lambda.IFunction;
  /** Drawn as a line on the freshness graph. */
  readonly freshnessThresholdSeconds: number;
  /** Shown in one status widget; read at synth, so alarms added after the dashboard are shown too. */
  readonly alarms: () => readonly cloudwatch.IAlarm[];
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
  /** One graph of a metric per stream, labelled by stream. */
  const streamGraph = (
    title: string,
    metric: (options: StreamMetricOptions) => cloudwatch.IMetric,
    statistic: string,
    extra: Partial<cloudwatch.GraphWidgetProps> = {},
  ) =>
    new cloudwatch.GraphWidget({
      title,
      left: perStream((stream) => metric({ stream, statistic, period: five, label: stream })),
      width: 8,
      ...extra,
    });
  dashboard.addWidgets(
    streamGraph('Incoming records', (o) => metrics.metricIncomingRecords(o), 'Sum'),
    streamGraph('Incoming bytes', (o) => metrics.metricIncomingBytes(o), 'Sum'),
    streamGraph('Throttled records', (o) => metrics.metricThrottledRecords(o), 'Sum'),
  );
  dashboard.addWidgets(
    streamGraph('Delivery to S3 success (min)', (o) => metrics.metricDeliverySuccess(o), 'Minimum', {
      leftYAxis: { min: 0, max: 1 },
    }),
    streamGraph('Data freshness (s, max)', (o) => metrics.metricDeliveryFreshness(o), 'Maximum', {
      leftAnnotations: [{ value: props.freshnessThresholdSeconds, label: 'alarm' }],
    }),
    streamGraph('Transform duration (p99, ms)', (o) => metrics.metricTransformDuration(o), 'p99'),
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
    new AlarmsAtSynthWidget('Pipeline alarms', props.alarms),
  );
  return dashboard;
}

/**
 * An alarm status widget of the alarms there are when the dashboard is rendered (at synth), not when it
 * is built: an access-log source added to the lake later brings alarms of its own.
 */
class AlarmsAtSynthWidget implements cloudwatch.IWidget {
  readonly width = 8;
  readonly height = 3;
  private x = 0;
  private y = 0;
  private readonly title: string;
  private readonly alarms: () => readonly cloudwatch.IAlarm[];

  constructor(title: string, alarms: () => readonly cloudwatch.IAlarm[]) {
    this.title = title;
    this.alarms = alarms;
  }

  position(x: number, y: number): void {
    this.x = x;
    this.y = y;
  }

  toJson(): unknown[] {
    const widget = new cloudwatch.AlarmStatusWidget({
      title: this.title,
      alarms: [...this.alarms()],
      width: this.width,
      height: this.height,
    });
    widget.position(this.x, this.y);
    return widget.toJson();
  }
}
