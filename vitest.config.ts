import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Synth, DuckDB and the emulator are slow on 2 cores; per-file timeouts are set where needed.
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
