/**
 * Where `export` writes: a file that appears only when complete (written beside it as `<file>.partial`,
 * flushed to disk, then renamed), or stdout for `-`.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { type FileHandle, open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InputError } from '../errors';
import type { CliIO } from './io';

/** `--output -` means stdout, as for most Unix tools. */
export const STDOUT_PATH = '-';

export interface OutputSink {
  /** The file name, or `stdout`: for messages. */
  readonly name: string;
  write(text: string): Promise<void>;
  /** Everything is written: make it visible under its name. */
  commit(): Promise<void>;
  /** Leave nothing behind. Safe to call more than once, and from a signal handler. */
  abort(): void;
}

/**
 * Open the output before the query runs, so a path that cannot be written costs no query.
 * @throws InputError naming the path when it cannot be created (missing directory, a parent that is a
 * file, a directory, no permission).
 */
export async function openOutput(path: string, io: CliIO): Promise<OutputSink> {
  if (path === STDOUT_PATH) {
    return {
      name: 'stdout',
      write: async (text) => {
        io.stdout(text);
        await io.drain?.();
      },
      commit: async () => undefined,
      abort: () => undefined,
    };
  }
  if (existsSync(path) && statSync(path).isDirectory()) {
    throw new InputError(`--output: ${path} is a directory; name a file (or - for stdout)`);
  }
  const partial = `${path}.partial`;
  let handle: FileHandle;
  try {
    handle = await open(partial, 'w');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' || code === 'ENOTDIR'
        ? missingParent(path)
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : (cause as Error).message;
    throw new InputError(`--output: cannot write ${path}: ${why}`, { cause });
  }
  // A signal during the commit leaves the file to the commit: it is complete by then.
  let state: 'open' | 'committing' | 'done' = 'open';
  const abort = () => {
    if (state === 'done') return;
    state = 'done';
    rmSync(partial, { force: true });
    handle.close().catch(() => undefined);
  };
  return {
    name: path,
    write: async (text) => {
      await handle.write(text);
    },
    commit: async () => {
      state = 'committing';
      try {
        await handle.sync();
        await handle.close();
        await rename(partial, path);
        state = 'done';
      } catch (error) {
        state = 'open';
        abort();
        throw error;
      }
    },
    abort: () => {
      if (state === 'open') abort();
    },
  };
}

/** Why the parent of `path` cannot hold it: the nearest existing ancestor is a file, or it is missing. */
function missingParent(path: string): string {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    if (existsSync(dir)) {
      return statSync(dir).isDirectory()
        ? `directory ${dirname(path)} does not exist`
        : `${dir} is not a directory`;
    }
    if (dirname(dir) === dir) return `directory ${dirname(path)} does not exist`;
  }
}
