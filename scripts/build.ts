/**
 * Build the published package into `dist/` (run by `npm pack`/`npm publish` through `prepack`, or by
 * `npm run build`):
 * - `tsc -p tsconfig.build.json`: `src/` and `lib/` as CommonJS with type declarations, so the producer,
 *   the pino transport and the constructs run on plain Node;
 * - the CLI as one esbuild bundle, `dist/cli/loglake.js` (+ map; `scripts/cli-bundle.ts`), which
 *   bin/loglake.cjs runs; tsc's own output of `src/cli/` and `src/ui/` (reached only from the CLI) is
 *   removed, so the bundle is the only CLI an installed package has;
 * - each `lambdas/<fn>/index.ts` bundled by esbuild into `dist/bundles/lambdas/<fn>/index.js` (+ map),
 *   with the options `LogLakeFunction` (lib/function.ts) gives its own esbuild bundling in a checkout,
 *   so an installed package deploys the same handler without its sources, a lock file or esbuild.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { bundleCli } from './cli-bundle';

const root = join(__dirname, '..');
const dist = join(root, 'dist');

async function main(): Promise<void> {
  const started = Date.now();
  rmSync(dist, { recursive: true, force: true });

  const tsc = spawnSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')],
    { stdio: 'inherit' },
  );
  if (tsc.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed (exit ${tsc.status})`);
  const compiled = Date.now();
  for (const replaced of ['cli', 'ui']) rmSync(join(dist, 'src', replaced), { recursive: true, force: true });
  const cli = await bundleCli(root);
  const bundled = Date.now();

  const entries = readdirSync(join(root, 'lambdas'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(root, 'lambdas', d.name, 'index.ts')))
    .map((d) => `lambdas/${d.name}/index.ts`);
  for (const entry of entries) {
    await build({
      entryPoints: [join(root, entry)],
      outfile: join(dist, 'bundles', entry.replace(/\.ts$/, '.js')),
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node24',
      minify: true,
      sourcemap: true,
      // Nothing external: the runtime's bundled SDK lags releases; the handler ships the client it was tested with.
      external: [],
      logLevel: 'warning',
    });
  }
  process.stdout.write(
    `build: tsc ${((compiled - started) / 1000).toFixed(1)} s, CLI bundle ` +
      `${(cli.bytes / 1024 ** 2).toFixed(1)} MiB ${((bundled - compiled) / 1000).toFixed(1)} s, ` +
      `${entries.length} handler bundle(s) ${((Date.now() - bundled) / 1000).toFixed(1)} s → dist/\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`build: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
