import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

/**
 * `contents` (TypeScript that re-exports modules of the repository) bundled by esbuild as
 * `NodejsFunction` ships a handler, then loaded: a benchmark measures the code as deployed, not through
 * tsx's per-module wrappers. `root` is the checkout the imports resolve from (another commit's, to
 * compare two versions in one process).
 */
export function requireBundled<T>(name: string, contents: string, root = join(__dirname, '..')): T {
  const file = join(mkdtempSync(join(tmpdir(), 'loglake-bench-')), `${name}.cjs`);
  const built = buildSync({
    stdin: { contents, resolveDir: root, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
  });
  writeFileSync(file, built.outputFiles[0]?.text ?? '');
  return require(file) as T;
}
