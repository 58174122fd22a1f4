/** The contract between the transform and a producer shape (see `index.ts`). */

export type Json = Record<string, unknown>;

/**
 * Values for the record's columns as the producer wrote them. Each is converted as the generic
 * recognition would (a timestamp in any supported form, a level name or pino number, a duration in ms,
 * text for the rest); a value that does not convert is left out and the field is kept in `attributes`.
 */
export interface Columns {
  timestamp?: unknown;
  level?: unknown;
  service?: unknown;
  logger?: unknown;
  message?: unknown;
  correlation_id?: unknown;
  trace_id?: unknown;
  span_id?: unknown;
  user_id?: unknown;
  error_type?: unknown;
  stack_trace?: unknown;
  duration_ms?: unknown;
  http_method?: unknown;
  http_path?: unknown;
  http_status?: unknown;
}

export interface Recognized {
  readonly columns: Columns;
  /** Fields not mapped: generic recognition, then `attributes` (text) and `metrics` (numbers). */
  readonly rest: Json;
  /**
   * Attributes stored as they are, without redaction: only values the shape has checked hold nothing
   * personal (a VPC flow's private-range addresses).
   */
  readonly verbatim?: Readonly<Record<string, string>>;
}

/** One producer's event shape. */
export interface ProducerShape {
  /** Name in docs and tests (`clef`, `ecs`, `loguru`). */
  readonly name: string;
  /** A cheap test of the object's top-level keys. */
  matches(o: Json): boolean;
  read(o: Json): Recognized;
}

/** A document holding many events (OTLP/JSON export). */
export interface BatchShape {
  readonly name: string;
  matches(o: Json): boolean;
  /** The events, each an object read as if it had arrived alone. */
  expand(o: Json): Json[];
}

export function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** `o` without `keys` (a shallow copy). */
export function without(o: Json, keys: readonly string[]): Json {
  const out: Json = {};
  for (const k in o) if (!keys.includes(k)) out[k] = o[k];
  return out;
}
