/**
 * Events around one record: the query builder's context query (`loglake search --context`) with the
 * record as the one hit, its neighbours from the same service (or the same correlation id).
 */
import { InputError } from '../../errors';
import { CATEGORIES, type Category } from '../../schema';
import { parseTime } from '../../time';
import { type Html, html } from '../html';
import type { QueryLog, UiSource } from '../source';
import { aroundHref, recordView } from './search';

/** Neighbours shown on each side by default, and at most. */
export const AROUND_DEFAULT = 10;
export const AROUND_MAX = 50;

/** The parameters of `/around`. */
export const AROUND_PARAMS = ['at', 'service', 'category', 'by', 'n'] as const;

export async function aroundPage(source: UiSource, params: URLSearchParams, log: QueryLog[]): Promise<Html> {
  for (const name of params.keys()) {
    if (!(AROUND_PARAMS as readonly string[]).includes(name)) {
      throw new InputError(`unknown parameter ${JSON.stringify(name)}; expected ${AROUND_PARAMS.join(', ')}`);
    }
  }
  const atText = params.get('at') ?? '';
  if (!atText) throw new InputError('at: the time of the event (ISO-8601) is required');
  const at = parseTime(atText, 'at');
  const service = params.get('service') ?? '';
  if (!service) throw new InputError('service: the service of the event is required');
  const category = params.get('category') ?? undefined;
  if (category !== undefined && !(CATEGORIES as readonly string[]).includes(category)) {
    throw new InputError(
      `category: expected one of ${CATEGORIES.join(', ')} (received ${JSON.stringify(category)})`,
    );
  }
  const by = params.get('by') ?? 'service';
  if (by !== 'service' && by !== 'correlation_id') {
    throw new InputError(`by: expected service or correlation_id (received ${JSON.stringify(by)})`);
  }
  const nText = params.get('n') ?? String(AROUND_DEFAULT);
  const n = Number(nText);
  if (!/^\d+$/.test(nText) || n < 1 || n > AROUND_MAX) {
    throw new InputError(
      `n: expected a whole number from 1 to ${AROUND_MAX} (received ${JSON.stringify(nText)})`,
    );
  }
  // The hit: the events of that service in that millisecond (the record, and any twin of it).
  const blocks = await source.context(
    {
      kind: 'context',
      filter: {
        since: at,
        until: new Date(at.getTime() + 1),
        services: [service],
        ...(category ? { categories: [category as Category] } : {}),
      },
      limit: 10,
      before: n,
      after: n,
      by,
    },
    log,
  );
  const records = blocks.flatMap((b) => b.records);
  const hit = records.find((r) => r.context_hit);
  const other = by === 'service' ? 'correlation_id' : 'service';
  return html`<h1>Events around ${service} at ${at.toISOString()}</h1>
<p class="meta">Up to ${n} events before and after it ${by === 'service' ? `from ${service}` : 'with the same correlation id'}, in time order; the event itself is open and marked.
${hit ? html`<a href="${aroundHref(hit, other)}">Same ${other === 'service' ? 'service' : 'correlation id'} instead</a> ·` : ''}
<a href="/?service=${encodeURIComponent(service)}&amp;since=${encodeURIComponent(new Date(at.getTime() - 3_600_000).toISOString())}&amp;until=${encodeURIComponent(new Date(at.getTime() + 3_600_000).toISOString())}">search this hour of ${service}</a></p>
${
  records.length === 0
    ? html`<p class="empty">No event of ${service} at that time.</p>`
    : blocks.map(
        (b) =>
          html`<section class="records around" aria-label="Events sharing ${by} ${b.key ?? '(none)'}">${b.records.map(
            (r) =>
              r.context_hit
                ? html`<div class="hit" aria-current="true">${recordView(r, true)}</div>`
                : recordView(r),
          )}</section>`,
      )
}`;
}
