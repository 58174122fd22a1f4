import { spawn } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  canonicalJson,
  entryHash,
  IntegrityLog,
  type IntegrityObject,
  integrityPaths,
  lakeObjectKeys,
  objectOf,
  readIntegrityLog,
} from '../../src/compliance/integrity';
import { expiresAt } from '../../src/compliance/retention';
import { type IntegrityFinding, verifyLocalIntegrity } from '../../src/compliance/verify';
import { resolveConfig } from '../../src/config';
import { DAY, type KnownLake, plantParquet, writeKnownLake } from '../helpers/known-lake';
import { ROOT } from '../infra/helpers';

const config = resolveConfig({});
let lake: KnownLake;

beforeAll(async () => {
  lake = await writeKnownLake();
}, 120_000);
afterAll(() => lake?.dispose());

/** A copy of the known lake to damage. */
function copyLake(): string {
  const dir = mkdtempSync(join(tmpdir(), 'loglake-integrity-'));
  cpSync(lake.dataDir, dir, { recursive: true });
  return dir;
}

function verify(dataDir: string, anchor?: { seq: number; hash: string }) {
  return verifyLocalIntegrity(dataDir, {
    since: new Date(lake.now - DAY),
    until: new Date(lake.now + DAY),
    now: new Date(lake.now),
    expiresAt: (key) => expiresAt(key, config),
    ...(anchor ? { anchor } : {}),
  });
}

const kinds = (findings: readonly IntegrityFinding[]) => findings.map((f) => `${f.kind} ${f.key}`);
const firstParquet = (dataDir: string) => {
  const key = lakeObjectKeys(dataDir).find((k) => k.endsWith('.parquet'));
  if (!key) throw new Error('the known lake has no Parquet file');
  return key;
};

describe('the integrity log of a lake written by the pipeline', () => {
  it('starts with a baseline and records every delivered object with its SHA-256 and rows', () => {
    // Act
    const entries = readIntegrityLog(lake.dataDir).map((l) => l.entry);
    const recorded = entries.flatMap((e) => (e?.type === 'delivery' ? e.objects : []));

    // Assess
    expect(entries[0]?.type).toBe('baseline');
    expect(entries[0]?.type === 'baseline' && entries[0].objects).toEqual([]);
    expect(recorded.map((o) => o.key).sort()).toEqual(lakeObjectKeys(lake.dataDir));
    for (const o of recorded) expect(objectOf(lake.dataDir, o.key)).toEqual({ ...o, rows: undefined });
    expect(recorded.reduce((n, o) => n + (o.rows ?? 0), 0)).toBe(lake.events.length);
  });

  it('verifies clean, with an intact chain and the period manifest', () => {
    // Act
    const result = verify(lake.dataDir);

    // Assess
    expect(result.findings).toEqual([]);
    expect(result.chain.intact).toBe(true);
    expect(result.recordedObjects).toBe(result.presentObjects);
    expect(result.manifest.map((m) => m.key).sort()).toEqual(lakeObjectKeys(lake.dataDir));
  });
});

