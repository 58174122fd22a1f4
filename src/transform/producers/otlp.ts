/**
 * OpenTelemetry OTLP/JSON log export (`resourceLogs[].scopeLogs[].logRecords[]`): one event per log
 * record, its resource's and scope's attributes beside its own (`service.name` → service, the scope
 * name → logger). Record fields (`timeUnixNano`, `severityNumber`/`Text`,
 * `body`, `attributes`, hex `traceId`/`spanId`) are read by the generic recognition; a zero
 * `timeUnixNano` means unknown, so `observedTimeUnixNano` is used instead.
 */
import { otlpAttributes } from '../flatten';
import { levelFromName, levelFromNumber } from '../level';
import { type BatchShape, isObject, type Json } from './shape';

function attributeList(v: unknown): Json {
  return Array.isArray(v) ? otlpAttributes(v as Array<{ key: string; value: unknown }>) : {};
}

function unknownTime(v: unknown): boolean {
  return v === undefined || v === null || v === '0' || v === 0;
}

/**
 * One log record as an event of its own: the record's, the resource's and the scope's attributes as
 * its fields, under their OpenTelemetry names (`service.name`, `exception.type`, `otel.scope.name`,
 * `otel.scope.version`). Protocol bookkeeping is not data: `droppedAttributesCount`, and a
 * `severityText` that says what `severityNumber` says.
 */
function otlpEvent(logRecord: Json, resource: Json, scope: Json | undefined): Json {
  const { attributes, droppedAttributesCount: _dropped, severityText, severityNumber, ...fields } = logRecord;
  const event: Json = { ...resource, ...attributeList(attributes) };
  if (scope !== undefined) {
    const {
      attributes: scopeAttributes,
      name,
      version,
      droppedAttributesCount: _scopeDropped,
      ...rest
    } = scope;
    Object.assign(event, attributeList(scopeAttributes));
    if (name !== undefined && name !== '') event['otel.scope.name'] = name;
    if (version !== undefined && version !== '') event['otel.scope.version'] = version;
    for (const [k, v] of Object.entries(rest)) event[`otel.scope.${k}`] = v;
  }
  Object.assign(event, fields);
  if (unknownTime(event.timeUnixNano)) delete event.timeUnixNano;
  if (unknownTime(event.observedTimeUnixNano)) delete event.observedTimeUnixNano;
  const byNumber = typeof severityNumber === 'number' ? levelFromNumber(severityNumber, 'otel') : undefined;
  if (byNumber !== undefined) event.severityNumber = severityNumber;
  else if (severityNumber !== undefined) event.severityNumber = severityNumber;
  if (
    severityText !== undefined &&
    (byNumber === undefined || typeof severityText !== 'string' || levelFromName(severityText) !== byNumber)
  ) {
    event.severityText = severityText;
  }
  return event;
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
          events.push(otlpEvent(logRecord, resource, scope));
        }
      }
    }
    return events;
  },
};
