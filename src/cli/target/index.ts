/**
 * Where a query runs: the local lake (DuckDB) or Athena, from the flags. Each side is loaded only when
 * it is the one asked for, so a local search never loads the AWS SDK and an Athena search never loads
 * DuckDB.
 */
import { currentAccessScope } from '../../audit/access';
import type { LogLakeConfig } from '../../config';
import type { BuiltQuery } from '../../query/build';
import type { RawRow } from '../../query/decode';
import type { LogFilter, LogQuery } from '../../query/model';
import { describeCliAccess } from '../access';
import type { QueryFlags } from '../flags';
import type { CliIO } from '../io';
import { dialectOf, loadConfig, parseCategories, personaCategories } from '../options';

/** A query started on its target: rows page by page, then `done` to release the engine. */
export interface RunningQuery {
  readonly built: BuiltQuery;
  readonly pages: AsyncIterable<RawRow[]>;
  readonly done: () => void;
}

/** Every row of a query's pages, decoded: for outputs that need them all (tables, totals). */
export async function collectRows<T>(
  pages: AsyncIterable<RawRow[]>,
  decode: (row: RawRow) => T,
): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) for (const row of page) out.push(decode(row));
  return out;
}

/** The filter the flags describe, and a way to run queries with it where the flags point. */
export interface QueryTarget {
  readonly filter: LogFilter;
  readonly run: (query: LogQuery) => Promise<RunningQuery>;
}

/**
 * Resolve the target and the filter. Flags are checked before anything is opened or called (a bad
 * `--since` is reported as such, not as a missing lake); a persona's query reads only the categories its
 * grant allows, decided before anything reaches AWS.
 */
export async function resolveQueryTarget(
  text: string | undefined,
  given: QueryFlags,
  io: CliIO,
  now = new Date(),
): Promise<QueryTarget> {
  const config: LogLakeConfig = loadConfig(given.config);
  describeCliAccess(currentAccessScope(), {
    config,
    ...(given.persona !== undefined ? { persona: given.persona } : {}),
  });
  const dialect = dialectOf(given);
  const flags: QueryFlags =
    given.persona === undefined
      ? given
      : {
          ...given,
          category: personaCategories(
            given.persona,
            given.category?.length ? parseCategories(given.category) : undefined,
            config,
          ),
        };
  if (dialect === 'duckdb') {
    const { localTarget } = await import('./local');
    return localTarget(text, flags, config, now);
  }
  const { athenaTarget } = await import('./athena');
  return athenaTarget(text, flags, config, io, now);
}
