/**
 * The construct library: `import { LogLake } from 'loglake/constructs'`. What users compose, grant and
 * configure; helpers stay in `lib/private/` and are not part of this surface.
 */

// First: a project without the CDK beside the package is told what to install.
import './private/peers';

export type { AlertsConfig, Severity, Subscription } from '../src/alerts/config';
export {
  type CategoryPolicy,
  DEFAULT_CONFIG,
  type LogLakeConfig,
  type LogLakeConfigOverride,
  type PersonaGrant,
  resolveConfig,
} from '../src/config';
export { ConfigError, type ConfigProblem } from '../src/errors';
// Names shared with the deployed pipeline: metric names (for alarms of your own) and stack outputs.
export { PROCESSING_FAILED, TRANSFORM_METRICS } from '../src/metrics';
export {
  alertTopicOutput,
  bucketOutput,
  personaRoleOutput,
  personaWorkGroupOutput,
  STACK_OUTPUTS,
  streamOutput,
  tableOutput,
} from '../src/outputs';
export { CATEGORIES, type Category, PERSONAS, type Persona, STREAMS, type StreamName } from '../src/schema';
// Its parts, each usable on its own with the slice of configuration it needs.
export { LogLakeAccess, type LogLakeAccessProps } from './access';
export { type AccessLogsOptions, LogLakeAccessLogs, type LogLakeAccessLogsProps } from './access-logs';
export { LogLakeAccessRecorder, type LogLakeAccessRecorderProps } from './access-recorder';
export { Alerting, type AlertingProps } from './alerting';
export { type LakeTableSpec, LogLakeCatalog, type LogLakeCatalogProps } from './catalog';
export { LogLakeCompaction, type LogLakeCompactionProps } from './compaction';
// Configuration: one validated model, from code or from cdk.json context.
export {
  CONFIG_CONTEXT_KEY,
  configFromContext,
  DEPLOYMENT_TARGETS,
  type DeploymentTarget,
} from './config';
export { LogLakeFunction, type LogLakeFunctionProps, type LogRetentionDays } from './function';
export {
  type IngestLane,
  LogLakeIngest,
  type LogLakeIngestProps,
  type StreamDestination,
  type TransformSettingsSlice,
} from './ingest';
// The lake, and the stack that deploys one with its outputs.
export { type ILogLake, LogLake, type LogLakeProps } from './log-lake';
export { LogLakePrefixSubscriptions, type LogLakePrefixSubscriptionsProps } from './prefix-subscriptions';
export { LogLakeQuery, type LogLakeQueryProps, NAMED_QUERIES, type NamedQuerySpec } from './query';
export { LogLakeStack, type LogLakeStackProps } from './stack';
export {
  type CategoryPlacement,
  LogLakeStorage,
  type LogLakeStorageProps,
  type ObjectLockOptions,
} from './storage';
export type { StreamMetricOptions, StreamMetrics } from './stream-metrics';
export {
  LogLakeSubscriptions,
  type LogLakeSubscriptionsProps,
  type SubscribeOptions,
} from './subscriptions';
