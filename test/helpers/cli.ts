/** The real `loglake` binary in its own process, as a user runs it. */
import { spawn } from 'node:child_process';
import { CLI } from './child';

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** What the command reads on stdin. @default nothing (stdin closed) */
  readonly stdin?: string;
  /** The bin file to run (e.g. a symlink to it). @default the package's bin/loglake.cjs */
  readonly bin?: string;
  /** Working directory. @default this process's */
  readonly cwd?: string;
  /** Node options before the bin file (e.g. `--require`). @default none */
  readonly nodeArgs?: readonly string[];
}

/** Run `loglake args…` with `env` added (LOGLAKE_DATA_DIR and COLUMNS cleared unless given). */
export function loglake(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
  options: CliOptions = {},
): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), options.bin ?? CLI, ...args], {
      cwd: options.cwd,
      env: {
        ...process.env,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        LOGLAKE_DATA_DIR: '',
        COLUMNS: undefined,
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}