describe('verifyLocalIntegrity finds tampering', () => {
  it('reports an object whose content changed', () => {
    // Prepare
    const dir = copyLake();
    const key = firstParquet(dir);
    const bytes = readFileSync(join(dir, key));
    const at = Math.floor(bytes.length / 2);
    bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
    writeFileSync(join(dir, key), bytes);

    // Act
    const result = verify(dir);

    // Assess
    expect(kinds(result.findings)).toEqual([`changed ${key}`]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports an object deleted before its expiry', () => {
    // Prepare
    const dir = copyLake();
    const key = firstParquet(dir);
    unlinkSync(join(dir, key));

    // Act
    const result = verify(dir);

    // Assess
    expect(kinds(result.findings)).toEqual([`missing ${key}`]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports a Parquet file written straight into the lake, around the pipeline', async () => {
    // Prepare
    const dir = copyLake();
    const key = 'logs/category=runtime/dt=2026-01-01/hour=00/planted.parquet';
    await plantParquet(dir, key, [{ message: 'planted' }]);

    // Act
    const result = verify(dir);

    // Assess
    expect(kinds(result.findings)).toEqual([`unrecorded ${key}`]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports an edited entry, and a rewritten chain only against an anchor', () => {
    // Prepare: change one object's recorded hash and recompute that entry's hash (its successors break).
    const dir = copyLake();
    const anchorBefore = verify(dir).chain.head;
    const { chain } = integrityPaths(dir);
    const lines = readFileSync(chain, 'utf8').trimEnd().split('\n');
    const entry = JSON.parse(lines[1] as string);
    entry.objects[0].sha256 = 'f'.repeat(64);
    lines[1] = JSON.stringify(entry);
    writeFileSync(chain, `${lines.join('\n')}\n`);

    // Act
    const edited = verify(dir);

    // Assess
    expect(edited.chain.intact).toBe(false);
    expect(edited.findings.map((f) => f.kind)).toEqual(['log-altered', 'changed']);

    // Prepare: now rewrite the whole chain consistently from that entry on.
    let prev = JSON.parse(lines[0] as string).hash as string;
    const rewritten = lines.map((l, i) => {
      if (i === 0) return l;
      const { hash: _h, ...rest } = JSON.parse(l);
      const next = { ...rest, prev };
      prev = entryHash(next);
      return JSON.stringify({ ...next, hash: prev });
    });
    writeFileSync(chain, `${rewritten.join('\n')}\n`);

    // Act
    const withoutAnchor = verify(dir);
    const withAnchor = verify(dir, anchorBefore);

    // Assess: the chain itself looks intact; the object no longer matches; the anchor catches the rewrite.
    expect(withoutAnchor.chain.intact).toBe(true);
    expect(withoutAnchor.findings.map((f) => f.kind)).toEqual(['changed']);
    expect(withAnchor.findings.map((f) => f.kind)).toEqual(['anchor-mismatch', 'changed']);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports a removed entry as a broken sequence', () => {
    // Prepare
    const dir = copyLake();
    const { chain } = integrityPaths(dir);
    const lines = readFileSync(chain, 'utf8').trimEnd().split('\n');
    lines.splice(1, 1);
    writeFileSync(chain, `${lines.join('\n')}\n`);

    // Act
    const result = verify(dir);

    // Assess
    expect(result.chain.intact).toBe(false);
    expect(result.findings.some((f) => f.kind === 'log-altered')).toBe(true);
    expect(result.findings.some((f) => f.kind === 'unrecorded')).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports a lake that has objects but no log', () => {
    // Prepare
    const dir = copyLake();
    rmSync(integrityPaths(dir).dir, { recursive: true });

    // Act
    const result = verify(dir);

    // Assess
    expect(result.findings.map((f) => f.kind)).toEqual(['no-log']);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('documented events are not tampering', () => {
  it('a redelivery of the same batch supersedes what the interrupted attempt recorded', () => {
    // Prepare: an attempt recorded a file, the crash undid it, the replay wrote another one.
    const dir = copyLake();
    const log = new IntegrityLog(dir);
    const a = 'logs/category=runtime/dt=2026-01-01/hour=00/seg-1.parquet';
    const b = 'logs/category=runtime/dt=2026-01-01/hour=01/seg-1.parquet';
    mkdirSync(join(dir, 'logs/category=runtime/dt=2026-01-01/hour=01'), { recursive: true });
    writeFileSync(join(dir, b), 'replayed');
    log.recordDelivery('logs', 'seg-1', [{ key: a, sha256: 'a'.repeat(64), bytes: 1, rows: 1 }]);
    log.recordDelivery('logs', 'seg-1', [objectOf(dir, b, 1)]);

    // Act
    const result = verify(dir);

    // Assess
    expect(result.findings).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('a compaction replacing files is recorded with counts and verified, sources pending deletion too', () => {
    // Prepare: compact two delivered files of one partition into one, as `compact.ts` does.
    const dir = copyLake();
    const log = new IntegrityLog(dir);
    const part = 'logs/category=runtime/dt=2026-01-02/hour=03';
    mkdirSync(join(dir, part), { recursive: true });
    writeFileSync(join(dir, part, 's1.parquet'), 'one');
    writeFileSync(join(dir, part, 's2.parquet'), 'two');
    log.recordDelivery('logs', 's1', [objectOf(dir, `${part}/s1.parquet`, 3)]);
    log.recordDelivery('logs', 's2', [objectOf(dir, `${part}/s2.parquet`, 4)]);
    writeFileSync(join(dir, part, 'compacted-r1-0.parquet'), 'onetwo');
    const replaced = [objectOf(dir, `${part}/s1.parquet`, 3), objectOf(dir, `${part}/s2.parquet`, 4)];
    const outputs = [objectOf(dir, `${part}/compacted-r1-0.parquet`, 7)];

    // Act: recorded twice (a crash lost the first acknowledgement), sources still in their grace period.
    log.recordCompaction({ run: 'r1', partition: part, replaced, outputs, rows: 7 });
    log.recordCompaction({ run: 'r1', partition: part, replaced, outputs, rows: 7 });
    const pending = verify(dir);
    unlinkSync(join(dir, part, 's1.parquet'));
    unlinkSync(join(dir, part, 's2.parquet'));
    const done = verify(dir);

    // Assess
    expect(pending.findings).toEqual([]);
    expect(done.findings).toEqual([]);
    expect(done.compactions).toEqual([
      expect.objectContaining({ run: 'r1', partition: part, replaced: 2, outputs: 1, rows: 7 }),
    ]);
    expect(readIntegrityLog(dir).filter((l) => l.entry?.type === 'compaction')).toHaveLength(1);
    expect(log.compactionRuns()).toEqual(new Set(['r1']));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a file changed before its compaction is still reported', () => {
    // Prepare
    const dir = copyLake();
    const log = new IntegrityLog(dir);
    const key = firstParquet(dir);
    writeFileSync(join(dir, key), 'altered');
    const replaced: IntegrityObject[] = [objectOf(dir, key)];
    unlinkSync(join(dir, key));
    const out = key.replace(/[^/]+$/, 'compacted-r2-0.parquet');
    writeFileSync(join(dir, out), 'x');

    // Act
    log.recordCompaction({ run: 'r2', partition: key, replaced, outputs: [objectOf(dir, out)], rows: 1 });
    const result = verify(dir);

    // Assess
    expect(kinds(result.findings)).toEqual([`changed-before-compaction ${key}`]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('an expiry recorded before the deletion; a deletion after expiry without a record is only noted', () => {
    // Prepare: an old partition (expired under the debug policy) recorded by a delivery.
    const dir = copyLake();
    const log = new IntegrityLog(dir);
    const oldKey = 'logs/category=debug/dt=2020-01-01/hour=00/old.parquet';
    const otherKey = 'logs/category=debug/dt=2020-01-02/hour=00/old.parquet';
    for (const k of [oldKey, otherKey]) {
      mkdirSync(join(dir, k, '..'), { recursive: true });
      writeFileSync(join(dir, k), k);
      log.recordDelivery('logs', k, [objectOf(dir, k, 1)]);
    }

    // Act
    log.recordExpiry('cleanup', [objectOf(dir, oldKey)]);
    unlinkSync(join(dir, oldKey));
    unlinkSync(join(dir, otherKey));
    const result = verify(dir);

    // Assess
    expect(kinds(result.findings)).toEqual([`expired-unrecorded ${otherKey}`]);
    expect(result.expired).toBe(1);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('IntegrityLog.append', () => {
  it('drops a torn last line (an append that never returned) and keeps the chain intact', () => {
    // Prepare
    const dir = copyLake();
    appendFileSync(integrityPaths(dir).chain, '{"v":1,"seq":99,"type":"deliv');

    // Act
    new IntegrityLog(dir).recordDelivery('logs', 'after-crash', []);
    const result = verify(dir);

    // Assess
    expect(result.chain.intact).toBe(true);
    expect(result.findings).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps one intact chain while four processes append at once', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'loglake-integrity-procs-'));
    const script = `
      const { IntegrityLog } = require(${JSON.stringify(join(ROOT, 'src/compliance/integrity.ts'))});
      const log = new IntegrityLog(process.argv[1]);
      for (let i = 0; i < 40; i++) log.recordDelivery('access', process.pid + '-' + i, []);
    `;
    const runOne = () =>
      new Promise<number | null>((done) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '-e', script, dir], {
          cwd: ROOT,
          stdio: 'ignore',
        });
        child.on('close', done);
      });

    // Act
    const codes = await Promise.all([runOne(), runOne(), runOne(), runOne()]);
    const lines = readIntegrityLog(dir);
    const result = verifyLocalIntegrity(dir, {
      since: new Date(0),
      until: new Date(Date.now() + DAY),
      now: new Date(),
      expiresAt: () => undefined,
    });

    // Assess
    expect(codes).toEqual([0, 0, 0, 0]);
    expect(lines).toHaveLength(1 + 4 * 40);
    expect(result.chain.intact).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('hashes canonical JSON: key order does not matter, values do', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 'x' }] })).toBe('{"a":[{"c":"x","d":2}],"b":1}');
    expect(canonicalJson({ a: 1, b: undefined })).toBe('{"a":1}');
  });
});
