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
  'Billed Duration': 'billed_duration_ms',
  billedDurationMs: 'billed_duration_ms',
  'Memory Size': 'memory_size_mb',
  memorySizeMB: 'memory_size_mb',
  'Max Memory Used': 'max_memory_used_mb',
  maxMemoryUsedMB: 'max_memory_used_mb',
  'Init Duration': 'init_duration_ms',
  initDurationMs: 'init_duration_ms',
  'Restore Duration': 'restore_duration_ms',
  restoreDurationMs: 'restore_duration_ms',
  'Billed Restore Duration': 'billed_restore_duration_ms',
  billedRestoreDurationMs: 'billed_restore_duration_ms',
};

/** A REPORT's metrics (other than the duration) under the names of the text REPORT line's figures. */
function reportMetrics(metrics: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(metrics)) {
    if (k === 'durationMs') continue;
    out[LAMBDA_METRICS[k] ?? `record.metrics.${k}`] = v;
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
    // A string `message` already holds the error as the runtime formatted it; `errorMessage` stays.
    const keep = typeof o.message === 'string' ? ['errorType', 'stackTrace', 'message'] : ERROR_KEYS;
    const rest =
      error === o ? without(o, keep) : { ...without(o, ['message']), ...without(error, ERROR_KEYS) };
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
    const tracing = isObject(record.tracing) ? record.tracing : {};
    const root = typeof tracing.value === 'string' ? /Root=([^;]+)/.exec(tracing.value)?.[1] : undefined;
    // The event's own fields under their own names (`type`, `record.status`, `record.spans` as JSON).
    const own: Json = {};
    for (const [k, v] of Object.entries(without(record, ['requestId', 'metrics', 'tracing']))) {
      own[k] = Array.isArray(v) ? JSON.stringify(v) : v;
    }
    const rest: Json = { ...without(o, ['time', 'record']), record: own };
    const tracingRest = without(tracing, ['spanId']);
    if (Object.keys(tracingRest).length > 0) own.tracing = tracingRest;
    const report = o.type === 'platform.report';
    const otherMetrics = without(metrics, ['durationMs']);
    if (report) Object.assign(rest, reportMetrics(metrics));
    else if (Object.keys(otherMetrics).length > 0) own.metrics = otherMetrics;
    return {
      columns: {
        timestamp: o.time,
        level: 'INFO',
        message: o.type,
        correlation_id: record.requestId,
        duration_ms: metrics.durationMs,
        trace_id: root,
        span_id: tracing.spanId,
      },
      rest,
    };
  },
};
