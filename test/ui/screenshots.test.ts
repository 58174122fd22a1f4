/**
 * Where the browser tests' screenshots go is said in three places that must agree: the tests' own
 * folder (`env.ts`), the end of `.ci/run` (which prints it), and the README.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { uiTestEnv } from './env';

const ROOT = resolve(__dirname, '../..');
const folder = relative(ROOT, uiTestEnv.artifacts);

describe('the screenshots folder', () => {
  it('is the one the README names', () => {
    // Act
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

    // Assess
    expect(folder).toBe('.ci/artifacts/ui');
    expect(readme).toContain(`\`${folder}/\``);
  });

  it('is printed, with its count of screenshots, at the end of .ci/run', () => {
    // Arrange: the lines after the last step, run in a checkout-like folder holding two screenshots
    const script = readFileSync(join(ROOT, '.ci', 'run'), 'utf8');
    const tail = script.slice(script.lastIndexOf('step "done"') + 'step "done"'.length);
    const dir = mkdtempSync(join(tmpdir(), 'loglake-ci-tail-'));
    mkdirSync(join(dir, folder), { recursive: true });
    for (const f of ['search.png', 'trace.png', 'export.csv']) writeFileSync(join(dir, folder, f), '');

    // Act
    const out = execFileSync('bash', ['-euo', 'pipefail', '-c', tail], { cwd: dir, encoding: 'utf8' });
    rmSync(dir, { recursive: true, force: true });

    // Assess
    expect(out.trim()).toBe(`explorer screenshots: ${join(dir, folder)}/ (2 PNG files)`);
  });
});
