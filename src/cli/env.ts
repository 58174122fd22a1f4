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

/**
 * The AWS SDK warns on Node 20 that versions published after January 2027 need Node 22. It is about
 * future SDK releases, not this process; the demo hides it to keep its output readable.
 */
export function quietSdkNodeVersionWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
