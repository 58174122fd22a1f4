/**
 * AWS Lambda's JSON log format. Application logs: `timestamp`, `level`, `requestId`, `message` (read by
 * the generic recognition); an error is `errorType`, `errorMessage` and `stackTrace` (an array of
 * lines), at the top level or as the `message` object. Platform events: `{"time", "type":
 * "platform.report", "record": {"requestId", "metrics": {"durationMs", "maxMemoryUsedMB", …}}}`, with
 * the duration in `duration_ms` and every metric a number.
 */
import { isObject, type Json, type ProducerShape, without } from './shape';

const ERROR_KEYS = ['errorType', 'errorMessage', 'stackTrace'];

/** Lambda's invocation metrics, as named in REPORT lines and in `platform.report` events. */
export const LAMBDA_METRICS: Readonly<Record<string, string>> = {
  'Billed Duration': 'lambda.billed_duration_ms',
  billedDurationMs: 'lambda.billed_duration_ms',
  'Memory Size': 'lambda.memory_size_mb',
  memorySizeMB: 'lambda.memory_size_mb',
  'Max Memory Used': 'lambda.max_memory_used_mb',
  maxMemoryUsedMB: 'lambda.max_memory_used_mb',
  'Init Duration': 'lambda.init_duration_ms',
  initDurationMs: 'lambda.init_duration_ms',
  'Restore Duration': 'lambda.restore_duration_ms',
  restoreDurationMs: 'lambda.restore_duration_ms',
  'Billed Restore Duration': 'lambda.billed_restore_duration_ms',
  billedRestoreDurationMs: 'lambda.billed_restore_duration_ms',
};

/** Lambda metrics (other than the duration) under their `lambda.*` names; unknown ones as they are. */
function lambdaMetrics(metrics: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(metrics)) {
    if (k === 'durationMs') continue;
    out[LAMBDA_METRICS[k] ?? `lambda.${k}`] = v;
  }
  return out;
}

function stack(v: unknown): unknown {
  return Array.isArray(v) ? v.filter((l) => typeof l === 'string').join('\n') : v;
}

export const lambdaJson: ProducerShape = {
  name: 'lambda',
  matches: (o) =>
    ('errorType' in o && 'errorMessage' in o) ||
    (typeof o.requestId === 'string' && isObject(o.message) && 'errorType' in o.message),
  read(o) {
    const error = isObject(o.message) && 'errorType' in o.message ? o.message : o;
    const rest =
      error === o ? without(o, ERROR_KEYS) : { ...without(o, ['message']), ...without(error, ERROR_KEYS) };
    return {
      columns: {
        message: typeof o.message === 'string' ? o.message : error.errorMessage,
        error_type: error.errorType,
        stack_trace: stack(error.stackTrace),
      },
      rest,
    };
  },
};

export const lambdaPlatform: ProducerShape = {
  name: 'lambda-platform',
  matches: (o) => typeof o.type === 'string' && o.type.startsWith('platform.') && 'time' in o,
  read(o) {
    const record = isObject(o.record) ? o.record : {};
    const metrics = isObject(record.metrics) ? record.metrics : {};
    const tracing =
      isObject(record.tracing) && typeof record.tracing.value === 'string' ? record.tracing.value : '';
    const root = /Root=([^;]+)/.exec(tracing)?.[1];
    const rest: Json = { ...without(record, ['requestId', 'metrics', 'tracing']), ...lambdaMetrics(metrics) };
    if (isObject(record.tracing)) rest.tracing = record.tracing;
    return {
      columns: {
        timestamp: o.time,
        level: 'INFO',
        message: o.type,
        correlation_id: record.requestId,
        duration_ms: metrics.durationMs,
        trace_id: root,
      },
      rest,
    };
  },
};
