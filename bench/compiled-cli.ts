/**
 * The CLI as compiled JavaScript, the way the published package runs it (no tsx), for benchmarks that
 * time whole `loglake` processes: `src/` transpiled file by file to CommonJS (as `tsc` emits it for the
 * package, `import()` turned into `require`), next to a copy of package.json and a link to node_modules.
 */
import { copyFileSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';

const root = join(__dirname, '..');

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? tsFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** Compile `src/` into `into` (an empty directory); returns the path of the CLI's entry point. */
export function compileCli(into: string): string {
  buildSync({
    entryPoints: tsFiles(join(root, 'src')),
    outdir: join(into, 'src'),
    outbase: join(root, 'src'),
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    supported: { 'dynamic-import': false },
    logLevel: 'error',
  });
  copyFileSync(join(root, 'package.json'), join(into, 'package.json'));
  symlinkSync(join(root, 'node_modules'), join(into, 'node_modules'));
  return join(into, 'src', 'cli', 'main.js');
}
