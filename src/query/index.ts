/**
 * The query builder: one model, two dialects (DuckDB, Athena), always parameterized. Pure: the runners
 * live in `./duckdb` (native DuckDB) and `./athena` (AWS SDK) so a Lambda bundling this pulls neither.
 */
export * from './build';
export * from './columns';
export * from './decode';
export * from './model';
