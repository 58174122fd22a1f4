/**
 * Access to logs is itself logged: every query that reads the lake appends an access event to the
 * `audit` category (who, as which persona, with which command and filters, which categories, how many
 * rows, how many bytes scanned, when, and how it ended).
 *
 * The hook sits at the two places every query passes through, whatever command or rule started it:
 * `LocalLakeReader.stream` (DuckDB over the local lake) and `runAthena` (Athena, for the CLI and the
 * alarm Lambda). Both hand their result pages to {@link auditedPages}, which counts the rows and records
 * the events through the {@link AccessScope} of the running program. The program sets the scope once
 * (the CLI in `main`, the alarm Lambda in its handler) and commands add what they learn (persona,
 * config) with {@link describeAccess}; a query outside any scope (a library user, a unit test) is not
 * recorded.
 *
 * No row leaves before its read is recorded. A result of one page is recorded once, `completed` with
 * its rows, before that page is handed over. A result of several pages is recorded twice, both events
 * carrying the same `id`: `started` (who, what, which categories, when; rows 0) before the first page is
 * handed over, and `completed`, `failed` or `abandoned` with the rows when the pages end (`completed`
 * before the last page is handed over). An interrupted read (a crash, a kill) leaves its `started` event
 * without a completion. A failure to record fails the query before the rows it would release: nothing
 * leaves when the first event cannot be written; a completion that cannot be written withholds the last
 * page and the command still exits non-zero.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { DuckDBInstance } from '@duckdb/node-api';
import { LogLakeError } from '../errors';
import type { BuiltQuery } from '../query/build';
import type { RawRow } from '../query/decode';
import { type Condition, conditionText } from '../query/fields';
import type { LogFilter } from '../query/model';
import type { Category, Persona } from '../schema';

/** Service and logger of access events: how `loglake search --category audit --service loglake-access` finds them. */
export const ACCESS_SERVICE = 'loglake-access';
export const ACCESS_LOGGER = 'loglake.access';

/** Commands of the tails (`loglake tail`, the explorer's live tail), as their access events name them. */
export const TAIL_COMMANDS = ['tail', 'ui-tail'] as const;

/**
 * Conditions leaving out the tails' own access events: a tail shows what arrived since it started, and
 * two tails (or one tail's polls) would otherwise feed each other forever.
 */
export function notTailAccess(): Condition[] {
  return TAIL_COMMANDS.map((command) => ({
    field: { column: 'attributes', key: 'access.command' },
    op: '!=',
    value: command,
  }));
}

/** Why an access event is marked for the security team (level WARN; the `bulk-read` rule alerts on it). */
export const ACCESS_FLAGS = ['bulk_read', 'locked_category'] as const;
export type AccessFlag = (typeof ACCESS_FLAGS)[number];

/** One read of the lake, or (outcome `started`) the start of a read of several pages. */
export interface AccessEvent {
  /**
   * Links the `started` event of a read to its completion (`completed`, `failed`, `abandoned`).
   * @default none (events written before there were ids)
   */
  readonly id?: string;
  /** When the query started, ISO-8601 UTC. */
  readonly time: string;
  /** Who: the OS user and host locally, the IAM principal (STS caller identity) on AWS, the function for the alarm Lambda. */
  readonly principal: string;
  readonly persona?: Persona;
  /** What ran it: `search`, `stats`, `export`, `alerts evaluate`, `alert-evaluate` (the alarm Lambda), `compliance-report` … */
  readonly command: string;
  /** The alert rule whose query this was (rules evaluated locally or by the alarm Lambda). */
  readonly rule?: string;
  readonly engine: 'duckdb' | 'athena';
  /** Which lake: the local data directory, or the Athena workgroup and database. */
  readonly lake: string;
  /** The query's kind (`search` returns records, `aggregate` counts; `scan` is a report's own read). */
  readonly queryKind: string;
  /** Categories read; `all` when the query did not restrict them. */
  readonly categories: readonly Category[] | 'all';
  /** The filter as given (time range, text, ids, levels, services, user pseudonyms). */
  readonly filter: Readonly<Record<string, string>>;
  /** Rows handed to the caller (records for a search or export, groups for stats); 0 in a `started` event. */
  readonly rows: number;
  readonly bytesScanned?: number;
  readonly queryId?: string;
  /** `started`: rows are about to be handed over, the count comes with the completion of the same `id`. */
  readonly outcome: 'started' | 'completed' | 'failed' | 'abandoned';
  readonly durationMs: number;
  readonly flags: readonly AccessFlag[];
}

