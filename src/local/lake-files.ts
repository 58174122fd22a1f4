/**
 * Which Parquet files of the local lake a query reads: the files under
 * `logs/category=<c>/dt=<d>/hour=<h>/`, minus what a compaction replaced or has not finished publishing.
 *
 * A compaction (`compact.ts`) writes a marker `<data-dir>/.loglake/compaction/<run>.json` naming the
 * partition, the files it replaces (`sources`) and the files it publishes (`outputs`), durably, before it
 * renames the first output into the partition. Readers list the partition first, then read the markers:
 *
 * - every output of a marker is in the listing: the compaction committed; its sources are hidden;
 * - some are missing: it has not committed (or was interrupted); the outputs present are hidden.
 *
 * So a reader sees either the sources or the outputs of a compaction, never both and never neither.
 * Sources are deleted only a grace period after the commit, and a marker only after its sources (see
 * `compact.ts`), so a listing taken a moment before the markers are read cannot be contradicted by them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LogLakeError } from '../errors';
import type { PartitionScope } from '../query/build';
import { DATA_PREFIX } from '../schema';
import { utcDate, utcHour } from '../time';

export { COMPACTED_PREFIX } from '../compaction/plan';
export type { PartitionScope };

/** One `category=…/dt=…/hour=…` directory of the lake. */
export interface PartitionDir {
  readonly category: string;
  readonly dt: string;
  readonly hour: string;
  /** `logs/category=<c>/dt=<d>/hour=<h>`, relative to the data directory. */
  readonly rel: string;
  readonly abs: string;
}

/** What a compaction replaces and publishes in one partition. */
export interface CompactionMarker {
  readonly version: 1;
  readonly run: string;
  /** {@link PartitionDir.rel} */
  readonly partition: string;
  /** File names (in the partition) the outputs replace. */
  readonly sources: readonly string[];
  /** File names (in the partition) the compaction publishes, in order. */
  readonly outputs: readonly string[];
  /** Rows in the sources, and in the outputs (checked before the marker is written). */
  readonly rows: number;
  /** Epoch ms when the marker was written (the grace period counts from here). */
  readonly created: number;
}

/** A marker that cannot be read: the lake's state is unknown, so nothing may guess. */
export class CorruptMarkerError extends LogLakeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CorruptMarkerError';
  }
}

/** Directory of the compaction markers of a data directory. */
export function markerDir(dataDir: string): string {
  return join(dataDir, '.loglake', 'compaction');
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
}

function hiveValue(name: string, key: string): string | undefined {
  return name.startsWith(`${key}=`) ? name.slice(key.length + 1) : undefined;
}

/**
 * The partition directories of the lake, optionally only those a scope can match (the same dt/hour
 * bounds the query builder writes as predicates). Sorted by category, dt, hour.
 */
export function partitionDirs(dataDir: string, scope?: PartitionScope): PartitionDir[] {
  const root = join(dataDir, DATA_PREFIX);
  let d0 = '';
  let h0 = '';
  let d1 = '\uffff';
  let h1 = '\uffff';
  if (scope) {
    const last = new Date(scope.until.getTime() - 1);
    [d0, h0, d1, h1] = [utcDate(scope.since), utcHour(scope.since), utcDate(last), utcHour(last)];
  }
  const wanted = scope?.categories ? new Set(scope.categories) : undefined;
  const out: PartitionDir[] = [];
  for (const c of listDir(root).sort()) {
    const category = hiveValue(c, 'category');
    if (category === undefined || (wanted && !wanted.has(category))) continue;
    for (const d of listDir(join(root, c)).sort()) {
      const dt = hiveValue(d, 'dt');
      if (dt === undefined || dt < d0 || dt > d1) continue;
      for (const h of listDir(join(root, c, d)).sort()) {
        const hour = hiveValue(h, 'hour');
        if (hour === undefined || (dt === d0 && hour < h0) || (dt === d1 && hour > h1)) continue;
        const rel = `${DATA_PREFIX}/${c}/${d}/${h}`;
        out.push({ category, dt, hour, rel, abs: join(dataDir, rel) });
      }
    }
  }
  return out;
}

