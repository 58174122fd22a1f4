#!/usr/bin/env node
// The `loglake` CLI. Sources are TypeScript; tsx compiles them on the fly so `npx loglake` works
// straight from a checkout or an installed package without a build step. npm links this file under
// other names (node_modules/.bin/loglake), so it calls `main` itself rather than relying on a
// require.main check inside the module. Commands are loaded with `import()` only when they run, which
// goes through Node's ESM loader: tsx hooks it as well as `require`.
require('tsx/cjs');
import('tsx/esm/api')
  .then(({ register }) => {
    register();
    const { main, exitCodeFor } = require('../src/cli/main.ts');
    return main(process.argv.slice(2)).then(
      (code) => {
        process.exitCode = code;
      },
      (error) => {
        process.exitCode = exitCodeFor(error);
      },
    );
  })
  .catch((error) => {
    process.stderr.write(
      `loglake: cannot start: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  });
