/**
 * The explorer's filter model: the URL's query string, read into the same flags the CLI's search takes
 * and turned into a `LogFilter` by the same function (`filterFromFlags`), so a page and `loglake search`
 * with the same values ask the lake the same question. Adding a filter is one row in `FILTER_PARAMS`
 * plus the field it fills in `FilterFlags`.
 */

import type { FilterFlags } from '../cli/options';
import { InputError } from '../errors';
import { type FieldRef, fieldLabel } from '../query/fields';
import { rangeSince } from './range';

/** How one URL parameter maps onto the CLI's filter flags. */
export interface FilterParam {
  /** Name in the URL. */
  readonly param: string;
  /** The CLI flag it stands for (for labels and messages). */
  readonly flag: string;
  /** The field of `FilterFlags` it fills. */
  readonly key: keyof FilterFlags;
  /** A list (repeatable, comma-separable) or one value. */
  readonly list: boolean;
  /**
   * A list whose values are not split at commas (a `--where` value may hold one): repeat the parameter.
   * @default false
   */
  readonly repeatOnly?: boolean;
  /**
   * A switch (a CLI flag without a value): a checkbox whose `1` (or the `on` a bare checkbox sends)
   * sets it; absent, it is off.
   * @default false
   */
  readonly checkbox?: boolean;
  readonly label: string;
}

/** Every filter the search page (and the CLI's search) has, in the order the form shows them. */
export const FILTER_PARAMS: readonly FilterParam[] = [
  { param: 'since', flag: '--since', key: 'since', list: false, label: 'Since' },
  { param: 'until', flag: '--until', key: 'until', list: false, label: 'Until' },
  { param: 'level', flag: '--level', key: 'level', list: true, label: 'Level' },
  { param: 'service', flag: '--service', key: 'service', list: true, label: 'Service' },
  { param: 'category', flag: '--category', key: 'category', list: true, label: 'Category' },
  {
    param: 'correlation_id',
    flag: '--correlation-id',
    key: 'correlationId',
    list: false,
    label: 'Correlation id',
  },
  { param: 'trace_id', flag: '--trace-id', key: 'traceId', list: false, label: 'Trace id' },
  { param: 'user', flag: '--user', key: 'user', list: true, label: 'User (raw id)' },
  { param: 'where', flag: '--where', key: 'where', list: true, repeatOnly: true, label: 'Where' },
  { param: 'regex', flag: '--regex', key: 'regex', list: false, label: 'Regex' },
  {
    param: 'case_sensitive',
    flag: '--case-sensitive',
    key: 'caseSensitive',
    list: false,
    checkbox: true,
    label: 'Case-sensitive',
  },
];

/** The values a checkbox parameter takes for "on". */
const CHECKED = ['1', 'on', 'true'];

/** Parameters that are not filters. */
export const PAGE_PARAMS = ['q', 'limit', 'format', 'id', 'range'] as const;

/** Longest value accepted in any parameter (ids and search text are far shorter). */
export const MAX_PARAM_LENGTH = 1_000;
/** Most values of one list parameter. */
export const MAX_LIST_VALUES = 50;

export interface UiQuery {
  /** Message text, matched as `loglake search <text>` does. */
  readonly text: string | undefined;
  readonly flags: FilterFlags;
}

/**
 * Read and check the URL parameters.
 * @param defaults - values used when the URL leaves a parameter out (e.g. a page's own time range).
 * @param pageParams - more parameters the page itself reads (`at`, `by`), accepted and left to it.
 * @throws InputError naming the parameter, for an unknown parameter, a repeated single value, or a
 * value that is too long.
 */
