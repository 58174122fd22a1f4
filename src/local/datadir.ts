/**
 * The local data directory: the lake (`logs/`, `errors/`) plus the pipeline's own state under `.loglake/`
 * (spool, staging, pseudonym key, lock).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError, LogLakeError } from '../errors';
import { createDurably } from '../privacy/local-files';
import { isAlive } from '../process';
import type { StreamName } from '../schema';
import { writeDurably } from './writer';

/** Paths inside a data directory. */
export function dataDirPaths(dataDir: string) {
  const root = resolve(dataDir);
  const state = join(root, '.loglake');
  return {
    root,
    state,
    spool: (stream: StreamName) => join(state, 'spool', stream),
    staging: join(state, 'staging'),
    pseudonymKey: join(state, 'pseudonym.key'),
    lock: join(state, 'lock'),
  };
}

/**
 * The HMAC key for user-id pseudonyms of this data directory: read from `keyFile` when given, otherwise
 * from `<data-dir>/.loglake/pseudonym.key`, created (32 random bytes, hex, mode 0600) on first use. The
 * pipeline and `search --user` read the same file, so a raw user id finds its pseudonymized records.
 * @param create - create the key when missing. @default true
 */
export function pseudonymKey(dataDir: string, keyFile?: string, create = true): Buffer {
  const path = keyFile ?? dataDirPaths(dataDir).pseudonymKey;
  let text: string | undefined;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (keyFile !== undefined) throw new InputError(`--pseudonym-key-file: ${keyFile} does not exist`);
  }
  if (text === undefined) {
    if (!create) {
      throw new InputError(
        `no pseudonym key in ${dataDir} (${path}); has the local pipeline run there? Pass --pseudonym-key-file.`,
      );
    }
    mkdirSync(dataDirPaths(dataDir).state, { recursive: true });
    writeDurably(path, `${randomBytes(32).toString('hex')}\n`);
    chmodSync(path, 0o600);
    text = readFileSync(path, 'utf8').trim();
  }
  if (!/^[0-9a-f]{32,}$/i.test(text)) {
    throw new InputError(`pseudonym key in ${path} must be at least 16 bytes of hex`);
  }
  return Buffer.from(text, 'hex');
}

/** Another process holds the data directory. */
export class DataDirLockedError extends LogLakeError {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirLockedError';
  }
}

/**
 * Take the data directory for this process (one pipeline per directory: two would deliver the same spool
 * twice). A lock left by a process that no longer runs is taken over.
 * @returns a function releasing the lock.
 */
export function lockDataDir(dataDir: string): () => void {
  const { lock, state } = dataDirPaths(dataDir);
  if (heldLocks.has(lock)) {
    throw new DataDirLockedError(`data directory ${dataDir} is in use by process ${process.pid} (this one)`);
  }
  mkdirSync(state, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    if (createLock(lock)) {
      heldLocks.add(lock);
      return () => {
        heldLocks.delete(lock);
        try {
          if (readFileSync(lock, 'utf8') === String(process.pid)) unlinkSync(lock);
        } catch {
          // Already gone: nothing to release.
        }
      };
    }
    let seen: string;
    try {
      seen = readFileSync(lock, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    const holder = Number(seen);
    if (holder && holder !== process.pid && isAlive(holder)) {
      throw new DataDirLockedError(
        `data directory ${dataDir} is in use by process ${holder} (lock ${lock}); stop it or use another --data-dir`,
      );
    }
    // Stale: the holder died (crash, SIGKILL). Its spool is recovered by us.
    takeOver(lock, seen, dataDir);
  }
  throw new DataDirLockedError(`could not lock ${lock}`);
}

/**
 * Create the lock file with this process's pid already in it, or return false when it exists. Made
 * aside and linked into place: a lock seen empty, between its creation and the write of the pid, would
 * look stale to another process starting at the same moment.
 */
function createLock(lock: string): boolean {
  return createDurably(lock, String(process.pid));
}

/**
 * Remove a stale lock, but only the one that was read as stale (`seen`): another process may have taken
 * it over since, and removing its lock would let two pipelines deliver the same spool. The lock is moved
 * aside first (one rename wins), then checked, and given back when it is not the stale one.
 */
function takeOver(lock: string, seen: string, dataDir: string): void {
  const aside = `${lock}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
  try {
    renameSync(lock, aside);
  } catch (error) {
    // Gone already: whoever removed it, the next attempt creates it or finds its new holder.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = readFileSync(aside, 'utf8');
  if (moved === seen) {
    unlinkSync(aside);
    return;
  }
  try {
    linkSync(aside, lock);
  } finally {
    unlinkSync(aside);
  }
  throw new DataDirLockedError(
    `data directory ${dataDir} was just taken over by process ${moved} (lock ${lock}); stop it or use another --data-dir`,
  );
}

/** Locks this process holds (a lock file with our own pid but not in here is stale: pid reuse). */
const heldLocks = new Set<string>();

/** True when `path` exists and is a directory. */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
