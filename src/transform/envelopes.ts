/**
 * Collector envelopes: Fluent Bit and Fluentd records (`log`, `stream`, `time`/`date`,
 * `kubernetes{…}`), Docker json-file lines, Vector `kubernetes_logs` events, and CRI (containerd,
 * CRI-O) text lines `<time> <stdout|stderr> <P|F> <text>`. Each is unwrapped to its payload, which is
 * then read exactly as if it had arrived alone; the envelope supplies the event's time when the payload
 * has none, its Kubernetes metadata (as attributes, OpenTelemetry names) and a fallback service:
 * the `app.kubernetes.io/name` label, then the `app` label, then the container name.
 */
import type { EventDefaults } from './normalize';
import { parseTimestamp } from './timestamp';

/** An unwrapped envelope: its payload and what it says about the event. */
export interface Unwrapped {
  /** The payload: text (a log line, possibly several) or an object (a merged or structured payload). */
  readonly payload: string | Record<string, unknown>;
  readonly defaults: EventDefaults;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Keys an envelope consists of; any other key of a Fluent Bit record was merged from the payload. */
const FLUENT_KEYS = new Set([
  'log',
  'stream',
  'time',
  'date',
  '@timestamp',
  'timestamp',
  'kubernetes',
  'docker',
  'logtag',
  '_p',
  'container_id',
  'container_name',
  'source',
  'file',
  'host',
  'hostname',
  'kubernetes_namespace',
]);

/** Kubernetes metadata fields (Fluent Bit, Fluentd and Vector names) → OpenTelemetry attribute names. */
const K8S_NAMES: Readonly<Record<string, string>> = {
  namespace_name: 'k8s.namespace.name',
  pod_namespace: 'k8s.namespace.name',
  pod_name: 'k8s.pod.name',
  pod_id: 'k8s.pod.uid',
  pod_uid: 'k8s.pod.uid',
  pod_ip: 'k8s.pod.ip',
  container_name: 'k8s.container.name',
  host: 'k8s.node.name',
  pod_node_name: 'k8s.node.name',
  docker_id: 'container.id',
  container_id: 'container.id',
  container_hash: 'container.image.hash',
  container_image: 'container.image.name',
  container_image_id: 'container.image.id',
  namespace_id: 'k8s.namespace.uid',
};
const K8S_MAPS: Readonly<Record<string, string>> = {
  labels: 'k8s.pod.labels',
  pod_labels: 'k8s.pod.labels',
  annotations: 'k8s.pod.annotations',
  pod_annotations: 'k8s.pod.annotations',
  namespace_labels: 'k8s.namespace.labels',
  node_labels: 'k8s.node.labels',
};

/** Kubernetes metadata as flat string attributes (unknown fields kept under `k8s.`). */
function kubernetesAttributes(k8s: Json, out: Record<string, string>): void {
  for (const [key, value] of Object.entries(k8s)) {
    const map = K8S_MAPS[key];
    if (map !== undefined && isObject(value)) {
      for (const [k, v] of Object.entries(value))
        out[`${map}.${k}`] = typeof v === 'string' ? v : JSON.stringify(v);
      continue;
    }
    const name = K8S_NAMES[key] ?? `k8s.${key}`;
    if (value === null || value === undefined) continue;
    out[name] = typeof value === 'string' ? value : JSON.stringify(value);
  }
}

/** `app.kubernetes.io/name`, then `app`, then the container name. */
function kubernetesService(attributes: Readonly<Record<string, string>>): string | undefined {
  return (
    str(attributes['k8s.pod.labels.app.kubernetes.io/name']) ??
    str(attributes['k8s.pod.labels.app']) ??
    str(attributes['k8s.container.name'])
  );
}

function defaultsFrom(
  time: unknown,
  attributes: Record<string, string>,
  outer: EventDefaults | undefined,
): EventDefaults {
  const merged = { ...outer?.attributes, ...attributes };
  const timestampMs = parseTimestamp(time) ?? outer?.timestampMs;
  const service = kubernetesService(merged) ?? outer?.service;
  const namespace = merged['k8s.namespace.name'];
  const container = merged['k8s.container.name'];
  const source =
    namespace !== undefined && container !== undefined ? `${namespace}/${container}` : outer?.source;
  // Lines of one stream of one container may continue each other (a stack trace printed line by line).
  const origin = [merged['k8s.pod.uid'] ?? merged['k8s.pod.name'], container, merged['log.iostream']].join(
    '/',
  );
  return {
    ...(timestampMs !== undefined ? { timestampMs } : {}),
    ...(service !== undefined ? { service } : {}),
    ...(source !== undefined ? { source } : {}),
    origin,
    attributes: merged,
  };
}

/**
 * The envelope around a JSON object, if it is one: a Fluent Bit / Fluentd / Docker json-file record
 * (a `log` string plus a collector's own field), or a Vector `kubernetes_logs` event.
 */
export function unwrapEnvelope(o: Json, outer: EventDefaults | undefined): Unwrapped | undefined {
  const log = o.log;
  if (typeof log === 'string') {
    const stream = o.stream;
    const marked =
      isObject(o.kubernetes) ||
      stream === 'stdout' ||
      stream === 'stderr' ||
      o.logtag === 'F' ||
      o.logtag === 'P' ||
      isObject(o.docker) ||
      typeof o.container_id === 'string';
    if (!marked) return undefined;
    const attributes: Record<string, string> = {};
    if (typeof stream === 'string') attributes['log.iostream'] = stream;
    if (isObject(o.kubernetes)) kubernetesAttributes(o.kubernetes, attributes);
    if (isObject(o.docker) && typeof o.docker.container_id === 'string')
      attributes['container.id'] = o.docker.container_id;
    for (const key of ['container_id', 'container_name'] as const) {
      const v = str(o[key]);
      if (v !== undefined) attributes[key === 'container_id' ? 'container.id' : 'container.name'] = v;
    }
    // Fields merged into the record by the collector (Fluent Bit `Merge_Log`) repeat the payload's; any
    // other field is kept.
    for (const [key, value] of Object.entries(o)) {
      if (FLUENT_KEYS.has(key) || value === undefined) continue;
      if (!(key in attributes)) attributes[key] = typeof value === 'string' ? value : JSON.stringify(value);
    }
    const payload = log.endsWith('\n') ? log.slice(0, log.endsWith('\r\n') ? -2 : -1) : log;
    const defaults = defaultsFrom(o.time ?? o.date ?? o['@timestamp'] ?? o.timestamp, attributes, outer);
    return { payload, defaults: withoutMerged(defaults, payload) };
  }
  if (typeof o.message === 'string' && (o.source_type === 'kubernetes_logs' || isObject(o.kubernetes))) {
    if (o.source_type !== 'kubernetes_logs' && !isObject(o.kubernetes)) return undefined;
    const attributes: Record<string, string> = {};
    if (typeof o.stream === 'string') attributes['log.iostream'] = o.stream;
    if (typeof o.file === 'string') attributes['log.file.path'] = o.file;
    if (isObject(o.kubernetes)) kubernetesAttributes(o.kubernetes, attributes);
    return { payload: o.message, defaults: defaultsFrom(o.timestamp, attributes, outer) };
  }
  return undefined;
}

/** Drops attributes a merged payload repeats (their keys appear in the payload's JSON text). */
function withoutMerged(defaults: EventDefaults, payload: string): EventDefaults {
  const attributes = defaults.attributes;
  if (attributes === undefined || !payload.trimStart().startsWith('{')) return defaults;
  let dropped = false;
  const kept: Record<string, string> = {};
  for (const [k, v] of Object.entries(attributes)) {
    if (!k.includes('.') && payload.includes(`"${k}"`)) {
      dropped = true;
      continue;
    }
    kept[k] = v;
  }
  return dropped ? { ...defaults, attributes: kept } : defaults;
}

/** One CRI log line: `<RFC 3339 time> <stdout|stderr> <P|F>[ <text>]`. */
export interface CriLine {
  readonly timeMs: number;
  readonly stream: string;
  /** `P`: the runtime split a long line here; the text continues in the next entry. */
  readonly partial: boolean;
  readonly text: string;
}

const CRI =
  /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})) (stdout|stderr) ([PF])(?: |$)/;

export function parseCriLine(line: string): CriLine | undefined {
  if (line.length < 30 || line.charCodeAt(4) !== 45) return undefined;
  const m = CRI.exec(line);
  if (!m) return undefined;
  const timeMs = parseTimestamp(m[1]);
  if (timeMs === undefined) return undefined;
  return { timeMs, stream: m[2] as string, partial: m[3] === 'P', text: line.slice(m[0].length) };
}

/** Defaults of a CRI entry (its time and stream) inside `outer` (e.g. a collector record's). */
export function criDefaults(cri: CriLine, outer: EventDefaults | undefined): EventDefaults {
  const attributes = { ...outer?.attributes, 'log.iostream': cri.stream };
  return {
    ...outer,
    timestampMs: cri.timeMs,
    origin: `${outer?.origin ?? ''}/${cri.stream}`,
    attributes,
  };
}
