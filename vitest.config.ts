import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Synth, DuckDB and the emulator are slow on 2 cores, slower still when other work shares them: a
    // CDK synth that takes 10 s alone took over 30 s at load 16. Per-file timeouts are set where needed.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
