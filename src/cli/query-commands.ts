/** `loglake search`, `stats` and `export`: one filter, one query builder, the local lake or Athena. */

import { once } from 'node:events';
import { createWriteStream, existsSync, renameSync, rmSync } from 'node:fs';
import { type Command, Option } from 'commander';
import type { LogLakeConfig } from '../config';
import { InputError } from '../errors';
import { pseudonymKey } from '../local/datadir';
import { athenaCostUsd, runAthena } from '../query/athena';
import { type BuildOptions, type BuiltQuery, buildQuery } from '../query/build';
import {
  type AggregateRow,
  decodeAggregateRow,
  decodeSearchRow,
  type RawRow,
  type SearchRecord,
} from '../query/decode';
import { LOCAL_TABLE, LocalLakeReader } from '../query/duckdb';
import { GROUP_COLUMNS, type GroupColumn, type LogFilter, type LogQuery } from '../query/model';
import { pseudonymizeUserId } from '../redact/pseudonym';
import { PERSONAS } from '../schema';
import {
  type AthenaFlags,
  type AthenaTarget,
  athenaClient,
  athenaPseudonymizer,
  resolveAthenaTarget,
} from './aws';
import {
  aggregateObjects,
  aggregateTable,
  formatObjects,
  OUTPUT_FORMATS,
  type OutputFormat,
  RecordWriter,
  recordTable,
} from './format';
import {
  athenaTablesFor,
  DEFAULT_SINCE,
  dataDirOf,
  dialectOf,
  durationOption,
  type FilterFlags,
  filterFromFlags,
  intOption,
  listOption,
  loadConfig,
  parseCategories,
  personaCategories,
  type TargetFlags,
} from './options';

interface QueryFlags extends FilterFlags, TargetFlags, AthenaFlags {
  readonly config?: string;
  readonly pseudonymKeyFile?: string;
  readonly includeAudit?: boolean;
  readonly limit?: number;
  readonly format?: OutputFormat;
  readonly order?: 'asc' | 'desc';
}

/** Where the output goes; tests pass their own. */
export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Terminal width when stdout is a terminal. */
  readonly columns?: number;
  readonly isTTY?: boolean;
}

export const processIO: CliIO = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  columns: process.stdout.isTTY ? process.stdout.columns : undefined,
  isTTY: Boolean(process.stderr.isTTY),
};

function addFilterOptions(cmd: Command): Command {
  return cmd
    .option('--correlation-id <id>', 'exact correlation id')
    .option('--trace-id <id>', 'exact trace id')
    .option(
      '--since <time>',
      'start: ISO-8601 (2026-11-22T10:00Z), epoch ms, or relative (15m, 2h, 7d)',
      DEFAULT_SINCE,
    )
    .option('--until <time>', 'end (exclusive); default now (plus the 15 min future tolerance)')
    .option(
      '--level <level>',
      `levels, repeatable or comma-separated (DEBUG, INFO, WARN, ERROR, CRITICAL)`,
      listOption,
    )
    .option('--service <name>', 'services, repeatable or comma-separated', listOption)
    .option('--category <category>', 'categories, repeatable or comma-separated', listOption)
    .option('--user <raw-id>', 'raw user ids; pseudonymized with the lake key before the query', listOption);
}

function addTargetOptions(cmd: Command): Command {
  return cmd
    .option(
      '--data-dir <dir>',
      'query the local lake in this directory (default .loglake/data or LOGLAKE_DATA_DIR)',
    )
    .option('--pseudonym-key-file <file>', 'local pseudonym key (default <data-dir>/.loglake/pseudonym.key)')
    .option('--athena', 'query Athena instead of the local lake')
    .option(
      '--stack <name>',
      'read workgroup, database, tables and the pseudonym secret from this stack’s outputs',
    )
    .option('--region <region>', 'AWS region (default AWS_REGION)')
    .option('--workgroup <name>', 'Athena workgroup')
    .addOption(
      new Option(
        '--persona <persona>',
        'query as this persona: only the categories its config grant may read (with --category: the overlap), through its workgroup from the stack outputs',
      ).choices(PERSONAS),
    )
    .option('--database <name>', 'Glue database')
    .option('--logs-table <name>', 'table of the logs stream', undefined)
    .option('--audit-table <name>', 'table of the audit stream (locked categories)', undefined)
    .option('--include-audit', 'with no --category, also read the audit table')
    .option('--pseudonym-secret <arn>', 'Secrets Manager secret of the pseudonym key (for --user)')
    .option('--config <file.json>', 'config override (categories, locked categories, time tolerance)');
}

