/**
 * The crash-safe file steps the local privacy stores share (subject keys, erasure requests): a file is
 * written to a temporary name and fsync'd before it gets its real name, so a reader sees the old content
 * or the new one, never a part; and every failure of the file system becomes a
 * {@link KeyStoreUnavailableError} naming the store, so no caller mistakes "cannot read" for "absent".
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { fsyncDir } from '../local/spool';
import { KeyStoreUnavailableError } from './store';

/** A subject reference: hex HMAC-SHA256 (`subjectRef`). */
export const SUBJECT_REF = /^[0-9a-f]{64}$/;

/** `dir/name` checked to be a subject reference, so no id can name a path outside the store. */
export function refPath(dir: string, ref: string, suffix = ''): string {
  if (!SUBJECT_REF.test(ref)) throw new TypeError(`not a subject reference: ${ref.slice(0, 80)}`);
  return join(dir, `${ref}${suffix}`);
}

/** Writes `content` to a new temporary file in `dir` (mode 0600, fsync'd) and returns its path. */
function writeTemp(dir: string, name: string, content: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = join(dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/**
 * Creates `path` with `content` unless it exists (`link` fails on an existing name: the first writer
 * wins across processes). The directory is not fsync'd: the caller does it once for a batch.
 * @returns false when `path` existed (nothing written)
 */
export function createDurably(path: string, content: string): boolean {
  const dir = join(path, '..');
  const tmp = writeTemp(dir, path.slice(dir.length + 1), content);
  try {
    linkSync(tmp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(tmp);
  }
}

/** Replaces `path` with `content` (rename over it), then fsyncs the directory: after a crash, old or new. */
export function replaceDurably(path: string, content: string): void {
  const dir = join(path, '..');
  const tmp = writeTemp(dir, path.slice(dir.length + 1), content);
  try {
    renameSync(tmp, path);
  } catch (error) {
    unlinkSync(tmp);
    throw error;
  }
  fsyncDir(dir);
}

/**
 * Runs `f`, turning a file-system failure into a {@link KeyStoreUnavailableError} ("cannot <what> <thing>
 * in <dir>"); those it throws itself and `TypeError`s (a bad reference) pass unchanged.
 */
export function guardStore<T>(thing: string, dir: string, what: string, f: () => T): T {
  try {
    return f();
  } catch (error) {
    if (error instanceof KeyStoreUnavailableError || error instanceof TypeError) throw error;
    throw new KeyStoreUnavailableError(`cannot ${what} ${thing} in ${dir}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
