/**
 * Erasure requests with a cancellation window (`loglake subject erase --after 7d`): the request is kept
 * until it is due, `subject cancel` withdraws it, and whoever runs {@link runDueErasures} destroys the keys
 * of the due ones. Requests are addressed by subject reference, never by raw id, like the keys.
 *
 * Locally one JSON file per subject under `<data-dir>/.loglake/subject-requests/` (written to a temporary
 * file, fsync'd, renamed, the directory fsync'd: a crash leaves the old request or the new one). A closed
 * request (done, cancelled) stays as a record of what happened, so `subject status` can tell a destroyed
 * key from one that never existed.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { dataDirPaths } from '../local/datadir';
import { fsyncDir } from '../local/spool';
import { KeyStoreUnavailableError, type SubjectKeyStore } from './store';

const REF = /^[0-9a-f]{64}$/;

export const eraseRequestSchema = z.strictObject({
  subject: z.string().regex(REF),
  state: z.enum(['pending', 'done', 'cancelled']),
  requested: z.iso.datetime(),
  due: z.iso.datetime(),
  reason: z.string(),
  principal: z.string(),
  persona: z.string(),
  purge: z.boolean(),
  /**
   * The pseudonym a pending `--purge` request finds the person's rows by (the raw id is never kept).
   * Dropped when the request is closed: kept after the key is gone it would link the reference to the
   * person's records.
   */
  pseudonym: z
    .string()
    .regex(/^u_[0-9a-f]{32}$/)
    .optional(),
  /** When it was carried out or withdrawn. */
  closed: z.iso.datetime().optional(),
  /** Who withdrew it, or who carried it out. */
  closedBy: z.string().optional(),
  outcome: z.string().optional(),
});
/** One subject's latest erasure request. */
export type EraseRequest = z.output<typeof eraseRequestSchema>;

/** Where erasure requests are kept (locally: files beside the keys). */
export interface SubjectRequestStore {
  readonly location: string;
  /** The subject's latest request, or `undefined`. */
  get(ref: string): Promise<EraseRequest | undefined>;
  /** Replaces the subject's request, durably. */
  put(request: EraseRequest): Promise<void>;
  /** Every request in the state given. */
  list(state: EraseRequest['state']): Promise<EraseRequest[]>;
}

/** The directory of the local erasure requests of a data directory. */
export function localSubjectRequestDir(dataDir: string): string {
  return join(dataDirPaths(dataDir).state, 'subject-requests');
}

export class LocalSubjectRequestStore implements SubjectRequestStore {
  readonly location: string;

  constructor(private readonly dir: string) {
    this.location = `local:${dir}`;
  }

  static forDataDir(dataDir: string): LocalSubjectRequestStore {
    return new LocalSubjectRequestStore(localSubjectRequestDir(dataDir));
  }

  async get(ref: string): Promise<EraseRequest | undefined> {
    return this.guard('read', () => this.read(this.path(ref)));
  }

  async put(request: EraseRequest): Promise<void> {
    const valid = eraseRequestSchema.parse(request);
    this.guard('write', () => {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      const target = this.path(valid.subject);
      const tmp = join(this.dir, `.${valid.subject}.${randomBytes(6).toString('hex')}.tmp`);
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        writeSync(fd, `${JSON.stringify(valid)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      try {
        renameSync(tmp, target);
      } catch (error) {
        unlinkSync(tmp);
        throw error;
      }
      fsyncDir(this.dir);
    });
  }

  async list(state: EraseRequest['state']): Promise<EraseRequest[]> {
    return this.guard('list', () => {
      let names: string[];
      try {
        names = readdirSync(this.dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      return names
        .filter((n) => REF.test(n.replace(/\.json$/, '')) && n.endsWith('.json'))
        .map((n) => this.read(join(this.dir, n)))
        .filter((r): r is EraseRequest => r !== undefined && r.state === state);
    });
  }

  private path(ref: string): string {
    if (!REF.test(ref)) throw new TypeError(`not a subject reference: ${ref.slice(0, 80)}`);
    return join(this.dir, `${ref}.json`);
  }

  private read(path: string): EraseRequest | undefined {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    const parsed = eraseRequestSchema.safeParse(safeJson(text));
    // A damaged request must not be guessed at (it could erase or spare the wrong person): say so.
    if (!parsed.success) throw new KeyStoreUnavailableError(`erasure request ${path} is damaged`);
    return parsed.data;
  }

  private guard<T>(what: string, f: () => T): T {
    try {
      return f();
    } catch (error) {
      if (error instanceof KeyStoreUnavailableError || error instanceof TypeError) throw error;
      throw new KeyStoreUnavailableError(
        `cannot ${what} erasure requests in ${this.dir}: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** What carrying out one due request did. */
export interface ErasureDone {
  readonly request: EraseRequest;
  /** False when the key was already gone. */
  readonly destroyed: boolean;
}

export interface RunDueOptions {
  readonly keys: SubjectKeyStore;
  readonly requests: SubjectRequestStore;
  /** Who carries them out (recorded as `closedBy` and in the audit event). */
  readonly executor: string;
  /**
   * Records the audit event of a carried-out request; a request whose event could not be recorded stays
   * pending and is carried out again next time (its key is gone by then: "no key").
   */
  readonly record: (request: EraseRequest, destroyed: boolean, purged?: string) => Promise<void>;
  /**
   * Rewrites the unlocked categories without the subject's rows (`--purge`), before the key goes, and
   * says what it did; `undefined` when it cannot run now (the data directory is in use): the request
   * stays pending and is carried out next time.
   */
  readonly purge?: (request: EraseRequest) => Promise<string | undefined>;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * Carries out every pending request that is due: destroys the key, records the audit event, then marks
 * the request done, in that order, so a crash in between repeats the step (destroying is idempotent)
 * rather than losing it.
 */
export async function runDueErasures(options: RunDueOptions): Promise<ErasureDone[]> {
  const now = options.now ?? Date.now;
  const done: ErasureDone[] = [];
  for (const request of await options.requests.list('pending')) {
    if (Date.parse(request.due) > now()) continue;
    let purged: string | undefined;
    if (request.purge && options.purge) {
      purged = await options.purge(request);
      if (purged === undefined) continue;
    }
    const destroyed = await options.keys.destroy(request.subject);
    await options.record(request, destroyed, purged);
    const { pseudonym: _dropped, ...kept } = request;
    const closed: EraseRequest = {
      ...kept,
      state: 'done',
      closed: new Date(now()).toISOString(),
      closedBy: options.executor,
      outcome: [destroyed ? 'key destroyed' : 'no key (already destroyed, or never seen)', purged]
        .filter(Boolean)
        .join('; '),
    };
    await options.requests.put(closed);
    done.push({ request: closed, destroyed });
  }
  return done;
}
