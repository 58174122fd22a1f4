/**
 * The local key store's batch journal: one fsync per batch of new subjects, and still crash-safe. A crash
 * is simulated the way a power loss leaves the files: every key file written since the last checkpoint
 * may have lost its data (empty, zero-filled or cut short) while its name survived (the directory was
 * fsync'd), and the writer is gone. The next store must return exactly the keys the dead one returned,
 * and an erased subject's key must be nowhere in the key directory, journals included.
 */
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config';
import { dataDirTransform } from '../../src/local/transform';
import { CHECKPOINT_AFTER_MS, LocalSubjectKeyStore, localSubjectKeyDir } from '../../src/privacy/local-store';
import { subjectRef } from '../../src/privacy/subject';

const root = mkdtempSync(join(tmpdir(), 'loglake-journal-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, `keys-${n++}`);
const ref = (i: number) => subjectRef('lake-key', `user-${i}`);
const hex = (k: Uint8Array | undefined) => Buffer.from(k ?? []).toString('hex');

/** Every file under `dir` (journals and temporaries included), with its content. */
function everyFile(dir: string): Array<{ path: string; text: string }> {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((p) => join(dir, p))
    .filter((p) => statSync(p).isFile())
    .map((path) => ({ path, text: readFileSync(path, 'utf8') }));
}

type Op = { kind: 'create'; users: number[] } | { kind: 'destroy'; user: number } | { kind: 'tick' };

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('create' as const),
      users: fc.array(fc.nat(11), { minLength: 1, maxLength: 6 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('destroy' as const), user: fc.nat(11) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const) }) },
);
const damage = fc.constantFrom('empty', 'zeros', 'torn', 'intact');

describe('LocalSubjectKeyStore journal', () => {
  it('writes one journal per batch of new subjects and retires it after the checkpoint age', async () => {
    // Arrange
    const dir = fresh();
    let clock = 1_000_000;
    const store = new LocalSubjectKeyStore(dir, { now: () => clock });

    // Act
    store.getOrCreateSync([ref(1), ref(2), ref(3)]);
    store.getOrCreateSync([ref(1), ref(2)]); // nothing new: no journal
    const afterFirst = readdirSync(join(dir, '.journal'));
    const firstLines = readFileSync(join(dir, '.journal', afterFirst[0] as string), 'utf8')
      .trim()
      .split('\n');
    clock += CHECKPOINT_AFTER_MS + 1;
    store.getOrCreateSync([ref(4)]);
    const afterSecond = readdirSync(join(dir, '.journal'));

    // Assert
    expect(afterFirst).toHaveLength(1);
    expect(firstLines).toHaveLength(3);
    // The first journal is retired (its files fsync'd), the new one for ref 4 is kept.
    expect(afterSecond).toHaveLength(1);
    expect(afterSecond[0]).not.toBe(afterFirst[0]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it("creates a transform batch's new subjects in one journal, and pseudonymizes every record", () => {
    // Arrange
    const dataDir = fresh();
    const transform = dataDirTransform(DEFAULT_CONFIG, dataDir);
    const records = Array.from({ length: 40 }, (_, i) => ({
      recordId: `r${i}`,
      approximateArrivalTimestamp: Date.now(),
      data: Buffer.from(
        JSON.stringify({
          timestamp: new Date().toISOString(),
          level: 'INFO',
          service: 'shop',
          message: `order ${i}`,
          user_id: `user-${i % 25}`,
        }),
      ).toString('base64'),
    }));

    // Act
    const out = transform(records, 'logs');

    // Assert
    expect(out.map((r) => r.result)).toEqual(records.map(() => 'Ok'));
    const rows = out.map(
      (r) => JSON.parse(Buffer.from(r.data, 'base64').toString('utf8')) as { user_id: string },
    );
    expect(new Set(rows.map((r) => r.user_id)).size).toBe(25);
    for (const r of rows) expect(r.user_id).toMatch(/^u_[0-9a-f]{32}$/);
    const journals = readdirSync(join(localSubjectKeyDir(dataDir), '.journal'));
    expect(journals).toHaveLength(1);
    const lines = readFileSync(join(localSubjectKeyDir(dataDir), '.journal', journals[0] as string), 'utf8')
      .trim()
      .split('\n');
    expect(lines).toHaveLength(25);
  });

  it('after a crash at any point, returns exactly the keys it returned before, and keeps no erased key anywhere', () => {
    fc.assert(
      fc.property(
        fc.array(op, { minLength: 1, maxLength: 12 }),
        fc.array(damage, { minLength: 12, maxLength: 12 }),
        (ops, damages) => {
          const dir = fresh();
          let clock = 0;
          const store = new LocalSubjectKeyStore(dir, { now: () => clock });
          const returned = new Map<string, string>();
          const erased = new Set<string>();
          for (const o of ops) {
            if (o.kind === 'create') {
              const keys = store.getOrCreateSync(o.users.map(ref));
              for (const [r, k] of keys) {
                if (returned.has(r)) expect(hex(k)).toBe(returned.get(r));
                returned.set(r, hex(k));
                erased.delete(returned.get(r) as string);
              }
            } else if (o.kind === 'destroy') {
              const r = ref(o.user);
              const key = returned.get(r);
              void store.destroy(r);
              if (key !== undefined) erased.add(key);
              returned.delete(r);
            } else {
              clock += CHECKPOINT_AFTER_MS + 1;
            }
          }
          // The crash: files not yet retired by a checkpoint may have lost their data.
          const journaled = new Set(
            everyFile(join(dir, '.journal')).flatMap((f) => f.text.split('\n').map((l) => l.split(' ')[0])),
          );
          for (let u = 0; u < 12; u++) {
            const path = join(dir, ref(u));
            if (!journaled.has(ref(u)) || !existsSync(path)) continue;
            const d = damages[u];
            if (d === 'empty') truncateSync(path, 0);
            else if (d === 'zeros') writeFileSync(path, Buffer.alloc(65));
            else if (d === 'torn') truncateSync(path, 17);
          }

          const after = new LocalSubjectKeyStore(dir, { isAlive: () => false });
          const got = after.getOrCreateSync([...returned.keys()]);

          for (const [r, k] of returned) expect(hex(got.get(r))).toBe(k);
          expect(existsSync(join(dir, '.journal')) ? readdirSync(join(dir, '.journal')) : []).toEqual([]);
          const text = everyFile(dir)
            .map((f) => f.text)
            .join('\n');
          for (const key of erased) expect(text.includes(key)).toBe(false);
          rmSync(dir, { recursive: true, force: true });
        },
      ),
      { numRuns: 60 },
    );
  });

  it('leaves a damaged key damaged (and refused) when the journals of dead writers disagree on it', async () => {
    // Arrange: two dead writers journaled different keys for one subject, and its file lost its data.
    const dir = fresh();
    const store = new LocalSubjectKeyStore(dir);
    store.getOrCreateSync([ref(7)]);
    const journal = readdirSync(join(dir, '.journal'))[0] as string;
    writeFileSync(join(dir, '.journal', '999999-abcdef'), `${ref(7)} ${'ab'.repeat(32)}\n`);
    truncateSync(join(dir, ref(7)), 0);

    // Act
    const after = new LocalSubjectKeyStore(dir, { isAlive: () => false });

    // Assert
    await expect(after.get([ref(7)])).rejects.toThrow(/damaged/);
    expect(journal).toMatch(/^\d+-[0-9a-f]+$/);
  });
});
