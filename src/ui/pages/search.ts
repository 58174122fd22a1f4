/** The search page: query bar, volume histogram by level, field sidebar, expandable records, export. */

import { DEFAULT_SINCE } from '../../cli/options';
import type { SearchRecord } from '../../query/decode';
import { type FieldRef, fieldLabel } from '../../query/fields';
import { GROUP_COLUMNS } from '../../query/model';
import { LEVELS } from '../../schema';
import { type Html, html, withRedactionMarks } from '../html';
import { FILTER_PARAMS, type UiQuery, uiQueryString, withFieldValue, withoutFilter } from '../params';
import { rangePicker } from '../range';
import type { QueryLog, UiSource } from '../source';
import { bucketWidth, stackedBars, type TimeBucket } from '../svg';

/** Records a page shows by default, and at most. */
export const DEFAULT_LIMIT = 100;
export const MAX_PAGE_LIMIT = 1_000;
/** Top values per field in the sidebar. */
export const TOP_VALUES = 5;
/** Attribute keys in the sidebar: the most frequent among the records the page shows. */
export const ATTRIBUTE_FIELDS = 5;

export async function searchPage(
  source: UiSource,
  query: UiQuery,
  limit: number,
  log: QueryLog[],
): Promise<Html> {
  const filter = await source.filter(query.text, query.flags);
  const span = filter.until.getTime() - filter.since.getTime();
  const bucketMs = bucketWidth(span);
  const histogram = await source.aggregate({ kind: 'aggregate', filter, groupBy: ['level'], bucketMs }, log);
  const records = await source.search({ kind: 'search', filter, limit, order: 'desc' }, log);
  const fields: Array<[FieldRef, Awaited<ReturnType<UiSource['aggregate']>>]> = [];
  for (const column of GROUP_COLUMNS) {
    fields.push([
      { column },
      await source.aggregate(
        { kind: 'aggregate', filter, groupBy: [column], limit: TOP_VALUES, orderBy: 'count' },
        log,
      ),
    ]);
  }
  // Attributes vary by producer: the keys the page's records carry most, their top values over the
  // whole range (as the columns above), side by side.
  const attributeFields = commonAttributeKeys(records, ATTRIBUTE_FIELDS).map((key) => ({
    column: 'attributes',
    key,
  }));
  const attributeValues = await Promise.all(
    attributeFields.map((field) =>
      source.aggregate(
        { kind: 'aggregate', filter, groupBy: [field], limit: TOP_VALUES, orderBy: 'count' },
        log,
      ),
    ),
  );
  attributeFields.forEach((field, i) => {
    fields.push([field, attributeValues[i] ?? []]);
  });
  const total = histogram.reduce((s, r) => s + r.count, 0);
  const buckets = new Map<number, Record<string, number>>();
  for (const row of histogram) {
    const start = Date.parse(row.bucketStart ?? '');
    const values = buckets.get(start) ?? {};
    values[String(row.group.level)] = row.count;
    buckets.set(start, values);
  }
  const series: TimeBucket[] = [...buckets].map(([start, values]) => ({ start, values }));
  const qs = uiQueryString(query);
  return html`<h1>Search</h1>
${queryForm(query, limit, '/', { from: filter.since, to: filter.until })}
${activeFilters(query)}
${searchTabs(query, '/')}
<section aria-label="Volume by level">
${stackedBars({ label: 'Events over time by level', series: LEVELS, buckets: series, from: filter.since.getTime(), to: filter.until.getTime(), bucketMs })}
</section>
<div class="layout">
<aside aria-label="Fields">${fields.map(([field, rows]) => fieldBox(query, field, rows))}</aside>
<section aria-label="Results">
<p class="meta" id="result-count">${total} matching event${total === 1 ? '' : 's'} from ${filter.since.toISOString()} to ${filter.until.toISOString()}; showing the newest ${records.length}.
Export all ${total}: <a href="/export?${qs}${qs ? '&' : ''}format=csv" download>CSV</a> · <a href="/export?${qs}${qs ? '&' : ''}format=ndjson" download>NDJSON</a></p>
${records.length === 0 ? html`<p class="empty">No matching records.</p>` : html`<div class="records">${records.map((r) => recordView(r, false, query))}</div>`}
</section></div>`;
}

/**
 * The query bar. With `range` (the resolved range of the page), the time picker too; without (the live
 * tail, which follows new records), none.
 */
