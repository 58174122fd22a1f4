/**
 * `subject erase --purge` on the deployed lake, as the erasure executor (`lambdas/erase`) carries it out
 * when the request is due, before the key is destroyed: the unlocked categories' objects holding the
 * person's rows are rewritten without them and their old versions deleted (`src/compaction/purge.ts`).
 * Locked categories are never rewritten (GDPR Art. 17(3)(b)): the destroyed key anonymizes them.
 *
 * A purge larger than one run (Lambda's 15 minutes) or one that finds the compaction's lock taken says
 * "not yet": the request stays pending, its key stays, and the next scheduled run goes on from what is
 * left (the find query sees only what is not purged yet).
 */
import type { ObjectStore, SqlEngine } from '../compaction/objects';
import { purgeObjects } from '../compaction/purge';
import { LogLakeError } from '../errors';
import type { Category } from '../schema';
import { utcDate } from '../time';
import { describePurge, NOTHING_TO_PURGE } from './purge';
import type { EraseRequest, PurgePending, PurgeProgress, PurgeProgressError } from './requests';

export interface AwsPurgeSettings {
  /** Glue database and the table over the `logs` bucket's `logs/` prefix. */
  readonly database: string;
  readonly table: string;
  /** The categories rewritten (unlocked) and those kept (locked), as the outcome says. */
  readonly categories: readonly Category[];
  readonly locked: readonly Category[];
  /**
   * Days back the find query looks in each of `categories` (the category's expiry, plus a day: the
   * lifecycle deletes an object up to a day after it expires). One query per category, each over its
   * own days, so a 14-day category is not searched over the 181 days of a 180-day one.
   */
  readonly searchDays: Readonly<Partial<Record<Category, number>>>;
}

export interface AwsPurgeOptions {
  readonly store: ObjectStore;
  readonly engine: SqlEngine;
  readonly settings: AwsPurgeSettings;
  /** Milliseconds left before the run must stop (Lambda's remaining time). */
  readonly remainingMs?: () => number;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * A purge that could not verify a rewrite: the request stays pending (with what this and earlier runs
 * did, `progress`) and the next run retries.
 */
export class PurgeFailedError extends LogLakeError implements PurgeProgressError {
  constructor(
    message: string,
    readonly progress: PurgeProgress,
  ) {
    super(message);
    this.name = 'PurgeFailedError';
  }
}

/**
 * The `purge` step of `runDueErasures` on S3: what it did, counting every run of the request (its
 * `purgedSoFar`); `undefined` when the compaction or another purge held the lock (nothing done), or
 * {@link PurgePending} with every run's counts when the run ran out of time or the find query's limit.
 * @throws PurgeFailedError when an hour's rewrite failed (its originals are kept; the others' counts
 *   are in its `progress`)
 */
export function awsPurge(
  options: AwsPurgeOptions,
): (request: EraseRequest) => Promise<string | PurgePending | undefined> {
  const now = options.now ?? Date.now;
  const s = options.settings;
  return async (request) => {
    if (request.pseudonym === undefined) return NOTHING_TO_PURGE;
    if (s.categories.length === 0) return describePurge({ purged: [], locked: s.locked, files: 0, rows: 0 });
    const report = await purgeObjects({
      store: options.store,
      engine: options.engine,
      pseudonym: request.pseudonym,
      now: new Date(now()),
      settings: {
        database: s.database,
        table: s.table,
        categories: s.categories,
        since: Object.fromEntries(
          s.categories.map((c) => [c, utcDate(new Date(now() - searchDaysOf(s, c) * 86_400_000))]),
        ),
      },
      ...(options.remainingMs ? { remainingMs: options.remainingMs } : {}),
    });
    if (!report.locked) return undefined;
    const earlier = request.purgedSoFar ?? { files: 0, rows: 0 };
    const progress = { files: earlier.files + report.objects, rows: earlier.rows + report.removedRows };
    if (report.failed.length > 0) {
      const f = report.failed[0];
      throw new PurgeFailedError(
        `purge of subject ${request.subject.slice(0, 16)}: ${report.failed.length} hour(s) not rewritten (originals kept), e.g. ${f?.partition}: ${f?.error}`,
        progress,
      );
    }
    if (!report.complete) return { pending: progress };
    return describePurge({ purged: s.categories, locked: s.locked, ...progress });
  };
}

/** @throws Error when a rewritten category has no search range (a deployment defect). */
function searchDaysOf(settings: AwsPurgeSettings, category: Category): number {
  const days = settings.searchDays[category];
  if (days === undefined) throw new Error(`purge settings: no searchDays for category ${category}`);
  return days;
}
