/** The benchmarks' environment, read once. */
export const benchEnv = {
  /** Set when the process runs under `eatmydata` (fsync turned into a no-op). */
  preload: process.env.LD_PRELOAD ?? '',
  /** `LOGLAKE_BENCH_10M=1`: also run the 10M-event lake where a benchmark offers it. */
  tenMillion: process.env.LOGLAKE_BENCH_10M === '1',
  /** `LOGLAKE_BENCH_LAKE_EVENTS`: events of the lake benchmark's lake. @default 100,000 */
  lakeEvents: Number(process.env.LOGLAKE_BENCH_LAKE_EVENTS || 100_000),
  /**
   * `LOGLAKE_BENCH_LAKE_HOURS`: hours of steady traffic it spans (each hour costs minutes to build: its
   * ~1,400 delivery files are written one by one). @default 2
   */
  lakeSpanHours: Number(process.env.LOGLAKE_BENCH_LAKE_HOURS || 2),
  /**
   * `LOGLAKE_BENCH_LAKE_BASELINE_RUNS`: measured runs on the delivered (uncompacted) lake; 1 skips the
   * warm-up too (a search over a large delivered lake takes minutes); 0 skips the delivered lake. @default 5
   */
  lakeBaselineRuns: Number(process.env.LOGLAKE_BENCH_LAKE_BASELINE_RUNS || 5),
  /**
   * `LOGLAKE_BENCH_LAKE_SAMPLE=N`: the lake of `LOGLAKE_BENCH_LAKE_EVENTS` is not built but cut from the
   * 10M day (built or cached): one request in N, each hour compacted again (`sampledLake` in lake.ts).
   * 10 gives the 1M day in minutes. @default 0 (build it)
   */
  lakeSample: Number(process.env.LOGLAKE_BENCH_LAKE_SAMPLE || 0),
  /** `LOGLAKE_BENCH_DASHBOARD_RUNS`: cold loads of each dashboard measured. @default 5 */
  dashboardRuns: Number(process.env.LOGLAKE_BENCH_DASHBOARD_RUNS || 5),
  /**
   * `LOGLAKE_BENCH_DASHBOARD_STATES`: which lake states the dashboard benchmark loads, comma-separated
   * (`delivered`, `live`, `compacted`; the delivered lake's loads take minutes each).
   * @default all three
   */
  dashboardStates: (process.env.LOGLAKE_BENCH_DASHBOARD_STATES || 'delivered,live,compacted')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== ''),
  /** `LOGLAKE_CHROMIUM`: the browser of the dashboard benchmark. @default Debian's /usr/bin/chromium */
  chromium: process.env.LOGLAKE_CHROMIUM || '/usr/bin/chromium',
} as const;
