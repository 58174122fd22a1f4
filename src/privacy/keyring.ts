/**
 * The subject keyring: turns raw user ids into pseudonyms with each subject's own key, for the
 * transform. One per container (the Lambda) or process (the local pipeline), caching pseudonyms for a
 * bounded time so a warm container does not read the store per record, and so an erased subject's
 * cached pseudonym outlives the erasure by at most `cacheTtlMs`.
 *
 * The transform is synchronous, the AWS store is not: `pseudonym` answers from the cache (or, for a
 * synchronous store, from the store at once) and otherwise notes the subject as pending and answers
 * `undefined`; the transform fails those records rather than store a raw id, and the caller resolves
 * the pending subjects in one batch (`resolvePending`) and transforms them again.
 */
import { backoffDelay, sleep } from '../backoff';
import type { Pseudonymizer } from '../redact/pseudonym';
import { isSyncStore, KeyStoreUnavailableError, type SubjectKeyStore } from './store';
import { normalizeSubjectId, subjectPseudonym, subjectRef } from './subject';

export interface SubjectKeyringOptions {
  /**
   * How long a resolved pseudonym is reused without asking the store. Bounds how long after an erasure
   * a running transform may still write the erased subject's old pseudonym.
   * @default 300_000 (5 minutes)
   */
  readonly cacheTtlMs?: number;
  /** Cached subjects at most; the cache is emptied when full. @default 50_000 */
  readonly maxCached?: number;
  /** Attempts of one `resolvePending` against the store (with backoff between). @default 3 */
  readonly attempts?: number;
  /** Backoff between attempts. @default { baseMs: 100, capMs: 2_000 } */
  readonly backoff?: { readonly baseMs: number; readonly capMs: number };
  /** @default Date.now */
  readonly now?: () => number;
  /**
   * With a synchronous store, collect missing subjects as with an asynchronous one (the record waits),
   * for {@link SubjectKeyring.resolvePendingSync} to create in one batch: the local transform does, so
   * a batch of new subjects costs the store one fsync, not one each. @default false (resolved at once)
   */
  readonly batchSync?: boolean;
}

interface Cached {
  readonly pseudonym: string;
  readonly expires: number;
}

export class SubjectKeyring implements Pseudonymizer {
  private readonly cache = new Map<string, Cached>();
  /**
   * Normalized raw id → subject reference, of subjects asked for and not yet resolved: a subject met
   * again before `resolvePending` costs a lookup here, not another HMAC of its reference.
   */
  private readonly pending = new Map<string, string>();
  private readonly ttl: number;
  private readonly maxCached: number;
  private readonly attempts: number;
  private readonly backoff: { readonly baseMs: number; readonly capMs: number };
  private readonly now: () => number;
  private readonly batchSync: boolean;
  /** The last error of a synchronous store, kept for the caller's report. */
  lastError: KeyStoreUnavailableError | undefined;

  constructor(
    private readonly lakeKey: string | Uint8Array,
    readonly store: SubjectKeyStore,
    options: SubjectKeyringOptions = {},
  ) {
    this.ttl = options.cacheTtlMs ?? 300_000;
    this.maxCached = options.maxCached ?? 50_000;
    this.attempts = Math.max(1, options.attempts ?? 3);
    this.backoff = options.backoff ?? { baseMs: 100, capMs: 2_000 };
    this.now = options.now ?? Date.now;
    this.batchSync = options.batchSync ?? false;
  }

  /** The subject reference of a raw id (for the store and the audit trail). */
  ref(rawId: string): string {
    return subjectRef(this.lakeKey, rawId);
  }

