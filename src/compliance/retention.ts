/**
 * When an object of the lake expires under the config's policy, from its key alone: Parquet under
 * `logs/category=<c>/dt=<d>/hour=<h>/` expires `expiryDays` after the end of its hour, error output under
 * `errors/<type>/dt=<d>/` `errorOutput.expiryDays` after the end of its day.
 *
 * The local lake counts from the partition (event time); S3 lifecycle counts from the object's creation
 * and expires at the next midnight UTC. The two differ by at most the transform's `maxPastHours` plus a
 * day, and the partition is what a query and `loglake cleanup` can see without reading the files.
 */
import type { LogLakeConfig } from '../config';
import { CATEGORIES, type Category, DATA_PREFIX, ERROR_PREFIX } from '../schema';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** Where a key sits in the lake. */
export type KeyPlace =
  | { readonly kind: 'data'; readonly category: Category; readonly dt: string; readonly hour: string }
  | { readonly kind: 'error'; readonly type: string; readonly dt: string };

const DATA_KEY = new RegExp(
  `^${DATA_PREFIX}/category=([^/]+)/dt=(\\d{4}-\\d{2}-\\d{2})/hour=(\\d{2})/[^/]+$`,
);
const ERROR_KEY = new RegExp(`^${ERROR_PREFIX}/([^/]+)/dt=(\\d{4}-\\d{2}-\\d{2})/[^/]+$`);

/** The partition of a key, or undefined for a key outside the lake's layout. */
export function placeOf(key: string): KeyPlace | undefined {
  const d = DATA_KEY.exec(key);
  if (d) {
    const category = d[1] as Category;
    if (!(CATEGORIES as readonly string[]).includes(category)) return undefined;
    return { kind: 'data', category, dt: d[2] as string, hour: d[3] as string };
  }
  const e = ERROR_KEY.exec(key);
  if (e) return { kind: 'error', type: e[1] as string, dt: e[2] as string };
  return undefined;
}

/** Start of a partition's time span (epoch ms). */
export function partitionStart(place: KeyPlace): number {
  const day = Date.parse(`${place.dt}T00:00:00Z`);
  return place.kind === 'data' ? day + Number(place.hour) * HOUR : day;
}

/** End (exclusive) of a partition's time span (epoch ms). */
export function partitionEnd(place: KeyPlace): number {
  return partitionStart(place) + (place.kind === 'data' ? HOUR : DAY);
}

/** Days a place is kept under `config`. */
export function retentionDays(
  place: KeyPlace,
  config: Pick<LogLakeConfig, 'categories' | 'errorOutput'>,
): number {
  return place.kind === 'data' ? config.categories[place.category].expiryDays : config.errorOutput.expiryDays;
}

/** When the object at `key` expires (epoch ms), or undefined for a key outside the layout. */
export function expiresAt(
  key: string,
  config: Pick<LogLakeConfig, 'categories' | 'errorOutput'>,
): number | undefined {
  const place = placeOf(key);
  if (!place) return undefined;
  return partitionEnd(place) + retentionDays(place, config) * DAY;
}
