/**
 * Field-name recognition: which input field feeds which record column. Events are flattened to dotted
 * paths first, so nested shapes (`err.stack`, `http.request.method`, OTel `resource.service.name`) and
 * flat ones (`http_method`) are looked up the same way. The first alias in a list wins; a field also
 * matches under one level of a common container (`context.http_method`, `extra.user_id`) with lower
 * priority. Every field not taken for a column stays in `attributes`.
 */

/** A target a field can feed; several are conversions or weak variants of one column. */
export type Target =
  | 'timestamp'
  | 'level'
  | 'level_pino'
  | 'level_python'
  | 'level_otel'
  | 'service'
  | 'logger'
  | 'message'
  | 'correlation_id'
  | 'trace_id'
  | 'span_id'
  | 'user_id'
  | 'error_type'
  | 'stack_trace'
  | 'duration_ms'
  | 'duration_s'
  | 'duration_us'
  | 'duration_ns'
  | 'http_method'
  | 'http_method_weak'
  | 'http_path'
  | 'http_path_weak'
  | 'http_status'
  | 'http_status_weak'
  | 'category';

const ALIASES: ReadonlyArray<readonly [Target, readonly string[]]> = [
  [
    'timestamp',
    [
      'timestamp',
      '@timestamp',
      'time',
      'ts',
      'datetime',
      'date',
      'eventTime',
      'event_time',
      'asctime',
      'Timestamp',
      'timeUnixNano',
      'time_unix_nano',
      'observedTimeUnixNano',
      'timeMillis',
      'timestamp_ms',
      'created',
    ],
  ],
  [
    'level',
    [
      'level',
      'severityText',
      'severity_text',
      'levelname',
      'severity',
      'log_level',
      'logLevel',
      'loglevel',
      'lvl',
      '@level',
      'level_name',
      'log.level',
    ],
  ],
  ['level_python', ['levelno']],
  ['level_otel', ['severityNumber', 'severity_number']],
  [
    'service',
    [
      'service',
      'service_name',
      'serviceName',
      'service.name',
      'resource.service.name',
      'resource.attributes.service.name',
      'app',
      'application',
      'app_name',
      'appName',
      'application_name',
    ],
  ],
  [
    'logger',
    [
      'logger',
      'logger_name',
      'loggerName',
      'log.logger',
      'name',
      'scope.name',
      'otel.scope.name',
      'instrumentationScope.name',
      'instrumentation_scope.name',
    ],
  ],
  ['message', ['message', 'msg', 'body', 'Body', 'log', 'text', '@message', 'event']],
  [
    'correlation_id',
    [
      'correlation_id',
      'correlationId',
      'correlationID',
      'correlation-id',
      'x-correlation-id',
      'x_correlation_id',
      'request_id',
      'requestId',
      'requestID',
      'request-id',
      'x-request-id',
      'x_request_id',
      'awsRequestId',
      'aws_request_id',
      'function_request_id',
      'req_id',
      'reqId',
      'req.id',
    ],
  ],
  [
    'trace_id',
    [
      'trace_id',
      'traceId',
      'traceID',
      'trace.id',
      'xray_trace_id',
      'x-amzn-trace-id',
      'dd.trace_id',
      'otelTraceID',
      'logging.googleapis.com/trace',
    ],
  ],
  [
    'span_id',
    ['span_id', 'spanId', 'spanID', 'span.id', 'dd.span_id', 'otelSpanID', 'logging.googleapis.com/spanId'],
  ],
  ['user_id', ['user_id', 'userId', 'userID', 'user.id', 'usr.id', 'enduser.id']],
  [
    'error_type',
    [
      'error_type',
      'errorType',
      'error.type',
      'exception.type',
      'exc_type',
      'exception_type',
      'err.type',
      'error.name',
      'err.name',
      'error.kind',
      'error.class',
    ],
  ],
  [
    'stack_trace',
    [
      'stack_trace',
      'stackTrace',
      'stacktrace',
      'stack',
      'error.stack_trace',
      'error.stack',
      'err.stack',
      'exception.stacktrace',
      'exception.stack_trace',
      'error.stacktrace',
      'exc_info',
      'exception',
    ],
  ],
  [
    'duration_ms',
    [
      'duration_ms',
      'durationMs',
      'duration',
      'elapsed_ms',
      'elapsedMs',
      'latency_ms',
      'latencyMs',
      'response_time_ms',
      'responseTime',
      'took_ms',
      'time_ms',
    ],
  ],
  ['duration_s', ['duration_s', 'duration_sec', 'duration_seconds', 'elapsed_s', 'latency_s']],
  ['duration_us', ['duration_us', 'duration_micros']],
  ['duration_ns', ['duration_ns', 'durationNs', 'duration_nanos']],
  [
    'http_method',
    [
      'http_method',
      'httpMethod',
      'http.method',
      'http.request.method',
      'request.method',
      'req.method',
      'requestMethod',
      'httpRequest.requestMethod',
    ],
  ],
  ['http_method_weak', ['method']],
  [
    'http_path',
    [
      'http_path',
      'httpPath',
      'http.path',
      'url.path',
      'http.target',
      'request.path',
      'req.url',
      'request.url',
      'http.url',
      'url.full',
      'httpRequest.requestUrl',
      'requestPath',
      'resourcePath',
    ],
  ],
  ['http_path_weak', ['path', 'url', 'uri', 'request_uri']],
  [
    'http_status',
    [
      'http_status',
      'httpStatus',
      'status_code',
      'statusCode',
      'http.status_code',
      'http.response.status_code',
      'res.statusCode',
      'response.statusCode',
      'response.status',
      'httpRequest.status',
      'response_code',
    ],
  ],
  ['http_status_weak', ['status']],
  ['category', ['category', 'log_category', 'logCategory']],
];

