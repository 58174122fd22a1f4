/** The trace view: one correlation id across services as a timeline, errors and stack traces inline. */
import type { SearchRecord } from '../../query/decode';
import { ERROR_LEVELS } from '../../query/model';
import { type Html, html } from '../html';
import type { UiQuery } from '../params';
import type { QueryLog, UiSource } from '../source';
import { colourOf, legend } from '../svg';
import { recordView } from './search';

/** Look-back of the trace view when the URL names none: a request is rarely older. */
export const TRACE_SINCE = '7d';
/** Most events one trace shows. */
export const TRACE_LIMIT = 2_000;

export async function tracePage(
  source: UiSource,
  id: string | undefined,
  query: UiQuery,
  log: QueryLog[],
): Promise<Html> {
  const form = html`<form class="query" method="get" action="/trace" role="search">
<label>Correlation id<input name="id" value="${id ?? ''}" required size="36"></label>
<label>Since<input name="since" value="${query.flags.since ?? TRACE_SINCE}" size="18"></label>
<button type="submit">Show trace</button></form>`;
  if (id === undefined) {
    return html`<h1>Trace</h1>${form}<p>Enter a correlation id, or open one from a search result.</p>`;
  }
  const filter = await source.filter(undefined, {
    ...query.flags,
    since: query.flags.since ?? TRACE_SINCE,
    correlationId: id,
  });
  const events = await source.search({ kind: 'search', filter, limit: TRACE_LIMIT, order: 'asc' }, log);
  if (events.length === 0) {
    return html`<h1>Trace ${id}</h1>${form}<p class="empty">No events with correlation id ${id} since ${filter.since.toISOString()}.</p>`;
  }
  const services = [...new Set(events.map((e) => e.service))];
  const errors = events.filter((e) => (ERROR_LEVELS as readonly string[]).includes(e.level));
  const first = Date.parse(events[0]?.timestamp ?? '');
  const last = Date.parse(events.at(-1)?.timestamp ?? '');
  return html`<h1>Trace ${id}</h1>${form}
<p class="meta">${events.length} events from ${services.length} service${services.length === 1 ? '' : 's'} over ${((last - first) / 1000).toFixed(3)} s; ${errors.length} error${errors.length === 1 ? '' : 's'}.
<a href="/?correlation_id=${encodeURIComponent(id)}&amp;since=${encodeURIComponent(filter.since.toISOString())}">As a search</a></p>
<section aria-label="Timeline">${timeline(events, services)}</section>
<section aria-label="Events in order" class="records timeline">
${events.map((e) => html`${recordView(e, (ERROR_LEVELS as readonly string[]).includes(e.level))}`)}
</section>`;
}

/** One lane per service; each event a mark at its time, a bar back over its duration when it has one. */
function timeline(events: readonly SearchRecord[], services: readonly string[]): Html {
  const width = 960;
  const lane = 26;
  const padL = 150;
  const height = services.length * lane + 24;
  const times = events.map((e) => Date.parse(e.timestamp));
  const starts = events.map((e, i) => (times[i] ?? 0) - (e.duration_ms ?? 0));
  const from = Math.min(...starts);
  const to = Math.max(...times, from + 1);
  const x = (t: number) => padL + ((t - from) / (to - from)) * (width - padL - 12);
  const marks = events.map((e, i) => {
    const y = services.indexOf(e.service) * lane + lane / 2;
    const t = times[i] ?? 0;
    const colour = colourOf(e.level, 0);
    const label = `${e.timestamp} ${e.level} ${e.service}: ${e.message}`;
    return html`<g>${e.duration_ms ? html`<rect x="${x(t - e.duration_ms).toFixed(1)}" y="${y - 4}" width="${Math.max(1, x(t) - x(t - e.duration_ms)).toFixed(1)}" height="8" fill="${colour}" opacity="0.35"/>` : ''}<circle cx="${x(t).toFixed(1)}" cy="${y}" r="${(ERROR_LEVELS as readonly string[]).includes(e.level) ? 6 : 4}" fill="${colour}"><title>${label}</title></circle></g>`;
  });
  const lanes = services.map(
    (s, i) =>
      html`<text x="${padL - 8}" y="${i * lane + lane / 2 + 4}" text-anchor="end">${s}</text><line x1="${padL}" x2="${width - 12}" y1="${i * lane + lane / 2}" y2="${i * lane + lane / 2}" class="axis" stroke-dasharray="2 3"/>`,
  );
  const levels = [...new Set(events.map((e) => e.level))];
  return html`<figure class="chart"><svg role="img" aria-label="Timeline of ${events.length} events across ${services.length} services" viewBox="0 0 ${width} ${height}" width="100%"><title>Timeline</title>
${lanes}${marks}
<text x="${padL}" y="${height - 4}">${new Date(from).toISOString().slice(11, 23)}</text><text x="${width - 12}" y="${height - 4}" text-anchor="end">+${((to - from) / 1000).toFixed(3)} s</text>
</svg>${legend(levels)}</figure>`;
}
