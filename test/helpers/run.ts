/** Running a command from a test: asynchronously, so a server of the test process can answer meanwhile. */
import { type SpawnOptions, spawn } from 'node:child_process';

export interface Ran {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `command` with `args`, capturing its output; resolves when it has exited and closed its output. */
export function run(command: string, args: readonly string[], options: SpawnOptions = {}): Promise<Ran> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', fail);
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

/** Run a shell command line with bash, as a user would type it. */
export function sh(command: string, options: SpawnOptions = {}): Promise<Ran> {
  return run('bash', ['-c', command], options);
}
