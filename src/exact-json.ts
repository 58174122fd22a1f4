/**
 * Integers a double cannot hold: JSON integer literals beyond ±(2^53 − 1) (snowflake ids, 64-bit ids
 * of Go/Java/Rust loggers, nanosecond timestamps) read with their exact digits. `JSON.parse` rounds
 * them to the nearest double (`1234567890123456789` → `1234567890123456800`), which would store an id
 * the producer never sent.
 *
 * Ordinary documents pay one check after the plain `JSON.parse` ({@link holdsUnsafeNumber}); only a
 * document holding such a number is parsed again with a reviver reading each literal's source text
 * (JSON.parse source text access: Node 22+, V8 ≥ 11.4). Literals with a fraction or an exponent
 * (`1.5`, `1e21`, `12345678901234567890.0`) are measurements and stay doubles.
 */

/** The source-text access and raw JSON of ES2025 JSON, absent from the ES2022 lib this project targets. */
interface SourceJson {
  parse(
    text: string,
    reviver: (key: string, value: unknown, context?: { source?: string }) => unknown,
  ): unknown;
  rawJSON(text: string): unknown;
  isRawJSON(value: unknown): value is { readonly rawJSON: string };
}
const SOURCE_JSON = JSON as unknown as SourceJson;
/**
 * Whether this runtime has them (Node 22+). Node 20 has not (past its end of life, not supported): there
 * such integers are rounded as `JSON.parse` rounds them, rather than the transform failing.
 */
const EXACT = typeof SOURCE_JSON.isRawJSON === 'function' && typeof SOURCE_JSON.rawJSON === 'function';

/** An integer literal: no fraction, no exponent. */
const INTEGER_LITERAL = /^-?\d+$/;

/**
 * Objects nested deeper than this are not looked into (their integers are rounded as before): the walk
 * recurses, and a document thousands of levels deep must not overflow the stack.
 */
const MAX_DEPTH = 512;

/** Whether `v` (as `JSON.parse` made it) holds a number of magnitude beyond 2^53 − 1, at any depth. */
export function holdsUnsafeNumber(v: unknown, depth = 0): boolean {
  if (typeof v === 'number') return v > Number.MAX_SAFE_INTEGER || v < -Number.MAX_SAFE_INTEGER;
  return v !== null && typeof v === 'object' && holdsUnsafeIn(v as Record<string, unknown>, depth);
}

// Leaves checked in the loop, not by a call each: this runs on every JSON document the transform reads.
function holdsUnsafeIn(o: Record<string, unknown>, depth: number): boolean {
  if (depth > MAX_DEPTH) return false;
  if (Array.isArray(o)) {
    for (let i = 0; i < o.length; i++) {
      const item: unknown = o[i];
      if (typeof item === 'number') {
        if (item > Number.MAX_SAFE_INTEGER || item < -Number.MAX_SAFE_INTEGER) return true;
      } else if (
        item !== null &&
        typeof item === 'object' &&
        holdsUnsafeIn(item as Record<string, unknown>, depth + 1)
      )
        return true;
    }
    return false;
  }
  for (const k in o) {
    const item = o[k];
    if (typeof item === 'number') {
      if (item > Number.MAX_SAFE_INTEGER || item < -Number.MAX_SAFE_INTEGER) return true;
    } else if (
      item !== null &&
      typeof item === 'object' &&
      holdsUnsafeIn(item as Record<string, unknown>, depth + 1)
    )
      return true;
  }
  return false;
}

/** The exact digits of a parsed number whose literal is an integer beyond the safe range, if it is one. */
function unsafeIntegerSource(value: unknown, context: { source?: string } | undefined): string | undefined {
  if (typeof value !== 'number' || Number.isSafeInteger(value)) return undefined;
  const source = context?.source;
  return source !== undefined && INTEGER_LITERAL.test(source) ? source : undefined;
}

/**
 * `JSON.parse(text)`, except that an integer literal beyond ±(2^53 − 1) becomes a string of its exact
 * digits (`"1234567890123456789"`): text columns and `attributes` get the id as sent. Throws as
 * `JSON.parse` does.
 */
export function parseWithExactIntegers(text: string): unknown {
  const parsed: unknown = JSON.parse(text);
  if (!EXACT || !holdsUnsafeNumber(parsed)) return parsed;
  return SOURCE_JSON.parse(text, (_key, value, context) => unsafeIntegerSource(value, context) ?? value);
}

/**
 * `JSON.parse(text)`, except that an integer literal beyond ±(2^53 − 1) becomes raw JSON
 * ({@link rawInteger}), which `JSON.stringify` writes back digit for digit: for JSON that is parsed,
 * rewritten and written again as JSON text. Throws as `JSON.parse` does.
 */
export function parseKeepingIntegers(text: string): unknown {
  const parsed: unknown = JSON.parse(text);
  if (!EXACT || !holdsUnsafeNumber(parsed)) return parsed;
  return SOURCE_JSON.parse(text, (_key, value, context) => {
    const digits = unsafeIntegerSource(value, context);
    return digits === undefined ? value : SOURCE_JSON.rawJSON(digits);
  });
}

/** The digits of an integer read by {@link parseKeepingIntegers}, if `v` is one. */
export function rawInteger(v: unknown): string | undefined {
  return EXACT && v !== null && typeof v === 'object' && SOURCE_JSON.isRawJSON(v) ? v.rawJSON : undefined;
}
