/**
 * The local lake's integrity log: a SHA-256 manifest of every object the lake holds, kept beside it in
 * `<data-dir>/.loglake/integrity/chain.jsonl`, and made tamper-evident by hash-chaining its entries.
 *
 * Each line is one entry: what happened to which objects (`delivery`, `compaction`, `expiry`, and the
 * `baseline` of files found when the log was started), with the SHA-256, size and row count of each
 * object, its sequence number, the hash of the previous entry (`prev`) and its own `hash` =
 * SHA-256(prev + "\n" + canonical JSON of the entry without `hash`). Changing an object breaks its
 * recorded hash; changing an entry breaks the chain from there on; deleting or reordering entries breaks
 * the sequence. Rewriting the whole chain from the start is what a local file cannot rule out on its own:
 * every compliance report prints the chain's head (sequence and hash), and a later report given that
 * head as an anchor proves the chain still extends it.
 *
 * Ordering, so that nothing is ever recorded as tampered that was not:
 * - a delivery is recorded after its files are in place and before the spool segment is removed (the
 *   commit), so a crash in between replays the delivery, which records it again; a later delivery entry
 *   of the same batch supersedes the earlier one;
 * - an expiry is recorded before the files are deleted (a crash in between leaves expired files that
 *   the next cleanup removes, never recorded files gone missing);
 * - a compaction is recorded once its outputs are in place, with the hashes of the files it replaces
 *   as found then, and again harmlessly if a crash lost the first record (idempotent by run).
 *
 * Several processes append (the pipeline, `loglake cleanup`, access events of CLI queries): appends
 * take a lock file beside the log, read the head from the file, and fsync before releasing it.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join, relative, sep } from 'node:path';
import { LogLakeError } from '../errors';
import { isAlive } from '../process';
import { DATA_PREFIX, ERROR_PREFIX } from '../schema';

/** Version of the entry format (`v` of every entry). */
export const INTEGRITY_VERSION = 1;
/** `prev` of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** One object of the lake as recorded: its key (path relative to the data directory) and content hash. */
export interface IntegrityObject {
  readonly key: string;
  readonly sha256: string;
  readonly bytes: number;
  /** Records (Parquet rows, error documents) in the object; absent when not known (baseline). */
  readonly rows?: number;
}

/** What an entry records. */
export type IntegrityEvent =
  /** The objects found in the lake when the log was started (not recorded at their delivery). */
  | { readonly type: 'baseline'; readonly objects: readonly IntegrityObject[] }
  /** Objects a delivery placed in the lake. A later delivery of the same `batch` supersedes this one. */
  | {
      readonly type: 'delivery';
      readonly source: string;
      readonly batch: string;
      readonly objects: readonly IntegrityObject[];
    }
  /** A compaction replaced `replaced` (hashes as found at compaction time) by `outputs`, same rows. */
  | {
      readonly type: 'compaction';
      readonly run: string;
      readonly partition: string;
      readonly replaced: readonly IntegrityObject[];
      readonly outputs: readonly IntegrityObject[];
      readonly rows: number;
    }
  /** Objects removed because their category's retention ended (recorded before they are deleted). */
  | {
      readonly type: 'expiry';
      readonly reason: string;
      readonly objects: readonly IntegrityObject[];
    };

/** One line of the log. */
export type IntegrityEntry = IntegrityEvent & {
  readonly v: number;
  readonly seq: number;
  /** When it was recorded, ISO-8601 UTC. */
  readonly at: string;
  readonly prev: string;
  readonly hash: string;
};

/** The log could not be appended to (lock held too long, I/O). */
export class IntegrityLogError extends LogLakeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IntegrityLogError';
  }
}

/** Where the log of a data directory lives. */
export function integrityPaths(dataDir: string) {
  const dir = join(dataDir, '.loglake', 'integrity');
  return { dir, chain: join(dir, 'chain.jsonl'), lock: join(dir, 'lock') };
}

/** JSON with object keys sorted at every level: the form an entry's hash is computed over. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The hash of an entry given everything but its `hash`. */
export function entryHash(entry: Omit<IntegrityEntry, 'hash'>): string {
  return createHash('sha256')
    .update(`${entry.prev}\n${canonicalJson(entry)}`)
    .digest('hex');
}

