/**
 * Timestamp parsing: ISO-8601 with any offset, epoch seconds / milliseconds / microseconds /
 * nanoseconds (numbers or digit strings), and the text formats common at the start of log lines
 * (Python `asctime`, Go `log`, syslog, Apache/NGINX access logs, RFC 1123). Everything becomes epoch
 * milliseconds; a text without a zone is read as UTC and says so (`zoneless`), so the caller can read
 * it in a configured zone instead (`zone.ts`).
 */

/** Latest instant `Date#toISOString` renders as `YYYY-MM-DDTHH:mm:ss.sssZ` (year 9999). */
const MAX_MS = 253_402_300_799_999;

const MONTHS: Readonly<Record<string, number>> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(y: number, mo: number): number {
  if (mo === 1 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)) return 29;
  return DAYS_IN_MONTH[mo] ?? 0;
}

function utc(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  ms: number,
): number | undefined {
  // Rejects rolled-over dates such as February 30th instead of letting Date.UTC move them.
  if (mo < 0 || mo > 11 || d < 1 || d > daysInMonth(y, mo) || h > 24 || mi > 59 || s > 60) return undefined;
  return Date.UTC(y, mo, d, h, mi, Math.min(s, 59), ms);
}

function digitsAt(s: string, start: number, count: number): number {
  let n = 0;
  for (let i = start; i < start + count; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/**
 * `YYYY-MM-DDTHH:mm:ss.sssZ` (what `Date#toISOString` writes, the most common case) and
 * `YYYY-MM-DDTHH:mm:ssZ` (RFC 3339 without a fraction: Go, many shippers) without a regex.
 */
function canonicalIso(s: string): number | undefined {
  const n = s.length;
  if ((n !== 24 && n !== 20) || s.charCodeAt(n - 1) !== 90 || s[10] !== 'T' || s[4] !== '-' || s[7] !== '-')
    return undefined;
  if (s[13] !== ':' || s[16] !== ':' || (n === 24 && s[19] !== '.')) return undefined;
  const y = digitsAt(s, 0, 4);
  const mo = digitsAt(s, 5, 2);
  const d = digitsAt(s, 8, 2);
  const h = digitsAt(s, 11, 2);
  const mi = digitsAt(s, 14, 2);
  const sec = digitsAt(s, 17, 2);
  const ms = n === 24 ? digitsAt(s, 20, 3) : 0;
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0 || ms < 0) return undefined;
  return inRange(utc(y, mo - 1, d, h, mi, sec, ms));
}

function fraction(digits: string | undefined): number {
  if (!digits) return 0;
  return Math.floor(Number(`0.${digits}`) * 1000);
}

function offsetMinutes(zone: string | undefined): number | undefined {
  if (!zone || zone === 'Z' || zone === 'z' || zone === 'UTC' || zone === 'GMT') return 0;
  const m = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone);
  if (!m) return undefined;
  const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
  if (minutes > 18 * 60) return undefined;
  return m[1] === '-' ? -minutes : minutes;
}

function inRange(ms: number | undefined): number | undefined {
  return ms !== undefined && Number.isFinite(ms) && ms >= 0 && ms <= MAX_MS ? ms : undefined;
}

/**
 * Epoch seconds to whole milliseconds, truncated, from the number's shortest decimal text: `n * 1000`
 * in binary floating point puts 1764483458.723 at …722.9999.
 */
function secondsToMs(n: number): number {
  const text = String(n);
  const dot = text.indexOf('.');
  if (dot < 0 || text.includes('e')) return Math.floor(n * 1000);
  const fraction = `${text.slice(dot + 1, dot + 4)}00`.slice(0, 3);
  return Number(text.slice(0, dot)) * 1000 + Number(fraction);
}

/** Epoch number in s, ms, µs or ns (decided by magnitude) to ms. */
export function epochToMs(n: number): number | undefined {
  if (!Number.isFinite(n) || n < 0) return undefined;
  // Finer precision is truncated, as an ISO fraction's is: 06:17:38.7235 is in millisecond .723.
  if (n < 1e11) return inRange(secondsToMs(n)); // seconds until year 5138
  if (n < 1e14) return inRange(Math.floor(n)); // milliseconds
  if (n < 1e17) return inRange(Math.floor(n / 1000)); // microseconds
  return inRange(Math.floor(n / 1e6)); // nanoseconds (OTel timeUnixNano)
}