/** Containers whose fields are looked up as if they were top-level (with lower priority). */
export const CONTAINERS: ReadonlySet<string> = new Set([
  'context',
  'ctx',
  'extra',
  'fields',
  'attributes',
  'labels',
  'meta',
  'metadata',
  'properties',
  'props',
  'mdc',
]);

/** Fields that are never looked for inside containers (the explicit category must be top-level). */
const TOP_LEVEL_ONLY: ReadonlySet<Target> = new Set(['category']);

/** Fields whose object value is kept whole (as JSON text) instead of being flattened. */
export const MESSAGE_KEYS: ReadonlySet<string> = new Set(['message', 'msg', 'body', 'Body']);

interface Alias {
  readonly target: Target;
  readonly rank: number;
}

const TABLE = new Map<string, Alias>();
for (const [target, paths] of ALIASES) {
  paths.forEach((path, rank) => {
    if (!TABLE.has(path)) TABLE.set(path, { target, rank });
  });
}

/** Priority penalty for a field found inside a container. */
const CONTAINED = 1000;

const cache = new Map<string, Alias | null>();

/** The target a flattened field path feeds, with its rank (lower is better), if any. */
export function aliasOf(path: string): Alias | undefined {
  const cached = cache.get(path);
  if (cached !== undefined) return cached ?? undefined;
  const alias = lookup(path);
  if (cache.size > 50_000) cache.clear();
  cache.set(path, alias ?? null);
  return alias;
}

function lookup(path: string): Alias | undefined {
  const direct = TABLE.get(path);
  if (direct) return direct;
  const dot = path.indexOf('.');
  if (dot < 0) return undefined;
  if (!CONTAINERS.has(path.slice(0, dot))) return undefined;
  const inner = TABLE.get(path.slice(dot + 1));
  if (!inner || TOP_LEVEL_ONLY.has(inner.target)) return undefined;
  return { target: inner.target, rank: inner.rank + CONTAINED };
}
