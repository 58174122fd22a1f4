/**
 * Environment variable names of the access recorder. The only module `lib/` may import from
 * `lambdas/access-recorder` (ARCHITECTURE.md, "Import rules": lib imports from lambdas only their constants).
 */
export const ACCESS_RECORDER_ENV = {
  /** Delivery stream of the `audit` category, where each recorded event is put. */
  auditStream: 'LOGLAKE_AUDIT_STREAM',
} as const;
