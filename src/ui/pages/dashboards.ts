/** The dashboards: an index, and each dashboard's panels rendered from their definitions. */
import { InputError } from '../../errors';
import type { AggregateRow } from '../../query/decode';
import type { LogQuery } from '../../query/model';
import {
  DASHBOARDS,
  type DashboardDef,
  type PanelDef,
  type PanelNarrowing,
  panelBucketMs,
  panelQuery,
  serviceFilterQuery,
} from '../dashboards';
import { type Html, html } from '../html';
import { type UiQuery, uiQueryString, withFieldValue } from '../params';
import { rangePicker } from '../range';
import type { QueryLog, UiSource } from '../source';
import { horizontalBars, stackedBars, type TimeBucket } from '../svg';
import { recordView } from './search';

export function dashboardIndex(): Html {
  return html`<h1>Dashboards</h1><ul class="dashboards">${DASHBOARDS.map(
    (d) =>
      html`<li><a href="/dashboard?id=${d.id}">${d.title}</a> — ${d.description} <span class="meta">(${d.refreshSeconds ? `refreshes every ${d.refreshSeconds / 60} min` : 'on demand'}, last ${d.since})</span></li>`,
  )}</ul>`;
}

/**
 * A dashboard over the range of `query` (`since`/`until`, or the dashboard's default look-back),
 * narrowed to `query`'s services when the dashboard offers a service filter.
 */
export async function dashboardPage(
  source: UiSource,
  d: DashboardDef,
  query: UiQuery,
  log: QueryLog[],
): Promise<Html> {
  // The range moves in steps of the refresh interval, so a reload inside it asks the same queries and
  // is answered from the cache (over Athena: no second scan).
  const step = (d.refreshSeconds ?? 0) * 1000;
  const now = new Date(step > 0 ? Math.floor(Date.now() / step) * step : Date.now());
  const { since: sinceText, until: untilText } = query.flags;
  const filter = await source.filter(
    undefined,
    { since: sinceText ?? d.since, ...(untilText ? { until: untilText } : {}) },
    now,
  );
  const chosen = query.flags.service ?? [];
  const narrow: PanelNarrowing = chosen.length ? { services: chosen } : {};
  const servicesQuery = serviceFilterQuery(d, filter.since, filter.until);
  const offered = servicesQuery
    ? (await source.aggregate(servicesQuery, log, d.refreshSeconds)).map((r) => String(r.group.service))
    : [];
  // The panels' queries run side by side (over Athena; DuckDB takes them in turn), each with its own log.
  const rendered = await Promise.all(
    d.panels.map(async (panel) => {
      const own: QueryLog[] = [];
      const body = await renderPanel(
        source,
        panel,
        filter.since,
        filter.until,
        own,
        d.refreshSeconds,
        narrow,
      );
      return { panel, body, own };
    }),
  );
  const panels: Html[] = [];
  for (const { panel, body, own } of rendered) {
    log.push(...own);
    panels.push(
      html`<section class="panel" aria-labelledby="panel-${panel.id}" data-panel="${panel.id}"><h2 id="panel-${panel.id}">${panel.title}</h2>${body}<p class="meta">${panelCost(own)}</p></section>`,
    );
  }
  const keep: UiQuery = {
    text: undefined,
    flags: chosen.length ? { service: chosen } : {},
  };
  const services = [...new Set([...offered, ...chosen])].sort();
  return html`<h1>${d.title}</h1><p class="meta">${d.description} ${d.refreshSeconds ? `Refreshes every ${d.refreshSeconds / 60} min.` : 'On demand.'}
Range: ${filter.since.toISOString()} to ${filter.until.toISOString()}${chosen.length ? html`; service <strong id="service-filter">${chosen.join(', ')}</strong>` : ''}.</p>
<form class="query" method="get" action="/dashboard"><input type="hidden" name="id" value="${d.id}">
${
  d.serviceFilter
    ? html`<label>Service<select name="service"><option value=""${chosen.length ? '' : html` selected`}>all services</option>${services.map((s) => html`<option value="${s}"${chosen.includes(s) ? html` selected` : ''}>${s}</option>`)}</select></label>`
    : ''
}
${rangePicker({
  since: sinceText,
  until: untilText,
  defaultSince: d.since,
  from: filter.since,
  to: filter.until,
  presetHref: (since) => `/dashboard?${uiQueryString(keep, { id: d.id, since })}`,
})}
<button type="submit">Apply</button></form>
${d.lookup ? html`<form class="query" method="get" action="/trace" role="search"><label>Correlation id<input name="id" required size="36"></label><button type="submit">Trace it</button></form>` : ''}
<div class="panels">${panels}</div>`;
}