/** A query ready to run against its target. */
interface Prepared {
  readonly filter: LogFilter;
  readonly run: (
    query: LogQuery,
  ) => Promise<{ built: BuiltQuery; pages: AsyncIterable<RawRow[]>; done: () => void }>;
}

async function prepare(
  text: string | undefined,
  given: QueryFlags,
  io: CliIO,
  now = new Date(),
): Promise<Prepared> {
  const config: LogLakeConfig = loadConfig(given.config);
  const dialect = dialectOf(given);
  // Before anything reaches AWS: a persona's query reads only the categories it may read.
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
    const dataDir = dataDirOf(flags);
    const lakeExists = () => {
      if (!existsSync(dataDir)) {
        throw new InputError(
          `no local lake at ${dataDir}: start one with \`loglake local --data-dir ${dataDir}\` (or \`npm start\`), or pass --data-dir / --athena`,
        );
      }
    };
    // Flags first (a bad --since is reported as such), then the lake.
    const filter = await filterFromFlags(
      text,
      flags,
      config,
      async (ids) => {
        lakeExists();
        const key = pseudonymKey(dataDir, flags.pseudonymKeyFile, false);
        return ids.map((id) => pseudonymizeUserId(id, key));
      },
      now,
    );
    lakeExists();
    return {
      filter,
      run: async (query) => {
        const built = buildQuery(query, { dialect, tables: [{ table: LOCAL_TABLE }] });
        const reader = await LocalLakeReader.open(dataDir);
        return { built, pages: reader.stream(built), done: () => reader.close() };
      },
    };
  }
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
  const tables = athenaTablesFor(filter.categories, config, Boolean(flags.includeAudit));
  const options: BuildOptions = {
    dialect,
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

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

async function collect<T>(pages: AsyncIterable<RawRow[]>, decode: (row: RawRow) => T): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) for (const row of page) out.push(decode(row));
  return out;
}

/** `loglake search`: prints matching records; no match is not an error (exit 0). */
export async function searchCommand(
  text: string | undefined,
  flags: QueryFlags,
  io: CliIO = processIO,
): Promise<SearchRecord[]> {
  const prepared = await prepare(text, flags, io);
  const { built, pages, done } = await prepared.run({
    kind: 'search',
    filter: prepared.filter,
    limit: flags.limit ?? 100,
    order: flags.order ?? 'desc',
  });
  try {
    const records = await collect(pages, (r) => decodeSearchRow(built.columns, r));
    const format = flags.format ?? 'table';
    if (format === 'table') {
      if (records.length === 0) io.stderr('no matching records\n');
      else io.stdout(recordTable(records, { width: io.columns }));
    } else {
      const writer = new RecordWriter(format, io.stdout);
      await writer.write(records);
      await writer.end();
    }
    return records;
  } finally {
    done();
  }
}

interface StatsFlags extends QueryFlags {
  readonly groupBy?: string[];
  readonly interval?: number;
}

/** `loglake stats`: counts, errors and error rate per group (and time bucket). */
export async function statsCommand(flags: StatsFlags, io: CliIO = processIO): Promise<AggregateRow[]> {
  const groupBy = (flags.groupBy ?? ['category']).map((g) => g.toLowerCase());
  for (const g of groupBy) {
    if (!(GROUP_COLUMNS as readonly string[]).includes(g)) {
      throw new InputError(
        `--group-by: cannot group by ${JSON.stringify(g)}; expected one of ${GROUP_COLUMNS.join(', ')}`,
      );
    }
  }
  const prepared = await prepare(undefined, flags, io);
  const { built, pages, done } = await prepared.run({
    kind: 'aggregate',
    filter: prepared.filter,
    groupBy: groupBy as GroupColumn[],
    ...(flags.interval ? { bucketMs: flags.interval } : {}),
    ...(flags.limit ? { limit: flags.limit } : {}),
  });
  try {
    const rows = await collect(pages, (r) => decodeAggregateRow(built.columns, r));
    const format = flags.format ?? 'table';
    if (format === 'table') {
      if (rows.length === 0) io.stderr('no matching records\n');
      else io.stdout(aggregateTable(rows, groupBy, { width: io.columns }));
    } else {
      io.stdout(formatObjects(aggregateObjects(rows), format));
    }
    return rows;
  } finally {
    done();
  }
}

