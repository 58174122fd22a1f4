#!/usr/bin/env node
// The `loglake` CLI. Sources are TypeScript; tsx compiles them on the fly so `npx loglake` works
// straight from a checkout or an installed package without a build step. npm links this file under
// other names (node_modules/.bin/loglake), so it calls `main` itself rather than relying on a
// require.main check inside the module.
require('tsx/cjs');
const { main, exitCodeFor } = require('../src/cli/main.ts');

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.exitCode = exitCodeFor(error);
  },
);
