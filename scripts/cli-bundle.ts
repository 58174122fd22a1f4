/**
 * The `loglake` CLI as the package ships it: `src/cli/main.ts` and everything it reaches, commands
 * included, bundled by esbuild into one CommonJS file, `dist/cli/loglake.js`, with a source map beside
 * it. Used by `scripts/build.ts` (the package) and by the benchmarks (`bench/compiled-cli.ts`), so both
 * run the same file.
 *
 * Why one CommonJS file rather than ESM chunks (esbuild's `splitting`): measured on Node 24 for
 * `loglake search` on an empty lake, the single file with Node's compile cache (bin/loglake.cjs turns
 * it on) took the least CPU; ESM chunks loaded per command took more, the ESM loader costing more than
 * the parse it saves, and the compile cache removes most of the parse anyway. The commands are still
 * loaded lazily: esbuild keeps each `import()` as a module initialised only when that command runs.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { type BuildOptions, build, type Plugin } from 'esbuild';

const root = join(__dirname, '..');

/** The bundle's path inside a package directory. */
export const CLI_BUNDLE = join('dist', 'cli', 'loglake.js');

/**
 * `src/cli/env.ts` on its own, beside the bundle: bin/loglake.cjs reads `cliEnv.debug` from it before
 * it loads the bundle (source maps must be on before a file is compiled to map its stack traces), so
 * the environment is still read in the CLI's one env.ts, not in the bin.
 */
export const CLI_ENV = join('dist', 'cli', 'env.js');

/**
 * Packages kept out of the bundle: DuckDB's native addon, which `@duckdb/node-bindings` loads from its
 * platform package where npm installed it. The JavaScript API over it (`@duckdb/node-api`, ~180 files
 * that every query used to load one by one) is bundled; package.json pins `@duckdb/node-bindings` to
 * the exact version that API release was built against, so the bundled API and the installed addon
 * always match.
 */
export const CLI_EXTERNAL: readonly string[] = ['@duckdb/node-bindings'];

/**
 * zod re-exports every locale it has (~60) as `z.locales`, and esbuild cannot drop them because `z` is
 * used as a namespace object; the CLI never picks a locale and zod itself imports English directly. So
 * zod's own locale index resolves to English alone in the bundle: less to load and initialise per start.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      /[/\\]node_modules[/\\]zod[/\\]/.test(args.importer)
        ? { path: join(args.resolveDir, '..', 'locales', 'en.js').replace(/\\/g, '/'), namespace: 'zod-en' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-en' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};\n`,
      resolveDir: root,
    }));
  },
};

/** esbuild's options for the CLI bundle written to `outfile`. */
export function cliBundleOptions(outfile: string): BuildOptions {
  return {
    entryPoints: [join(root, 'src', 'cli', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    // package.json `engines`.
    target: 'node22',
    // A user's stack trace (LOGLAKE_DEBUG=1) names src/ files and lines; the sources themselves stay
    // out of the map, which keeps the tarball small and the map quick to read.
    sourcemap: 'linked',
    sourcesContent: false,
    external: [...CLI_EXTERNAL],
    logLevel: 'warning',
    plugins: [zodEnglishOnly],
  };
}

/**
 * Bundle the CLI into `<packageDir>/dist/cli/loglake.js` (+ .map) and its environment into
 * `dist/cli/env.js`; returns the bundle's path and size.
 */
export async function bundleCli(packageDir: string): Promise<{ file: string; bytes: number }> {
  const file = join(packageDir, CLI_BUNDLE);
  await build(cliBundleOptions(file));
  await build({
    ...cliBundleOptions(join(packageDir, CLI_ENV)),
    entryPoints: [join(root, 'src', 'cli', 'env.ts')],
    sourcemap: false,
    plugins: [],
  });
  return { file, bytes: statSync(file).size };
}
