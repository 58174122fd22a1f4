/**
 * Serilog compact JSON (CLEF): `@t` time, `@l` level (absent means Information), `@m` message or `@mt`
 * message template (rendered with the event's properties), `@x` exception, `@i` event id, `@tr`/`@sp`
 * trace and span ids; a property whose name starts with `@` is written `@@name`. Serilog's
 * `SourceContext` (the logger's type) is the logger.
 */
import { exceptionType } from '../multiline';
import type { Json, ProducerShape } from './shape';

const RESERVED = ['@t', '@l', '@m', '@mt', '@x', '@i', '@r', '@tr', '@sp'];

/**
 * `Hello {Name}` with `{ Name: 'x' }` → `Hello "x"`, as Serilog renders it: strings quoted (unless
 * formatted `:l`), booleans `True`/`False`, numbers as written, `null`; `@`/`$` hints dropped.
 */
function render(template: string, props: Json): string {
  return template.replace(
    /\{\{|\}\}|\{([@$]?)([A-Za-z0-9_]+)(?:,[^:}]*)?(?::([^}]*))?\}/g,
    (whole, _hint, name?: string, format?: string) => {
      if (whole === '{{') return '{';
      if (whole === '}}') return '}';
      if (name === undefined || !(name in props)) return whole;
      const v = props[name];
      if (typeof v === 'string') return format === 'l' ? v : JSON.stringify(v);
      if (typeof v === 'boolean') return v ? 'True' : 'False';
      if (typeof v === 'number') return String(v);
      return JSON.stringify(v) ?? 'null';
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
    // The template, event id and renderings are kept under their CLEF names.
    if (template !== undefined) rest['@mt'] = template;
    if (o['@i'] !== undefined) rest['@i'] = o['@i'];
    if (o['@r'] !== undefined) rest['@r'] = o['@r'];
    const sourceContext = typeof o.SourceContext === 'string' ? o.SourceContext : undefined;
    if (sourceContext !== undefined) delete rest.SourceContext;
    const exception = typeof o['@x'] === 'string' ? o['@x'] : undefined;
    return {
      columns: {
        timestamp: o['@t'],
        level: o['@l'] ?? 'Information',
        message: o['@m'] ?? (template === undefined ? undefined : render(template, rest)),
        logger: sourceContext,
        stack_trace: exception,
        error_type: exception === undefined ? undefined : exceptionType(exception.split(/\r?\n/)),
        trace_id: o['@tr'],
        span_id: o['@sp'],
      },
      rest,
    };
  },
};
