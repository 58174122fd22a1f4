/** Child processes for end-to-end tests: the real CLI (or a test script) started and stopped for real. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
/** The `loglake` CLI as users run it. */
export const CLI = join(ROOT, 'bin', 'loglake.cjs');

export interface ReadyChild {
  readonly child: ChildProcess;
  /** The URL from its `ready: <url>` line. */
  readonly url: string;
  /** Its stderr so far. */
  stderr(): string;
}

/**
 * Start `node <CLI> ...args` (or `node --import tsx <script> ...args`) and resolve once it printed
 * `ready: <url>` on stdout; reject if it exits first. Its stdin is a pipe the caller may write to.
 */
export function startReady(args: readonly string[], script?: string): Promise<ReadyChild> {
  const child = spawn(process.execPath, script ? ['--import', 'tsx', script, ...args] : [CLI, ...args], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  let out = '';
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /ready: (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        child.stdout?.off('data', onData);
        resolve({ child, url: m[1], stderr: () => err });
      }
    };
    child.stdout?.on('data', onData);
    child.on('exit', (code) =>
      reject(new Error(`${args[0] ?? script} exited (${code}) before it was ready: ${err}`)),
    );
  });
}

/**
 * `loglake local` on a free port over `dataDir` with `flags`, ready; the child is added to `children`, which
 * the test's `afterAll` kills (see {@link killAll}).
 */
export async function startLocalProcess(
  dataDir: string,
  flags: readonly string[],
  children: ChildProcess[],
): Promise<ReadyChild> {
  const started = await startReady(['local', '--port', '0', '--data-dir', dataDir, ...flags]);
  children.push(started.child);
  return started;
}

/** SIGKILLs every child still running (a test's `afterAll`). */
export function killAll(children: readonly ChildProcess[]): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

/** Resolves with the exit code (null when a signal ended it) once the child has exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}
