import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalSubjectKeyStore, localSubjectKeyDir } from '../../src/privacy/local-store';
import { KeyStoreUnavailableError } from '../../src/privacy/store';
import { subjectRef } from '../../src/privacy/subject';

const dirs: string[] = [];
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'loglake-subjects-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) {
    chmodSync(d, 0o700);
    rmSync(d, { recursive: true, force: true });
  }
});

const ref = (id: string) => subjectRef('lake-key', id);

describe('LocalSubjectKeyStore', () => {
  it('creates a key once and returns the same key to a second store over the directory', async () => {
    const dir = dataDir();
    const a = LocalSubjectKeyStore.forDataDir(dir);
    const b = LocalSubjectKeyStore.forDataDir(dir);

    const first = await a.getOrCreate([ref('1001'), ref('1002')]);
    const again = await b.getOrCreate([ref('1001')]);

    expect(first.size).toBe(2);
    expect(Buffer.from(again.get(ref('1001')) ?? []).toString('hex')).toBe(
      Buffer.from(first.get(ref('1001')) ?? []).toString('hex'),
    );
    expect(first.get(ref('1001'))).not.toEqual(first.get(ref('1002')));
  });

  it('get returns only existing keys and creates none', async () => {
    const store = LocalSubjectKeyStore.forDataDir(dataDir());
    await store.getOrCreate([ref('a')]);

    const got = await store.get([ref('a'), ref('b')]);

    expect([...got.keys()]).toEqual([ref('a')]);
    expect((await store.get([ref('b')])).size).toBe(0);
  });

  it('destroys a key: true once, then false (idempotent), and a new key is different', async () => {
    const store = LocalSubjectKeyStore.forDataDir(dataDir());
    const before = (await store.getOrCreate([ref('a')])).get(ref('a'));

    const first = await store.destroy(ref('a'));
    const second = await store.destroy(ref('a'));
    const after = (await store.getOrCreate([ref('a')])).get(ref('a'));

    expect([first, second]).toEqual([true, false]);
    expect(after).not.toEqual(before);
  });

  it('ignores a temporary file left by a crash, and leaves none behind itself', async () => {
    const dir = dataDir();
    const store = LocalSubjectKeyStore.forDataDir(dir);
    await store.getOrCreate([ref('x')]);
    writeFileSync(join(localSubjectKeyDir(dir), `.${ref('y')}.abc.tmp`), 'half');

    const got = await store.getOrCreate([ref('y')]);

    expect(got.get(ref('y'))?.length).toBe(32);
    expect(
      readdirSync(localSubjectKeyDir(dir)).filter((f) => f.endsWith('.tmp') && !f.includes('.abc.')),
    ).toEqual([]);
  });

  it('refuses a damaged key file instead of making a new subject', async () => {
    const dir = dataDir();
    const store = LocalSubjectKeyStore.forDataDir(dir);
    await store.getOrCreate([ref('x')]);
    writeFileSync(join(localSubjectKeyDir(dir), ref('x')), 'not hex\n');

    await expect(store.get([ref('x')])).rejects.toThrow(/damaged/);
    expect(() => store.getOrCreateSync([ref('x')])).toThrow(KeyStoreUnavailableError);
  });

  it('reports an unwritable directory as KeyStoreUnavailableError naming it', async () => {
    const dir = dataDir();
    const keys = localSubjectKeyDir(dir);
    const store = new LocalSubjectKeyStore(keys);
    await store.getOrCreate([ref('x')]);
    chmodSync(keys, 0o500);
    try {
      // root ignores permission bits: only assert where the kernel enforces them.
      if (process.getuid?.() === 0) return;
      expect(() => store.getOrCreateSync([ref('new')])).toThrow(
        new RegExp(`cannot create subject keys in ${keys}`),
      );
    } finally {
      chmodSync(keys, 0o700);
    }
  });

  it('agrees on one key per subject when several processes create the same subjects at once', async () => {
    const dir = dataDir();
    const refs = Array.from({ length: 30 }, (_, i) => ref(`user-${i}`));
    const script = join(dir, 'create.ts');
    writeFileSync(
      script,
      `import { LocalSubjectKeyStore } from ${JSON.stringify(join(__dirname, '../../src/privacy/local-store.ts'))};
      const store = LocalSubjectKeyStore.forDataDir(${JSON.stringify(dir)});
      const refs: string[] = ${JSON.stringify(refs)};
      const keys = store.getOrCreateSync(refs);
      process.stdout.write(JSON.stringify(refs.map((r) => Buffer.from(keys.get(r) ?? []).toString('hex'))));`,
    );
    const tsx = join(__dirname, '../../node_modules/.bin/tsx');

    const outputs = await Promise.all(
      [1, 2, 3, 4].map(
        () =>
          new Promise<string>((resolve, reject) => {
            execFile(tsx, [script], { timeout: 60_000 }, (error, stdout) =>
              error ? reject(error) : resolve(stdout),
            );
          }),
      ),
    );

    const parsed = outputs.map((o) => JSON.parse(o) as string[]);
    expect(parsed.every((p) => JSON.stringify(p) === JSON.stringify(parsed[0]))).toBe(true);
    expect(new Set(parsed[0]).size).toBe(30);
    expect(parsed[0]?.every((k) => k.length === 64)).toBe(true);
    expect(existsSync(join(localSubjectKeyDir(dir), refs[0] as string))).toBe(true);
  });
});
