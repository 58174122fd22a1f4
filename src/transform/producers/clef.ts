/**
 * Serilog compact JSON (CLEF): `@t` time, `@l` level (absent means Information), `@m` message or `@mt`
 * message template (rendered with the event's properties), `@x` exception, `@i` event id, `@tr`/`@sp`
 * trace and span ids; a property whose name starts with `@` is written `@@name`.
 */
import { exceptionType } from '../multiline';
import type { Json, ProducerShape } from './shape';

const RESERVED = ['@t', '@l', '@m', '@mt', '@x', '@i', '@r', '@tr', '@sp'];

/** `Hello {Name}` with `{ Name: 'x' }` → `Hello x` (format specifiers and `@`/`$` hints dropped). */
function render(template: string, props: Json): string {
  return template.replace(
    /\{\{|\}\}|\{([@$]?)([A-Za-z0-9_]+)(?:[,:][^}]*)?\}/g,
    (whole, _hint, name?: string) => {
      if (whole === '{{') return '{';
      if (whole === '}}') return '}';
      if (name === undefined || !(name in props)) return whole;
      const v = props[name];
      return typeof v === 'string' ? v : JSON.stringify(v);
    },
  );
}

export const clef: ProducerShape = {
  name: 'clef',
  matches: (o) => '@t' in o && ('@m' in o || '@mt' in o || '@l' in o || '@x' in o),
  read(o) {
    const rest: Json = {};
    for (const [k, v] of Object.entries(o)) {
      if (RESERVED.includes(k)) continue;
      rest[k.startsWith('@@') ? k.slice(1) : k] = v;
    }
    const template = typeof o['@mt'] === 'string' ? o['@mt'] : undefined;
    if (template !== undefined) rest.message_template = template;
    if (o['@i'] !== undefined) rest.event_id = o['@i'];
    if (o['@r'] !== undefined) rest.renderings = o['@r'];
    const exception = typeof o['@x'] === 'string' ? o['@x'] : undefined;
    return {
      columns: {
        timestamp: o['@t'],
        level: o['@l'] ?? 'Information',
        message: o['@m'] ?? (template === undefined ? undefined : render(template, rest)),
        stack_trace: exception,
        error_type: exception === undefined ? undefined : exceptionType(exception.split(/\r?\n/)),
        trace_id: o['@tr'],
        span_id: o['@sp'],
      },
      rest,
    };
  },
};
