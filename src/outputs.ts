/**
 * CloudFormation output keys of `LogLakeStack`: `lib/stack.ts` writes them and the `loglake` CLI reads
 * them (`--stack`), so both import these names and a rename breaks the build. CDK-free.
 */
import type { Persona, StreamName } from './schema';

/** `api_access` → `ApiAccess`, `loglake-logs` → `LoglakeLogs`: output keys and construct ids. */
export function pascalCase(s: string): string {
  return s
    .split(/[_-]/)
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}

/** `<Stream>StreamName`: the Firehose delivery stream of a stream. */
export const streamOutput = (stream: StreamName): string => `${pascalCase(stream)}StreamName`;
/** `<Stream>BucketName`: the S3 bucket a stream delivers to. */
export const bucketOutput = (stream: StreamName): string => `${pascalCase(stream)}BucketName`;
/** `<Stream>TableName`: the Glue table of a stream. */
export const tableOutput = (stream: StreamName): string => `${pascalCase(stream)}TableName`;
/** `<Persona>WorkGroupName`: a persona's Athena workgroup (a CLI flag may name any persona). */
export const personaWorkGroupOutput = (persona: Persona | string): string =>
  `${pascalCase(persona)}WorkGroupName`;
/** `<Persona>RoleArn`: a persona's IAM role. */
export const personaRoleOutput = (persona: Persona): string => `${pascalCase(persona)}RoleArn`;
/** `<Severity>AlertTopicArn`: the SNS topic of one alert severity. */
export const alertTopicOutput = (severity: string): string => `${pascalCase(severity)}AlertTopicArn`;

/** The fixed output keys, and those of the `logs` and `audit` streams the CLI reads. */
export const STACK_OUTPUTS = {
  workGroup: 'WorkGroupName',
  database: 'DatabaseName',
  queryResultsBucket: 'QueryResultsBucketName',
  accessLogsBucket: 'AccessLogsBucketName',
  producerPolicy: 'ProducerPolicyArn',
  pseudonymSecret: 'PseudonymSecretArn',
  subjectKeyTable: 'SubjectKeyTableName',
  subjectRequestTable: 'SubjectRequestTableName',
  key: 'KeyArn',
  /** Present when the stack has the optional CloudTrail trail (`accessAudit.trail`). */
  trailTable: 'TrailTableName',
  /** Present when the stack has alerting: the alarm Lambda's rule state (DynamoDB). */
  alertStateTable: 'AlertStateTableName',
  logsTable: tableOutput('logs'),
  auditTable: tableOutput('audit'),
  logsStream: streamOutput('logs'),
  auditStream: streamOutput('audit'),
  /**
   * Present when the stack has the audit stream: the access recorder's function URL, where the CLI
   * records its access and privacy events (a stack without it: the CLI writes to the audit stream).
   */
  accessRecorderUrl: 'AccessRecorderUrl',
} as const;

/**
 * The alarm Lambda's state table named by a stack's outputs: its name; `null` when the stack has no
 * alerting (no alert topic either); `undefined` when the stack has alerting but was deployed before it
 * had the output (readers that may list the stack's resources find the table there).
 */
export function alertStateTableOf(outputs: Readonly<Record<string, string>>): string | null | undefined {
  const table = outputs[STACK_OUTPUTS.alertStateTable];
  if (table) return table;
  return Object.keys(outputs).some((k) => k.endsWith(alertTopicOutput(''))) ? undefined : null;
}
