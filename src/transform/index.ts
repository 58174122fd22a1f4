/**
 * The transform core: Firehose records in, normalized + redacted NDJSON records out. Pure; used by the
 * transform Lambda and the local pipeline.
 */
export { categoryByRules, isCategory, ruleMatches } from './categorize';
export { HTTP_METHODS } from './coerce';
export { type DecodedRecord, decodeRecord, SPLIT_MARKER } from './decode';
export { LEVEL_WORDS, levelFromName, levelFromNumber } from './level';
export { emptyMetrics, mergeMetrics } from './metrics';
export {
  type EventDefaults,
  type EventSource,
  type NormalizeContext,
  type NormalizedEvent,
  normalizeEvent,
} from './normalize';
export {
  FirehoseProcessor,
  FORWARD_FAILED_ERROR,
  type ProcessorOptions,
  type ProcessResult,
  type RecordSink,
  type SendFailure,
  type SinkResult,
  SPLIT_FAILED_ERROR,
  streamNameFromArn,
} from './process';
export { DEFAULT_MAX_RESPONSE_BYTES, LAMBDA_RESPONSE_LIMIT_BYTES, responseBytes } from './response';
export { encodeRecords, partitionKeysFor, serializeRecord } from './serialize';
export {
  parseTransformConfig,
  settingsFromConfig,
  type TransformConfigSlice,
  transformConfigSlice,
  transformSettingsSchema,
} from './settings';
export { parseTextLine } from './text';
export { epochToMs, parseTimestamp, parseTimestampText, toIso } from './timestamp';
export {
  type SplitRecord,
  type TransformOptions,
  type TransformOutput,
  transformRecords,
} from './transform';
export type {
  TransformInputRecord,
  TransformMetrics,
  TransformOutputRecord,
  TransformResult,
  TransformSettings,
} from './types';
export { decodeRecords, logRecordSchema, partitionKeysSchema } from './validate';
