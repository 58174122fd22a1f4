/** Option parsing shared by the commands: values are checked here, so a bad flag is a usage error (exit 2). */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { DEFAULT_CONFIG, type LogLakeConfig, lockedCategories, resolveConfig } from '../config';
import { InputError, parseJsonOrThrow } from '../errors';
import { parseCondition } from '../query/fields';
import type { Dialect, LogFilter } from '../query/model';
import { checkPortableRegex } from '../query/regex';
import { CATEGORIES, type Category, LEVELS, type Level, PERSONAS, type Persona } from '../schema';
import { parseDuration, parseTime } from '../time';
import { levelFromName } from '../transform/level';
import { cliEnv } from './env';

/** Default data directory of `loglake local` and the local `search`. */
export const DEFAULT_DATA_DIR = '.loglake/data';

/** commander argument parser for a whole number in a range. */
export function intOption(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

/** commander argument parser for a duration (`30s`, `5m`, …), in ms. */
export function durationOption(value: string): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^duration: /, ''));
  }
}

/** Collects a repeatable, comma-separable option into a list. */
export function listOption(value: string, previous: string[] | undefined): string[] {
  return [
    ...(previous ?? []),
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

/**
 * `--level` values, any case, with every alias the transform maps (`WARNING`→WARN, `FATAL`/`PANIC`→
 * CRITICAL, `TRACE`→DEBUG …): a level the transform writes can be searched by the name the source used.
 */
export function parseLevels(values: readonly string[]): Level[] {
  return values.map((v) => {
    const level = levelFromName(v);
    if (level === undefined) {
      throw new InputError(
        `--level: unknown level ${JSON.stringify(v)}; expected one of ${LEVELS.join(', ')} (or an alias such as warning, fatal, panic, trace)`,
      );
    }
    return level;
  });
}

/** `--category` values. */
export function parseCategories(values: readonly string[]): Category[] {
  return values.map((v) => {
    const c = v.toLowerCase();
    if (!(CATEGORIES as readonly string[]).includes(c)) {
      throw new InputError(
        `--category: unknown category ${JSON.stringify(v)}; expected one of ${CATEGORIES.join(', ')}`,
      );
    }
    return c as Category;
  });
}

/** The config model, from `--config <file.json>` (an override of the defaults) or the defaults. */
export function loadConfig(file: string | undefined): LogLakeConfig {
  // The defaults validate to themselves (test/config.test.ts): a query without --config skips zod's
  // first parse of the whole schema (it compiles a parser per object, ~50-150 ms of every start-up).
  if (file === undefined) return structuredClone(DEFAULT_CONFIG);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new InputError(`--config: cannot read ${file}: ${(cause as Error).message}`, { cause });
  }
  const json = parseJsonOrThrow(text, file, 'Invalid --config file');
  return resolveConfig(json, file);
}

/** Flags shared by search, stats and export (as commander hands them over). */
export interface FilterFlags {
  readonly correlationId?: string;
  readonly traceId?: string;
  readonly since?: string;
  readonly until?: string;
  readonly level?: string[];
  readonly service?: string[];
  readonly category?: string[];
  readonly user?: string[];
  readonly where?: string[];
  readonly regex?: string;
  readonly caseSensitive?: boolean;
}

/** Default look-back of search, stats and export. */
export const DEFAULT_SINCE = '24h';

/**
 * The query filter from the flags. `until` defaults to now plus the transform's future tolerance (events
 * up to `maxFutureMinutes` ahead keep their timestamp), so nothing just ingested is missed.
 * @param pseudonymize - turns raw `--user` ids into pseudonyms (the key differs locally and on AWS).
 */
export async function filterFromFlags(
  text: string | undefined,
  flags: FilterFlags,
  config: LogLakeConfig,
  pseudonymize: (rawIds: string[]) => Promise<string[]>,
  now: Date = new Date(),
): Promise<LogFilter> {
  const since = parseTime(flags.since ?? DEFAULT_SINCE, '--since', now);
  const until =
    flags.until !== undefined
      ? parseTime(flags.until, '--until', now)
      : new Date(now.getTime() + config.transform.maxFutureMinutes * 60_000);
  if (since.getTime() >= until.getTime()) {
    throw new InputError(`--since (${since.toISOString()}) must be before --until (${until.toISOString()})`);
  }
  return {
    since,
    until,
    ...(text !== undefined && text !== '' ? { text } : {}),
    ...(flags.correlationId !== undefined ? { correlationId: flags.correlationId } : {}),
    ...(flags.traceId !== undefined ? { traceId: flags.traceId } : {}),
    ...(flags.level?.length ? { levels: parseLevels(flags.level) } : {}),
    ...(flags.service?.length ? { services: flags.service } : {}),
    ...(flags.category?.length ? { categories: parseCategories(flags.category) } : {}),
    ...(flags.where?.length ? { where: flags.where.map((w) => parseCondition(w, now)) } : {}),
    ...(flags.regex !== undefined ? { regex: portableRegex(flags.regex) } : {}),
    ...(flags.caseSensitive ? { caseSensitive: true } : {}),
    ...(flags.user?.length ? { userIds: await pseudonymize(flags.user) } : {}),
  };
}

function portableRegex(pattern: string): string {
  checkPortableRegex(pattern);
  return pattern;
}

/** Where a query runs. */
export interface TargetFlags {
  readonly dataDir?: string;
  readonly athena?: boolean;
}

export function dialectOf(flags: TargetFlags): Dialect {
  if (flags.athena && flags.dataDir !== undefined) {
    throw new InputError('--athena and --data-dir exclude each other: query AWS or the local lake, not both');
  }
  return flags.athena ? 'athena' : 'duckdb';
}

/**
 * A command that reads one lake, local or deployed, takes `--data-dir` or `--stack`.
 * @throws InputError when `flags` name both.
 */
export function oneLake(flags: { readonly dataDir?: string; readonly stack?: string }): void {
  if (flags.stack !== undefined && flags.dataDir !== undefined) {
    throw new InputError('--stack and --data-dir name two lakes: give one');
  }
}

export function dataDirOf(flags: TargetFlags): string {
  return flags.dataDir ?? cliEnv.dataDir ?? DEFAULT_DATA_DIR;
}

/**
 * Athena tables for the requested categories: a locked category is delivered to the `audit` table (Object
 * Lock bucket) and read from `logs` too, where the transform keeps what it could not forward to the audit
 * stream (the `logs` table projects every category); the others are in `logs`. No category → `logs`, plus
 * `audit` with `--include-audit`. Persona roles may be allowed only one of the two, so a query reads only
 * what it needs.
 */
export function athenaTablesFor(
  categories: readonly Category[] | undefined,
  config: LogLakeConfig,
  includeAudit: boolean,
): Array<'logs' | 'audit'> {
  const locked = new Set(lockedCategories(config));
  if (!categories || categories.length === 0) return includeAudit ? ['logs', 'audit'] : ['logs'];
  return categories.some((c) => locked.has(c)) ? ['logs', 'audit'] : ['logs'];
}

/**
 * What a query as `persona` reads: the categories of its read grant in the config, narrowed to
 * `requested` when given. On Athena this is what makes a persona's query possible at all: partition
 * projection enumerates every category of a table, so a query that does not restrict `category` lists
 * prefixes the persona's role may not read and fails with AccessDenied.
 * @throws InputError naming the persona's categories when it may read none of `requested`.
 */
export function personaCategories(
  persona: string,
  requested: readonly Category[] | undefined,
  config: Pick<LogLakeConfig, 'personas'>,
): Category[] {
  if (!(PERSONAS as readonly string[]).includes(persona)) {
    throw new InputError(
      `--persona: unknown persona ${JSON.stringify(persona)}; expected one of ${PERSONAS.join(', ')}`,
    );
  }
  const grant = config.personas[persona as Persona].read;
  const scope = CATEGORIES.filter((c) => grant.includes(c) && (!requested?.length || requested.includes(c)));
  if (scope.length === 0) {
    throw new InputError(
      requested?.length
        ? `--persona ${persona} may read ${grant.join(', ') || 'no category'}, none of --category ${requested.join(', ')}`
        : `--persona ${persona} may read no category (personas.${persona}.read is empty in the config)`,
    );
  }
  return scope;
}