  pseudonym(rawId: string): string | undefined {
    const id = normalizeSubjectId(rawId);
    const hit = this.cache.get(id);
    if (hit !== undefined && hit.expires > this.now()) return hit.pseudonym;
    if (this.pending.has(id)) return undefined;
    const ref = this.ref(id);
    const store = this.store;
    if (isSyncStore(store) && !this.batchSync) {
      try {
        const key = store.getOrCreateSync([ref]).get(ref);
        if (key) return this.remember(id, key);
      } catch (error) {
        this.lastError = asUnavailable(error, store.location);
      }
      return undefined;
    }
    this.pending.set(id, ref);
    return undefined;
  }

  /** True when some subject was asked for and is not resolved yet. */
  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  /**
   * Fetches or creates the keys of every pending subject in one batch, retrying with backoff. Throws
   * `KeyStoreUnavailableError` when the store stays unreachable; the pending set is emptied either way
   * (the records that needed them are failed by the transform, nothing else waits on them).
   */
  async resolvePending(): Promise<void> {
    if (this.pending.size === 0) return;
    const pending = new Map(this.pending);
    this.pending.clear();
    let last: unknown;
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      if (attempt > 1) await sleep(backoffDelay(attempt - 1, this.backoff));
      try {
        const keys = await this.store.getOrCreate([...pending.values()]);
        for (const [id, ref] of pending) {
          const key = keys.get(ref);
          if (!key) throw new KeyStoreUnavailableError(`${this.store.location}: no key returned for ${ref}`);
          this.remember(id, key);
        }
        return;
      } catch (error) {
        last = error;
      }
    }
    throw asUnavailable(last, this.store.location, this.attempts);
  }

  /**
   * Creates (or reads) the keys of every pending subject in one call of a synchronous store. False when
   * the store failed (`lastError` says why; the records that needed them stay failed). The pending set is
   * emptied either way.
   */
  resolvePendingSync(): boolean {
    if (this.pending.size === 0) return true;
    const pending = new Map(this.pending);
    this.pending.clear();
    const store = this.store;
    if (!isSyncStore(store)) throw new TypeError(`${store.location} is not a synchronous key store`);
    try {
      const keys = store.getOrCreateSync([...pending.values()]);
      for (const [id, ref] of pending) {
        const key = keys.get(ref);
        if (!key) throw new KeyStoreUnavailableError(`${store.location}: no key returned for ${ref}`);
        this.remember(id, key);
      }
      return true;
    } catch (error) {
      this.lastError = asUnavailable(error, store.location);
      return false;
    }
  }

  /** Drops a subject from the cache (after erasing it in this process). */
  forget(rawId: string): void {
    this.cache.delete(normalizeSubjectId(rawId));
  }

  private remember(id: string, key: Uint8Array): string {
    const pseudonym = subjectPseudonym(key, id);
    if (this.cache.size >= this.maxCached) this.cache.clear();
    this.cache.set(id, { pseudonym, expires: this.now() + this.ttl });
    return pseudonym;
  }
}

function asUnavailable(error: unknown, location: string, attempts?: number): KeyStoreUnavailableError {
  const suffix = attempts === undefined ? '' : ` (after ${attempts} attempts)`;
  if (error instanceof KeyStoreUnavailableError) {
    return attempts === undefined
      ? error
      : new KeyStoreUnavailableError(`${error.message}${suffix}`, { cause: error });
  }
  const e = error as Error;
  return new KeyStoreUnavailableError(`cannot resolve subject keys in ${location}: ${e?.message}${suffix}`, {
    cause: error,
  });
}

/**
 * The pseudonym a raw id has now, read-only (search, export): `undefined` when the subject has no key
 * (never seen, or erased), so nothing can match.
 */
export async function lookupPseudonyms(
  lakeKey: string | Uint8Array,
  store: SubjectKeyStore,
  rawIds: readonly string[],
): Promise<Map<string, string | undefined>> {
  const refs = rawIds.map((id) => subjectRef(lakeKey, id));
  const keys = await store.get(refs);
  return new Map(
    rawIds.map((id, i) => {
      const key = keys.get(refs[i] as string);
      return [id, key === undefined ? undefined : subjectPseudonym(key, id)];
    }),
  );
}