/** SHA-256 and size of a file, read in chunks (compacted files may be large). */
export function hashFile(path: string): { sha256: string; bytes: number } {
  const hash = createHash('sha256');
  const fd = openSync(path, 'r');
  const buffer = Buffer.allocUnsafe(1024 * 1024);
  let bytes = 0;
  try {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, null);
      if (n === 0) break;
      hash.update(buffer.subarray(0, n));
      bytes += n;
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** An object of the lake with its hash, as found on disk now. */
export function objectOf(dataDir: string, key: string, rows?: number): IntegrityObject {
  const { sha256, bytes } = hashFile(join(dataDir, key));
  return { key, sha256, bytes, ...(rows !== undefined ? { rows } : {}) };
}

/**
 * Every object of a lake: Parquet files under `logs/` and error documents under `errors/`, as keys
 * relative to the data directory with `/` separators, sorted. Hidden and temporary files are not objects.
 */
export function lakeObjectKeys(dataDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name.startsWith('_')) continue;
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.isFile() && (e.name.endsWith('.parquet') || e.name.endsWith('.ndjson'))) {
        out.push(relative(dataDir, path).split(sep).join('/'));
      }
    }
  };
  walk(join(dataDir, DATA_PREFIX));
  walk(join(dataDir, ERROR_PREFIX));
  return out.sort();
}

const LOCK_WAIT_MS = 10_000;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** Held for the few milliseconds of an append; a lock of a process that died is taken over. */
function withLock<T>(lock: string, fn: () => T): T {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx', 0o600);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      let holder = 0;
      try {
        holder = Number(readFileSync(lock, 'utf8'));
      } catch {
        // Released between our open and our read: try again.
        continue;
      }
      // Appends are synchronous, so a lock naming this process is a dead one's whose pid was reused.
      if (holder && (holder === process.pid || !isAlive(holder))) {
        try {
          unlinkSync(lock);
        } catch {
          // Someone else took it over first.
        }
        continue;
      }
      if (Date.now() > deadline) {
        throw new IntegrityLogError(
          `the integrity log lock ${lock} has been held by process ${holder} for 10 s`,
        );
      }
      sleepSync(5);
    }
  }
  try {
    return fn();
  } finally {
    try {
      unlinkSync(lock);
    } catch {
      // Gone already.
    }
  }
}

/**
 * The last complete line of the open file, and the length of the file up to and including it (a torn
 * last line, from a crash in the middle of an append, is not part of the log).
 */
function lastLine(fd: number): { line: string | undefined; end: number } {
  const size = fstatSync(fd).size;
  if (size === 0) return { line: undefined, end: 0 };
  const chunk = 64 * 1024;
  let pos = size;
  let tail = Buffer.alloc(0);
  let end = -1;
  while (pos > 0) {
    const n = Math.min(chunk, pos);
    pos -= n;
    const buf = Buffer.allocUnsafe(n);
    readSync(fd, buf, 0, n, pos);
    tail = Buffer.concat([buf, tail]);
    if (end < 0) {
      const nl = tail.lastIndexOf(10);
      if (nl < 0) continue;
      end = pos + nl + 1;
      tail = tail.subarray(0, nl);
    }
    const start = tail.lastIndexOf(10);
    if (start >= 0) return { line: tail.subarray(start + 1).toString('utf8'), end };
  }
  return end < 0 ? { line: undefined, end: 0 } : { line: tail.toString('utf8'), end };
}

/**
 * The head an append continues from. A last line that is not an entry (the log was damaged) is still
 * chained to, by its text's hash, so deliveries go on and the verifier reports the damage where it is.
 */
function headOf(line: string, fd: number): Pick<IntegrityEntry, 'seq' | 'hash'> {
  try {
    const entry = JSON.parse(line) as Partial<IntegrityEntry>;
    if (typeof entry.seq === 'number' && typeof entry.hash === 'string')
      return { seq: entry.seq, hash: entry.hash };
  } catch {
    // Not JSON: fall through.
  }
  const lines = readFileSync(fd, 'utf8').split('\n').length - 1;
  return { seq: lines - 1, hash: createHash('sha256').update(line).digest('hex') };
}

/**
 * Appends to the integrity log of one data directory. Cheap to create: nothing is read until the first
 * append. Every method is synchronous and durable when it returns.
 */
export class IntegrityLog {
  readonly paths: ReturnType<typeof integrityPaths>;

  constructor(private readonly dataDir: string) {
    this.paths = integrityPaths(dataDir);
  }

  /** Whether the log has been started in this data directory. */
  exists(): boolean {
    return existsSync(this.paths.chain) && statSync(this.paths.chain).size > 0;
  }

