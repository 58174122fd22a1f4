/**
 * The local subject key store: one file per subject under `<data-dir>/.loglake/subjects/`, named by the
 * subject reference and holding the key in hex (mode 0600). Crash-safe and race-free across processes
 * (the pipeline and `loglake subject erase` may run at once).
 *
 * Creating keys costs one fsync per batch, not one per subject (a day of traffic has tens of thousands
 * of new subjects): the batch's new keys are first written to a journal (`.journal/<pid>-<random>`,
 * fsync'd, its directory fsync'd), then each key goes to a temporary file `link`ed to its name, which
 * fails if the subject exists (the first writer wins; a loser returns the winner's key), then the key
 * directory is fsync'd once. So every key is durable before the call returns, in the journal if its own
 * file's data has not reached the disk yet. A journal is retired once its files are surely on disk (its
 * owner fsyncs them after {@link CHECKPOINT_AFTER_MS}, when the kernel has long written them back and the
 * fsyncs are cheap), or by the next process that finds it with its owner dead: that process repairs a key
 * file a crash left empty or torn from the journal, fsyncs the rest, and removes the journal.
 *
 * Destroying first removes the subject from every journal (rewritten and fsync'd), then overwrites the
 * key file with zeros, fsyncs, unlinks, and fsyncs the directory: after a crash the key is either whole
 * or gone.
 */
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { dataDirPaths } from '../local/datadir';
import { fsyncDir, fsyncFile } from '../local/spool';
import { isAlive } from '../process';
import { SubjectKeyring, type SubjectKeyringOptions } from './keyring';
import { guardStore, refPath } from './local-files';
import { KeyStoreUnavailableError, type SyncSubjectKeyStore } from './store';
import { newSubjectKey, SUBJECT_KEY_BYTES } from './subject';

const REF = /^[0-9a-f]{64}$/;
const KEY_HEX = /^[0-9a-f]{64}$/;
const JOURNAL = /^(\d+)-[0-9a-f]+$/;

/**
 * Age after which a journal's owner fsyncs its key files and removes it: past the kernel's writeback of
 * dirty pages (30 s by default), so the fsyncs find the data on disk already.
 */
export const CHECKPOINT_AFTER_MS = 60_000;

/** The directory of the local subject keys of a data directory. */
export function localSubjectKeyDir(dataDir: string): string {
  return join(dataDirPaths(dataDir).state, 'subjects');
}

/** How a store decides that a journal's owner is gone. */
export interface LocalSubjectKeyStoreOptions {
  /** @default process liveness (`process.kill(pid, 0)`) */
  readonly isAlive?: (pid: number) => boolean;
  /** Clock of the checkpoints. @default Date.now */
  readonly now?: () => number;
}

export class LocalSubjectKeyStore implements SyncSubjectKeyStore {
  readonly location: string;
  private readonly journalDir: string;
  private readonly alive: (pid: number) => boolean;
  private readonly now: () => number;
  /** This store's journals not yet retired, oldest first. */
  private readonly pending: Array<{
    readonly path: string;
    readonly refs: readonly string[];
    readonly at: number;
  }> = [];
  private recovered = false;

  /** @param dir - the key directory (see {@link localSubjectKeyDir}); created on first write. */
  constructor(
    private readonly dir: string,
    options: LocalSubjectKeyStoreOptions = {},
  ) {
    this.location = `local:${dir}`;
    this.journalDir = join(dir, '.journal');
    this.alive = options.isAlive ?? isAlive;
    this.now = options.now ?? Date.now;
  }

  /** A store over `<dataDir>/.loglake/subjects`. */
  static forDataDir(dataDir: string, options?: LocalSubjectKeyStoreOptions): LocalSubjectKeyStore {
    return new LocalSubjectKeyStore(localSubjectKeyDir(dataDir), options);
  }

  async get(refs: readonly string[]): Promise<Map<string, Uint8Array>> {
    return this.guard('read', () => {
      this.recover();
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
      this.recover();
      const out = new Map<string, Uint8Array>();
      const fresh: Array<[string, Uint8Array]> = [];
      for (const ref of new Set(refs)) {
        const key = this.read(ref);
        if (key) out.set(ref, key);
        else fresh.push([ref, newSubjectKey()]);
      }
      if (fresh.length > 0) {
        mkdirSync(this.journalDir, { recursive: true, mode: 0o700 });
        const journal = this.writeJournal(fresh);
        for (const [ref, key] of fresh) out.set(ref, this.link(ref, key));
        fsyncDir(this.dir);
        this.pending.push({ path: journal, refs: fresh.map(([ref]) => ref), at: this.now() });
      }
      this.checkpoint(this.now() - CHECKPOINT_AFTER_MS);
      return out;
    });
  }

  /**
   * Retire this store's journals created before `before`: their key files are fsync'd (a no-op for the
   * disk when the kernel has written them back), then the journal goes. @default every journal
   */
  checkpoint(before = Number.POSITIVE_INFINITY): void {
    while (this.pending.length > 0 && (this.pending[0]?.at ?? 0) < before) {
      const journal = this.pending.shift();
      if (!journal) break;
      for (const ref of journal.refs) fsyncIfPresent(this.path(ref));
      unlinkIfPresent(journal.path);
    }
  }

