/**
 * Typed flags for every command: commander hands an action untyped values, and each command's action
 * parses them with its zod schema through {@link parseFlags}, so the command's code sees typed flags and
 * no cast, and a value of the wrong shape is a usage error naming the flag. Also the flags the query
 * commands share (filters, targets): their commander definitions and their schema.
 */
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { InputError } from '../errors';
import { PERSONAS } from '../schema';
import { MEMORY_LIMIT_HELP, memoryLimitOption } from './engine-options';
import { OUTPUT_FORMATS, type OutputFormat } from './format';
import { DEFAULT_SINCE, listOption } from './options';

/** `dataDir` → `--data-dir`: the flag a commander attribute name came from. */
export function flagName(attribute: PropertyKey): string {
  return `--${String(attribute).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * commander's option values checked against `schema`.
 * @throws InputError naming the flag and what was expected; Error for an option the schema does not
 * declare (a command defined an option it does not read: a bug, not a usage error).
 */
export function parseFlags<S extends z.ZodType>(schema: S, values: unknown): z.output<S> {
  const result = schema.safeParse(values);
  if (result.success) return result.data;
  const unknown = result.error.issues.find((i) => i.code === 'unrecognized_keys');
  if (unknown && unknown.code === 'unrecognized_keys') {
    throw new Error(`flags not declared in the command's schema: ${unknown.keys.map(flagName).join(', ')}`);
  }
  throw new InputError(
    result.error.issues
      .map((i) => `${i.path.length > 0 ? flagName(i.path[0] ?? '') : 'flags'}: ${i.message}`)
      .join('; '),
  );
}

/** The optional `[text]` argument. */
export function textArgument(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

const text = z.string().optional();
const list = z.array(z.string()).optional();
const flag = z.boolean().optional();

/** Filters shared by search, stats and export. */
export const filterFlags = {
  correlationId: text,
  traceId: text,
  since: text,
  until: text,
  level: list,
  service: list,
  category: list,
  user: list,
  where: list,
  regex: text,
  caseSensitive: flag,
} as const;

/** Where a query runs: the local lake or Athena. */
export const targetFlags = {
  dataDir: text,
  pseudonymKeyFile: text,
  athena: flag,
  stack: text,
  region: text,
  workgroup: text,
  persona: z.enum(PERSONAS).optional(),
  database: text,
  logsTable: text,
  auditTable: text,
  includeAudit: flag,
  pseudonymSecret: text,
  auditStream: text,
  config: text,
  memoryLimit: z.number().int().positive().optional(),
} as const;

/** The flags every query command has. */
export const queryFlags = z.strictObject({ ...filterFlags, ...targetFlags });
export type QueryFlags = z.output<typeof queryFlags>;

/** A query command's schema: the filter and target flags plus its own. */
export function queryFlagsWith<const T extends z.ZodRawShape>(own: T) {
  return z.strictObject({ ...filterFlags, ...targetFlags, ...own });
}

/** A query command (search, stats, export …) with the filter and target options; add its own to it. */
export function queryCommand(program: Command, name: string, description: string): Command {
  const cmd = program.command(name).description(description);
  addFilterOptions(cmd);
  return addTargetOptions(cmd);
}

export function formatSchema<const F extends readonly OutputFormat[]>(formats: F) {
  return z.enum(formats).optional();
}

/** `--correlation-id`, `--since`, `--level` …: the filters, with the same meaning in every command. */
export function addFilterOptions(cmd: Command): Command {
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
      'levels, repeatable or comma-separated (DEBUG, INFO, WARN, ERROR, CRITICAL, or an alias the transform maps: warning, fatal, panic, trace …)',
      listOption,
    )
    .option('--service <name>', 'services, repeatable or comma-separated', listOption)
    .option('--category <category>', 'categories, repeatable or comma-separated', listOption)
    .option('--user <raw-id>', 'raw user ids; pseudonymized with the lake key before the query', listOption)
    .option(
      '--where <FIELD OP VALUE>',
      'a condition on any column, attributes.KEY or metrics.KEY, repeatable (all must hold); OP is =, !=, >, >=, <, <=, or ~ (substring); e.g. attributes.context.agent_id=agent_coder, duration_ms>500, level>=WARN',
      repeatOption,
    )
    .option(
      '--regex <re>',
      'a regular expression the message or the stack trace must match (RE2/Java syntax both engines share: no lookaround or backreferences)',
    )
    .option('--case-sensitive', 'text, --regex and ~ respect case (default: case-insensitive)');
}

/** Collects a repeatable option whose values may hold commas (`--where`). */
export function repeatOption(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `--data-dir` for the local lake, or `--athena` and what it needs. */
export function addTargetOptions(cmd: Command): Command {
  return cmd
    .option(
      '--data-dir <dir>',
      'query the local lake in this directory (default .loglake/data or LOGLAKE_DATA_DIR; a missing lake is an error)',
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
    .option('--logs-table <name>', 'table of the logs stream')
    .option('--audit-table <name>', 'table of the audit stream (locked categories)')
    .option('--include-audit', 'with no --category, also read the audit table')
    .option('--pseudonym-secret <arn>', 'Secrets Manager secret of the pseudonym key (for --user)')
    .option(
      '--audit-stream <name>',
      'Firehose stream receiving the access event of an Athena query when the stack has no access recorder (AccessRecorderUrl output; default: its AuditStreamName output)',
    )
    .option('--config <file.json>', 'config override (categories, locked categories, time tolerance)')
    .option('--memory-limit <size>', MEMORY_LIMIT_HELP, memoryLimitOption);
}

/** `--format` limited to `formats`, defaulting to `dflt`. */
export function formatOption(dflt: OutputFormat, formats: readonly OutputFormat[] = OUTPUT_FORMATS): Option {
  return new Option('--format <format>', 'output format').choices(formats).default(dflt);
}
