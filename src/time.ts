/**
 * Time expressions accepted by the CLI and the query builder: ISO-8601 instants and dates, epoch
 * milliseconds, `now`, and relative forms counted back from now (`30s`, `15m`, `2h`, `7d`, `1w`).
 */
import { InputError } from './errors';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
type Unit = keyof typeof UNIT_MS;

const RELATIVE = /^(\d{1,9})\s*(s|m|h|d|w)$/;
const DURATION = /^(\d{1,9})\s*(ms|s|m|h|d|w)$/;
// Date, optional time with optional seconds and fraction, optional zone. Without a zone the time is UTC:
// log timestamps are stored in UTC and a laptop's zone must not change what a query means.
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?$/i;

/**
 * Parse a point in time. `what` names the flag or field in the error message.
 * @param now - the reference for relative forms; @default the current time
 * @throws InputError naming `what` and the value received when the expression is not understood.
 */
export function parseTime(input: string, what = 'time', now: Date = new Date()): Date {
  const text = input.trim();
  if (text.toLowerCase() === 'now') return new Date(now.getTime());
  const rel = RELATIVE.exec(text);
  if (rel) {
    const [, n, unit] = rel;
    return new Date(now.getTime() - Number(n) * UNIT_MS[unit as Unit]);
  }
  if (/^\d{12,14}$/.test(text)) return new Date(Number(text));
  const iso = ISO.exec(text);
  if (iso) {
    const date = fromIsoParts(iso);
    if (date) return date;
  }
  throw new InputError(
    `${what}: cannot understand ${JSON.stringify(input)}; use ISO-8601 (2026-11-22, 2026-11-22T10:00Z), epoch milliseconds, now, or a relative time (30s, 15m, 2h, 7d, 1w)`,
  );
}

function fromIsoParts(m: RegExpExecArray): Date | undefined {
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone = 'Z'] = m;
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms);
  const check = new Date(utc);
  // Date.UTC silently rolls 2026-02-30 over to March; reject instead of guessing.
  if (
    check.getUTCFullYear() !== Number(y) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    check.getUTCHours() !== Number(h) ||
    check.getUTCMinutes() !== Number(mi) ||
    check.getUTCSeconds() !== Number(s)
  ) {
    return undefined;
  }
  return new Date(utc - zoneOffsetMs(zone));
}

function zoneOffsetMs(zone: string): number {
  if (zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2) || '0');
  return sign * (hours * 60 + minutes) * 60_000;
}

/**
 * Parse a duration such as `500ms`, `30s`, `15m`, `2h`, `7d`, `1w` into milliseconds.
 * @throws InputError naming `what` and the value received.
 */
export function parseDuration(input: string, what = 'duration'): number {
  const m = DURATION.exec(input.trim());
  const ms = m ? Number(m[1]) * (m[2] === 'ms' ? 1 : UNIT_MS[m[2] as Unit]) : Number.NaN;
  if (!m || !(ms > 0)) {
    throw new InputError(
      `${what}: cannot understand ${JSON.stringify(input)}; use a positive duration such as 30s, 15m, 2h, 7d`,
    );
  }
  return ms;
}

/** `2026-11-22T10:00:00.000Z` — the form stored in records and printed by the CLI. */
export function isoUtc(date: Date): string {
  return date.toISOString();
}

/** `YYYY-MM-DD` of an instant, UTC: the `dt` partition value. */
export function utcDate(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** `HH` of an instant, UTC: the `hour` partition value. */
export function utcHour(date: Date): string {
  return date.toISOString().slice(11, 13);
}

/** `YYYY-MM-DD HH:MM:SS.mmm`, UTC: a timestamp literal both DuckDB and Trino cast without a zone. */
export function sqlTimestamp(date: Date): string {
  return date.toISOString().slice(0, 23).replace('T', ' ');
}
