import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Synth, DuckDB and the emulator are slow on 2 cores; per-file timeouts are set where needed.
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/trino/**'],
        },
      },
      {
        // Needs a running Trino: its global setup starts one when none answers (and only when a file of
        // this project is selected), so `npx vitest run test/query` does not pay for it.
        extends: true,
        test: {
          name: 'trino',
          include: ['test/trino/**/*.test.ts'],
          globalSetup: ['test/trino/global-setup.ts'],
        },
      },
    ],
  },
});
