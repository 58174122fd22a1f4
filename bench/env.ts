/** The benchmarks' environment, read once. */
export const benchEnv = {
  /** Set when the process runs under `eatmydata` (fsync turned into a no-op). */
  preload: process.env.LD_PRELOAD ?? '',
  /** `LOGLAKE_BENCH_10M=1`: also run the 10M-event lake where a benchmark offers it. */
  tenMillion: process.env.LOGLAKE_BENCH_10M === '1',
} as const;
