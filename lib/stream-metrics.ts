import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { StreamName } from '../src/schema';

/**
 * A delivery stream with metrics: a lane (`logs`, `audit`), or `waf`, the `aws-waf-logs-<name>` stream
 * (its own Firehose metrics; it runs the `logs` lane's transform, so its transform metrics are that one's).
 */
export type MetricStream = StreamName | 'waf';

/** Options of a per-stream metric: CloudWatch's, plus which delivery stream. */
export interface StreamMetricOptions extends cloudwatch.MetricOptions {
  /** @default 'logs' */
  readonly stream?: MetricStream;
}

/** The per-stream metrics the pipeline alarms and the dashboard watch (`LogLake` and `LogLakeIngest` provide them). */
export interface StreamMetrics {
  /** Records producers put on the stream (`AWS/Firehose IncomingRecords`). */
  metricIncomingRecords(options?: StreamMetricOptions): cloudwatch.Metric;
  /** Bytes producers put on the stream (`AWS/Firehose IncomingBytes`). */
  metricIncomingBytes(options?: StreamMetricOptions): cloudwatch.Metric;
  /** Records refused because the stream was throttled (`AWS/Firehose ThrottledRecords`). */
  metricThrottledRecords(options?: StreamMetricOptions): cloudwatch.Metric;
  /** Share of successful deliveries to S3, 0 to 1 (`AWS/Firehose DeliveryToS3.Success`). */
  metricDeliverySuccess(options?: StreamMetricOptions): cloudwatch.Metric;
  /** Age in seconds of the oldest record not yet in S3 (`AWS/Firehose DeliveryToS3.DataFreshness`). */
  metricDeliveryFreshness(options?: StreamMetricOptions): cloudwatch.Metric;
  /** Failed invocations of the stream's transform Lambda. */
  metricTransformErrors(options?: StreamMetricOptions): cloudwatch.Metric;
  /** Throttled invocations of the stream's transform Lambda. */
  metricTransformThrottles(options?: StreamMetricOptions): cloudwatch.Metric;
  /** Duration of the stream's transform Lambda. */
  metricTransformDuration(options?: StreamMetricOptions): cloudwatch.Metric;
  /** Records the transform returned as ProcessingFailed (kept raw under the error prefix). */
  metricProcessingFailed(options?: StreamMetricOptions): cloudwatch.Metric;
  /**
   * Parts of records the transform could not put back on the stream (a split by partition or a deferred
   * record): they are stored flagged in their first event's partition instead of their own.
   */
  metricReingestFailed(options?: StreamMetricOptions): cloudwatch.Metric;
  /** Audit and security events the transform could not forward to the audit stream. */
  metricAuditForwardFailed(options?: StreamMetricOptions): cloudwatch.Metric;
}
