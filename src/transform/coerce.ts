/**
 * Coercion of a field's value to its column's type: text, numbers, durations in ms, levels, HTTP
 * method, path and status, stack traces. Each returns `undefined` when the value does not fit, so the
 * field stays in `attributes` instead.
 */
import type { Level } from '../schema';
import { levelFromName, levelFromNumber } from './level';

/** Methods accepted from weak fields (`method`): only next to one of these is `path` an HTTP path. */
export const HTTP_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'HEAD',
  'OPTIONS',
  'CONNECT',
  'TRACE',
]);

export function asString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

export function asNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\s*-?\d+(?:\.\d+)?\s*$/.test(v)) return Number(v);
  return undefined;
}

const DURATION_TEXT = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|sec|m|min)?\s*$/;
const DURATION_FACTOR: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  sec: 1000,
  m: 60_000,
  min: 60_000,
};

/** A duration in ms: a number times `factor` (the field's unit), or text with a unit suffix. */
export function asDurationMs(v: unknown, factor: number): number | undefined {
  let ms: number;
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) return undefined;
    ms = v * factor;
  } else {
    if (typeof v !== 'string') return undefined;
    const m = DURATION_TEXT.exec(v);
    if (!m) return undefined;
    const unit = m[2];
    ms = Number(m[1]) * (unit === undefined ? factor : (DURATION_FACTOR[unit] ?? factor));
  }
  // Past a double's range the product is Infinity, which JSON writes as null: the value would be lost.
  return Number.isFinite(ms) ? ms : undefined;
}

/** A path (`/a?b`), or the path of an absolute URL. */
export function httpPath(v: unknown): string | undefined {
  const s = asString(v);
  if (s === undefined || s === '') return undefined;
  if (s.startsWith('/')) return s;
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*(\/[^#]*|\?[^#]*)?/.exec(s);
  return m ? (m[1] ?? '/') : undefined;
}

export function httpStatus(v: unknown): number | undefined {
  const n = asNumber(v);
  return n !== undefined && Number.isInteger(n) && n >= 100 && n <= 599 ? n : undefined;
}

export function nonEmpty(v: unknown): string | undefined {
  const s = asString(v);
  return s === undefined || s.trim() === '' ? undefined : s;
}

export function messageText(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'object') return JSON.stringify(v);
  return typeof v === 'string' ? v : String(v);
}

/** A level name, or a number (syslog scale under a `severity` field, else pino's). */
export function levelOf(v: unknown, path: string): Level | undefined {
  if (typeof v === 'number') return levelFromNumber(v, path.endsWith('severity') ? 'syslog' : 'pino');
  if (typeof v !== 'string') return undefined;
  return levelFromName(v) ?? (/^\d+$/.test(v) ? levelFromNumber(Number(v), 'pino') : undefined);
}

export function numericLevel(v: unknown, scale: 'otel' | 'python'): Level | undefined {
  const n = asNumber(v);
  return n === undefined ? undefined : levelFromNumber(n, scale);
}

/** Any method-shaped word (from a field that can only be an HTTP method). */
export function strongMethod(v: unknown): string | undefined {
  const s = asString(v)?.trim().toUpperCase();
  return s !== undefined && /^[A-Z]{3,12}$/.test(s) ? s : undefined;
}

/** A standard method only (from a field as vague as `method`). */
export function weakMethod(v: unknown): string | undefined {
  const s = asString(v)?.trim().toUpperCase();
  return s !== undefined && HTTP_METHODS.has(s) ? s : undefined;
}

export function stackText(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
