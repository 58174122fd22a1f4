/**
 * Which files of a partition (one category and hour) a compaction rewrites: the same rule locally and on
 * S3. Pure.
 */

/** Name prefix of files written by a compaction; delivered files never start with it. */
export const COMPACTED_PREFIX = 'compacted-';

/** A file (or object) of a partition: its name in the partition and its size. */
export interface PartitionFile {
  readonly name: string;
  readonly bytes: number;
}

/**
 * The files to rewrite, or none: every delivered file, plus the compacted files smaller than the target
 * (the last file of an earlier compaction, which late files join). Nothing when the partition holds no
 * delivered file and at most one small compacted file: it is as compact as it gets. Compacted files of
 * the target size or more are left alone, so a large hour is not rewritten whenever a late file arrives.
 * Sorted by name.
 */
export function chooseSources(files: readonly PartitionFile[], targetBytes: number): PartitionFile[] {
  const delivered = files.filter((f) => !f.name.startsWith(COMPACTED_PREFIX));
  const small = files.filter((f) => f.name.startsWith(COMPACTED_PREFIX) && f.bytes < targetBytes);
  if (delivered.length === 0 && small.length < 2) return [];
  return [...small, ...delivered].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * The files of an hour still open (deliveries still arrive) to rewrite now, or none: the local lake
 * compacts its current hour as it fills, so a query over it reads a few files instead of one per flush.
 * Only files no pending compaction names (`pending`: the sources and outputs of every marker of the
 * partition) are taken, so a file belongs to at most one pending compaction and markers never chain.
 * Nothing until at least `minDelivered` such delivered files wait; then all of them, with the compacted
 * files smaller than the target that are free again (earlier passes' outputs whose grace period is over),
 * so an hour's chunks are merged as it goes. Sorted by name.
 */
export function chooseOpenSources(
  files: readonly PartitionFile[],
  pending: ReadonlySet<string>,
  targetBytes: number,
  minDelivered: number,
): PartitionFile[] {
  const free = files.filter((f) => !pending.has(f.name));
  const delivered = free.filter((f) => !f.name.startsWith(COMPACTED_PREFIX));
  if (delivered.length === 0 || delivered.length < minDelivered) return [];
  return chooseSources(free, targetBytes);
}

/** End of the hour of a `dt`/`hour` partition, epoch ms. */
export function hourEnd(p: { readonly dt: string; readonly hour: string }): number {
  return Date.parse(`${p.dt}T${p.hour}:00:00Z`) + 3_600_000;
}

/** Whether the hour ended at least `closedAfterMs` before `now`: no more deliveries are expected. */
export function isClosed(
  p: { readonly dt: string; readonly hour: string },
  now: Date,
  closedAfterMs: number,
): boolean {
  return now.getTime() >= hourEnd(p) + closedAfterMs;
}

/** Name of the `index`-th output of compaction run `run`. */
export function compactedName(run: string, index: number): string {
  return `${COMPACTED_PREFIX}${run}-${String(index).padStart(3, '0')}.parquet`;
}
