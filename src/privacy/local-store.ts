/**
 * The local subject key store: one file per subject under `<data-dir>/.loglake/subjects/`, named by the
 * subject reference and holding the key in hex (mode 0600). Crash-safe and race-free across processes
 * (the pipeline and `loglake subject erase` may run at once): a key is written to a temporary file and
 * fsync'd, then `link`ed to its name, which fails if the subject exists, so a reader sees no key or a
 * whole one and the first writer wins. Destroying overwrites the file with zeros, fsyncs, unlinks, and
 * fsyncs the directory: after a crash the key is either whole or gone.
 */
import {
  accessSync,
  closeSync,
  constants,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { dataDirPaths } from '../local/datadir';
import { fsyncDir } from '../local/spool';
import { SubjectKeyring, type SubjectKeyringOptions } from './keyring';
import { createDurably, guardStore, refPath } from './local-files';
import { KeyStoreUnavailableError, type SyncSubjectKeyStore } from './store';
import { newSubjectKey, SUBJECT_KEY_BYTES } from './subject';

/** The directory of the local subject keys of a data directory. */
export function localSubjectKeyDir(dataDir: string): string {
  return join(dataDirPaths(dataDir).state, 'subjects');
}

export class LocalSubjectKeyStore implements SyncSubjectKeyStore {
  readonly location: string;

  /** @param dir - the key directory (see {@link localSubjectKeyDir}); created on first write. */
  constructor(private readonly dir: string) {
    this.location = `local:${dir}`;
  }

  /** A store over `<dataDir>/.loglake/subjects`. */
  static forDataDir(dataDir: string): LocalSubjectKeyStore {
    return new LocalSubjectKeyStore(localSubjectKeyDir(dataDir));
  }

  async get(refs: readonly string[]): Promise<Map<string, Uint8Array>> {
    return this.guard('read', () => {
      const out = new Map<string, Uint8Array>();
      for (const ref of new Set(refs)) {
        const key = this.read(ref);
        if (key) out.set(ref, key);
      }
      return out;
    });
  }

  async getOrCreate(refs: readonly string[]): Promise<Map<string, Uint8Array>> {
    return this.getOrCreateSync(refs);
  }

  getOrCreateSync(refs: readonly string[]): Map<string, Uint8Array> {
    return this.guard('create', () => {
      const out = new Map<string, Uint8Array>();
      let created = false;
      for (const ref of new Set(refs)) {
        let key = this.read(ref);
        if (!key) {
          key = this.create(ref);
          created = true;
        }
        out.set(ref, key);
      }
      if (created) fsyncDir(this.dir);
      return out;
    });
  }

  async destroy(ref: string): Promise<boolean> {
    return this.guard('destroy', () => {
      const path = this.path(ref);
      let fd: number;
      try {
        fd = openSync(path, 'r+');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
        throw error;
      }
      try {
        // Best effort against recovery from the disk; the unlink below is what the guarantee rests on.
        writeSync(fd, Buffer.alloc(SUBJECT_KEY_BYTES * 2 + 1, 0x30), 0, SUBJECT_KEY_BYTES * 2 + 1, 0);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      unlinkSync(path);
      fsyncDir(this.dir);
      return true;
    });
  }

  /**
   * Why keys could not be created now (the directory cannot be created or written), or `undefined`.
   * The local endpoint asks before acknowledging records, so it refuses (503) instead of accepting
   * records whose user ids could not be pseudonymized. Answers from a 1-second memo.
   */
  problem(now = Date.now()): string | undefined {
    if (this.probed !== undefined && now - this.probed.at < 1_000) return this.probed.problem;
    let problem: string | undefined;
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      accessSync(this.dir, constants.W_OK);
    } catch (error) {
      problem = `subject key store ${this.dir} is not writable: ${(error as Error).message}`;
    }
    this.probed = { at: now, problem };
    return problem;
  }

  private probed: { at: number; problem: string | undefined } | undefined;

  private path(ref: string): string {
    return refPath(this.dir, ref);
  }

  private read(ref: string): Uint8Array | undefined {
    let text: string;
    try {
      text = readFileSync(this.path(ref), 'utf8').trim();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    if (!/^[0-9a-f]{64}$/.test(text)) {
      // Never guess: a damaged key must not silently become a new subject (that would split a person).
      throw new KeyStoreUnavailableError(`subject key file ${this.path(ref)} is damaged`);
    }
    return new Uint8Array(Buffer.from(text, 'hex'));
  }

  private create(ref: string): Uint8Array {
    const key = newSubjectKey();
    if (createDurably(this.path(ref), `${Buffer.from(key).toString('hex')}\n`)) return key;
    const winner = this.read(ref);
    if (!winner) throw new KeyStoreUnavailableError(`subject key ${ref} vanished while being created`);
    return winner;
  }

  private guard<T>(what: string, f: () => T): T {
    return guardStore('subject keys', this.dir, what, f);
  }
}

/** The keyring of a data directory's pipeline: the lake key and the local store. */
export function localKeyring(
  dataDir: string,
  lakeKey: Uint8Array,
  options?: SubjectKeyringOptions,
): SubjectKeyring {
  return new SubjectKeyring(lakeKey, LocalSubjectKeyStore.forDataDir(dataDir), options);
}
