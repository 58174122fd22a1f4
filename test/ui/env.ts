/** Environment of the browser tests (the only place they read `process.env`). */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');

export const uiTestEnv = {
  /** In CI (`.ci/run` installs Debian's chromium) a missing browser fails the run. */
  ci: process.env.CI === 'true' || process.env.CI === '1',
  /** The Chromium binary: `LOGLAKE_CHROMIUM`, or Debian's. Playwright cannot download one here. */
  chromium: [process.env.LOGLAKE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
    (p): p is string => p !== undefined && p !== '' && existsSync(p),
  ),
  /** Screenshots of each page, kept by CI as artifacts. */
  artifacts: join(ROOT, '.ci', 'artifacts', 'ui'),
};