/** Where a program's access events go. */
export interface AccessSink {
  record(event: AccessEvent): Promise<void>;
}

/** Which lake a query read, as the hook knows it. */
export type LakeRef =
  | {
      readonly engine: 'duckdb';
      readonly dataDir: string;
      /**
       * The DuckDB instance the query ran on, still open while the event is recorded: the local sink
       * writes the event's Parquet file through it instead of starting a second instance.
       * @default none: the sink opens its own
       */
      readonly instance?: DuckDBInstance;
    }
  | { readonly engine: 'athena'; readonly workGroup: string; readonly database: string };

/** The config's access-audit settings, as a scope resolves them (once, when the first event is recorded). */
export interface AccessSettings {
  /** A record query returning more rows than this is a bulk read. @default 10,000 */
  readonly bulkReadRows: number;
  readonly lockedCategories: readonly Category[];
  /** Access auditing turned off in the config (`accessAudit.enabled: false`). @default false */
  readonly disabled?: boolean;
}

/** What a running program knows about who is reading, and where to write what it reads. */
export interface AccessScope {
  /** Resolved once, on the first recorded query (on AWS it is a network call). */
  readonly principal: () => Promise<string>;
  command: string;
  persona?: Persona;
  /** The alert rule being evaluated, set by {@link forRule}. */
  readonly rule?: string;
  /**
   * A completed query that returned no rows is not recorded (a tail's polls after its first, set by
   * {@link quietWhenEmpty}): it handed nothing over, and recording it would write into the lake the
   * poll is watching, waking it again.
   * @default false
   */
  readonly quietWhenEmpty?: boolean;
  /** Asked when an event is recorded, so a program that never queries never loads its config. */
  readonly settings: () => Promise<AccessSettings>;
  /** The sink for a lake (the local lake itself, or the audit stream). */
  readonly sinkFor: (lake: LakeRef) => AccessSink;
}

const storage = new AsyncLocalStorage<AccessScope>();

/** Run `fn` with `scope`: every query it makes is recorded there. */
export function withAccessScope<T>(scope: AccessScope, fn: () => T): T {
  return storage.run(scope, fn);
}

/** The scope of the running code, if any. */
export function currentAccessScope(): AccessScope | undefined {
  return storage.getStore();
}

/** Add what a command learned (its name, its persona) to the running scope. */
export function describeAccess(update: Partial<Pick<AccessScope, 'command' | 'persona'>>): void {
  const scope = storage.getStore();
  if (scope) Object.assign(scope, update);
}

/** Run `fn` as the evaluation of alert rule `rule`: its queries' events name the rule. */
export function forRule<T>(rule: string, fn: () => T): T {
  const scope = storage.getStore();
  return scope ? storage.run({ ...scope, rule }, fn) : fn();
}

/** Run `fn` with its completed queries that return no rows left unrecorded (see `AccessScope`). */
export function quietWhenEmpty<T>(fn: () => T): T {
  const scope = storage.getStore();
  return scope ? storage.run({ ...scope, quietWhenEmpty: true }, fn) : fn();
}

/** The access event could not be written; the rows are withheld. */
export class AccessAuditError extends LogLakeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AccessAuditError';
  }
}

