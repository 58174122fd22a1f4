/**
 * The transform's CloudWatch metrics (embedded metric format, through Powertools): namespace, service,
 * metric and dimension names. The transform handler (`lambdas/transform`) emits them and the alarms and
 * dashboard in `lib/` watch them; both import this module, so a rename breaks the build instead of
 * silently blinding the ProcessingFailed alarm. CDK-free, like the environment-name constants.
 */
import type { FirehoseRecordTransformationStatus } from 'aws-lambda';

/** The CloudWatch namespace of every metric the lake's own functions emit (the transform's, the subscriber's). */
export const METRIC_NAMESPACE = 'LogLake';

export const TRANSFORM_METRICS = {
  namespace: METRIC_NAMESPACE,
  /** Powertools' `serviceName`; it adds a `service` dimension with this value to every metric. */
  service: 'loglake-transform',
  /** Metric names. */
  names: {
    /** Output records by `Result` (Ok, Dropped, ProcessingFailed). */
    records: 'Records',
    /** Output records by `Category`. */
    recordsByCategory: 'RecordsByCategory',
    /** Log events by `Category`. */
    events: 'Events',
    /** Redactions by detector `Kind`. */
    redactions: 'Redactions',
    eventsWithSchemaErrors: 'EventsWithSchemaErrors',
    unparseableEvents: 'UnparseableEvents',
    sampledOutEvents: 'SampledOutEvents',
    oversizedRecords: 'OversizedRecords',
    controlMessages: 'ControlMessages',
    forwardedToAudit: 'ForwardedToAudit',
    auditForwardFailed: 'AuditForwardFailed',
    reingested: 'Reingested',
    reingestFailed: 'ReingestFailed',
    /** Records split into parts by partition (a CloudWatch Logs payload mixing categories or hours). */
    splitRecords: 'SplitRecords',
    bytesIn: 'BytesIn',
    bytesOut: 'BytesOut',
  },
  /** Dimension names. */
  dimensions: {
    /** Added by Powertools from {@link TRANSFORM_METRICS.service}. */
    service: 'service',
    /** Default dimension of every metric: the delivery stream (`logs`, `audit`). */
    stream: 'Stream',
    result: 'Result',
    category: 'Category',
    kind: 'Kind',
  },
} as const;

/** The `Result` dimension value of records Firehose writes raw under the error prefix. */
export const PROCESSING_FAILED: FirehoseRecordTransformationStatus = 'ProcessingFailed';
