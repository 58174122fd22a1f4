#!/usr/bin/env node
// The `loglake` CLI. Sources are TypeScript; tsx compiles them on the fly so `npx loglake` works
// straight from a checkout or an installed package without a build step.
require('tsx/cjs');
require('../src/cli/main.ts');
