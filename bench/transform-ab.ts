/**
 * The transform at another commit against this checkout, in one process, on the same batches:
 * `npx tsx --expose-gc bench/transform-ab.ts [base-ref] [runs]` (base `HEAD`, 2 runs).
 *
 * 1. Outputs: a SHA-256 over every output of both versions (records, partition keys, metrics) on both
 *    corpora of `transform.bench.ts`, 1, 10 and 100 events a record, three digit variants each. A
 *    change meant to be faster, not different, must print `identical`; the process exits 1 otherwise.
 * 2. Time: each batch transformed by base and by this checkout alternately (machine noise hits both
 *    alike), CPU time, median after/before, and each one's ratio to the parse+stringify floor.
 *
 * Both versions are bundled by esbuild as deployed (`bundle.ts`); the base is read with `git archive`
 * into a temporary directory (its imports resolve against this checkout's `node_modules`).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG } from '../src/config';
import type * as Transform from '../src/transform';
import type { TransformInputRecord } from '../src/transform';
import { requireBundled } from './bundle';
import { batch, floor, MIXED_KINDS, mixedBatch } from './transform-corpus';

const ROOT = join(__dirname, '..');
const baseRef = process.argv[2] ?? 'HEAD';
const runs = Number(process.argv[3] ?? 2);
const ITERATIONS = 15;
const WARMUP = 3;
const ENTRY = "export * from './src/transform';";

type Api = typeof Transform;

function loadBase(ref: string): Api {
  const dir = mkdtempSync(join(tmpdir(), 'loglake-ab-'));
  mkdirSync(join(dir, 'src'));
  const tar = execFileSync('git', ['archive', ref, 'src', 'package.json'], { cwd: ROOT, maxBuffer: 1 << 28 });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  try {
    return requireBundled<Api>('base', ENTRY, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const base = loadBase(baseRef);
const after = requireBundled<Api>('after', ENTRY);
const settingsOf = (api: Api) => api.settingsFromConfig(DEFAULT_CONFIG, 'bench-key', 'logs');
const versions = [
  { name: 'base', api: base, settings: settingsOf(base) },
  { name: 'after', api: after, settings: settingsOf(after) },
] as const;
const options = { random: () => 0, now: () => Date.parse('2026-07-01T00:00:00Z') };

type Make = (perRecord: number, variant: number) => { records: TransformInputRecord[] };
const corpora: ReadonlyArray<[string, Make]> = [
  ['corpus', batch],
  ['mixed', mixedBatch],
];

// 1. Outputs, byte for byte.
let differ = 0;
for (const [corpus, make] of corpora) {
  const hashes = versions.map(() => createHash('sha256'));
  for (const perRecord of [1, 10, 100]) {
    for (let variant = 0; variant < 3; variant++) {
      const { records } = make(perRecord, variant);
      versions.forEach((v, i) => {
        const out = v.api.transformRecords(records, v.settings, options);
        hashes[i]?.update(JSON.stringify([out.records, out.metrics]));
      });
    }
  }
  const [b, a] = hashes.map((h) => h.digest('hex'));
  const same = a === b;
  if (!same) differ++;
  console.log(`${corpus}: outputs ${same ? 'identical' : 'DIFFER'}, SHA-256 base ${b}, after ${a}`);
}

// 2. Time, alternated.
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)] as number;
const gc = (globalThis as { gc?: () => void }).gc;

function time(label: string, variants: ReadonlyArray<TransformInputRecord[]>): void {
  const t: number[][] = [[], [], []];
  const steps = [
    (r: TransformInputRecord[]) => floor(r),
    ...versions.map((v) => (r: TransformInputRecord[]) => v.api.transformRecords(r, v.settings, options)),
  ];
  variants.forEach((records, i) => {
    // Alternate which version goes first, so neither always runs on the other's garbage.
    const order = i % 2 === 0 ? [0, 1, 2] : [0, 2, 1];
    for (const k of order) {
      const start = cpuMs();
      steps[k]?.(records);
      if (i >= WARMUP) t[k]?.push(cpuMs() - start);
    }
  });
  const [f, b, a] = t.map(median) as [number, number, number];
  console.log(
    `${label}: after/base ${(a / b).toFixed(3)}, base ${(b / f).toFixed(2)}x the floor, after ${(a / f).toFixed(2)}x`,
  );
}

for (let run = 1; run <= runs; run++) {
  console.log(`run ${run}`);
  for (const [corpus, make] of corpora) {
    for (const perRecord of [1, 10, 100]) {
      gc?.();
      time(
        `  ${corpus} ${perRecord}/record`,
        Array.from({ length: WARMUP + ITERATIONS }, (_, v) => make(perRecord, v).records),
      );
    }
  }
  if (process.argv.includes('--kinds')) {
    MIXED_KINDS.forEach((name, kind) => {
      gc?.();
      time(
        `  ${name}`,
        Array.from({ length: WARMUP + 9 }, (_, v) => mixedBatch(10, v, kind, 256 * 1024).records),
      );
    });
  }
}
process.exit(differ === 0 ? 0 : 1);