interface ExportFlags extends QueryFlags {
  readonly output: string;
}

/** `loglake export`: every matching record to a file, streamed; the file appears only when complete. */
export async function exportCommand(
  text: string | undefined,
  flags: ExportFlags,
  io: CliIO = processIO,
): Promise<number> {
  const format = flags.format ?? 'csv';
  if (format === 'table') throw new InputError('--format: export writes csv, json or ndjson');
  const prepared = await prepare(text, flags, io);
  const { built, pages, done } = await prepared.run({
    kind: 'search',
    filter: prepared.filter,
    order: 'asc',
    ...(flags.limit ? { limit: flags.limit } : {}),
  });
  const partial = `${flags.output}.partial`;
  const file = createWriteStream(partial);
  try {
    const writer = new RecordWriter(format, async (t) => {
      if (!file.write(t)) await once(file, 'drain');
    });
    for await (const page of pages) await writer.write(page.map((r) => decodeSearchRow(built.columns, r)));
    await writer.end();
    file.end();
    await once(file, 'finish');
    renameSync(partial, flags.output);
    io.stderr(`exported ${writer.written} record${writer.written === 1 ? '' : 's'} to ${flags.output}\n`);
    return writer.written;
  } catch (error) {
    file.destroy();
    rmSync(partial, { force: true });
    throw error;
  } finally {
    done();
  }
}

/** Register search, stats and export on the program. */
export function registerQueryCommands(program: Command): void {
  const formats = (dflt: OutputFormat, only?: readonly OutputFormat[]) =>
    new Option('--format <format>', 'output format').choices(only ?? OUTPUT_FORMATS).default(dflt);

  const search = program
    .command('search')
    .description('search normalized records: case-insensitive text in the message plus exact filters')
    .argument('[text]', 'substring of the message (matched literally, case-insensitive)');
  addFilterOptions(search);
  addTargetOptions(search);
  search
    .option('--limit <n>', 'maximum records', intOption(1, 100_000), 100)
    .addOption(
      new Option('--order <order>', 'by event time: newest first (desc) or oldest first (asc)')
        .choices(['asc', 'desc'])
        .default('desc'),
    )
    .addOption(formats('table'))
    .addHelpText(
      'after',
      '\nExamples:\n  loglake search --correlation-id 5d0f179c --since 7d\n  loglake search "payment failed" --level error --service checkout --format json\n  loglake search --user 42 --athena --stack LogLake',
    )
    .action(async (text: string | undefined, flags: QueryFlags) => {
      await searchCommand(text, flags);
    });

  const stats = program
    .command('stats')
    .description('counts, errors and error rate per group (and time bucket)');
  addFilterOptions(stats);
  addTargetOptions(stats);
  stats
    .option('--group-by <column>', `group by (${GROUP_COLUMNS.join(', ')})`, listOption)
    .option('--interval <duration>', 'also bucket by time (e.g. 5m, 1h)', durationOption)
    .option('--limit <n>', 'maximum rows', intOption(1, 100_000))
    .addOption(formats('table'))
    .addHelpText(
      'after',
      '\nExamples:\n  loglake stats --group-by service --since 1h\n  loglake stats --group-by level --interval 15m --format csv',
    )
    .action(async (flags: StatsFlags) => {
      await statsCommand(flags);
    });

  const exp = program
    .command('export')
    .description('write every matching record to a file (streamed, oldest first)')
    .argument('[text]', 'substring of the message');
  addFilterOptions(exp);
  addTargetOptions(exp);
  exp
    .requiredOption('--output <file>', 'file to write')
    .option('--limit <n>', 'maximum records (default: all)', intOption(1, 1_000_000_000))
    .addOption(formats('csv', ['csv', 'json', 'ndjson']))
    .addHelpText(
      'after',
      '\nExample:\n  loglake export --category audit --since 30d --format csv --output audit.csv',
    )
    .action(async (text: string | undefined, flags: ExportFlags) => {
      await exportCommand(text, flags);
    });
}
