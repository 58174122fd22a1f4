/**
 * loguru with `serialize=True`: `{"text": "<formatted line>\n<traceback>", "record": {...}}`. The record
 * holds the level (`level.name`), the time (`time.timestamp`, epoch seconds), the message, the logger
 * (`name`), the exception (`exception.type`, `exception.value`) and `extra` (the bound context, read
 * as the application's own fields); the formatted traceback is the text after its first line; `elapsed`
 * is kept as loguru prints it.
 */
import { isObject, type Json, type ProducerShape, without } from './shape';

export const loguru: ProducerShape = {
  name: 'loguru',
  matches: (o) =>
    typeof o.text === 'string' && isObject(o.record) && isObject(o.record.level) && isObject(o.record.time),
  read(o) {
    const record = o.record as Json;
    const level = record.level as Json;
    const time = record.time as Json;
    const exception = isObject(record.exception) ? record.exception : undefined;
    const text = o.text as string;
    const newline = text.indexOf('\n');
    const traceback = newline >= 0 ? text.slice(newline + 1).replace(/\n$/, '') : '';
    // Bound values (`extra`) are the application's own fields: at the top, as if logged alone; one
    // that a record field already holds stays under `extra.`.
    const rest: Json = {
      ...without(record, ['level', 'time', 'message', 'name', 'exception', 'extra', 'elapsed']),
      ...(typeof level.no === 'number' ? { 'level.no': level.no } : {}),
      ...(exception && exception.value !== undefined ? { 'exception.value': exception.value } : {}),
    };
    if (isObject(record.elapsed) && record.elapsed.repr !== undefined) rest.elapsed = record.elapsed.repr;
    if (isObject(record.extra)) {
      for (const [k, v] of Object.entries(record.extra)) {
        if (k in rest) rest[`extra.${k}`] = v;
        else rest[k] = v;
      }
    }
    return {
      columns: {
        timestamp: time.timestamp ?? time.repr,
        level: level.name,
        message: record.message,
        logger: record.name,
        error_type: exception?.type,
        stack_trace: traceback === '' ? undefined : traceback,
      },
      rest,
    };
  },
};