export function queryForm(
  query: UiQuery,
  limit: number | undefined,
  action = '/',
  range?: { readonly from: Date; readonly to: Date },
): Html {
  const value = (param: string): string => {
    const p = FILTER_PARAMS.find((f) => f.param === param);
    const v = p ? query.flags[p.key] : undefined;
    return Array.isArray(v) ? v.join(',') : v === undefined || typeof v === 'boolean' ? '' : String(v);
  };
  const levels = new Set((query.flags.level ?? []).map((l) => l.toUpperCase()));
  // Conditions already given ride along unseen (each is a chip with its own remove link); one box adds one.
  const shown = FILTER_PARAMS.filter(
    (p) =>
      !p.checkbox && p.param !== 'level' && p.param !== 'where' && p.param !== 'since' && p.param !== 'until',
  );
  const withoutRange = withoutFilter(withoutFilter(query, 'until'), 'since');
  return html`<form class="query" method="get" action="${action}" role="search">
<label>Message text<input type="search" name="q" value="${query.text ?? ''}" placeholder="substring"></label>
${shown.map((p) => html`<label>${p.label}<input name="${p.param}" value="${value(p.param)}" size="14"${p.list ? html` placeholder="a,b"` : ''}></label>`)}
${FILTER_PARAMS.filter((p) => p.checkbox).map((p) => html`<label class="inline" title="as ${p.flag}: text, regex and ~ respect case"><input type="checkbox" name="${p.param}" value="1"${query.flags[p.key] === true ? html` checked` : ''}> ${p.label}</label>`)}
${(query.flags.where ?? []).map((w) => html`<input type="hidden" name="where" value="${w}">`)}
<label>Where (as --where)<input name="where" value="" size="26" placeholder="http_status>=500, attributes.model=gpt"></label>
<fieldset><legend>Level</legend>${LEVELS.map((l) => html`<label class="inline"><input type="checkbox" name="level" value="${l}"${levels.has(l) ? html` checked` : ''}> ${l}</label>`)}</fieldset>
${limit === undefined ? '' : html`<label>Limit<input name="limit" type="number" min="1" max="${MAX_PAGE_LIMIT}" value="${limit}" size="5"></label>`}
${
  range === undefined
    ? ''
    : rangePicker({
        since: query.flags.since,
        until: query.flags.until,
        defaultSince: DEFAULT_SINCE,
        from: range.from,
        to: range.to,
        presetHref: (since) => `${action}?${uiQueryString(withoutRange, { since })}`,
      })
}
<button type="submit">Search</button>
</form>`;
}

/** The search's views: records, patterns, live tail; each keeps the filter. */
export function searchTabs(query: UiQuery, current: '/' | '/patterns' | '/tail'): Html {
  const qs = uiQueryString(query);
  const tabs = [
    { href: '/', label: 'Records' },
    { href: '/patterns', label: 'Patterns' },
    { href: '/tail', label: 'Live tail' },
  ] as const;
  return html`<nav class="tabs" aria-label="Views of this search">${tabs.map((t) => html`<a href="${t.href}${qs ? `?${qs}` : ''}"${t.href === current ? html` aria-current="page"` : ''}>${t.label}</a>`)}</nav>`;
}

export function activeFilters(query: UiQuery, path = '/'): Html {
  const active = FILTER_PARAMS.filter(
    (p) => query.flags[p.key] !== undefined && p.param !== 'since' && p.param !== 'where',
  );
  const where = query.flags.where ?? [];
  if (active.length === 0 && where.length === 0) return html``;
  return html`<p class="chips" aria-label="Active filters">${active.map((p) => {
    const v = query.flags[p.key];
    if (v === true) {
      return html`<a href="${path}?${uiQueryString(withoutFilter(query, p.param))}" aria-label="Remove filter ${p.label}">${p.label} ✕</a>`;
    }
    return html`<a href="${path}?${uiQueryString(withoutFilter(query, p.param))}" aria-label="Remove filter ${p.label} ${Array.isArray(v) ? v.join(',') : v}">${p.label}: ${Array.isArray(v) ? v.join(',') : v} ✕</a>`;
  })}${where.map((w, i) => {
    const rest = where.filter((_, j) => j !== i);
    const next = { ...query, flags: { ...query.flags, where: rest } };
    return html`<a href="${path}?${uiQueryString(rest.length ? next : withoutFilter(query, 'where'))}" aria-label="Remove filter where ${w}">where ${w} ✕</a>`;
  })}</p>`;
}

