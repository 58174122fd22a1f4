/**
 * pino and bunyan: a numeric `level` (10–60), `pid`, `hostname`, and `name`, the application's name
 * (`pino({ name })`, `bunyan.createLogger({ name })`), which is the service. bunyan's `component` (a
 * child logger's conventional field) is the logger; a pino child's `logger` binding is read generically.
 */
import { type ProducerShape, without } from './shape';

export const pinoBunyan: ProducerShape = {
  name: 'pino-bunyan',
  matches: (o) =>
    typeof o.level === 'number' &&
    typeof o.name === 'string' &&
    (typeof o.pid === 'number' || 'hostname' in o),
  read(o) {
    const component = typeof o.component === 'string' ? o.component : undefined;
    return {
      columns: { service: o.name, ...(component === undefined ? {} : { logger: component }) },
      rest: without(o, component === undefined ? ['name'] : ['name', 'component']),
    };
  },
};