  async destroy(ref: string): Promise<boolean> {
    return this.guard('destroy', () => {
      this.recover();
      const path = this.path(ref);
      // Crypto-shredding: no copy of the key may outlive the erasure, the journals' included.
      this.scrubJournals(ref);
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

  /** The key in a key file; undefined when absent, `damaged` when present but not a whole key. */
  private readFile(ref: string): Uint8Array | 'damaged' | undefined {
    let text: string;
    try {
      text = readFileSync(this.path(ref), 'utf8').trim();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    return KEY_HEX.test(text) ? new Uint8Array(Buffer.from(text, 'hex')) : 'damaged';
  }

  private read(ref: string): Uint8Array | undefined {
    const key = this.readFile(ref);
    if (key === 'damaged') {
      // Never guess: a damaged key must not silently become a new subject (that would split a person).
      throw new KeyStoreUnavailableError(`subject key file ${this.path(ref)} is damaged`);
    }
    return key;
  }

  /** The batch's keys in one file, fsync'd with its directory entry: from here they survive a crash. */
  private writeJournal(keys: ReadonlyArray<readonly [string, Uint8Array]>): string {
    const path = join(this.journalDir, `${process.pid}-${randomBytes(6).toString('hex')}`);
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, keys.map(([ref, key]) => `${ref} ${Buffer.from(key).toString('hex')}\n`).join(''));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    fsyncDir(this.journalDir);
    return path;
  }

  /** Put `key` under `ref` unless a key is there already; returns the key that is there now. */
  private link(ref: string, key: Uint8Array): Uint8Array {
    const tmp = join(this.dir, `.${ref}.${randomBytes(6).toString('hex')}.tmp`);
    // Not fsync'd here: the journal holds the key until this file is surely on disk.
    writeFileSync(tmp, `${Buffer.from(key).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
    try {
      linkSync(tmp, this.path(ref));
      return key;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const winner = this.read(ref);
      if (!winner) throw new KeyStoreUnavailableError(`subject key ${ref} vanished while being created`);
      return winner;
    } finally {
      unlinkSync(tmp);
    }
  }

  /** Journals as `ref → key` lines; a line a crash cut short is not a key and is skipped. */
  private journals(): Array<{ path: string; pid: number; keys: Map<string, string> }> {
    let names: string[];
    try {
      names = readdirSync(this.journalDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const out: Array<{ path: string; pid: number; keys: Map<string, string> }> = [];
    for (const name of names) {
      const m = JOURNAL.exec(name);
      if (!m) continue;
      const path = join(this.journalDir, name);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw error;
      }
      const keys = new Map<string, string>();
      for (const line of text.split('\n')) {
        const [ref, key] = line.split(' ');
        if (ref && key && REF.test(ref) && KEY_HEX.test(key) && !keys.has(ref)) keys.set(ref, key);
      }
      out.push({ path, pid: Number(m[1]), keys });
    }
    return out;
  }

  /**
   * Once per store: the journals of processes that are gone. A key file a crash left damaged is
   * rewritten from the journal (when the journals of dead owners agree on its key; otherwise it stays
   * damaged and reads refuse it); a missing one stays missing (its creator never returned it); the rest
   * are fsync'd; then the journal goes.
   */
  private recover(): void {
    if (this.recovered) return;
    const dead = this.journals().filter((j) => !this.alive(j.pid));
    if (dead.length === 0) {
      this.recovered = true;
      return;
    }
    const candidates = new Map<string, Set<string>>();
    for (const j of dead) {
      for (const [ref, key] of j.keys) candidates.set(ref, (candidates.get(ref) ?? new Set()).add(key));
    }
    for (const [ref, keys] of candidates) {
      const path = this.path(ref);
      const present = this.readFile(ref);
      if (present === 'damaged' && keys.size === 1) {
        const tmp = join(this.dir, `.${ref}.${randomBytes(6).toString('hex')}.tmp`);
        const fd = openSync(tmp, 'wx', 0o600);
        try {
          writeSync(fd, `${[...keys][0]}\n`);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
        renameSync(tmp, path);
      } else if (present !== undefined) {
        fsyncFile(path);
      }
    }
    fsyncDir(this.dir);
    for (const j of dead) unlinkIfPresent(j.path);
    this.recovered = true;
  }

  /** Remove `ref` from every journal (each rewritten whole and fsync'd, or removed when it empties). */
  private scrubJournals(ref: string): void {
    let changed = false;
    for (const j of this.journals()) {
      if (!j.keys.has(ref)) continue;
      j.keys.delete(ref);
      changed = true;
      if (j.keys.size === 0) {
        unlinkIfPresent(j.path);
        continue;
      }
      const tmp = `${j.path}.${randomBytes(6).toString('hex')}.tmp`;
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        writeSync(fd, [...j.keys].map(([r, k]) => `${r} ${k}\n`).join(''));
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, j.path);
    }
    if (changed) fsyncDir(this.journalDir);
  }

  private guard<T>(what: string, f: () => T): T {
    return guardStore('subject keys', this.dir, what, f);
  }
}

function fsyncIfPresent(path: string): void {
  try {
    fsyncFile(path);
  } catch (error) {
    // Destroyed meanwhile: nothing left to make durable.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function unlinkIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
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
