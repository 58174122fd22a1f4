/**
 * CLI start-up on its own: `loglake --help` and `loglake search` on an empty lake, each a whole process,
 * against the floor of starting Node at all (`node -e ''`), measured in the same run. Twice: through
 * the bin as a checkout runs it (TypeScript compiled on the fly by tsx), and as compiled JavaScript (the
 * sources transpiled file by file, as `tsc` emits them for the package).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { compileCli } from './compiled-cli';

const RUNS = Number(process.argv[2] ?? 15);
const root = join(__dirname, '..');

/** Median wall time of `node …args` over RUNS runs (after one warm-up), in ms. */
function median(args: string[]): number {
  const times: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, {
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', LOGLAKE_DATA_DIR: '' },
      encoding: 'utf8',
    });
    const ms = performance.now() - t0;
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    if (i > 0) times.push(ms);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] ?? Number.NaN;
}

function main(): void {
  const dir = mkdtempSync(join(tmpdir(), 'loglake-bench-cli-'));
  try {
    const lake = join(dir, 'lake');
    mkdirSync(join(lake, '.loglake'), { recursive: true });
    const compiled = compileCli(join(dir, 'js'));
    const floor = median(['-e', '']);
    console.log(`process start-up, median of ${RUNS} runs (wall clock):`);
    console.log(`${'node -e ""'.padEnd(44)} ${floor.toFixed(0).padStart(6)} ms   1.0x (floor)`);
    const cases: Array<[string, string[]]> = [
      ['--help', ['--help']],
      ['search (empty lake)', ['search', '--data-dir', lake, '--since', '1h']],
    ];
    const entries: Array<[string, string]> = [
      ['bin, tsx', join(root, 'bin', 'loglake.cjs')],
      ['compiled JS', compiled],
    ];
    for (const [entry, file] of entries) {
      for (const [name, args] of cases) {
        const ms = median([file, ...args]);
        console.log(
          `${`loglake ${name} (${entry})`.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms  ${(ms / floor).toFixed(1).padStart(4)}x`,
        );
      }
    }
    console.log(
      `(compiled from ${relative(process.cwd(), join(root, 'src')) || 'src'} with esbuild, one file per module)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
