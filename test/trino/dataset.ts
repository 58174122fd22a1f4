/**
 * The Trino tier's events: about 1,200 raw log events over the 30 hours before now (so always across a
 * UTC midnight and inside the tables' projected `dt` range), with texts that SQL gets wrong easily
 * (quotes, `%`, `_`, backslashes, non-ASCII, mixed case), events on and around hour and day boundaries,
 * recent errors for the saved queries, and bursts that make each default alert rule fire at `alertAt`.
 * Deterministic for a given `now` (a seeded generator), unique timestamps (so ordering has no ties).
 */
import { prng } from '../../src/local/sample-traffic';
import type { RawEvent } from './lake';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export const SERVICES = [
  'checkout',
  "o'brien",
  'café-ü',
  '日本-svc',
  'pay%ments',
  'under_score',
  'Search',
  'auth',
] as const;

export const MESSAGES = [
  'payment failed for order',
  'Payment FAILED again',
  '100% done',
  'a_b_c and a%b',
  "it's a 'quoted' \"text\"",
  'naïve café crème',
  'ÄÖÜ Grösse STRASSE',
  '日本語のログ',
  'emoji 🚀 launched',
  'back\\slash C:\\path',
  '%_% literal',
  'ΣΊΣΥΦΟΣ ran',
] as const;

const RAW_LEVELS = [
  'info',
  'INFO',
  'debug',
  'warn',
  'WARNING',
  'error',
  'ERROR',
  'critical',
  'FATAL',
] as const;
const CATEGORIES = ['debug', 'runtime', 'framework', 'errors', 'api_access', 'security', 'audit'] as const;
/** Values of the `amount` attribute (text): numbers as a user may write them, and texts that are not. */
export const AMOUNTS = [
  '12',
  ' 7 ',
  '+3.5',
  '-0.25',
  '1e3',
  '2.5E-1',
  '.5',
  '5.',
  '1_000',
  'inf',
  'NaN',
  '0x10',
  '１２',
  '٣',
  '\t5\n',
  '',
  'n/a',
  '1,5',
] as const;
const SPECIAL_IDS = ["c'quote", 'c%1', 'c_1', 'c-ü', 'C-UPPER'] as const;

export interface Dataset {
  /** An hour boundary 30 hours before now: the first event's hour. */
  readonly start: number;
  /** The UTC midnight inside the data. */
  readonly midnight: number;
  /** The hour the alert bursts are built around. */
  readonly alertHour: number;
  /** Evaluation time at which every default rule has a breaching group. */
  readonly alertAt: Date;
  /** The range the events fall in: [start, end). */
  readonly end: number;
  readonly events: RawEvent[];
}

