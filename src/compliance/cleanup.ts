/**
 * `loglake cleanup` on the local lake: each category's expiry enforced, as S3 lifecycle does on AWS.
 * An object expires {@link expiresAt} after its partition (the category's `expiryDays`, the error
 * output's for `errors/`); the expired ones are recorded in the integrity log (with their hashes as found)
 * before they are deleted, so a crash in between leaves expired files the next run removes, never
 * recorded files gone missing. Empty partition directories go with them.
 */
import { readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { LogLakeConfig } from '../config';
import { IntegrityLog, lakeObjectKeys, objectOf } from './integrity';
import { expiresAt, placeOf } from './retention';

/** One object past its expiry. */
export interface ExpiredObject {
  readonly key: string;
  /** The category, or `errors/<type>` for error output. */
  readonly category: string;
  readonly partition: string;
  readonly expiredAt: string;
  readonly bytes: number;
}

export interface CleanupPlan {
  readonly now: string;
  readonly expired: readonly ExpiredObject[];
  /** The next object to expire after `now`, if any (what a later run will remove first). */
  readonly next?: { readonly key: string; readonly expiresAt: string };
  /** Objects outside the lake's layout (never touched). */
  readonly unknown: readonly string[];
}

/** What `cleanup` would delete under `config` at `now`, without touching anything. */
export function planCleanup(
  dataDir: string,
  config: Pick<LogLakeConfig, 'categories' | 'errorOutput'>,
  now: Date,
): CleanupPlan {
  const expired: ExpiredObject[] = [];
  const unknown: string[] = [];
  let next: CleanupPlan['next'];
  for (const key of lakeObjectKeys(dataDir)) {
    const place = placeOf(key);
    const at = expiresAt(key, config);
    if (!place || at === undefined) {
      unknown.push(key);
      continue;
    }
    if (at <= now.getTime()) {
      expired.push({
        key,
        category: place.kind === 'data' ? place.category : `errors/${place.type}`,
        partition: dirname(key),
        expiredAt: new Date(at).toISOString(),
        bytes: objectOf(dataDir, key).bytes,
      });
    } else if (!next || at < Date.parse(next.expiresAt)) {
      next = { key, expiresAt: new Date(at).toISOString() };
    }
  }
  return { now: now.toISOString(), expired, ...(next ? { next } : {}), unknown };
}

/**
 * Delete what {@link planCleanup} found expired: recorded first (one integrity entry), then deleted,
 * then the partition directories left empty.
 * @returns the plan that was carried out.
 */
export function runCleanup(
  dataDir: string,
  config: Pick<LogLakeConfig, 'categories' | 'errorOutput'>,
  now: Date,
): CleanupPlan {
  const plan = planCleanup(dataDir, config, now);
  if (plan.expired.length === 0) return plan;
  const log = new IntegrityLog(dataDir);
  log.recordExpiry(
    `retention (loglake cleanup at ${plan.now})`,
    plan.expired.map((o) => objectOf(dataDir, o.key)),
  );
  for (const o of plan.expired) {
    try {
      unlinkSync(join(dataDir, o.key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  for (const dir of new Set(plan.expired.map((o) => o.partition))) removeEmptyUp(dataDir, join(dataDir, dir));
  return plan;
}

/** Remove `dir` and its parents while they are empty, up to (not including) the lake's top folders. */
function removeEmptyUp(dataDir: string, dir: string): void {
  let current = dir;
  // `logs/category=c/dt=d/hour=h` → stop above `logs`; `errors/type/dt=d` → stop above `errors`.
  while (relative(dataDir, current).split(/[\\/]/).length > 1) {
    try {
      if (readdirSync(current).length > 0) return;
      rmdirSync(current);
    } catch {
      return;
    }
    current = dirname(current);
  }
}
