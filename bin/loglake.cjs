#!/usr/bin/env node
// The `loglake` CLI. The published package runs one esbuild bundle of the CLI (dist/cli/loglake.js,
// built by `npm pack`; scripts/cli-bundle.ts) on plain Node. A checkout has the TypeScript sources and
// runs those through tsx (a devDependency), so an edit takes effect without a build and a stale dist/
// is never what runs; commands are loaded with `import()` only when they run, which goes through
// Node's ESM loader, so tsx hooks it as well as `require`. npm links this file under other names
// (node_modules/.bin/loglake), so it calls `main` itself rather than relying on a require.main check
// inside the module.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const source = join(__dirname, '..', 'src', 'cli', 'main.ts');
const fromSource = existsSync(source);

function run() {
  const { main, exitCodeFor } = require(
    fromSource ? source : join(__dirname, '..', 'dist', 'cli', 'loglake.js'),
  );
  return main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.exitCode = exitCodeFor(error);
    },
  );
}

/** From a checkout: TypeScript through tsx, its CommonJS hook first, then its ESM loader. */
function registerTsx() {
  require('tsx/cjs');
  return import('tsx/esm/api').then(({ register }) => register());
}

/**
 * The installed bundle: V8's compiled code for it is cached on disk between runs (Node 22.1+; in the
 * directory NODE_COMPILE_CACHE names, else the system's temporary directory), which saves most of the
 * time Node spends compiling a 4 MiB file on every start. With LOGLAKE_DEBUG set, the stack traces
 * the CLI prints name src/ files and lines through the bundle's source map; otherwise no stack trace
 * is printed and the map is not read (reading it costs every start). Whether it is set is the CLI's
 * own `cliEnv.debug` (src/cli/env.ts, shipped beside the bundle as dist/cli/env.js), read before the
 * bundle is loaded: source maps only apply to files compiled after they are turned on.
 */
function prepareBundle() {
  require('node:module').enableCompileCache?.();
  const { cliEnv } = require(join(__dirname, '..', 'dist', 'cli', 'env.js'));
  if (cliEnv.debug) process.setSourceMapsEnabled(true);
  return Promise.resolve();
}

const ready = fromSource ? registerTsx() : prepareBundle();
ready.then(run).catch((error) => {
  process.stderr.write(`loglake: cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
