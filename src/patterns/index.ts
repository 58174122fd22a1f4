/**
 * Message patterns: the ingest-time template of a message (`mask.ts`) and the clustering of templates
 * into patterns (`drain.ts`). Pure; the patterns query itself is in `src/query`.
 */

import { earliest, latest, type TemplateCount } from './drain';
import { messageTemplate } from './mask';

export * from './drain';
export * from './mask';

/** One row of the patterns query (`PATTERN_COLUMNS`), decoded. */
export interface TemplateRow {
  /** The stored template; null for events written before the column existed. */
  readonly template: string | null;
  /** The message of such an event (the group key instead of the template). */
  readonly message: string | null;
  readonly count: number;
  readonly first_seen: string | null;
  readonly last_seen: string | null;
  readonly example: string | null;
}

/**
 * Templates with their totals: stored templates as they are, and events without one masked here, so a
 * lake written partly before the template column existed still groups as one.
 */
export function templateCounts(rows: readonly TemplateRow[]): TemplateCount[] {
  const byTemplate = new Map<string, TemplateCount>();
  for (const row of rows) {
    const template = row.template ?? messageTemplate(row.message) ?? '';
    const seen = byTemplate.get(template);
    if (seen === undefined) {
      byTemplate.set(template, {
        template,
        count: row.count,
        firstSeen: row.first_seen,
        lastSeen: row.last_seen,
        example: row.example,
      });
    } else {
      byTemplate.set(template, {
        template,
        count: seen.count + row.count,
        firstSeen: earliest(seen.firstSeen, row.first_seen),
        lastSeen: latest(seen.lastSeen, row.last_seen),
        example: seen.example ?? row.example,
      });
    }
  }
  return [...byTemplate.values()];
}
