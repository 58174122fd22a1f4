/** Where the CLI's output goes: the process's streams, or a test's own functions. */
import { once } from 'node:events';
import { cliEnv } from './env';

/** Where the output goes; tests pass their own. */
export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /**
   * Width tables fit into (ids whole, messages wrapped at words).
   * @default no fitting: lines as long as their content (stdout is a file or a pipe)
   */
  readonly columns?: number;
  /** stderr is a terminal: progress lines are rewritten in place instead of appended. @default false */
  readonly isTTY?: boolean;
  /** Resolves when stdout can take more, so a long output is not buffered whole. @default at once */
  readonly drain?: () => Promise<void>;
}

/**
 * The width to fit tables into: `COLUMNS` when set, otherwise the terminal's width when stdout is one.
 * Output into a file or a pipe is never cut or wrapped unless `COLUMNS` asks for it.
 */
export function outputColumns(
  stdout: { readonly isTTY?: boolean; readonly columns?: number } = process.stdout,
  env: { readonly columns?: number } = cliEnv,
): number | undefined {
  if (env.columns !== undefined) return env.columns;
  return stdout.isTTY && stdout.columns ? stdout.columns : undefined;
}

export const processIO: CliIO = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  columns: outputColumns(),
  isTTY: Boolean(process.stderr.isTTY),
  drain: () =>
    process.stdout.writableNeedDrain
      ? once(process.stdout, 'drain').then(() => undefined)
      : Promise.resolve(),
};
