/**
 * Build the published package into `dist/` (run by `npm pack`/`npm publish` through `prepack`, or by
 * `npm run build`):
 * - `tsc -p tsconfig.build.json`: `src/` and `lib/` as CommonJS with type declarations, so the CLI, the
 *   producer, the pino transport and the constructs run on plain Node;
 * - each `lambdas/<fn>/index.ts` bundled by esbuild into `dist/bundles/lambdas/<fn>/index.js` (+ map),
 *   with the options `LogLakeFunction` (lib/function.ts) gives its own esbuild bundling in a checkout,
 *   so an installed package deploys the same handler without its sources, a lock file or esbuild.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

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
    `build: tsc ${((compiled - started) / 1000).toFixed(1)} s, ${entries.length} handler bundle(s) ` +
      `${((Date.now() - compiled) / 1000).toFixed(1)} s → dist/\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`build: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
