/** The patterns tab: the search's messages grouped into templates, as `loglake patterns` groups them. */
import { clusterTemplates, DEFAULT_SIMILARITY, templateCounts } from '../../patterns';
import { type Html, html, withRedactionMarks } from '../html';
import { type UiQuery, uiQueryString } from '../params';
import type { QueryLog, UiSource } from '../source';
import { activeFilters, queryForm, searchTabs } from './search';

/** Stored templates read per page (as the CLI reads), and patterns shown. */
const TEMPLATES_READ = 10_000;
export const PATTERNS_SHOWN = 50;

export async function patternsPage(source: UiSource, query: UiQuery, log: QueryLog[]): Promise<Html> {
  const filter = await source.filter(query.text, query.flags);
  const rows = await source.templates({ kind: 'patterns', filter, limit: TEMPLATES_READ }, log);
  const patterns = clusterTemplates(templateCounts(rows), DEFAULT_SIMILARITY).slice(0, PATTERNS_SHOWN);
  const total = patterns.reduce((s, p) => s + p.count, 0);
  return html`<h1>Search</h1>
${queryForm(query, undefined, '/patterns', { from: filter.since, to: filter.until })}
${activeFilters(query, '/patterns')}
${searchTabs(query, '/patterns')}
<section aria-label="Patterns">
<p class="meta" id="pattern-count">${patterns.length} pattern${patterns.length === 1 ? '' : 's'} over ${total} events from ${filter.since.toISOString()} to ${filter.until.toISOString()} (<code>&lt;*&gt;</code> stands for the parts that vary).</p>
${
  patterns.length === 0
    ? html`<p class="empty">No matching records.</p>`
    : html`<table class="data patterns"><thead><tr><th scope="col">events</th><th scope="col">pattern</th><th scope="col">last seen</th><th scope="col">example</th></tr></thead>
<tbody>${patterns.map((p) => {
        // The pattern's own search: its longest fixed part as the text (templates are not searchable as such).
        const fixed = p.template
          .split('<*>')
          .map((x) => x.trim())
          .sort((a, b) => b.length - a.length)[0];
        const href = `/?${uiQueryString({ ...query, text: fixed || query.text })}`;
        return html`<tr><td>${p.count}</td><td><a href="${href}" aria-label="Search for pattern ${p.template}"><code>${withRedactionMarks(p.template)}</code></a></td><td>${p.lastSeen?.replace('T', ' ').slice(0, 19) ?? ''}</td><td class="example">${p.example === null ? '' : withRedactionMarks(p.example)}</td></tr>`;
      })}</tbody></table>`
}
</section>`;
}
