/** Erasure requests on disk, and carrying out the due ones when a step fails half-way. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalSubjectRequestStore } from '../../src/privacy/local-requests';
import { LocalSubjectKeyStore } from '../../src/privacy/local-store';
import {
  ERASURE_CLAIM_LEASE_MS,
  type EraseRequest,
  runDueErasures,
  type SubjectRequestStore,
} from '../../src/privacy/requests';
import { KeyStoreUnavailableError } from '../../src/privacy/store';

const dir = mkdtempSync(join(tmpdir(), 'loglake-requests-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const REF = 'a'.repeat(64);
const request = (over: Partial<EraseRequest> = {}): EraseRequest => ({
  subject: REF,
  state: 'pending',
  requested: '2026-01-01T00:00:00.000Z',
  due: '2026-01-08T00:00:00.000Z',
  reason: 'ticket 1',
  principal: 'alice@host',
  persona: 'privacy-officer',
  purge: false,
  ...over,
});

describe('LocalSubjectRequestStore', () => {
  it('keeps the latest request per subject and lists by state', async () => {
    const store = new LocalSubjectRequestStore(join(dir, 'a'));
    expect(await store.list('pending')).toEqual([]);
    await store.put(request());
    await store.put(
      request({ subject: 'b'.repeat(64), state: 'cancelled', closed: '2026-01-02T00:00:00.000Z' }),
    );
    expect((await store.list('pending')).map((r) => r.subject)).toEqual([REF]);
    expect(await store.get('b'.repeat(64))).toMatchObject({ state: 'cancelled' });
    expect(await store.get('c'.repeat(64))).toBeUndefined();
  });

  it('refuses a damaged request rather than guessing who to erase', async () => {
    const d = join(dir, 'damaged');
    const store = new LocalSubjectRequestStore(d);
    await store.put(request());
    writeFileSync(join(d, `${REF}.json`), '{"subject":"');
    await expect(store.get(REF)).rejects.toThrow(KeyStoreUnavailableError);
    await expect(store.list('pending')).rejects.toThrow(/is damaged/);
  });

  it('leaves a request pending when its audit event cannot be recorded, and finishes it next time', async () => {
    const keys = new LocalSubjectKeyStore(join(dir, 'keys'));
    keys.getOrCreateSync([REF]);
    const requests = new LocalSubjectRequestStore(join(dir, 'b'));
    await requests.put(request());
    const now = () => Date.parse('2026-01-09T00:00:00.000Z');
    const recorded: boolean[] = [];

    await expect(
      runDueErasures({
        keys,
        requests,
        executor: 'test',
        now,
        record: async () => {
          throw new Error('audit sink down');
        },
      }),
    ).rejects.toThrow('audit sink down');
    expect(await requests.get(REF)).toMatchObject({ state: 'pending' });
    expect((await keys.get([REF])).size).toBe(0);

    const done = await runDueErasures({
      keys,
      requests,
      executor: 'test',
      now,
      record: async (_r, destroyed) => void recorded.push(destroyed),
    });
    expect(done.map((d) => d.request.state)).toEqual(['done']);
    expect(recorded).toEqual([false]);
    expect(await requests.get(REF)).toMatchObject({ state: 'done', closedBy: 'test' });
  });

  it('keeps what a finished purge did when a later step fails, so the retry records it, not a purge of nothing', async () => {
    // Prepare: a purge that finds the person's 3 rows the first time, and nothing once they are gone.
    const keys = new LocalSubjectKeyStore(join(dir, 'keys-purged'));
    keys.getOrCreateSync([REF]);
    const requests = new LocalSubjectRequestStore(join(dir, 'purged'));
    const pseudonym = `u_${'b'.repeat(32)}`;
    await requests.put(request({ purge: true, pseudonym }));
    const now = () => Date.parse('2026-01-09T00:00:00.000Z');
    let left = 3;
    const purge = async () => {
      const rows = left;
      left = 0;
      return `purged ${rows} row(s)`;
    };
    const recorded: Array<string | undefined> = [];

    // Act: the audit event of the first run fails after the purge and the key's destruction.
    await expect(
      runDueErasures({
        keys,
        requests,
        executor: 'test',
        now,
        purge,
        record: async () => {
          throw new Error('audit sink down');
        },
      }),
    ).rejects.toThrow('audit sink down');
    const between = await requests.get(REF);
    const done = await runDueErasures({
      keys,
      requests,
      executor: 'test',
      now,
      purge,
      record: async (_r, _destroyed, purged) => void recorded.push(purged),
    });

    // Assess
    expect(between).toMatchObject({ state: 'pending', purged: 'purged 3 row(s)' });
    expect(between).not.toHaveProperty('pseudonym');
    expect(recorded).toEqual(['purged 3 row(s)']);
    expect(done.map((d) => d.request.outcome)).toEqual([
      'no key (already destroyed, or never seen); purged 3 row(s)',
    ]);
    expect(await requests.get(REF)).not.toHaveProperty('purged');
  });

  it('carries out the other due requests when one fails, and still fails the run', async () => {
    // Arrange: two due requests; the audit event of one of them cannot be recorded, run after run.
    const other = 'b'.repeat(64);
    const keys = new LocalSubjectKeyStore(join(dir, 'keys-isolated'));
    keys.getOrCreateSync([REF, other]);
    const requests = new LocalSubjectRequestStore(join(dir, 'isolated'));
    await requests.put(request());
    await requests.put(request({ subject: other }));
    const run = () =>
      runDueErasures({
        keys,
        requests,
        executor: 'test',
        now: () => Date.parse('2026-01-09T00:00:00.000Z'),
        record: async (r) => {
          if (r.subject === REF) throw new Error('audit event refused');
        },
      });

    // Act, twice: whichever the listing returns first, the healthy request must not wait on the other.
    await expect(run()).rejects.toThrow('audit event refused');
    await expect(run()).rejects.toThrow('audit event refused');

    // Assert
    expect(await requests.get(other)).toMatchObject({ state: 'done', outcome: 'key destroyed' });
    expect(await requests.get(REF)).toMatchObject({ state: 'pending' });
  });

  it('never carries out a request cancelled after the executor listed it', async () => {
    // Arrange: the executor's listing is taken, then the request is withdrawn before it claims it.
    const keys = new LocalSubjectKeyStore(join(dir, 'keys-race'));
    keys.getOrCreateSync([REF]);
    const store = new LocalSubjectRequestStore(join(dir, 'race'));
    await store.put(request());
    const listed = await store.list('pending');
    const pending = listed[0] as EraseRequest;
    expect(await store.replace(pending, { ...pending, state: 'cancelled', closed: pending.due })).toBe(true);
    const stale: SubjectRequestStore = {
      location: store.location,
      get: (ref) => store.get(ref),
      put: (r) => store.put(r),
      replace: (current, next) => store.replace(current, next),
      list: async () => listed,
    };

    // Act
    const done = await runDueErasures({
      keys,
      requests: stale,
      executor: 'test',
      now: () => Date.parse('2026-01-09T00:00:00.000Z'),
      record: async () => {
        throw new Error('nothing may be recorded');
      },
    });

    // Assert: the claim lost to the cancel; the key stays.
    expect(done).toEqual([]);
    expect(await store.get(REF)).toMatchObject({ state: 'cancelled' });
    expect((await keys.get([REF])).size).toBe(1);
  });

  it('carries a due request out once when two runs overlap, and refuses to cancel it once claimed', async () => {
    const keys = new LocalSubjectKeyStore(join(dir, 'keys-twice'));
    keys.getOrCreateSync([REF]);
    const store = new LocalSubjectRequestStore(join(dir, 'twice'));
    await store.put(request());
    const now = () => Date.parse('2026-01-09T00:00:00.000Z');
    const recorded: boolean[] = [];
    const run = () =>
      runDueErasures({
        keys,
        requests: store,
        executor: 'test',
        now,
        record: async (r, destroyed) => {
          // Claimed, not yet closed: a cancel now compares against the unclaimed request and loses.
          const unclaimed = { ...r, claimed: undefined };
          expect(await store.replace(unclaimed, { ...r, state: 'cancelled' })).toBe(false);
          recorded.push(destroyed);
        },
      });

    const [a, b] = await Promise.all([run(), run()]);
    const again = await run();

    expect(a.length + b.length).toBe(1);
    expect(again).toEqual([]);
    expect(recorded).toEqual([true]);
    expect(await store.get(REF)).toMatchObject({ state: 'done', outcome: 'key destroyed' });
    expect((await store.get(REF))?.claimed).toBeUndefined();
  });

  it('takes over a claim left by a run that died, once the lease has passed', async () => {
    const keys = new LocalSubjectKeyStore(join(dir, 'keys-lease'));
    keys.getOrCreateSync([REF]);
    const store = new LocalSubjectRequestStore(join(dir, 'lease'));
    const claimedAt = Date.parse('2026-01-09T00:00:00.000Z');
    await store.put(request({ claimed: new Date(claimedAt).toISOString() }));
    const run = (at: number) =>
      runDueErasures({ keys, requests: store, executor: 'test', now: () => at, record: async () => {} });

    expect(await run(claimedAt + ERASURE_CLAIM_LEASE_MS - 1)).toEqual([]);
    expect((await keys.get([REF])).size).toBe(1);
    const done = await run(claimedAt + ERASURE_CLAIM_LEASE_MS);
    expect(done.map((d) => d.destroyed)).toEqual([true]);
    expect((await keys.get([REF])).size).toBe(0);
  });
});
