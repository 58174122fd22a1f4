/**
 * The shipper's default pack key: the category and hour the transform will give a line, so one record
 * never mixes partitions (the transform puts every event of a record in the first event's partition and
 * flags the ones that differ).
 *
 * It reuses the transform's own pieces (field aliases, level and timestamp parsing, the category rules)
 * on a shallow view of the event, without redaction: ~20x cheaper than the full normalization, which
 * matters in every producer process. Where it guesses differently from the transform (an exotic field
 * layout), the only effect is that flag, never a lost line.
 */
import { DEFAULT_CONFIG, type LogLakeConfig } from '../config';
import type { Category, Level, LogRecord } from '../schema';
import {
  categoryByRules,
  HTTP_METHODS,
  isCategory,
  levelFromName,
  levelFromNumber,
  parseTextLine,
  parseTimestamp,
} from '../transform';
import { aliasOf, type Target } from '../transform/fields';

/** The slice of the config the key needs (the deployment's rules and retention; the defaults when not given). */
export type PackKeyConfig = Pick<LogLakeConfig, 'transform' | 'categories'>;

const MAX_DEPTH = 3;

interface FieldPick {
  rank: number;
  path: string;
  value: unknown;
}

/**
 * A pack-key function `line → "<category>|<YYYY-MM-DDTHH>"`.
 * @param config - categorization rules, time tolerances and each category's retention. @default DEFAULT_CONFIG
 * @param now - clock for events without a usable timestamp. @default Date.now
 */
export function categoryHourKey(config: PackKeyConfig = DEFAULT_CONFIG, now: () => number = Date.now) {
  const { rules, defaultCategory, maxPastHours, maxFutureMinutes } = config.transform;
  const maxPastMs = (maxPastHours ?? Number.POSITIVE_INFINITY) * 3_600_000;
  return (line: string): string => {
    const arrival = now();
    const event = shallowEvent(line, arrival);
    const record = {
      level: event.level ?? 'INFO',
      logger: event.logger ?? null,
      service: event.service ?? '',
      http_method: event.http ? 'GET' : null,
      http_path: null,
      http_status: null,
      attributes: event.attributes,
    } as unknown as LogRecord;
    const explicit = event.category?.trim().toLowerCase();
    const category: Category =
      explicit && isCategory(explicit) ? explicit : categoryByRules(record, rules, defaultCategory);
    // The transform's window: within the category's retention (and maxPastHours), not too far ahead.
    const pastMs = Math.min(maxPastMs, config.categories[category].expiryDays * 86_400_000);
    let t = event.timeMs ?? arrival;
    if (t < arrival - pastMs || t > arrival + maxFutureMinutes * 60_000) t = arrival;
    return `${category}|${new Date(t).toISOString().slice(0, 13)}`;
  };
}

interface ShallowEvent {
  timeMs?: number;
  level?: Level;
  service?: string;
  logger?: string;
  http: boolean;
  category?: string;
  attributes: Record<string, string>;
}

function shallowEvent(line: string, arrival: number): ShallowEvent {
  const trimmed = line.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(line);
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
        return fromObject(parsed as Record<string, unknown>, arrival);
      }
    } catch {
      // Not JSON after all: read it as a text line, as the transform does.
    }
  }
  const text = parseTextLine(line, arrival);
  if (text.kind === 'object') return fromObject(text.object, arrival);
  const f = text.fields;
  return {
    ...(f.timestamp !== undefined ? { timeMs: f.timestamp } : {}),
    ...(f.level !== undefined ? { level: levelFromName(f.level) } : {}),
    ...(f.logger !== undefined ? { logger: f.logger } : {}),
    http: f.http_method !== undefined || f.http_path !== undefined || f.http_status !== undefined,
    attributes: Object.fromEntries(Object.entries(f.attributes ?? {}).map(([k, v]) => [k, String(v)])),
  };
}

function fromObject(obj: Record<string, unknown>, arrival: number): ShallowEvent {
  const best = new Map<Target, FieldPick>();
  const attributes: Record<string, string> = {};
  const visit = (o: Record<string, unknown>, prefix: string, depth: number) => {
    for (const key in o) {
      const v = o[key];
      const path = prefix === '' ? key : `${prefix}.${key}`;
      if (v !== null && typeof v === 'object') {
        if (!Array.isArray(v) && depth < MAX_DEPTH) visit(v as Record<string, unknown>, path, depth + 1);
        continue;
      }
      attributes[path] = String(v);
      const alias = aliasOf(path);
      if (!alias) continue;
      const current = best.get(alias.target);
      if (!current || alias.rank < current.rank) best.set(alias.target, { rank: alias.rank, path, value: v });
    }
  };
  visit(obj, '', 0);
  const value = (t: Target) => best.get(t)?.value;
  const str = (t: Target) => {
    const v = value(t);
    return typeof v === 'string' && v.trim() !== '' ? v : typeof v === 'number' ? String(v) : undefined;
  };
  const method =
    str('http_method') ??
    (HTTP_METHODS.has(String(value('http_method_weak')).toUpperCase()) ? 'x' : undefined);
  const http =
    method !== undefined ||
    best.has('http_path') ||
    best.has('http_status') ||
    (method !== undefined && (best.has('http_path_weak') || best.has('http_status_weak')));
  const ts = value('timestamp');
  const timeMs = ts === undefined ? undefined : parseTimestamp(ts, arrival);
  const category = str('category');
  const level = levelOf(best);
  return {
    ...(timeMs !== undefined ? { timeMs } : {}),
    ...(level ? { level } : {}),
    ...(str('service') !== undefined ? { service: str('service') } : {}),
    ...(str('logger') !== undefined ? { logger: str('logger') } : {}),
    ...(category !== undefined && !best.get('category')?.path.includes('.') ? { category } : {}),
    http,
    attributes,
  };
}

/** The level as the transform reads it: names, pino numbers (syslog for `severity`), OTel, Python. */
function levelOf(best: Map<Target, FieldPick>): Level | undefined {
  const pick = best.get('level');
  if (pick) {
    const v = pick.value;
    if (typeof v === 'number') return levelFromNumber(v, pick.path.endsWith('severity') ? 'syslog' : 'pino');
    if (typeof v === 'string')
      return levelFromName(v) ?? (/^\d+$/.test(v) ? levelFromNumber(Number(v), 'pino') : undefined);
  }
  const otel = Number(best.get('level_otel')?.value);
  if (best.has('level_otel') && Number.isFinite(otel)) return levelFromNumber(otel, 'otel');
  const python = Number(best.get('level_python')?.value);
  if (best.has('level_python') && Number.isFinite(python)) return levelFromNumber(python, 'python');
  return undefined;
}
