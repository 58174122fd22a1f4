/**
 * Environment variable names of the transform Lambda. The only module `lib/` may import from
 * `lambdas/transform` (ARCHITECTURE.md, "Import rules": lib imports from lambdas only their constants).
 */
export const TRANSFORM_ENV = {
  /** JSON of the config slice the transform needs: `{ categories, transform, redaction }`. */
  settings: 'LOGLAKE_TRANSFORM_SETTINGS',
  /** Which delivery stream this function processes: `logs` or `audit`. */
  stream: 'LOGLAKE_STREAM',
  /** ARN of the Secrets Manager secret holding the HMAC key for user-id pseudonyms. */
  pseudonymSecretArn: 'LOGLAKE_PSEUDONYM_SECRET_ARN',
  /** Name of the DynamoDB table of per-subject pseudonym keys (crypto-shredding, `lib/subject-keys.ts`). */
  subjectKeyTable: 'LOGLAKE_SUBJECT_KEY_TABLE',
  /** Name of the `audit` delivery stream; locked-category events arriving on `logs` are forwarded there. */
  auditStreamName: 'LOGLAKE_AUDIT_STREAM_NAME',
} as const;
