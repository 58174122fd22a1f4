/**
 * Google Cloud structured logging: `severity`, `message`, `logging.googleapis.com/trace`
 * (`projects/<p>/traces/<id>` → the id), `…/spanId`, `timestamp` as `{seconds, nanos}` or
 * `timestampSeconds`/`timestampNanos`, `serviceContext.service`, `httpRequest` (latency `"0.25s"`).
 */
import { isObject, type Json, type ProducerShape, without } from './shape';

const TRACE = 'logging.googleapis.com/trace';

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
    const drop = [TRACE];
    const ts = isObject(o.timestamp)
      ? seconds(o.timestamp.seconds, o.timestamp.nanos)
      : seconds(o.timestampSeconds, o.timestampNanos);
    if (ts !== undefined) drop.push('timestamp', 'timestampSeconds', 'timestampNanos');
    const service = isObject(o.serviceContext) ? o.serviceContext.service : undefined;
    const rest: Json = without(o, drop);
    if (service !== undefined && isObject(o.serviceContext))
      rest.serviceContext = without(o.serviceContext, ['service']);
    const http = isObject(o.httpRequest) ? o.httpRequest : undefined;
    const latency = typeof http?.latency === 'string' ? http.latency : undefined;
    return {
      columns: {
        ...(ts !== undefined ? { timestamp: ts } : {}),
        trace_id: traceId(o[TRACE]),
        service,
        duration_ms: latency,
      },
      rest,
    };
  },
};
