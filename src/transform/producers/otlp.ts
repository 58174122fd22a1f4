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
  // Built by assignment, without rest/spread copies or \`delete\` (which turns an object into a slow
  // dictionary for the rest of its life): one of these per log record. Keys land in the same order, and
  // \`__proto__\` is treated as the spread (an own key) and \`Object.assign\` (a set) would treat it.
  const event: Json = {};
  for (const k in resource) define(event, k, resource[k]);
  const own = attributeList(logRecord.attributes);
  for (const k in own) define(event, k, own[k]);
  if (scope !== undefined) {
    const scopeAttributes = attributeList(scope.attributes);
    for (const k in scopeAttributes) event[k] = scopeAttributes[k];
    const { name, version } = scope;
    if (name !== undefined && name !== '') event['otel.scope.name'] = name;
    if (version !== undefined && version !== '') event['otel.scope.version'] = version;
    for (const k in scope) {
      if (k === 'attributes' || k === 'name' || k === 'version' || k === 'droppedAttributesCount') continue;
      event[`otel.scope.${k}`] = scope[k];
    }
  }
  for (const k in logRecord) {
    if (
      k === 'attributes' ||
      k === 'droppedAttributesCount' ||
      k === 'severityText' ||
      k === 'severityNumber'
    )
      continue;
    event[k] = logRecord[k];
  }
  const { severityText, severityNumber } = logRecord;
  const byNumber = typeof severityNumber === 'number' ? levelFromNumber(severityNumber, 'otel') : undefined;
  if (severityNumber !== undefined) event.severityNumber = severityNumber;
  if (
    severityText !== undefined &&
    (byNumber === undefined || typeof severityText !== 'string' || levelFromName(severityText) !== byNumber)
  ) {
    event.severityText = severityText;
  }
  const dropTime = unknownTime(event.timeUnixNano) && Object.hasOwn(event, 'timeUnixNano');
  const dropObserved =
    unknownTime(event.observedTimeUnixNano) && Object.hasOwn(event, 'observedTimeUnixNano');
  if (!dropTime && !dropObserved) return event;
  const kept: Json = {};
  for (const k in event) {
    if ((dropTime && k === 'timeUnixNano') || (dropObserved && k === 'observedTimeUnixNano')) continue;
    define(kept, k, event[k]);
  }
  return kept;
}

/** \`o[k] = v\` as an own property, as an object spread makes it (\`__proto__\` included). */
function define(o: Json, k: string, v: unknown): void {
  if (k === '__proto__')
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
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
