/**
 * The data directory's lock when two processes start at once: another process is run (or stood in for)
 * at the exact moment this one is between two file operations of `lockDataDir`, through a `node:fs` that
 * calls a hook around them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DataDirLockedError, dataDirPaths, lockDataDir } from '../../src/local/datadir';
import { ROOT } from '../helpers/child';

const hooks = vi.hoisted(() => ({
  /** Called before every `writeSync`. */
  beforeWrite: (): void => undefined,
  /** Called after every `readFileSync`, with the path and what it read. */
  afterRead: (_path: string, _text: string): void => undefined,
}));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const writeSync = ((...args: Parameters<typeof fs.writeSync>) => {
    hooks.beforeWrite();
    return (fs.writeSync as (...a: unknown[]) => number)(...args);
  }) as typeof fs.writeSync;
  const readFileSync = ((...args: Parameters<typeof fs.readFileSync>) => {
    const out = (fs.readFileSync as (...a: unknown[]) => string | Buffer)(...args);
    hooks.afterRead(String(args[0]), String(out));
    return out;
  }) as typeof fs.readFileSync;
  return { ...fs, writeSync, readFileSync, default: { ...fs, writeSync, readFileSync } };
});

const cleanups: Array<() => void> = [];
afterEach(() => {
  hooks.beforeWrite = () => undefined;
  hooks.afterRead = () => undefined;
  for (const c of cleanups.splice(0).reverse()) c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'loglake-lock-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** `lockDataDir` in another process, right now: `locked`, or the name of what it threw. */
function lockInOtherProcess(dataDir: string): string {
  const script = `
    const { lockDataDir } = require(${JSON.stringify(join(ROOT, 'src', 'local', 'datadir.ts'))});
    try { lockDataDir(${JSON.stringify(dataDir)}); console.log('locked'); }
    catch (error) { console.log(error.name); }`;
  const out = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  return out.stdout.trim() || out.stderr;
}

/** A pid no process has: a child's, once it exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(child.stdout.trim());
}

describe('lockDataDir with two processes starting at once', () => {
  it('never shows the lock without its holder, so no other process takes it over while it is made', () => {
    // Prepare
    const dataDir = tempDir();
    const { lock } = dataDirPaths(dataDir);
    let other: string | undefined;
    hooks.beforeWrite = () => {
      // Another process looks at the lock while this one is writing its pid.
      if (other === undefined && existsSync(lock)) other = lockInOtherProcess(dataDir);
    };

    // Act
    const release = lockDataDir(dataDir);
    cleanups.push(release);

    // Assess
    expect(other ?? 'DataDirLockedError').toBe('DataDirLockedError');
    expect(readFileSync(lock, 'utf8')).toBe(String(process.pid));
  });

  it('does not remove the lock of a process that took a stale lock over a moment before', () => {
    // Prepare: a stale lock, and a live process (the test runner's parent) that takes it over right
    // after this one read it.
    const dataDir = tempDir();
    const { lock, state } = dataDirPaths(dataDir);
    lockDataDir(dataDir)();
    writeFileSync(join(state, 'lock'), String(deadPid()));
    const competitor = String(process.ppid);
    let tookOver = false;
    hooks.afterRead = (path) => {
      if (tookOver || path !== lock) return;
      tookOver = true;
      rmSync(lock);
      writeFileSync(lock, competitor, { flag: 'wx' });
    };

    // Act
    let outcome: unknown;
    try {
      cleanups.push(lockDataDir(dataDir));
      outcome = 'locked';
    } catch (error) {
      outcome = error;
    }

    // Assess
    expect(tookOver).toBe(true);
    expect(outcome).toBeInstanceOf(DataDirLockedError);
    expect(readFileSync(lock, 'utf8')).toBe(competitor);
  });
});
