/** The CLI's environment, read once. */
export const cliEnv = {
  /** Default `--data-dir`. */
  dataDir: process.env.LOGLAKE_DATA_DIR || undefined,
  /** Default `--stack` for the Athena path. */
  stack: process.env.LOGLAKE_STACK || undefined,
  /** Print stack traces of unexpected errors. */
  debug: process.env.LOGLAKE_DEBUG === '1' || process.env.LOGLAKE_DEBUG === 'true',
  /** AWS region for Athena, CloudFormation and Secrets Manager when `--region` is not given. */
  region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || undefined,
} as const;

export { quietSdkNodeVersionWarning } from '../producer/env';
