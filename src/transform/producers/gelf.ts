/**
 * GELF 1.1 (Graylog; log4j2's JsonTemplateLayout `GelfLayout.json`, logstash-gelf, …): `version`,
 * `host`, `short_message`, optional `full_message` (log4j2 puts the stack trace there), `timestamp` in
 * epoch seconds, `level` the syslog severity (0–7), and additional fields with a `_` prefix, which the
 * attribute keys drop (`_logger` → the logger, `_correlation_id` → correlation_id, `_thread` → thread).
 */
import { levelFromNumber } from '../level';
import { type Json, type ProducerShape, without } from './shape';

/** A `full_message` that is a stack trace rather than a longer message. */
const TRACE_LINE = /\n\s+at |\n\s+File "|^Traceback \(most recent call last\):/;

export const gelf: ProducerShape = {
  name: 'gelf',
  matches: (o) => typeof o.version === 'string' && typeof o.short_message === 'string' && 'host' in o,
  read(o) {
    const rest: Json = {};
    for (const [k, v] of Object.entries(
      without(o, ['short_message', 'full_message', 'timestamp', 'level']),
    )) {
      // `_id` is reserved by GELF; any other additional field loses its prefix unless that name is taken.
      const name = k.length > 1 && k.startsWith('_') && !(k.slice(1) in o) ? k.slice(1) : k;
      rest[name] = v;
    }
    const full = typeof o.full_message === 'string' ? o.full_message : undefined;
    const isTrace = full !== undefined && TRACE_LINE.test(full);
    if (full !== undefined && !isTrace) rest.full_message = full;
    return {
      columns: {
        timestamp: o.timestamp,
        level: typeof o.level === 'number' ? levelFromNumber(o.level, 'syslog') : o.level,
        message: o.short_message,
        ...(isTrace ? { stack_trace: full } : {}),
      },
      rest,
    };
  },
};
