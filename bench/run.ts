/**
 * `npm run bench`: runs every `bench/*.bench.ts` in its own process (so one benchmark's heap does not
 * skew the next) and prints their figures. Benchmarks print; they never fail CI on a timing.
 * `npm run bench -- transform` runs only the files whose name contains `transform`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const filter = process.argv[2];
const dir = __dirname;
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts') && (!filter || f.includes(filter)))
  .sort();
if (files.length === 0) {
  console.error(`no benchmarks match ${filter ?? '*'} in ${dir}`);
  process.exit(2);
}
let failed = 0;
for (const f of files) {
  console.log(`\n=== ${f} ===`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', join(dir, f)], {
    stdio: 'inherit',
  });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
