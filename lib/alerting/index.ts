export * from './alerting';
export type { PipelineAlarmSpec } from './pipeline-alarms';
export type { StreamMetricOptions, StreamMetrics } from './stream-metrics';
