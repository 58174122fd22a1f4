/**
 * The transform core: Firehose records in, normalized + redacted NDJSON records out. Pure; used by the
 * transform Lambda and the local pipeline.
 */
export { categoryByRules, isCategory, ruleMatches } from './categorize';
export { type DecodedRecord, decodeRecord } from './decode';
export { levelFromName, levelFromNumber } from './level';
export {
  type EventDefaults,
  type EventSource,
  type NormalizeContext,
  type NormalizedEvent,
  normalizeEvent,
} from './normalize';
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
  DEFAULT_MAX_RESPONSE_BYTES,
  encodeRecords,
  LAMBDA_RESPONSE_LIMIT_BYTES,
  partitionKeysFor,
  responseBytes,
  type TransformOptions,
  type TransformOutput,
  transformRecords,
} from './transform';
export {
  emptyMetrics,
  mergeMetrics,
  type TransformInputRecord,
  type TransformMetrics,
  type TransformOutputRecord,
  type TransformResult,
  type TransformSettings,
} from './types';
export { decodeRecords, logRecordSchema, partitionKeysSchema } from './validate';