export function parseUiQuery(
  params: URLSearchParams,
  defaults: Partial<FilterFlags> = {},
  pageParams: readonly string[] = [],
): UiQuery {
  const known = new Set<string>([...FILTER_PARAMS.map((p) => p.param), ...PAGE_PARAMS, ...pageParams]);
  for (const [name, value] of params) {
    if (!known.has(name)) {
      throw new InputError(
        `unknown parameter ${JSON.stringify(name)}; expected one of ${[...known].join(', ')}`,
      );
    }
    if (value.length > MAX_PARAM_LENGTH) {
      throw new InputError(`${name}: longer than ${MAX_PARAM_LENGTH} characters`);
    }
  }
  const flags: Record<string, string | string[] | boolean> = {
    ...(defaults as Record<string, string | string[] | boolean>),
  };
  for (const p of FILTER_PARAMS) {
    const values = params.getAll(p.param);
    if (p.checkbox) {
      if (values.length > 1) throw new InputError(`${p.param}: given ${values.length} times; give it once`);
      const v = values[0]?.trim().toLowerCase();
      if (v === undefined || v === '' || v === '0' || v === 'false') continue;
      if (!CHECKED.includes(v)) {
        throw new InputError(
          `${p.param}: expected 1 (on) or 0 (off) (received ${JSON.stringify(values[0])})`,
        );
      }
      flags[p.key] = true;
    } else if (p.list) {
      const list = values
        .flatMap((v) => (p.repeatOnly ? [v] : v.split(',')))
        .map((v) => v.trim())
        .filter(Boolean);
      if (list.length > MAX_LIST_VALUES)
        throw new InputError(`${p.param}: more than ${MAX_LIST_VALUES} values`);
      if (list.length > 0) flags[p.key] = list;
    } else {
      if (values.length > 1) throw new InputError(`${p.param}: given ${values.length} times; give it once`);
      const v = values[0]?.trim();
      if (v) flags[p.key] = v;
    }
  }
  // The time picker's relative range, unless a From time was given.
  const since = rangeSince(params.get('range') ?? undefined, params.get('since')?.trim() || undefined);
  if (since !== undefined) flags.since = since;
  const text = params.get('q')?.trim();
  return { text: text ? text : undefined, flags: flags as FilterFlags };
}

/** The URL query string of a filter, for links (the current search with one value added, a page link). */
export function uiQueryString(query: UiQuery, extra: Record<string, string | undefined> = {}): string {
  const out = new URLSearchParams();
  if (query.text) out.set('q', query.text);
  for (const p of FILTER_PARAMS) {
    const v = query.flags[p.key];
    if (Array.isArray(v)) for (const x of v) out.append(p.param, x);
    else if (typeof v === 'string') out.set(p.param, v);
    else if (v === true) out.set(p.param, '1');
  }
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) out.set(k, v);
  return out.toString();
}

/** The query with `value` added to the list filter `param` (click-to-filter). */
export function withFilter(query: UiQuery, param: string, value: string): UiQuery {
  const p = FILTER_PARAMS.find((f) => f.param === param);
  if (p === undefined) throw new Error(`withFilter: ${param} is not a filter`);
  const current = query.flags[p.key];
  const next = p.list ? [...new Set([...(Array.isArray(current) ? current : []), value])] : value;
  return { ...query, flags: { ...query.flags, [p.key]: next } };
}

/** Fields whose click sets their own filter parameter; any other field becomes a `--where` condition. */
const FIELD_PARAMS: Readonly<Record<string, string>> = {
  service: 'service',
  level: 'level',
  category: 'category',
  correlation_id: 'correlation_id',
  trace_id: 'trace_id',
};

/**
 * The query narrowed to events whose `field` (`logger`, `http_status`, `attributes.order.id`) equals
 * `value` (click-to-filter; a value shown on the page matches the query, so this is their AND): the field's own parameter where it has one, else a `--where` condition,
 * quoted when the value would not read back as itself.
 */
export function withFieldValue(query: UiQuery, field: FieldRef, value: string): UiQuery {
  const param = field.key === undefined ? FIELD_PARAMS[field.column] : undefined;
  // A list parameter splits at commas: such a value goes as a condition, which is never split.
  if (param !== undefined && !(value.includes(',') && FILTER_PARAMS.find((p) => p.param === param)?.list)) {
    // The value narrows: a list filter becomes this one value (a shown value is always in the list).
    return withFilter(withoutFilter(query, param), param, value);
  }
  const quoted =
    value.trim() !== value || value.startsWith('"') || value === '' ? JSON.stringify(value) : value;
  const condition = `${fieldLabel(field)}=${quoted}`;
  const where = query.flags.where ?? [];
  return where.includes(condition)
    ? query
    : { ...query, flags: { ...query.flags, where: [...where, condition] } };
}

/** The query without the filter `param`. */
export function withoutFilter(query: UiQuery, param: string): UiQuery {
  const p = FILTER_PARAMS.find((f) => f.param === param);
  if (p === undefined) throw new Error(`withoutFilter: ${param} is not a filter`);
  const { [p.key]: _dropped, ...rest } = query.flags;
  return { ...query, flags: rest };
}

/** `limit`: a whole number in range, or the default. */
export function limitParam(params: URLSearchParams, dflt: number, max: number): number {
  const v = params.get('limit');
  if (v === null || v.trim() === '') return dflt;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n < 1 || n > max) {
    throw new InputError(`limit: expected a whole number from 1 to ${max} (received ${JSON.stringify(v)})`);
  }
  return n;
}
