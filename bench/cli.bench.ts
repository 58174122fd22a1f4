/**
 * CLI start-up on its own: `loglake --help` and `loglake search` on an empty lake, each a whole process,
 * against the floor of starting Node at all (`node -e ''`), measured in the same run, three ways: the
 * package's bin and esbuild bundle (what an installed package runs, with Node's compile cache as the bin
 * turns it on, warm after the first run), the sources compiled file by file (what the package ran before
 * the bundle: the baseline), and the bin in a checkout (TypeScript compiled on the fly by tsx).
 * Median wall time and median CPU time (user + system: on a loaded machine wall time mostly measures the
 * wait for a core) of `RUNS` runs after one warm-up: `npm run bench -- cli [runs]`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { packagedCli, perFileCli } from './compiled-cli';

const RUNS = Number(process.argv[2] ?? 15);
const root = join(__dirname, '..');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

/** Median wall and CPU time of `node …args` over RUNS runs (after one warm-up), in ms. */
function measure(args: string[], env: NodeJS.ProcessEnv): { ms: number; cpuMs: number } {
  const times: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const t0 = performance.now();
    const r = spawnSync('/usr/bin/time', ['-f', '%U %S', process.execPath, ...args], {
      env: {
        ...process.env,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        LOGLAKE_DATA_DIR: '',
        ...env,
      },
      encoding: 'utf8',
    });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    const [user, sys] = (r.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number);
    if (i > 0) {
      times.push(ms);
      cpu.push(((user ?? Number.NaN) + (sys ?? Number.NaN)) * 1000);
    }
  }
  return { ms: median(times), cpuMs: median(cpu) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'loglake-bench-cli-'));
  try {
    const lake = join(dir, 'lake');
    mkdirSync(join(lake, '.loglake'), { recursive: true });
    const bundle = await packagedCli(join(dir, 'package'));
    const perFile = perFileCli(join(dir, 'per-file'));
    // The compile cache of this run only: cold on the warm-up run, warm after, as for a user.
    const env = { NODE_COMPILE_CACHE: join(dir, 'compile-cache') };
    const floor = measure(['-e', ''], env);
    console.log(
      `process start-up on Node ${process.versions.node}, median of ${RUNS} runs; load average ${loadavg()[0]?.toFixed(1)} at the start`,
    );
    const line = (name: string, f: { ms: number; cpuMs: number }, base?: { ms: number; cpuMs: number }) =>
      console.log(
        `${name.padEnd(52)} ${f.ms.toFixed(0).padStart(6)} ms  CPU ${f.cpuMs.toFixed(0).padStart(5)} ms  ${(f.cpuMs / floor.cpuMs).toFixed(1).padStart(4)}x floor CPU` +
          (base ? `  per-file/bundle CPU ${(base.cpuMs / f.cpuMs).toFixed(2)}` : ''),
      );
    line('node -e ""', floor);
    const cases: Array<[string, string[]]> = [
      ['--help', ['--help']],
      ['search (empty lake)', ['search', '--data-dir', lake, '--since', '1h', '--category', 'debug']],
    ];
    for (const [name, args] of cases) {
      const before = measure([perFile, ...args], env);
      line(`loglake ${name} (per-file JS, before)`, before);
      line(`loglake ${name} (package: bin + bundle)`, measure([bundle, ...args], env), before);
      line(
        `loglake ${name} (checkout: bin + tsx)`,
        measure([join(root, 'bin', 'loglake.cjs'), ...args], env),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
