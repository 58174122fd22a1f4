import { availableParallelism } from 'node:os';
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Synth, DuckDB and the emulator are slow on 2 cores, slower still when other work shares them: a
    // CDK synth that takes 10 s alone took over 30 s at load 16. Per-file timeouts are set where needed.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Vitest's default is one worker per core but one: a single worker on a 2-core CI machine. Much of
    // the suite waits (on the emulator, Trino, subprocesses, schedules), so two workers are the floor.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          sequence: { groupOrder: 0 },
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, 'test/trino/**'],
        },
      },
      {
        // Needs a running Trino: its global setup starts one when none answers (and only when a file of
        // this project is selected), so `npx vitest run test/query` does not pay for it. It runs after
        // the main project: Trino's queries on 2 shared cores would push synth-heavy tests past their
        // timeouts.
        extends: true,
        test: {
          name: 'trino',
          sequence: { groupOrder: 1 },
          // A cold Trino plans its first queries slowly on a busy machine.
          testTimeout: 180_000,
          include: ['test/trino/**/*.test.ts'],
          globalSetup: ['test/trino/global-setup.ts'],
        },
      },
    ],
  },
});
