/**
 * The local data directory: the lake (`logs/`, `errors/`) plus the pipeline's own state under `.loglake/`
 * (spool, staging, pseudonym key, lock).
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { InputError, LogLakeError } from '../errors';
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
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      heldLocks.add(lock);
      return () => {
        heldLocks.delete(lock);
        try {
          if (readFileSync(lock, 'utf8') === String(process.pid)) unlinkSync(lock);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(readFileSync(lock, 'utf8'));
      if (holder && holder !== process.pid && isAlive(holder)) {
        throw new DataDirLockedError(
          `data directory ${dataDir} is in use by process ${holder} (lock ${lock}); stop it or use another --data-dir`,
        );
      }
      // Stale: the holder died (crash, SIGKILL). Its spool is recovered by us.
      unlinkSync(lock);
    }
  }
  throw new DataDirLockedError(`could not lock ${lock}`);
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
