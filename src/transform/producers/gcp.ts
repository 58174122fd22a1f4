/**
 * Google Cloud structured logging: `severity`, `message`, `logging.googleapis.com/trace`
 * (`projects/<p>/traces/<id>` → the id), `…/spanId`, `timestamp` as `{seconds, nanos}` or
 * `timestampSeconds`/`timestampNanos`, `serviceContext.service`, `httpRequest` (latency `"0.25s"`).
 * Python's `StructuredLogHandler` puts the logger name and service in `logging.googleapis.com/labels`
 * (`python_logger`, `service`) and appends the traceback to `message`; empty ids and empty objects are
 * what it writes for nothing, and are left out.
 */
import { isObject, type Json, type ProducerShape, without } from './shape';

const TRACE = 'logging.googleapis.com/trace';
const SPAN = 'logging.googleapis.com/spanId';
const LABELS = 'logging.googleapis.com/labels';
const DIAGNOSTIC = 'logging.googleapis.com/diagnostic';
const TRACEBACK = '\nTraceback (most recent call last):\n';

function isEmpty(v: unknown): boolean {
  return v === '' || (isObject(v) && Object.keys(v).length === 0);
}

function traceId(v: unknown): unknown {
  return typeof v === 'string' ? v.replace(/^projects\/[^/]+\/traces\//, '') : v;
}

function seconds(s: unknown, n: unknown): number | undefined {
  const sec = typeof s === 'string' ? Number(s) : s;
  if (typeof sec !== 'number' || !Number.isFinite(sec)) return undefined;
  const nanos = typeof n === 'number' && Number.isFinite(n) ? n : 0;
  return sec * 1000 + Math.floor(nanos / 1e6);
}

export const gcp: ProducerShape = {
  name: 'gcp',
  matches: (o) =>
    TRACE in o ||
    ('severity' in o && ('serviceContext' in o || 'timestampSeconds' in o || isObject(o.timestamp))),
  read(o) {
    const drop = [TRACE, SPAN, LABELS, DIAGNOSTIC];
    const ts = isObject(o.timestamp)
      ? seconds(o.timestamp.seconds, o.timestamp.nanos)
      : seconds(o.timestampSeconds, o.timestampNanos);
    if (ts !== undefined) drop.push('timestamp', 'timestampSeconds', 'timestampNanos');
    const labels: Json = isObject(o[LABELS]) ? { ...o[LABELS] } : {};
    const logger = typeof labels.python_logger === 'string' ? labels.python_logger : undefined;
    if (logger !== undefined) delete labels.python_logger;
    let service = isObject(o.serviceContext) ? o.serviceContext.service : undefined;
    if (service === undefined && typeof labels.service === 'string') {
      service = labels.service;
      delete labels.service;
    }
    const rest: Json = {};
    for (const [k, v] of Object.entries(without(o, drop))) if (!isEmpty(v)) rest[k] = v;
    if (Object.keys(labels).length > 0) rest[LABELS] = labels;
    if (isObject(o[DIAGNOSTIC])) {
      // The handler's own instrumentation record: kept as printed, arrays as compact JSON.
      for (const [k, v] of Object.entries(o[DIAGNOSTIC])) {
        rest[`${DIAGNOSTIC}.${k}`] = Array.isArray(v) ? JSON.stringify(v) : v;
      }
    }
    if (service !== undefined && isObject(o.serviceContext)) {
      const context = without(o.serviceContext, ['service']);
      if (Object.keys(context).length > 0) rest.serviceContext = context;
      else delete rest.serviceContext;
    }
    const http = isObject(o.httpRequest) ? o.httpRequest : undefined;
    const latency = typeof http?.latency === 'string' ? http.latency : undefined;
    let message = o.message;
    let stack: string | undefined;
    if (typeof message === 'string') {
      const at = message.indexOf(TRACEBACK);
      if (at >= 0) {
        stack = message.slice(at + 1);
        message = message.slice(0, at);
        delete rest.message;
      }
    }
    return {
      columns: {
        ...(ts !== undefined ? { timestamp: ts } : {}),
        ...(isEmpty(o[TRACE]) ? {} : { trace_id: traceId(o[TRACE]) }),
        ...(isEmpty(o[SPAN]) ? {} : { span_id: o[SPAN] }),
        service,
        logger,
        duration_ms: latency,
        ...(stack === undefined ? {} : { message, stack_trace: stack }),
      },
      rest,
    };
  },
};