/**
 * An epoch written in digits to ms. Micro- and nanoseconds (OTLP's `timeUnixNano` is a decimal string)
 * are cut to milliseconds in the text: as a double, 1764525571234000000 is 1764525571233999872, and
 * dividing that would put an event written at .234 at .233.
 */
function epochTextToMs(text: string): number | undefined {
  if (/^[1-9]\d{14,}$/.test(text)) {
    return inRange(Number(text.slice(0, text.length >= 18 ? -6 : -3)));
  }
  return epochToMs(Number(text));
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s?(Z|z|[+-]\d{2}(?::?\d{2})?|UTC|GMT)?$/;
const SLASHED =
  /^(\d{4})\/(\d{2})\/(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?\s?(Z|[+-]\d{2}:?\d{2}|UTC|GMT)?$/;
const CLF = /^(\d{2})\/([A-Za-z]{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? ([+-]\d{4})$/;
const RFC1123 =
  /^(?:[A-Za-z]{3},? )?(\d{1,2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? ?(GMT|UTC|Z|[+-]\d{4})?$/;
const SYSLOG = /^([A-Za-z]{3}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/;

function fromParts(
  y: string,
  mo: number,
  d: string,
  h: string | undefined,
  mi: string | undefined,
  s: string | undefined,
  frac: string | undefined,
  zone: string | undefined,
): number | undefined {
  const offset = offsetMinutes(zone);
  if (offset === undefined) return undefined;
  const t = utc(Number(y), mo, Number(d), Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0), fraction(frac));
  return t === undefined ? undefined : inRange(t - offset * 60_000);
}

/** A parsed timestamp: the instant, and whether the text named no zone or offset. */
export interface EventTime {
  /** Epoch ms; for a zone-less text, its wall time read as UTC. */
  readonly ms: number;
  /** The text had no zone or offset (`2026-01-02 03:04:05`, syslog's `Jan  2 03:04:05`). */
  readonly zoneless: boolean;
}

function at(ms: number | undefined, zoneless: boolean): EventTime | undefined {
  return ms === undefined ? undefined : { ms, zoneless };
}

/**
 * Parses a timestamp string, saying whether it named a zone. `referenceMs` supplies the year for
 * syslog's yearless format (the year that puts the time closest to the reference).
 */
export function readTimestampText(text: string, referenceMs = Date.now()): EventTime | undefined {
  const fast = canonicalIso(text);
  if (fast !== undefined) return { ms: fast, zoneless: false };
  const s = text.trim();
  if (s.length < 6 || s.length > 40) return undefined;
  if (/^\d+(?:\.\d+)?$/.test(s)) return at(epochTextToMs(s), false);
  let m = ISO.exec(s) ?? SLASHED.exec(s);
  if (m) {
    const ms = fromParts(m[1] as string, Number(m[2]) - 1, m[3] as string, m[4], m[5], m[6], m[7], m[8]);
    return at(ms, m[8] === undefined);
  }
  m = CLF.exec(s);
  if (m) {
    const mo = MONTHS[(m[2] as string).toLowerCase()];
    if (mo === undefined) return undefined;
    return at(fromParts(m[3] as string, mo, m[1] as string, m[4], m[5], m[6], m[7], m[8]), false);
  }
  m = RFC1123.exec(s);
  if (m) {
    const mo = MONTHS[(m[2] as string).toLowerCase()];
    if (mo === undefined) return undefined;
    const ms = fromParts(m[3] as string, mo, m[1] as string, m[4], m[5], m[6], m[7], m[8]);
    return at(ms, m[8] === undefined);
  }
  m = SYSLOG.exec(s);
  if (m) {
    const mo = MONTHS[(m[1] as string).toLowerCase()];
    if (mo === undefined) return undefined;
    const year = new Date(referenceMs).getUTCFullYear();
    let best: number | undefined;
    for (const y of [year - 1, year, year + 1]) {
      const t = fromParts(String(y), mo, m[2] as string, m[3], m[4], m[5], m[6], 'Z');
      if (
        t !== undefined &&
        (best === undefined || Math.abs(t - referenceMs) < Math.abs(best - referenceMs))
      ) {
        best = t;
      }
    }
    return at(best, true);
  }
  return undefined;
}

/**
 * Parses a timestamp string to epoch ms. Text without a zone is taken as UTC (see
 * {@link readTimestampText} to know whether it had one).
 */
export function parseTimestampText(text: string, referenceMs = Date.now()): number | undefined {
  return readTimestampText(text, referenceMs)?.ms;
}

/** Reads a timestamp field value: number (epoch), digit string (epoch) or text. */
export function readTimestamp(value: unknown, referenceMs?: number): EventTime | undefined {
  if (typeof value === 'number') return at(epochToMs(value), false);
  if (typeof value === 'string') return readTimestampText(value, referenceMs);
  if (typeof value === 'bigint') return at(epochTextToMs(value.toString()), false);
  return undefined;
}

/** Parses a timestamp field value: number (epoch), digit string (epoch) or text. */
export function parseTimestamp(value: unknown, referenceMs?: number): number | undefined {
  if (typeof value === 'number') return epochToMs(value);
  if (typeof value === 'string') return parseTimestampText(value, referenceMs);
  if (typeof value === 'bigint') return epochTextToMs(value.toString());
  return undefined;
}

/**
 * A timestamp at the very start of a log line, optionally in brackets. Returns the instant and how
 * many characters it took (including brackets), or `undefined`.
 */
export function leadingTimestamp(
  line: string,
  referenceMs?: number,
): { ms: number; length: number; zoneless: boolean } | undefined {
  const m = LEADING.exec(line);
  if (!m) return undefined;
  const open = m[1] ?? '';
  const text = m[2] as string;
  const time = readTimestampText(text, referenceMs);
  if (time === undefined) return undefined;
  return { ms: time.ms, length: open.length + text.length + (m[3] ?? '').length, zoneless: time.zoneless };
}

const LEADING = new RegExp(
  [
    String.raw`^([\[(]?)(`,
    [
      String.raw`\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?: ?(?:Z|z|[+-]\d{2}(?::?\d{2})?|UTC|GMT))?`,
      String.raw`\d{4}/\d{2}/\d{2}[ T]\d{2}:\d{2}:\d{2}(?:[.,]\d{1,9})?`,
      String.raw`\d{2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2}(?:\.\d{1,9})? [+-]\d{4}`,
      String.raw`(?:[A-Za-z]{3},? )?\d{1,2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?: ?(?:GMT|UTC|[+-]\d{4}))?`,
      String.raw`[A-Za-z]{3} {1,2}\d{1,2} \d{2}:\d{2}:\d{2}(?:\.\d{1,9})?`,
      String.raw`\d{10}(?:\.\d{1,9})?(?=\s)`,
      String.raw`\d{13}(?=\s)`,
    ].join('|'),
    String.raw`)([\])]?)`,
  ].join(''),
);

const TWO = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const THREE = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
const DAY_MS = 86_400_000;
/**
 * The date parts (`YYYY-MM-DDT`) of the days last formatted, one slot per day modulo {@link DAY_SLOTS}:
 * events of a batch share a few days, but not always one (an event just before midnight and its arrival
 * just after, backfilled history between current events), and a single remembered day was formatted
 * again at every switch.
 */
const DAY_SLOTS = 8;
const slotDay: number[] = Array.from({ length: DAY_SLOTS }, () => Number.NaN);
const slotText: string[] = Array.from({ length: DAY_SLOTS }, () => '');

/**
 * `YYYY-MM-DDTHH:mm:ss.sssZ`, the same text `Date#toISOString` writes, without building a `Date` per
 * call (every event's timestamp and arrival time pass here).
 */
export function toIso(ms: number): string {
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_MS) return new Date(ms).toISOString();
  const day = Math.floor(ms / DAY_MS);
  const slot = day % DAY_SLOTS;
  if (slotDay[slot] !== day) {
    slotText[slot] = new Date(day * DAY_MS).toISOString().slice(0, 11);
    slotDay[slot] = day;
  }
  let rest = ms - day * DAY_MS;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  return `${slotText[slot]}${TWO[h]}:${TWO[m]}:${TWO[s]}.${THREE[rest - s * 1000]}Z`;
}