  /**
   * Start the log if it has no entry yet: a `baseline` entry with every object already in the lake
   * (hashed now). The pipeline calls this when it opens a data directory.
   */
  ensureStarted(): void {
    if (this.exists()) return;
    this.append(() => ({ type: 'baseline', objects: [] }));
  }

  /** Objects a delivery placed in the lake (`source`: the stream, or `access` for CLI access events). */
  recordDelivery(source: string, batch: string, objects: readonly IntegrityObject[]): void {
    this.append(() => ({ type: 'delivery', source, batch, objects: [...objects] }));
  }

  /**
   * A compaction that committed; skipped when the run is already recorded. `known: 'unrecorded'` skips
   * that check (a scan of the whole log) for a run just committed, which nothing recorded yet.
   */
  recordCompaction(
    event: Omit<Extract<IntegrityEvent, { type: 'compaction' }>, 'type'>,
    known?: 'unrecorded',
  ): void {
    if (known !== 'unrecorded' && this.hasCompaction(event.run)) return;
    this.append(() => ({ type: 'compaction', ...event }));
  }

  /** Objects about to be deleted because they expired. Record first, then delete. */
  recordExpiry(reason: string, objects: readonly IntegrityObject[]): void {
    this.append(() => ({ type: 'expiry', reason, objects: [...objects] }));
  }

  /** The compaction runs recorded (one scan of the log). */
  compactionRuns(): Set<string> {
    const runs = new Set<string>();
    if (!existsSync(this.paths.chain)) return runs;
    for (const line of readFileSync(this.paths.chain, 'utf8').split('\n')) {
      if (!line.includes('"type":"compaction"')) continue;
      const run = /"run":("(?:[^"\\]|\\.)*")/.exec(line)?.[1];
      if (run !== undefined) runs.add(JSON.parse(run) as string);
    }
    return runs;
  }

  /** Whether a compaction run is recorded (scans the log). */
  hasCompaction(run: string): boolean {
    if (!existsSync(this.paths.chain)) return false;
    const needle = `"run":${JSON.stringify(run)}`;
    return readFileSync(this.paths.chain, 'utf8')
      .split('\n')
      .some((line) => line.includes(needle) && line.includes('"type":"compaction"'));
  }

  /**
   * Append one entry under the lock. A log without entries gets its baseline first, so the first entry
   * always accounts for what was in the lake before.
   */
  private append(event: () => IntegrityEvent): IntegrityEntry | undefined {
    mkdirSync(this.paths.dir, { recursive: true });
    return withLock(this.paths.lock, () => {
      const fd = openSync(this.paths.chain, 'a+', 0o600);
      try {
        const { line, end } = lastLine(fd);
        // A torn last line is an append that never returned: drop it.
        if (end !== fstatSync(fd).size) ftruncateSync(fd, end);
        let head = line === undefined ? undefined : headOf(line, fd);
        const write = (body: IntegrityEvent): IntegrityEntry => {
          const base = {
            v: INTEGRITY_VERSION,
            seq: head ? head.seq + 1 : 0,
            at: new Date().toISOString(),
            prev: head ? head.hash : GENESIS_HASH,
            ...body,
          } as Omit<IntegrityEntry, 'hash'>;
          const entry = { ...base, hash: entryHash(base) } as IntegrityEntry;
          writeSync(fd, `${JSON.stringify(entry)}\n`);
          head = entry;
          return entry;
        };
        if (head === undefined) {
          write({
            type: 'baseline',
            objects: lakeObjectKeys(this.dataDir).map((k) => objectOf(this.dataDir, k)),
          });
        }
        const body = event();
        // ensureStarted asks for the baseline only: it was just written (or the log had one).
        const written = body.type === 'baseline' ? undefined : write(body);
        fsyncSync(fd);
        return written;
      } finally {
        closeSync(fd);
      }
    });
  }
}

/** Every entry of a log, as parsed; a line that is not JSON is kept as `undefined` with its text. */
export function readIntegrityLog(
  dataDir: string,
): Array<{ line: number; text: string; entry: IntegrityEntry | undefined }> {
  const { chain } = integrityPaths(dataDir);
  if (!existsSync(chain)) return [];
  const text = readFileSync(chain, 'utf8');
  const lines = text.split('\n');
  // The last element is '' for a log ending in a newline, or a torn append (never part of the log).
  lines.pop();
  return lines.map((t, i) => {
    try {
      return { line: i + 1, text: t, entry: JSON.parse(t) as IntegrityEntry };
    } catch {
      return { line: i + 1, text: t, entry: undefined };
    }
  });
}