async function renderPanel(
  source: UiSource,
  panel: PanelDef,
  since: Date,
  until: Date,
  log: QueryLog[],
  cacheSeconds: number | undefined,
  narrow: PanelNarrowing,
): Promise<Html> {
  const query: LogQuery = panelQuery(panel, since, until, narrow);
  try {
    source.scoped(query.filter);
  } catch (error) {
    // A panel over categories the persona does not read is named, not read; the others still show.
    if (error instanceof InputError) return html`<p class="empty">Not shown: ${error.message}.</p>`;
    throw error;
  }
  const v = panel.view;
  if (query.kind === 'search') {
    const records = await source.search(query, log, cacheSeconds);
    if (records.length === 0) return html`<p class="empty">No matching events.</p>`;
    return html`<div class="records">${records.map((r) => recordView(r))}</div>`;
  }
  if (query.kind !== 'aggregate') throw new Error(`panel ${panel.title}: a ${query.kind} query has no chart`);
  const rows = await source.aggregate(query, log, cacheSeconds);
  if (rows.length === 0) return html`<p class="empty">No matching events.</p>`;
  switch (v.kind) {
    case 'timeseries': {
      const bucketMs = panelBucketMs(until.getTime() - since.getTime());
      const series = [...new Set(rows.map((r) => String(r.group[v.groupBy] ?? '(none)')))];
      const buckets = new Map<number, Record<string, number>>();
      for (const r of rows) {
        const start = Date.parse(r.bucketStart ?? '');
        const values = buckets.get(start) ?? {};
        values[String(r.group[v.groupBy] ?? '(none)')] = r.count;
        buckets.set(start, values);
      }
      const data: TimeBucket[] = [...buckets].map(([start, values]) => ({ start, values }));
      return stackedBars({
        label: panel.title,
        series,
        buckets: data,
        from: since.getTime(),
        to: until.getTime(),
        bucketMs,
        width: 460,
        height: 160,
      });
    }
    case 'bars': {
      const present = rows.filter((r) => r.group[v.groupBy] !== null && r.group[v.groupBy] !== undefined);
      if (present.length === 0) return html`<p class="empty">No events carry ${v.groupBy}.</p>`;
      return horizontalBars(
        panel.title,
        present.map((r) => ({
          label: String(r.group[v.groupBy]),
          value: v.measure === 'count' ? r.count : v.measure === 'errors' ? r.errors : r.errorRate,
          text:
            v.measure === 'error_rate'
              ? `${(r.errorRate * 100).toFixed(1)}% (${r.errors}/${r.count})`
              : String(v.measure === 'count' ? r.count : r.errors),
          ...(v.groupBy === 'service'
            ? {
                href: `/?service=${encodeURIComponent(String(r.group.service))}&since=${encodeURIComponent(since.toISOString())}`,
              }
            : {}),
        })),
      );
    }
    case 'hotspots':
      return hotspots(rows, v.groupBy, since);
    case 'totals':
      return totals(panel.title, rows, v);
    default:
      throw new Error(`panel ${panel.id}: view ${v.kind} needs a search query`);
  }
}

/** What a panel's queries took: time, and over Athena the bytes scanned and their cost; cached or not. */
export function panelCost(queries: readonly QueryLog[]): string {
  const ms = queries.reduce((s, q) => s + q.ms, 0);
  const cached = queries.length > 0 && queries.every((q) => q.cached);
  const scanned = queries.filter((q) => q.scannedBytes !== undefined);
  const bytes = scanned.reduce((s, q) => s + (q.scannedBytes ?? 0), 0);
  const cost = scanned.reduce((s, q) => s + (q.costUsd ?? 0), 0);
  const athena =
    scanned.length > 0 ? `, scanned ${(bytes / 1024 ** 2).toFixed(2)} MiB (~$${cost.toFixed(5)})` : '';
  return cached ? `cached (first run ${ms.toFixed(0)} ms${athena})` : `${ms.toFixed(0)} ms${athena}`;
}

function hotspots(rows: readonly AggregateRow[], groupBy: readonly string[], since: Date): Html {
  return html`<table class="data"><thead><tr>${groupBy.map((g) => html`<th scope="col">${g}</th>`)}<th scope="col">events</th><th scope="col">last seen</th><th scope="col">requests</th></tr></thead>
<tbody>${rows.map(
    (r) => html`<tr>${groupBy.map((g) => {
      const v = (r.group as Record<string, unknown>)[g];
      if (v === null || v === undefined) return html`<td>—</td>`;
      const base: UiQuery = { text: undefined, flags: { since: since.toISOString() } };
      return html`<td><a href="/?${uiQueryString(withFieldValue(base, { column: g }, String(v)))}" aria-label="Search ${g} = ${String(v)}">${String(v)}</a></td>`;
    })}<td>${r.count}</td><td>${r.lastSeen?.slice(11, 19) ?? ''}</td>
<td>${r.sampleCorrelationIds.map((id) => html`<a href="/trace?id=${encodeURIComponent(id)}&amp;since=${encodeURIComponent(since.toISOString())}">${id.slice(0, 12)}</a> `)}</td></tr>`,
  )}</tbody></table>`;
}

/** One bar per group value: the sum of the panel's aggregates, or its count of events. */
function totals(
  title: string,
  rows: readonly AggregateRow[],
  v: { readonly by: string; readonly agg: readonly string[]; readonly unit?: 'usd' | 'tokens' | 'ms' },
): Html {
  const present = rows.filter((r) => r.group[v.by] !== null && r.group[v.by] !== undefined);
  if (present.length === 0) return html`<p class="empty">No events carry ${v.by}.</p>`;
  const fmt = (n: number) =>
    v.unit === 'usd' ? `$${n.toFixed(4)}` : v.unit === 'ms' ? `${Math.round(n)} ms` : String(Math.round(n));
  const items = present
    .map((r) => {
      const parts = Object.values(r.values).map((x) => Number(x) || 0);
      const value = v.agg.length === 0 ? r.count : parts.reduce((s, x) => s + x, 0);
      return { label: String(r.group[v.by]), value, text: fmt(value) };
    })
    .sort((a, b) => b.value - a.value);
  return horizontalBars(title, items);
}