/** The filter of a query as event fields: only what was given, values as text. */
export function filterFields(filter: LogFilter | undefined): Record<string, string> {
  if (!filter) return {};
  const out: Record<string, string> = {
    since: filter.since.toISOString(),
    until: filter.until.toISOString(),
  };
  if (filter.text !== undefined) out.text = filter.text;
  if (filter.correlationId !== undefined) out.correlation_id = filter.correlationId;
  if (filter.traceId !== undefined) out.trace_id = filter.traceId;
  if (filter.levels?.length) out.levels = filter.levels.join(',');
  if (filter.services?.length) out.services = filter.services.join(',');
  if (filter.categories?.length) out.categories = filter.categories.join(',');
  // Pseudonyms already (the raw ids never reach a query), named so the redactor keeps them as they are.
  if (filter.userIds?.length) out.pseudonyms = filter.userIds.join(',');
  // What was looked for: a condition may hold a comma or ` AND `, so each list is JSON.
  if (filter.where?.length) out.where = JSON.stringify(filter.where.map(conditionLabel));
  if (filter.anyOf?.length) out.any_of = JSON.stringify(filter.anyOf.map((g) => g.map(conditionLabel)));
  if (filter.regex !== undefined) out.regex = filter.regex;
  if (filter.caseSensitive) out.case_sensitive = 'true';
  return out;
}

function conditionLabel(c: Condition): string {
  return c.text ?? conditionText(c);
}

/** Why an access is marked: a bulk read of records, or a persona reading a locked category. */
export function accessFlags(
  e: Pick<AccessEvent, 'queryKind' | 'rows' | 'persona' | 'categories'>,
  settings: Pick<AccessSettings, 'bulkReadRows' | 'lockedCategories'>,
): AccessFlag[] {
  const flags: AccessFlag[] = [];
  if (e.queryKind === 'search' && e.rows > settings.bulkReadRows) flags.push('bulk_read');
  const locked = new Set<string>(settings.lockedCategories);
  const readsLocked =
    e.categories === 'all' ? settings.lockedCategories.length > 0 : e.categories.some((c) => locked.has(c));
  if (e.persona !== undefined && readsLocked) flags.push('locked_category');
  return flags;
}

/**
 * The access event as a raw log event, as any producer would send it: the transform normalizes it into
 * the `audit` category (service `loglake-access`, `access.*` in `attributes`), locally and on AWS alike.
 */
export function accessLogEvent(e: AccessEvent): Record<string, unknown> {
  const categories = e.categories === 'all' ? 'all' : e.categories.join(',');
  const what = e.categories === 'all' ? 'all categories' : categories || 'no category';
  const marks = e.flags.length > 0 ? ` [${e.flags.join(', ')}]` : '';
  const command = e.rule !== undefined ? `${e.command} (rule ${e.rule})` : e.command;
  const read =
    e.outcome === 'started'
      ? `started reading ${what} (${e.engine})`
      : `${e.rows} row(s) from ${what} (${e.engine}, ${e.outcome})`;
  return {
    timestamp: e.time,
    level: e.flags.length > 0 ? 'WARN' : 'INFO',
    service: ACCESS_SERVICE,
    logger: ACCESS_LOGGER,
    category: 'audit',
    message: `${command} by ${e.principal}${e.persona ? ` as ${e.persona}` : ''}: ${read}${marks}`,
    access: {
      ...(e.id !== undefined ? { id: e.id } : {}),
      principal: e.principal,
      persona: e.persona ?? 'none',
      command: e.command,
      ...(e.rule !== undefined ? { rule: e.rule } : {}),
      engine: e.engine,
      lake: e.lake,
      query_kind: e.queryKind,
      categories,
      rows: String(e.rows),
      ...(e.bytesScanned !== undefined ? { bytes_scanned: String(e.bytesScanned) } : {}),
      ...(e.queryId !== undefined ? { query_id: e.queryId } : {}),
      outcome: e.outcome,
      duration_ms: String(e.durationMs),
      flags: e.flags.join(','),
      filter: e.filter,
    },
  };
}

