/**
 * Environment variable names of the access-log function. The only module `lib/` may import from
 * `lambdas/access-logs` (ARCHITECTURE.md, "Import rules": lib imports from lambdas only their constants).
 */
export const ACCESS_LOGS_ENV = {
  /** The delivery stream the lines go to (the lake's `logs` stream). */
  stream: 'LOGLAKE_ACCESS_LOG_STREAM',
  /** JSON `{ format, category? }`: what the notifying bucket's objects hold (`src/sources/access-logs.ts`). */
  source: 'LOGLAKE_ACCESS_LOG_SOURCE',
  /** JSON `{ rules, defaultCategory }`: the transform's category rules, to pack lines per partition. */
  rules: 'LOGLAKE_ACCESS_LOG_RULES',
  /** The DynamoDB table of objects shipped (`src/sources/access-log-ledger.ts`). */
  ledger: 'LOGLAKE_ACCESS_LOG_LEDGER',
} as const;