/** Parquet file names in a partition directory (temporary and hidden files excluded). */
export function parquetNames(dir: string): string[] {
  return listDir(dir)
    .filter((n) => n.endsWith('.parquet') && !n.startsWith('.') && !n.startsWith('_'))
    .sort();
}

/**
 * Every compaction marker, by partition. A marker that vanished between listing and reading was removed
 * after its sources: it no longer hides anything.
 * @throws CorruptMarkerError when a marker cannot be parsed (markers are written atomically, so this
 *   is damage from outside; refusing is safer than showing a record twice).
 */
export function readMarkers(dataDir: string): Map<string, CompactionMarker[]> {
  const dir = markerDir(dataDir);
  const byPartition = new Map<string, CompactionMarker[]>();
  for (const name of listDir(dir).sort()) {
    if (!name.endsWith('.json')) continue;
    let text: string;
    try {
      text = readFileSync(join(dir, name), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    const marker = parseMarker(text, join(dir, name));
    const list = byPartition.get(marker.partition) ?? [];
    list.push(marker);
    byPartition.set(marker.partition, list);
  }
  return byPartition;
}

function parseMarker(text: string, path: string): CompactionMarker {
  let m: Partial<CompactionMarker>;
  try {
    m = JSON.parse(text) as Partial<CompactionMarker>;
  } catch (error) {
    throw new CorruptMarkerError(`compaction marker ${path} is not JSON; restore or remove it`, {
      cause: error,
    });
  }
  const names = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (
    m.version !== 1 ||
    typeof m.run !== 'string' ||
    typeof m.partition !== 'string' ||
    !names(m.sources) ||
    !names(m.outputs) ||
    typeof m.rows !== 'number' ||
    typeof m.created !== 'number'
  ) {
    throw new CorruptMarkerError(`compaction marker ${path} is not a version 1 marker; restore or remove it`);
  }
  return m as CompactionMarker;
}

/** Whether every output of a marker is among `names` (the compaction committed in that listing). */
export function isCommitted(marker: CompactionMarker, names: ReadonlySet<string>): boolean {
  return marker.outputs.every((o) => names.has(o));
}

/** The names of a partition listing a reader may read, given the partition's markers. */
export function visibleNames(names: readonly string[], markers: readonly CompactionMarker[]): string[] {
  const present = new Set(names);
  const hidden = new Set<string>();
  for (const m of markers) {
    for (const n of isCommitted(m, present) ? m.sources : m.outputs) hidden.add(n);
  }
  return names.filter((n) => !hidden.has(n));
}

/** One partition's listing with what is visible in it. */
export interface PartitionListing extends PartitionDir {
  readonly names: readonly string[];
  readonly visible: readonly string[];
  readonly markers: readonly CompactionMarker[];
}

/**
 * List the partitions (in scope), then read the markers, and say which files are visible. The order
 * matters: see the module comment.
 */
export function listPartitions(dataDir: string, scope?: PartitionScope): PartitionListing[] {
  const listed = partitionDirs(dataDir, scope).map((p) => ({ ...p, names: parquetNames(p.abs) }));
  const markers = readMarkers(dataDir);
  return listed.map((p) => {
    const ms = markers.get(p.rel) ?? [];
    return { ...p, markers: ms, visible: ms.length === 0 ? p.names : visibleNames(p.names, ms) };
  });
}

/** Absolute paths of every visible Parquet file in scope: what a query reads. */
export function visibleFiles(dataDir: string, scope?: PartitionScope): string[] {
  return listPartitions(dataDir, scope).flatMap((p) => p.visible.map((n) => join(p.abs, n)));
}