/** What the engine knows about the query once its pages are done. */
export interface QueryStats {
  readonly bytesScanned?: number;
  readonly queryId?: string;
}

/**
 * `pages`, counted, with the read recorded before any row is returned to the caller's loop: a `started`
 * event before the first of several pages, and the end of the read when the pages end: completed (before
 * the last page), failed, or abandoned by the caller. Outside an access scope, `pages` as they are.
 */
export function auditedPages(
  built: BuiltQuery,
  lake: LakeRef,
  pages: AsyncIterable<RawRow[]>,
  stats: () => QueryStats = () => ({}),
): AsyncIterable<RawRow[]> {
  const scope = storage.getStore();
  if (!scope) return pages;
  return audit(scope, built, lake, pages, stats);
}

async function* audit(
  scope: AccessScope,
  built: BuiltQuery,
  lake: LakeRef,
  pages: AsyncIterable<RawRow[]>,
  stats: () => QueryStats,
): AsyncIterable<RawRow[]> {
  const read: Read = { id: randomUUID(), started: new Date() };
  let rows = 0;
  let outcome: AccessEvent['outcome'] = 'abandoned';
  let announced = false;
  let held: RawRow[] | undefined;
  try {
    // One page is held back: a result of one page needs one event, written before the caller sees it,
    // and the completion of several is written before the caller sees the end of the rows.
    for await (const page of pages) {
      if (held) {
        if (!announced) {
          // A crash or kill from here on leaves this event without its completion, never rows unrecorded.
          await record(scope, built, lake, read, 0, 'started', {});
          announced = true;
        }
        yield held;
      }
      rows += page.length;
      held = page;
    }
    outcome = 'completed';
    if (!(scope.quietWhenEmpty && rows === 0)) await record(scope, built, lake, read, rows, outcome, stats());
    if (held) yield held;
  } catch (error) {
    if (outcome === 'completed') throw error;
    outcome = 'failed';
    await record(scope, built, lake, read, rows, outcome, stats()).catch(() => undefined);
    throw error;
  } finally {
    if (outcome === 'abandoned') await record(scope, built, lake, read, rows, outcome, stats());
  }
}

/** One query's read, as its events name it. */
interface Read {
  readonly id: string;
  readonly started: Date;
}

async function record(
  scope: AccessScope,
  built: BuiltQuery,
  lake: LakeRef,
  { id, started }: Read,
  rows: number,
  outcome: AccessEvent['outcome'],
  stats: QueryStats,
): Promise<void> {
  const source = built.source ?? built.reads;
  const categories = source?.filter.categories?.length ? [...source.filter.categories] : 'all';
  const base = {
    queryKind: source?.kind ?? 'sql',
    rows,
    ...(scope.persona ? { persona: scope.persona } : {}),
    categories,
  } as const;
  try {
    const settings = await scope.settings();
    if (settings.disabled) return;
    const event: AccessEvent = {
      id,
      ...base,
      time: started.toISOString(),
      principal: await scope.principal(),
      command: scope.command,
      ...(scope.rule !== undefined ? { rule: scope.rule } : {}),
      engine: lake.engine,
      lake: lake.engine === 'duckdb' ? lake.dataDir : `${lake.workGroup}/${lake.database}`,
      filter: filterFields(source?.filter),
      ...(stats.bytesScanned !== undefined ? { bytesScanned: stats.bytesScanned } : {}),
      ...(stats.queryId !== undefined ? { queryId: stats.queryId } : {}),
      outcome,
      durationMs: Date.now() - started.getTime(),
      flags: accessFlags(base, settings),
    };
    await scope.sinkFor(lake).record(event);
  } catch (error) {
    throw new AccessAuditError(
      `the access event of this query could not be recorded, so its results are withheld: ${
        error instanceof Error ? error.message : String(error)
      }`,
      { cause: error },
    );
  }
}
