/**
 * Environment variable names of the scheduled erasure executor. The only module `lib/` may import from
 * `lambdas/erase` (ARCHITECTURE.md, "Import rules": lib imports from lambdas only their constants).
 */
export const ERASE_ENV = {
  /** DynamoDB table of the erasure requests. */
  requestTable: 'LOGLAKE_SUBJECT_REQUEST_TABLE',
  /** DynamoDB table of the subject keys. */
  keyTable: 'LOGLAKE_SUBJECT_KEY_TABLE',
  /** Delivery stream of the `audit` category, where each erasure is recorded. */
  auditStream: 'LOGLAKE_AUDIT_STREAM',
  /** Who carries the erasures out, in the requests and audit events: the function's role ARN. */
  principal: 'LOGLAKE_ERASE_PRINCIPAL',
  /**
   * JSON `{ bucket, workgroup, database, table, categories, locked, searchDays }`: where `--purge`
   * requests rewrite the unlocked categories (the `logs` bucket, through Athena); `searchDays` maps
   * each of `categories` to the days its find query looks back.
   */
  purge: 'LOGLAKE_ERASE_PURGE',
} as const;