/** The `n` attribute keys most records of `records` carry (ties by name). */
export function commonAttributeKeys(records: readonly SearchRecord[], n: number): string[] {
  const counts = new Map<string, number>();
  for (const r of records) for (const key in r.attributes) counts.set(key, (counts.get(key) ?? 0) + 1);
  return [...counts]
    .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, n)
    .map(([key]) => key);
}

function fieldBox(query: UiQuery, field: FieldRef, rows: Awaited<ReturnType<UiSource['aggregate']>>): Html {
  const label = fieldLabel(field);
  const present = rows.filter((r) => r.group[label] !== null && r.group[label] !== undefined);
  return html`<h2 id="field-${label}">${label}</h2>
${
  present.length === 0
    ? html`<p class="empty">no values</p>`
    : html`<ul aria-labelledby="field-${label}">${present.map((r) => {
        const v = String(r.group[label]);
        return html`<li><a href="/?${uiQueryString(withFieldValue(query, field, v))}" aria-label="Filter ${label} = ${v}">${v}</a><span>${r.count}</span></li>`;
      })}</ul>`
}`;
}

/** Record fields a click does not filter by (times, free text, measurements, lists). */
const UNFILTERED = new Set([
  'timestamp',
  'ingest_time',
  'message',
  'message_template',
  'stack_trace',
  'duration_ms',
  'redactions',
  'schema_errors',
]);
/** Map columns shown key by key, each key a field of its own. */
const MAP_FIELDS = new Set(['attributes', 'metrics']);

const NO_FILTER: UiQuery = { text: undefined, flags: {} };

/**
 * One record: a summary line, expanded to every field; a field's value is a link to the search
 * narrowed to it (click-to-filter).
 * @param base - the search a click narrows. @default a new search (the default range)
 */
export function recordView(r: SearchRecord, open = false, base: UiQuery = NO_FILTER): Html {
  const rows: Array<{ field: FieldRef; label: string; value: string; raw: unknown }> = [];
  for (const [k, v] of Object.entries(r)) {
    if (v === null || v === '' || k === 'stack_trace') continue;
    if (typeof v === 'object' && Object.keys(v).length === 0) continue;
    if (MAP_FIELDS.has(k) && typeof v === 'object' && !Array.isArray(v)) {
      for (const [key, x] of Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
        a.localeCompare(b),
      )) {
        const field = { column: k, key };
        rows.push({ field, label: fieldLabel(field), value: String(x), raw: x });
      }
      continue;
    }
    rows.push({
      field: { column: k },
      label: k,
      value: typeof v === 'object' ? JSON.stringify(v) : String(v),
      raw: v,
    });
  }
  const cell = (row: (typeof rows)[number]): Html => {
    const text = withRedactionMarks(row.value);
    if (UNFILTERED.has(row.field.column) || (typeof row.raw === 'object' && row.raw !== null)) return text;
    const href = `/?${uiQueryString(withFieldValue(base, row.field, row.value))}`;
    const link = html`<a href="${href}" class="filter" aria-label="Filter ${row.label} = ${row.value}">${text}</a>`;
    return row.field.column === 'correlation_id' && row.field.key === undefined
      ? html`${link} (<a href="/trace?id=${encodeURIComponent(row.value)}">trace view</a>)`
      : link;
  };
  return html`<details${open ? html` open` : ''}><summary><time datetime="${r.timestamp}">${r.timestamp.replace('T', ' ').replace('Z', '')}</time> <span class="lvl lvl-${r.level}">${r.level}</span> ${r.service} · ${withRedactionMarks(r.message)}</summary>
<dl class="fields">${rows.map((row) => html`<dt>${row.label}</dt><dd>${cell(row)}</dd>`)}</dl>
${r.stack_trace ? html`<pre class="stack" aria-label="stack trace">${withRedactionMarks(r.stack_trace)}</pre>` : ''}
<p class="meta"><a href="${aroundHref(r)}">Events around this one</a> (same service)</p>
</details>`;
}

/** The link to a record's neighbours: its time to the millisecond, service and category pin it. */
export function aroundHref(r: SearchRecord, by: 'service' | 'correlation_id' = 'service'): string {
  const qs = new URLSearchParams({ at: r.timestamp, service: r.service, category: r.category, by });
  return `/around?${qs.toString()}`;
}
