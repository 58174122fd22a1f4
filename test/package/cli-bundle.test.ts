/**
 * The CLI bundle the package ships (scripts/cli-bundle.ts), built in memory: self-contained except for
 * Node's own modules and DuckDB's native addon, whose pinned version is the one the bundled DuckDB API
 * was built against; commands still initialised only when they run.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { CLI_EXTERNAL, cliBundleOptions } from '../../scripts/cli-bundle';

const ROOT = join(__dirname, '..', '..');
const json = (file: string) => JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as Record<string, unknown>;

describe('the CLI bundle', () => {
  it('requires at run time only node: modules and the pinned DuckDB addon, which matches the bundled API', async () => {
    // Act
    const result = await build({
      ...cliBundleOptions(join(ROOT, 'dist-test', 'loglake.js')),
      write: false,
      metafile: true,
    });

    // Assess
    const externals = new Set(
      Object.values(result.metafile.outputs).flatMap((o) =>
        o.imports.filter((i) => i.external).map((i) => i.path),
      ),
    );
    expect([...externals].filter((p) => !p.startsWith('node:') && !builtinModules.includes(p))).toEqual([
      ...CLI_EXTERNAL,
    ]);
    const pinned = (json('package.json').dependencies as Record<string, string>)['@duckdb/node-bindings'];
    const wanted = (
      json('node_modules/@duckdb/node-api/package.json').dependencies as Record<string, string>
    )['@duckdb/node-bindings'];
    expect(pinned).toBe(wanted);
    // Each command is a module initialised by its own `import()`, not at start-up.
    const code = result.outputFiles.find((f) => f.path.endsWith('.js'))?.text ?? '';
    // esbuild numbers the names of same-named modules (`init_search2` when the explorer's search page is in too).
    const init = /var (init_\w+) = __esm\(\{\n\s*"src\/cli\/commands\/search\.ts"\(\) \{/.exec(code)?.[1];
    expect(init).toBeDefined();
    expect(code).toMatch(
      new RegExp(`Promise\\.resolve\\(\\)\\.then\\(\\(\\) => \\(${init}\\(\\), search_exports\\d*\\)\\)`),
    );
  }, 120_000);
});