export function tierDataset(now: number = Date.now()): Dataset {
  // The demo's seeded generator: the same `now` gives the same events.
  const rnd = prng(now % 2 ** 31);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const start = Math.floor(now / HOUR) * HOUR - 30 * HOUR;
  // Strictly after start: when start falls on a midnight (a run between 06:00 and 07:00 UTC), that one
  // would put the events next to `midnight - HOUR` before the data's start.
  const midnight = Math.floor(start / DAY) * DAY + DAY;
  const alertHour = start + 20 * HOUR;
  const used = new Set<number>();
  const events: RawEvent[] = [];
  let n = 0;

  const add = (t: number, over: Partial<RawEvent> = {}) => {
    let at = t;
    while (used.has(at)) at += 1;
    used.add(at);
    const i = n++;
    const message = `${pick(MESSAGES)} #${i}`;
    events.push({
      timestamp: new Date(at).toISOString(),
      level: pick(RAW_LEVELS),
      service: pick(SERVICES),
      logger: i % 3 === 0 ? `app.${pick(['api', 'db', 'queue'])}` : undefined,
      message,
      correlation_id: i % 11 === 0 ? pick(SPECIAL_IDS) : `c-${i}`,
      ...(i % 3 === 0 ? { trace_id: `t-${i % 17}`, span_id: `s-${i}` } : {}),
      ...(i % 4 === 0 ? { user_id: `user-${i % 5}` } : {}),
      ...(i % 5 === 0
        ? {
            http_method: pick(['GET', 'POST']),
            http_path: `/orders/${i % 7}`,
            http_status: pick([200, 404, 500]),
          }
        : {}),
      ...(i % 2 === 0 ? { duration_ms: Math.round(rnd() * 100_000) / 100 } : {}),
      ...(i % 13 === 0
        ? { error_type: 'TimeoutError', stack_trace: `TimeoutError: late\n    at f (x.js:${i})` }
        : {}),
      tenant: pick(['acme', 'globex', 'ünïcode']),
      ...(i % 7 === 0 ? { detail: { nested: i, flag: true } } : {}),
      category: pick(CATEGORIES),
      ...over,
    });
  };

  // Scattered events over the whole range.
  for (let k = 0; k < 500; k++) add(start + Math.floor(rnd() * 30 * HOUR));
  // On and next to hour and day boundaries: inclusive since, exclusive until, partition edges.
  for (const b of [start + HOUR, midnight - HOUR, midnight, midnight + HOUR, alertHour - 2 * HOUR]) {
    for (const d of [-1, 0, 1]) add(b + d, { category: pick(['runtime', 'security']) });
  }
  // On the edges of time buckets whose width does not divide a second (`loglake stats --bucket 1001ms`).
  for (const w of [1_001, 1_003, 2_999, 60_001]) {
    for (const anchor of [start + 5 * HOUR, midnight + 7 * MINUTE, alertHour - 3 * HOUR]) {
      for (let k = 0; k < 4; k++) add((Math.ceil(anchor / w) + k * 37) * w);
    }
  }
  // Recent errors and other events: the saved queries look at the last hour and day from now.
  for (let k = 1; k <= 30; k++) {
    add(now - k * 97_000, {
      level: k % 3 === 0 ? 'ERROR' : 'INFO',
      category: k % 2 ? 'errors' : 'api_access',
    });
  }

  // Alert bursts. Windows are 5 minutes; the evaluated one is W0 = [alertHour+30m, alertHour+35m), its
  // anomaly baseline the 12 windows before it.
  const w0 = alertHour + 30 * MINUTE;
  const spread = (from: number, count: number, over: Partial<RawEvent>) => {
    for (let k = 0; k < count; k++) add(from + Math.floor(((k + rnd()) * 5 * MINUTE) / count), over);
  };
  for (let k = 1; k <= 12; k++) {
    const from = w0 - k * 5 * MINUTE;
    spread(from, 20 + ((k * 7) % 5), { category: 'runtime', service: 'worker', level: 'INFO' });
    spread(from, 15, { category: 'api_access', service: 'gateway', level: 'INFO' });
  }
  // volume-anomaly: runtime spikes in W0, api_access stays steady.
  spread(w0, 90, { category: 'runtime', service: 'worker', level: 'INFO' });
  spread(w0, 15, { category: 'api_access', service: 'gateway', level: 'INFO' });
  // error-rate: checkout at 15% (fires), o'brien at 1/30 (quiet), café-ü 5/5 but under minEvents (not judged).
  spread(w0, 34, { category: 'framework', service: 'checkout', level: 'INFO' });
  spread(w0, 6, { category: 'framework', service: 'checkout', level: 'ERROR' });
  spread(w0, 29, { category: 'framework', service: "o'brien", level: 'INFO' });
  spread(w0, 1, { category: 'errors', service: "o'brien", level: 'ERROR' });
  spread(w0, 5, { category: 'errors', service: 'café-ü', level: 'CRITICAL' });
  // security-critical: one CRITICAL security event.
  add(w0 + 2 * MINUTE, {
    category: 'security',
    service: 'auth',
    level: 'CRITICAL',
    correlation_id: 'incident-1',
  });
  // bulk-read: access events as the audit hook writes them (src/audit/access.ts), one flagged in W0.
  const access = (t: number, flags: string, rows: number, more: Record<string, unknown> = {}) =>
    add(t, {
      category: 'audit',
      service: 'loglake-access',
      logger: 'loglake.access',
      level: flags ? 'WARN' : 'INFO',
      message: `export by alice@laptop: ${rows} row(s) from runtime (duckdb, completed)`,
      access: { principal: 'alice@laptop', command: 'export', rows: String(rows), flags, ...more },
    });
  for (let k = 1; k <= 12; k++) access(w0 - k * 5 * MINUTE + MINUTE, '', 40);
  access(w0 + 3 * MINUTE, 'bulk_read', 250_000, {
    filter: { text: 'boom', levels: 'ERROR' },
    bytes_scanned: '1048576',
  });

  // Texts at the edge of reading an attribute as a number (`--where attributes.amount>5`, `--agg
  // sum:attributes.amount`): signs, exponents, spaces, separators, other digits, words. And messages whose
  // redactions are counted (`redactions.email`, `redactions.ip`).
  for (const [k, amount] of AMOUNTS.entries()) add(start + 4 * HOUR + k * 5 * MINUTE + 17_000, { amount });
  for (let k = 0; k < 3; k++) {
    add(start + 9 * HOUR + k * 11 * MINUTE, { message: `mail bob${k}@example.com from 10.1.2.${k}` });
  }

  return {
    start,
    midnight,
    alertHour,
    alertAt: new Date(w0 + 7 * MINUTE),
    end: Math.max(...used) + 1,
    events,
  };
}
