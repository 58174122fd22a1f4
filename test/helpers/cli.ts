/** The real `loglake` binary in its own process, as a user runs it. */
import { spawn } from 'node:child_process';
import { CLI } from './child';

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `loglake args…` with `env` added (LOGLAKE_DATA_DIR cleared unless given). */
export function loglake(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
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
    child.stdin.end();
  });
}
