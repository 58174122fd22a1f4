/**
 * Elastic Common Schema from any ecs-logging library: `@timestamp`, `log.level`, `message`,
 * `service.name`, `log.logger`, `trace.id`, `span.id`, `error.type`, `error.stack_trace` are found by the
 * generic recognition (ECS writes dotted keys, or nested objects; both flatten alike). ECS's own units
 * need a shape: `event.duration` is in nanoseconds.
 */
import { isObject, type ProducerShape, without } from './shape';

export const ecs: ProducerShape = {
  name: 'ecs',
  matches: (o) =>
    '@timestamp' in o && ('ecs.version' in o || isObject(o.ecs) || 'log.level' in o || isObject(o.log)),
  read(o) {
    const event = isObject(o.event) ? o.event : undefined;
    const nanos = o['event.duration'] ?? event?.duration;
    if (typeof nanos !== 'number') return { columns: {}, rest: o };
    const rest =
      'event.duration' in o
        ? without(o, ['event.duration'])
        : { ...o, event: without(event ?? {}, ['duration']) };
    return { columns: { duration_ms: nanos / 1e6 }, rest };
  },
};
