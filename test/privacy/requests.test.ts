/** Erasure requests on disk, and carrying out the due ones when a step fails half-way. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalSubjectKeyStore } from '../../src/privacy/local-store';
import { type EraseRequest, LocalSubjectRequestStore, runDueErasures } from '../../src/privacy/requests';
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
});
