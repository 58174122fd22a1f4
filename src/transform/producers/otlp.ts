/**
 * OpenTelemetry OTLP/JSON log export (`resourceLogs[].scopeLogs[].logRecords[]`): one event per log
 * record, with its resource's attributes (`service.name` → service) under `resource` and its scope
 * (name → logger, version) under `scope`. Record fields (`timeUnixNano`, `severityNumber`/`Text`,
 * `body`, `attributes`, hex `traceId`/`spanId`) are read by the generic recognition; a zero
 * `timeUnixNano` means unknown, so `observedTimeUnixNano` is used instead.
 */
import { otlpAttributes } from '../flatten';
import { type BatchShape, isObject, type Json } from './shape';

function attributeList(v: unknown): Json {
  return Array.isArray(v) ? otlpAttributes(v as Array<{ key: string; value: unknown }>) : {};
}

function unknownTime(v: unknown): boolean {
  return v === undefined || v === null || v === '0' || v === 0;
}

export const otlpBatch: BatchShape = {
  name: 'otlp',
  matches: (o) => Array.isArray(o.resourceLogs),
  expand(o) {
    const events: Json[] = [];
    for (const resourceLogs of o.resourceLogs as unknown[]) {
      if (!isObject(resourceLogs)) continue;
      const resource = isObject(resourceLogs.resource) ? attributeList(resourceLogs.resource.attributes) : {};
      const scopeLogs = Array.isArray(resourceLogs.scopeLogs) ? resourceLogs.scopeLogs : [];
      for (const scopeLog of scopeLogs as unknown[]) {
        if (!isObject(scopeLog)) continue;
        const scope = isObject(scopeLog.scope) ? scopeLog.scope : undefined;
        const records = Array.isArray(scopeLog.logRecords) ? scopeLog.logRecords : [];
        for (const logRecord of records as unknown[]) {
          if (!isObject(logRecord)) continue;
          const event: Json = { ...logRecord };
          if (unknownTime(event.timeUnixNano)) delete event.timeUnixNano;
          if (unknownTime(event.observedTimeUnixNano)) delete event.observedTimeUnixNano;
          if (Object.keys(resource).length > 0) event.resource = resource;
          if (scope !== undefined) {
            const { attributes, ...rest } = scope;
            event.scope = {
              ...rest,
              ...(Array.isArray(attributes) ? { attributes: attributeList(attributes) } : {}),
            };
          }
          events.push(event);
        }
      }
    }
    return events;
  },
};
