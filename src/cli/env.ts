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
  /** Default `--memory-limit` of DuckDB (search, stats, export, compact, local). */
  duckdbMemoryLimit: process.env.LOGLAKE_DUCKDB_MEMORY_LIMIT || undefined,
  /**
   * Fault injection for the crash tests of `loglake compact`: `<step>` or `<step>:<n>` kills the process
   * with SIGKILL when it reaches that step of a compaction (the n-th time; default the first).
   */
  faultCompactKillAt: process.env.LOGLAKE_FAULT_COMPACT_KILL_AT || undefined,
} as const;

/**
 * The AWS SDK warns on Node 20 that versions published after January 2027 need Node 22. It is about
 * future SDK releases, not this process; the demo hides it to keep its output readable.
 */
export function quietSdkNodeVersionWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
