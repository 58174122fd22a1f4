/**
 * Live tail: the records of the search that arrived since the tail started, newest first. The page
 * reloads itself every {@link TAIL_REFRESH_SECONDS} (a meta refresh: the explorer runs no script, so no
 * server-sent events), each reload one query as `loglake tail` runs per round: records ingested since the
 * start (`ingest_time`), with an event time in the last {@link TAIL_WINDOW_MS}, so the partitions read stay
 * a narrow, pruned range.
 */
import { describeAccess, notTailAccess, quietWhenEmpty } from '../../audit/access';
import { InputError } from '../../errors';
import { parseTime } from '../../time';
import { type Html, html } from '../html';
import { type UiQuery, uiQueryString } from '../params';
import type { QueryLog, UiSource } from '../source';
import { activeFilters, queryForm, recordView, searchTabs } from './search';

export const TAIL_REFRESH_SECONDS = 2;
/** Event times looked at, as `loglake tail --window` (its default). */
export const TAIL_WINDOW_MS = 15 * 60_000;
/** Newest records shown. */
export const TAIL_SHOWN = 200;

export interface TailView {
  readonly body: Html;
  /** Where the reload goes: the same tail, its start fixed. */
  readonly refreshUrl: string;
}

export async function tailPage(
  source: UiSource,
  query: UiQuery,
  fromText: string | undefined,
  log: QueryLog[],
  now = new Date(),
): Promise<TailView> {
  const from = fromText ? parseTime(fromText, 'from', now) : now;
  if (from.getTime() > now.getTime() + 60_000)
    throw new InputError('from: the tail cannot start in the future');
  const base = await source.filter(query.text, query.flags, now);
  const ahead = Math.max(0, base.until.getTime() - now.getTime());
  // As `loglake tail`: its access events name the tail, the first poll (no `from` yet) is recorded, and
  // a reload only when it returns rows; the tails' own events are not shown.
  describeAccess({ command: 'ui-tail' });
  const poll = () =>
    source.search(
      {
        kind: 'search',
        filter: {
          ...base,
          since: new Date(now.getTime() - TAIL_WINDOW_MS),
          until: new Date(now.getTime() + ahead),
          where: [
            ...(base.where ?? []),
            { field: { column: 'ingest_time' }, op: '>=', value: from },
            ...notTailAccess(),
          ],
        },
        limit: TAIL_SHOWN,
        order: 'desc',
      },
      log,
    );
  const records = fromText === undefined ? await poll() : await quietWhenEmpty(poll);
  const { since: _since, until: _until, ...flags } = query.flags;
  const kept: UiQuery = { ...query, flags };
  const qs = uiQueryString(kept, { from: from.toISOString() });
  return {
    refreshUrl: `/tail?${qs}`,
    body: html`<h1>Search</h1>
${queryForm(kept, undefined, '/tail')}
${activeFilters(kept, '/tail')}
${searchTabs(kept, '/tail')}
<section aria-label="Live tail" aria-live="polite">
<p class="meta" id="tail-status">Following records that arrived since ${from.toISOString()} (event time in the last ${TAIL_WINDOW_MS / 60_000} min); this page reloads every ${TAIL_REFRESH_SECONDS} s. Last checked ${now.toISOString()}: ${records.length} record${records.length === 1 ? '' : 's'}${records.length === TAIL_SHOWN ? ` (the newest ${TAIL_SHOWN})` : ''}.
<a href="/?${uiQueryString(kept)}">Stop</a> · <a href="/tail?${uiQueryString(kept)}">Restart from now</a></p>
${records.length === 0 ? html`<p class="empty">Waiting for new records…</p>` : html`<div class="records">${records.map((r) => recordView(r, false, kept))}</div>`}
</section>`,
  };
}
