/**
 * `loglake subject erase --purge` on the local lake: besides destroying the subject's key, the files of
 * the unlocked categories holding a row of the person are rewritten without those rows, through the
 * compaction steps (`Compactor.rewriteWithout`: staged, verified, a durable marker, renamed in, the old
 * files deleted), so a crash at any point leaves either the old files or the new ones. Locked
 * categories are never rewritten: they are kept as they are (GDPR Art. 17(3)(b)) and anonymized by the
 * destroyed key alone.
 *
 * The rewrite needs the data directory to itself (the running pipeline compacts the same partitions),
 * so it takes the data directory's lock; a purge requested while `loglake local` runs is refused.
 */
import type { LogLakeConfig } from '../config';
import { InputError } from '../errors';
import { type CompactionStep, Compactor, compactionSettings } from '../local/compact';
import { DataDirLockedError, lockDataDir } from '../local/datadir';
import type { EngineOptions } from '../query/engine';
import { CATEGORIES, type Category } from '../schema';
import type { PurgeOutcome } from './purge';

export { describePurge, type PurgeOutcome } from './purge';

/** The data directory is in use (by `loglake local`): a purge cannot run now; nothing was changed. */
export class PurgeDeferredError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'PurgeDeferredError';
  }
}

/** A stored pseudonym (`u_` + 32 hex): the only text a purge predicate is built from. */
const PSEUDONYM = /^u_[0-9a-f]{32}$/;

/**
 * The DuckDB predicate of the person's rows: the pseudonym anywhere in the row (the `user_id` column,
 * prose the transform pseudonymized, attributes). A pseudonym is 128 bits of HMAC, so no one else's
 * row holds it by chance.
 */
export function subjectRowPredicate(pseudonym: string): string {
  if (!PSEUDONYM.test(pseudonym)) throw new TypeError(`not a stored pseudonym: ${pseudonym.slice(0, 40)}`);
  return `contains(CAST(to_json(t) AS VARCHAR), '${pseudonym}')`;
}

/** Which categories a purge rewrites, and which it keeps because they are locked. */
export function purgeScope(config: LogLakeConfig): { purged: Category[]; locked: Category[] } {
  return {
    purged: CATEGORIES.filter((c) => !config.categories[c].locked),
    locked: CATEGORIES.filter((c) => config.categories[c].locked),
  };
}

export interface PurgeOptions {
  readonly engine?: EngineOptions;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** Called at each step of each partition's rewrite (tests stop the process here). */
  readonly onStep?: (step: CompactionStep, partition: string) => void;
}

/**
 * Rewrites the unlocked categories of a local lake without the rows carrying `pseudonym`, and deletes
 * the replaced files at once (no grace period: the point is that they are gone).
 * @throws InputError when the data directory is in use (by `loglake local`).
 */
export async function purgeLocalSubject(
  dataDir: string,
  config: LogLakeConfig,
  pseudonym: string,
  options: PurgeOptions = {},
): Promise<PurgeOutcome> {
  const remove = subjectRowPredicate(pseudonym);
  const { purged, locked } = purgeScope(config);
  let release: () => void;
  try {
    release = lockDataDir(dataDir);
  } catch (error) {
    if (!(error instanceof DataDirLockedError)) throw error;
    throw new PurgeDeferredError(
      `subject erase --purge rewrites the lake's files and needs the data directory to itself: ${error.message}. Nothing was erased; stop loglake local and run it again (erasing without --purge needs no stop; a scheduled purge waits until then)`,
    );
  }
  try {
    const compactor = await Compactor.open({
      dataDir,
      settings: compactionSettings(0, { graceMs: 0, compression: config.output.compression }),
      ...(options.engine ? { engine: options.engine } : {}),
      ...(options.onStep ? { onStep: options.onStep } : {}),
    });
    try {
      const report = await compactor.rewriteWithout(purged, remove, {
        ...(options.now ? { now: options.now } : {}),
      });
      return { purged, locked, files: report.files, rows: report.removedRows };
    } finally {
      compactor.close();
    }
  } finally {
    release();
  }
}
