/**
 * Environment variable names of the compaction Lambda. The only module `lib/` may import from
 * `lambdas/compact` (DESIGN.md: lib imports from lambdas only their environment-name constants).
 */
export const COMPACT_ENV = {
  /** The `logs` bucket (unlocked categories). */
  bucket: 'LOGLAKE_COMPACT_BUCKET',
  /** Athena workgroup the rewrites run in (results location, encryption, scan cutoff). */
  workgroup: 'LOGLAKE_ATHENA_WORKGROUP',
  /** Glue database of the lake tables. */
  database: 'LOGLAKE_GLUE_DATABASE',
  /** Glue table over the bucket's `logs/` prefix. */
  table: 'LOGLAKE_GLUE_TABLE',
  /** JSON `{ categories, closedAfterMinutes, lookbackHours, targetFileMiB }`. */
  settings: 'LOGLAKE_COMPACT_SETTINGS',
} as const;
