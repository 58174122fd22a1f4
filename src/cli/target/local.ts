/** The local lake as a query target: DuckDB over the Parquet files under the data directory. */
import { existsSync, statSync } from 'node:fs';
import type { LogLakeConfig } from '../../config';
import { InputError } from '../../errors';
import { buildQuery } from '../../query/build';
import { engineOptionsOf } from '../engine-options';
import type { QueryFlags } from '../flags';
import { dataDirOf, filterFromFlags } from '../options';
import type { QueryTarget } from './index';

/**
 * Refuse a data directory that does not exist, so a typo in `--data-dir` is an error rather than an
 * empty answer. An existing directory without files yet is an empty lake (a pipeline that has delivered
 * nothing), not an error.
 * @param retry - what else the user can pass, for the message.
 * @throws InputError naming the path.
 */
export function requireLocalLake(dataDir: string, retry = 'pass --data-dir <dir>'): void {
  if (!existsSync(dataDir)) {
    throw new InputError(
      `no local lake at ${dataDir}: start one with \`loglake local --data-dir ${dataDir}\` (or \`npm start\`), or ${retry}`,
    );
  }
  if (!statSync(dataDir).isDirectory()) throw new InputError(`no local lake at ${dataDir}: not a directory`);
}

export async function localTarget(
  text: string | undefined,
  flags: QueryFlags,
  config: LogLakeConfig,
  now: Date,
): Promise<QueryTarget> {
  const dataDir = dataDirOf(flags);
  const lake = () => requireLocalLake(dataDir, 'pass --data-dir <dir> or --athena');
  const filter = await filterFromFlags(
    text,
    flags,
    config,
    async (ids) => {
      lake();
      const [{ pseudonymKey }, { LocalSubjectKeyStore }, { searchPseudonyms }] = await Promise.all([
        import('../../local/datadir'),
        import('../../privacy/local-store'),
        import('../../privacy/lookup'),
      ]);
      const key = pseudonymKey(dataDir, flags.pseudonymKeyFile, false);
      return searchPseudonyms(key, LocalSubjectKeyStore.forDataDir(dataDir), ids);
    },
    now,
  );
  lake();
  return {
    filter,
    run: async (query) => {
      const { LOCAL_TABLE, LocalLakeReader } = await import('../../query/duckdb');
      const built = buildQuery(query, { dialect: 'duckdb', tables: [{ table: LOCAL_TABLE }] });
      // The view covers only the partitions the query can match: another hour, not compacted yet,
      // would cost seconds to open.
      const scope = built.scope ? { scope: built.scope } : {};
      const reader = await LocalLakeReader.open(dataDir, { ...engineOptionsOf(flags), ...scope });
      return { built, pages: reader.stream(built), done: () => reader.close() };
    },
  };
}
