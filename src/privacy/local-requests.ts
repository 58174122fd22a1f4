/**
 * The local erasure request store: one JSON file per subject under `<data-dir>/.loglake/subject-requests/`
 * (written to a temporary file, fsync'd, renamed, the directory fsync'd: a crash leaves the old request
 * or the new one). Apart from `requests.ts` so the AWS executor bundles no local-lake code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataDirPaths } from '../local/datadir';
import { guardStore, refPath, replaceDurably, SUBJECT_REF } from './local-files';
import { type EraseRequest, eraseRequestSchema, type SubjectRequestStore, sameRequestStep } from './requests';
import { KeyStoreUnavailableError } from './store';

const REF = SUBJECT_REF;

/** The directory of the local erasure requests of a data directory. */
export function localSubjectRequestDir(dataDir: string): string {
  return join(dataDirPaths(dataDir).state, 'subject-requests');
}

/** The last compare-and-set in flight per request directory (see {@link LocalSubjectRequestStore.replace}). */
const replacing = new Map<string, Promise<void>>();

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
    this.guard('write', () => replaceDurably(this.path(valid.subject), `${JSON.stringify(valid)}\n`));
  }

  /**
   * Compare-and-set, serialized within the process (every store of the same directory). Across
   * processes the check and the rename are not one atomic step: a local lake is one host, where
   * `loglake local` and a `loglake subject` run could interleave only within the milliseconds between.
   */
  async replace(current: EraseRequest | undefined, next: EraseRequest): Promise<boolean> {
    const previous = replacing.get(this.dir) ?? Promise.resolve();
    const step = previous.then(async () => {
      const stored = await this.get(next.subject);
      if (!sameRequestStep(stored, current)) return false;
      await this.put(next);
      return true;
    });
    const settled = step.then(
      () => undefined,
      () => undefined,
    );
    replacing.set(this.dir, settled);
    try {
      return await step;
    } finally {
      if (replacing.get(this.dir) === settled) replacing.delete(this.dir);
    }
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
    return refPath(this.dir, ref, '.json');
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
    return guardStore('erasure requests', this.dir, what, f);
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
