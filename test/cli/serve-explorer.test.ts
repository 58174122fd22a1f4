/**
 * The explorer served by the long-running commands, as a user runs them in a terminal: `npm start` (the
 * demo, then the explorer until Ctrl-C) and `loglake local` (the pipeline and the explorer beside it).
 * Each is its own process group, and Ctrl-C is SIGINT to that group, as a terminal sends it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLI, ROOT } from '../helpers/child';

interface Running {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `re` on stdout; rejects if the process exits first. */
  waitFor(re: RegExp): Promise<RegExpExecArray>;
  /** Ctrl-C: SIGINT to the process group; resolves with the exit code, or the signal that ended it. */
  interrupt(): Promise<number | NodeJS.Signals | null>;
}

const started: Running[] = [];
const dirs: string[] = [];

function run(command: string, args: readonly string[]): Running {
  const child = spawn(command, args, {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.on('close', (code, signal) => resolve(code ?? signal)),
  );
  const r: Running = {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor: (re) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(out);
          if (m) {
            child.stdout?.off('data', check);
            resolve(m);
          }
        };
        child.stdout?.on('data', check);
        check();
        exited.then(() => reject(new Error(`exited before ${re}:\n${out}\n${err}`)));
      }),
    interrupt: () => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGINT');
      return exited;
    },
  };
  started.push(r);
  return r;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'loglake-serve-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  for (const r of started.splice(0)) {
    if (r.child.pid !== undefined && r.child.exitCode === null) {
      try {
        process.kill(-r.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The explorer answers at `url` with its search page. */
async function explorerAnswers(url: string): Promise<void> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(await res.text()).toContain('<title>Search · loglake explorer</title>');
}

describe('npm start', () => {
  it('prints the explorer’s address, serves it, and stops on Ctrl-C', async () => {
    // Arrange
    const dataDir = join(tempDir(), 'demo');

    // Act: the demo, then its last line
    const npm = run('npm', ['start', '--', '--data-dir', dataDir, '--ui-port', '0']);
    const [, url] = await npm.waitFor(/Explore it in a browser: (http:\/\/127\.0\.0\.1:\d+\/)/);

    // Assess: it serves the demo lake
    await explorerAnswers(url as string);
    const trace = await fetch(new URL('/dashboard?id=security', url));
    expect(trace.status).toBe(200);

    // Act: Ctrl-C
    const ended = await npm.interrupt();

    // Assess: the demo shut the explorer down cleanly and nothing listens any more; npm itself, sent
    // the terminal's SIGINT too, ends as npm does on Ctrl-C (by that signal) once its script is done
    expect(npm.stdout()).toMatch(/loglake demo: explorer stopped\.\n$/);
    expect(npm.stderr()).not.toMatch(/error|failed/i);
    expect([0, 'SIGINT'], npm.stderr()).toContain(ended);
    await expect(fetch(url as string)).rejects.toThrow();
  }, 120_000);

  it('runs a demo that itself exits 0 on Ctrl-C', async () => {
    // Arrange: the command `npm start` runs, from package.json (exec'd: a shell waiting on it would die
    // of the SIGINT itself, as npm does, and hide the demo's own exit)
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts: { start: string };
    };
    const dataDir = join(tempDir(), 'demo');
    const demo = run('sh', [
      '-c',
      `PATH="${join(ROOT, 'node_modules', '.bin')}:$PATH" exec ${pkg.scripts.start} --data-dir '${dataDir}' --ui-port 0`,
    ]);
    const [, url] = await demo.waitFor(/Explore it in a browser: (http:\/\/127\.0\.0\.1:\d+\/)/);
    await explorerAnswers(url as string);

    // Act
    const code = await demo.interrupt();

    // Assess
    expect(code, `${demo.stdout().slice(-300)}\n${demo.stderr()}`).toBe(0);
    expect(demo.stdout()).toMatch(/loglake demo: explorer stopped\.\n$/);
  }, 120_000);
});

describe('loglake local', () => {
  it('serves the explorer over its lake beside the endpoint, and stops both on Ctrl-C', async () => {
    // Arrange
    const dataDir = tempDir();

    // Act
    const local = run(process.execPath, [
      CLI,
      'local',
      '--port',
      '0',
      '--ui-port',
      '0',
      '--data-dir',
      dataDir,
      '--quiet',
      '--no-alerts',
    ]);
    const [, url] = await local.waitFor(/explorer at (http:\/\/127\.0\.0\.1:\d+\/)/);

    // Assess
    expect(local.stdout()).toMatch(/loglake local ready: http:\/\/127\.0\.0\.1:\d+ /);
    await explorerAnswers(url as string);
    const lake = await (await fetch(url as string)).text();
    expect(lake).toContain(`lake: ${dataDir}`);

    // Act
    const code = await local.interrupt();

    // Assess
    expect(code, local.stderr()).toBe(0);
    expect(local.stderr()).toContain('loglake local: stopped;');
    await expect(fetch(url as string)).rejects.toThrow();
  }, 60_000);

  it('serves no explorer with --no-ui', async () => {
    // Act
    const local = run(process.execPath, [
      CLI,
      'local',
      '--port',
      '0',
      '--data-dir',
      tempDir(),
      '--quiet',
      '--no-alerts',
      '--no-ui',
    ]);
    await local.waitFor(/loglake local ready: /);
    const code = await local.interrupt();

    // Assess
    expect(code).toBe(0);
    expect(local.stdout()).not.toContain('explorer');
  }, 60_000);
});
