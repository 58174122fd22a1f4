/**
 * Monolog (PHP: Laravel, Symfony) with its `JsonFormatter`: `{"message", "context": {…}, "level": 200,
 * "level_name": "INFO", "channel", "datetime": "…T…+00:00", "extra": {…}}`. The channel is the logger;
 * `context` holds the application's fields and `extra` what processors added (a `service` among them):
 * both are read as the event's own fields, a key in both staying under `extra.`. An exception in
 * `context.exception` (Monolog's normalized form: `class`, `message`, `code`, `file`, `trace`,
 * `previous`) gives the error type and a stack text in the form other runtimes print:
 * `Class: message at file:line`, a line `#n file:line` per frame, each previous exception after
 * `Caused by: `.
 */
import { isObject, type Json, type ProducerShape, without } from './shape';

const OWN = ['message', 'context', 'level', 'level_name', 'channel', 'datetime', 'extra'];
/** Monolog normalizes at most this deep; a longer `previous` chain is cut there too. */
const MAX_CAUSES = 10;

interface MonologException {
  readonly class: string;
  readonly message?: unknown;
  readonly code?: unknown;
  readonly file?: unknown;
  readonly trace?: unknown;
  readonly previous?: unknown;
}

function isException(v: unknown): v is MonologException {
  return isObject(v) && typeof v.class === 'string';
}

/** The exception and its causes as lines (see the module comment). */
function stackText(e: MonologException): string {
  const lines: string[] = [];
  let current: MonologException | undefined = e;
  for (let depth = 0; current !== undefined && depth < MAX_CAUSES; depth++) {
    const message =
      typeof current.message === 'string' && current.message !== '' ? `: ${current.message}` : '';
    const at = typeof current.file === 'string' ? ` at ${current.file}` : '';
    lines.push(`${depth === 0 ? '' : 'Caused by: '}${current.class}${message}${at}`);
    if (Array.isArray(current.trace)) {
      for (let i = 0; i < current.trace.length; i++) lines.push(`#${i} ${String(current.trace[i])}`);
    }
    current = isException(current.previous) ? current.previous : undefined;
  }
  return lines.join('\n');
}

export const monolog: ProducerShape = {
  name: 'monolog',
  matches: (o) => typeof o.level_name === 'string' && typeof o.channel === 'string' && 'datetime' in o,
  read(o) {
    const context = isObject(o.context) ? o.context : {};
    const exception = isException(context.exception) ? context.exception : undefined;
    const rest: Json = without(o, OWN);
    // The level's number is Monolog's own scale (100 DEBUG … 600 EMERGENCY): metadata, as loguru's.
    if (typeof o.level === 'number') rest['level.no'] = o.level;
    for (const [k, v] of Object.entries(context))
      if (!(exception !== undefined && k === 'exception')) rest[k] = v;
    if (isObject(o.extra))
      for (const [k, v] of Object.entries(o.extra)) rest[k in rest ? `extra.${k}` : k] = v;
    if (exception !== undefined && exception.code !== 0 && exception.code !== undefined)
      rest['exception.code'] = String(exception.code);
    return {
      columns: {
        timestamp: o.datetime,
        level: o.level_name,
        logger: o.channel,
        message: o.message,
        error_type: exception?.class,
        stack_trace: exception === undefined ? undefined : stackText(exception),
      },
      rest,
    };
  },
};
