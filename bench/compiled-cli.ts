/**
 * The CLI as compiled JavaScript, for benchmarks that time whole `loglake` processes, in two builds
 * measured side by side:
 * - {@link packagedCli}: what the published package runs: bin/loglake.cjs and the esbuild bundle
 *   `dist/cli/loglake.js` (scripts/cli-bundle.ts, the same options as `npm pack`), with Node's compile
 *   cache as the bin turns it on;
 * - {@link perFileCli}: the baseline, what the package ran before the bundle: `src/` transpiled file by
 *   file to CommonJS (as `tsc` emits it, `import()` turned into `require`).
 * Each sits in a directory of its own next to a copy of package.json and a link to node_modules.
 */
import { copyFileSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { bundleCli } from '../scripts/cli-bundle';

const root = join(__dirname, '..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function asPackage(into: string): void {
  mkdirSync(into, { recursive: true });
  copyFileSync(join(root, 'package.json'), join(into, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(into, 'node_modules'));
}

/**
 * The baseline: `src/` compiled file by file into `into` (an empty directory). Returns a script that
 * runs it as the bin used to (`require` main, call it).
 */
export function perFileCli(into: string): string {
  buildSync({
    entryPoints: tsFiles(join(root, 'src')),
    outdir: join(into, 'src'),
    outbase: join(root, 'src'),
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    supported: { 'dynamic-import': false },
    logLevel: 'error',
  });
  asPackage(into);
  const entry = join(into, 'run.cjs');
  writeFileSync(
    entry,
    `require('./src/cli/main.js').main(process.argv.slice(2)).then((c) => { process.exitCode = c; });\n`,
  );
  return entry;
}

/** The package's CLI, bin and bundle, in `into` (an empty directory). Returns the bin's path. */
export async function packagedCli(into: string): Promise<string> {
  asPackage(into);
  await bundleCli(into);
  mkdirSync(join(into, 'bin'));
  copyFileSync(join(root, 'bin', 'loglake.cjs'), join(into, 'bin', 'loglake.cjs'));
  return join(into, 'bin', 'loglake.cjs');
}
