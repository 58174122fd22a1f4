/**
 * .NET's built-in JSON console logging (`Microsoft.Extensions.Logging.Console`, `AddJsonConsole()`, what
 * ASP.NET Core containers print): `{"Timestamp"?, "EventId", "LogLevel", "Category", "Message",
 * "Exception"?, "State": {"Message", …properties, "{OriginalFormat}"}, "Scopes"?: [...]}`. `Category` is
 * the logger; `Timestamp` is there only when a `TimestampFormat` is set. The state's properties (the
 * message template's values) and the scopes' are the event's own fields, a scope's key already taken
 * staying under `scope.`; each `Message` repeating the message or a scope's type name is left out, the
 * template kept as `{OriginalFormat}`, a scope that is only text under `Scopes`. `Exception` is
 * `Exception.ToString()` as printed (one line unless the writer indents): the stack text, its first
 * class the error type. `EventId` is kept as text (an id, not a measurement). ASP.NET Core's request
 * scopes give the W3C `TraceId` and `SpanId`, and `RequestId` is the correlation id unless the event
 * names one.
 */
import { exceptionType } from '../multiline';
import { isObject, type Json, type ProducerShape, without } from './shape';

const OWN = ['Timestamp', 'EventId', 'LogLevel', 'Category', 'Message', 'Exception', 'State', 'Scopes'];

/** `rest[key]` when it is text, removed from `rest` (it becomes a column). */
function take(rest: Json, key: string): string | undefined {
  const v = rest[key];
  if (typeof v !== 'string' || v === '') return undefined;
  delete rest[key];
  return v;
}

export const dotnetJsonConsole: ProducerShape = {
  name: 'dotnet-json-console',
  matches: (o) =>
    typeof o.LogLevel === 'string' && typeof o.Category === 'string' && typeof o.EventId === 'number',
  read(o) {
    const rest: Json = without(o, OWN);
    rest.EventId = String(o.EventId);
    // A placeholder the call left empty (`{ContentType}` of a GET) is written null or "": left out.
    if (isObject(o.State)) {
      for (const [k, v] of Object.entries(o.State))
        if (k !== 'Message' && v !== null && v !== '') rest[k] = v;
    }
    const textScopes: unknown[] = [];
    if (Array.isArray(o.Scopes)) {
      for (const scope of o.Scopes) {
        if (!isObject(scope)) {
          textScopes.push(scope);
          continue;
        }
        for (const [k, v] of Object.entries(scope))
          if (k !== 'Message') rest[k in rest ? `scope.${k}` : k] = v;
      }
    }
    if (textScopes.length > 0) rest.Scopes = textScopes;
    const trace_id = take(rest, 'TraceId');
    const span_id = take(rest, 'SpanId');
    const correlation_id = 'correlation_id' in rest ? undefined : take(rest, 'RequestId');
    const exception = typeof o.Exception === 'string' && o.Exception !== '' ? o.Exception : undefined;
    return {
      columns: {
        timestamp: o.Timestamp,
        level: o.LogLevel,
        logger: o.Category,
        message: o.Message,
        stack_trace: exception,
        error_type: exception === undefined ? undefined : exceptionType(exception.split(/\r?\n/)),
        trace_id,
        span_id,
        correlation_id,
      },
      rest,
    };
  },
};
