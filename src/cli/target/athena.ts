/**
 * Athena as a query target: workgroup, database and tables from flags or the stack's outputs, progress
 * and cost on stderr while the query runs, Ctrl-C stops the query.
 */
import { currentAccessScope } from '../../audit/access';
import type { LogLakeConfig } from '../../config';
import { athenaCostUsd, runAthena } from '../../query/athena';
import { type BuildOptions, type BuiltQuery, buildQuery } from '../../query/build';
import { describeCliAccess } from '../access';
import { type AthenaTarget, athenaClient, athenaPseudonymizer, resolveAthenaTarget } from '../aws';
import type { QueryFlags } from '../flags';
import { formatBytes } from '../format';
import type { CliIO } from '../io';
import { athenaTablesFor, filterFromFlags } from '../options';
import type { QueryTarget } from './index';

export async function athenaTarget(
  text: string | undefined,
  flags: QueryFlags,
  config: LogLakeConfig,
  io: CliIO,
  now: Date,
): Promise<QueryTarget> {
  let resolved: Promise<AthenaTarget> | undefined;
  const targetOf = () => {
    resolved ??= resolveAthenaTarget(flags);
    return resolved;
  };
  const filter = await filterFromFlags(
    text,
    flags,
    config,
    async (ids) => (await athenaPseudonymizer(await targetOf()))(ids),
    now,
  );
  const target = await targetOf();
  describeCliAccess(currentAccessScope(), { audit: target });
  const tables = athenaTablesFor(filter.categories, config, Boolean(flags.includeAudit));
  const options: BuildOptions = {
    dialect: 'athena',
    tables: tables.map((t) => ({ database: target.database, table: target.tables[t] })),
  };
  return {
    filter,
    run: async (query) => {
      const built = buildQuery(query, options);
      const run = await runAthenaWithProgress(built, target, io);
      return { built, pages: run.pages, done: () => undefined };
    },
  };
}

async function runAthenaWithProgress(built: BuiltQuery, target: AthenaTarget, io: CliIO) {
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  let lastState = '';
  try {
    const run = await runAthena(athenaClient(target.region), built, {
      workGroup: target.workGroup,
      database: target.database,
      signal: controller.signal,
      onProgress: (p) => {
        const line = `athena: ${p.state.padEnd(9)} scanned ${formatBytes(p.scannedBytes)}, ~$${p.costUsd.toFixed(5)}, ${(p.elapsedMs / 1000).toFixed(1)} s (query ${p.queryId})`;
        if (io.isTTY) io.stderr(`\r${line}\x1b[K`);
        else if (p.state !== lastState) io.stderr(`${line}\n`);
        lastState = p.state;
      },
    });
    if (io.isTTY) io.stderr('\n');
    const region = target.region ?? 'us-east-1';
    io.stderr(
      `athena: query ${run.queryId} scanned ${formatBytes(run.scannedBytes)} (~$${athenaCostUsd(run.scannedBytes).toFixed(5)}); console: https://${region}.console.aws.amazon.com/athena/home?region=${region}#/query-editor/history/${run.queryId}\n`,
    );
    return run;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
