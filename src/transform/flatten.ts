/**
 * Flattening a structured event into dotted leaf paths (`err.stack`, `http.request.method`), the form
 * field recognition (`fields.ts`) looks up. OTLP/JSON `AnyValue` wrappers and attribute lists are
 * unwrapped on the way.
 */
import { type NameValuePair, type PairWithin, pairOf, pairWithin } from '../redact/keys';
import { MESSAGE_KEYS } from './fields';

/** Objects nested deeper than this are kept whole as JSON text (bounded recursion). */
const MAX_FLATTEN_DEPTH = 16;
const STACK_KEYS = new Set(['stack', 'stackTrace', 'stack_trace', 'stacktrace']);

/**
 * `prefix.key`, the same string object every time: field names repeat across events, and a reused
 * string keeps its hash (map lookups) and its internalized form (attribute keys) instead of being
 * rebuilt per event. A pure cache: any caller at any depth gets the same answer.
 */
const joined = new Map<string, Map<string, string>>();
let joinedSize = 0;

function joinPath(prefix: string, key: string): string {
  let inner = joined.get(prefix);
  if (inner === undefined) {
    if (joinedSize > 50_000) {
      joined.clear();
      joinedSize = 0;
    }
    inner = new Map();
    joined.set(prefix, inner);
  }
  let path = inner.get(key);
  if (path === undefined) {
    path = `${prefix}.${key}`;
    inner.set(key, path);
    joinedSize++;
  }
  return path;
}

/** A field name as it is stored: the name itself unless personal data is in it (see {@link flatten}). */
export type NameOf = (key: string) => string;

const asIs: NameOf = (key) => key;

/**
 * Leaf fields of an object, appended to parallel arrays of dotted paths and values. Each key is passed
 * through `nameOf` on its own, before it is joined: a map keyed by e-mail or client address
 * (`{"blocked":{"203.0.113.7":12}}`) stores its keys redacted, and a key is read whole, not as part of
 * a dotted path where an address no longer starts a token.
 */
export function flatten(
  obj: Record<string, unknown>,
  prefix: string,
  depth: number,
  paths: string[],
  values: unknown[],
  nameOf: NameOf = asIs,
): void {
  for (const key in obj) {
    const v = obj[key];
    const stored = nameOf(key);
    const path = prefix === '' ? stored : joinPath(prefix, stored);
    if (v === null || typeof v !== 'object') {
      paths.push(path);
      values.push(v);
    } else if (depth === 0 && MESSAGE_KEYS.has(key)) {
      paths.push(path);
      values.push(unwrapAnyValue(v));
    } else if (depth >= MAX_FLATTEN_DEPTH) {
      paths.push(path);
      values.push(JSON.stringify(v));
    } else if (Array.isArray(v)) {
      if (STACK_KEYS.has(key) && v.every((line) => typeof line === 'string')) {
        // Lambda's JSON log format sends `stackTrace` as an array of lines.
        paths.push(path);
        values.push(v.join('\n'));
      } else if (STACK_KEYS.has(key)) {
        // zerolog's `stack` (pkgerrors) is an array of frame objects: one stack, kept as printed.
        paths.push(path);
        values.push(JSON.stringify(v));
      } else if (v.length === 0) {
        paths.push(path);
        values.push('[]');
      } else if (isPairList(v)) {
        // `[{ name, value }]` (HTTP headers, AWS tag lists, OTLP attributes): each value under its name,
        // so field-name rules apply (`headers.Cookie` is redacted) and it is queryable by name. A name
        // given twice (two Set-Cookie headers) is kept twice.
        for (const item of v) {
          const [name, value] = pairOf(item) as NameValuePair;
          flatten({ [name]: unwrapAnyValue(value) }, path, depth + 1, paths, values, nameOf);
        }
      } else {
        for (let i = 0; i < v.length; i++) {
          const item: unknown = v[i];
          if (item !== null && typeof item === 'object') {
            const pair = pairWithin(item);
            if (pair === undefined) flatten({ [i]: item }, path, depth + 1, paths, values, nameOf);
            else
              flattenPairWithin(
                item as Record<string, unknown>,
                pair,
                joinPath(path, String(i)),
                depth + 1,
                paths,
                values,
                nameOf,
              );
          } else {
            paths.push(joinPath(path, String(i)));
            values.push(item);
          }
        }
      }
    } else {
      const entries = v as Record<string, unknown>;
      let empty = true;
      for (const _ in entries) {
        empty = false;
        break;
      }
      if (empty) {
        paths.push(path);
        values.push('{}');
      } else {
        flatten(entries, path, depth + 1, paths, values, nameOf);
      }
    }
  }
}

/**
 * An item of a list that is not all pairs, carrying a name/value pair beside other fields
 * (`{"name":"Cookie","value":"…","path":"/"}`): its value is stored under its name (`headers.0.Cookie`,
 * so field-name rules apply), its name and other fields under their own keys (`headers.0.name`,
 * `headers.0.path`).
 */
function flattenPairWithin(
  item: Record<string, unknown>,
  [name, value, , valueKey]: PairWithin,
  path: string,
  depth: number,
  paths: string[],
  values: unknown[],
  nameOf: NameOf,
): void {
  for (const key in item) {
    if (key === valueKey) flatten({ [name]: unwrapAnyValue(value) }, path, depth, paths, values, nameOf);
    else flatten({ [key]: item[key] }, path, depth, paths, values, nameOf);
  }
}

/** OTLP/JSON `AnyValue` (`{"stringValue": "…"}`) to a plain value; other objects unchanged. */
export function unwrapAnyValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length !== 1) return v;
  switch (keys[0]) {
    case 'stringValue':
    case 'boolValue':
    case 'doubleValue':
      return o[keys[0]];
    case 'intValue':
      return typeof o.intValue === 'string' ? intValueOf(o.intValue) : o.intValue;
    default:
      return v;
  }
}

/**
 * OTLP/JSON writes an int64 as a string: a number when a double holds it exactly, else the string of
 * its digits (`"1234567890123456789"` would be stored as `1234567890123456800`).
 */
function intValueOf(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) || !/^\s*[-+]?\d+\s*$/.test(text) ? n : text;
}

/** Every item a name/value pair ({@link pairOf}). */
function isPairList(v: readonly unknown[]): boolean {
  for (const item of v) if (pairOf(item) === undefined) return false;
  return true;
}

/** OTLP `[{ key, value: AnyValue }]` as a plain object. */
export function otlpAttributes(v: ReadonlyArray<{ key: string; value: unknown }>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of v) {
    if (item && typeof item === 'object' && typeof item.key === 'string')
      out[item.key] = unwrapAnyValue(item.value);
  }
  return out;
}
