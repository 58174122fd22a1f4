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
  /**
   * `COLUMNS` when set to a positive whole number: tables fit this width even when stdout is not a
   * terminal (as `ls` and Python's `shutil.get_terminal_size` do); otherwise only a terminal's own width.
   */
  columns: positiveInt(process.env.COLUMNS),
} as const;

function positiveInt(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+$/.test(text.trim())) return undefined;
  const n = Number(text);
  return n > 0 ? n : undefined;
}

export { quietSdkNodeVersionWarning } from '../producer/env';
