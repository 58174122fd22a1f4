/**
 * Environment variable names of the alarm Lambda. The only module `lib/` may import from
 * `lambdas/alarm` (ARCHITECTURE.md, "Import rules": lib imports from lambdas only their constants).
 */
export const ALARM_ENV = {
  /** The rules and evaluation settings, encoded by `encodeAlarmSettings` (src/alerts/settings.ts). */
  settings: 'LOGLAKE_ALERTS_SETTINGS',
  /** DynamoDB table holding rule state, error-object arrivals and handled alarm events. */
  table: 'LOGLAKE_ALERTS_TABLE',
  /** JSON `{ critical, high, medium, low }` → SNS topic ARN. */
  topics: 'LOGLAKE_ALERT_TOPICS',
  /** Athena workgroup (enforces the results location, encryption and the scan cutoff). */
  workgroup: 'LOGLAKE_ATHENA_WORKGROUP',
  /** Glue database of the lake tables. */
  database: 'LOGLAKE_GLUE_DATABASE',
  /** JSON `{ logs, audit }` → Glue table name. */
  tables: 'LOGLAKE_GLUE_TABLES',
  /** JSON bucket name → stream (`logs` | `audit`), to name the stream of an error object. */
  buckets: 'LOGLAKE_BUCKETS',
  /**
   * JSON pipeline alarm kind → severity (`alerts.pipeline.severities`); a pipeline alarm's description
   * ends with its kind (`pipelineKindMark`), and comes with its state change event.
   */
  pipelineSeverities: 'LOGLAKE_PIPELINE_SEVERITIES',
  /** JSON channel name → `{ topicArn, format }` for the rules' own channels (`alerts.channels`). */
  channels: 'LOGLAKE_ALERT_CHANNELS',
  /**
   * JSON `{ stream, principal, bulkReadRows }`: the rules' queries are recorded as access events on this
   * delivery stream, as this principal (the function's role). Absent when access auditing is off.
   */
  accessAudit: 'LOGLAKE_ACCESS_AUDIT',
  /** Appended to the `loglake search` command in messages, e.g. `--athena --stack LogLake`. */
  searchTarget: 'LOGLAKE_SEARCH_TARGET',
} as const;
