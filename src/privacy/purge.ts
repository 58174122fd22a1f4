/**
 * What a `subject erase --purge` did, locally (`local-purge.ts`) or on S3 (`aws-purge.ts`), in the words
 * the request's outcome and the audit event use. Pure, and free of the engines (the executor Lambda
 * bundles it without DuckDB).
 */
import type { Category } from '../schema';

/** What a purge did. */
export interface PurgeOutcome {
  readonly purged: readonly Category[];
  readonly locked: readonly Category[];
  /** Files (objects) replaced by rewritten ones (the old ones deleted). */
  readonly files: number;
  /** The person's rows left out. */
  readonly rows: number;
}

/** One line for the request's outcome and the audit event. */
export function describePurge(o: PurgeOutcome): string {
  return `purged ${o.rows} row(s) from ${o.files} file(s) of ${o.purged.join(', ') || 'no category'}; locked categories not rewritten: ${o.locked.join(', ') || 'none'}`;
}

/** The outcome of a purge request that holds no pseudonym: without the key nothing can be found. */
export const NOTHING_TO_PURGE =
  'nothing purged: the request holds no pseudonym (the subject had no key when it was made)';
