#!/usr/bin/env node
// The `loglake` CLI. The published package runs its compiled JavaScript (dist/, built by `npm pack`)
// on plain Node. A checkout has the TypeScript sources and runs those through tsx (a devDependency),
// so an edit takes effect without a build and a stale dist/ is never what runs; commands are loaded
// with `import()` only when they run, which goes through Node's ESM loader, so tsx hooks it as well as
// `require`. npm links this file under other names (node_modules/.bin/loglake), so it calls `main`
// itself rather than relying on a require.main check inside the module.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const source = join(__dirname, '..', 'src', 'cli', 'main.ts');
const fromSource = existsSync(source);

function run() {
  const { main, exitCodeFor } = require(
    fromSource ? source : join(__dirname, '..', 'dist', 'src', 'cli', 'main.js'),
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

const ready = fromSource ? registerTsx() : Promise.resolve();
ready.then(run).catch((error) => {
  process.stderr.write(`loglake: cannot start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
