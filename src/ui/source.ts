/**
 * What the explorer reads: the local lake through DuckDB, or Athena (`loglake ui --stack … --persona …`)
 * through the CLI's Athena runner, with every query built by the one query builder (`src/query`). One
 * reader for the server's life; queries run one at a time. Results of a dashboard's panels are cached
 * for the dashboard's refresh interval: a dashboard reloaded (or opened twice) inside it runs no query.
 */

import type { AthenaClient } from '@aws-sdk/client-athena';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { rulesReadableWith } from '../alerts/config';
// Types only: the AWS SDK loads when the explorer runs over Athena, not for the local lake.
import type { RuleStateRead } from '../alerts/dynamodb-state';
import type { AthenaTarget } from '../cli/aws';
import {
  athenaTablesFor,
  type FilterFlags,
  filterFromFlags,
  parseCategories,
  personaCategories,
} from '../cli/options';
import type { LogLakeConfig } from '../config';
import { pseudonymKey } from '../local/datadir';
import type { TemplateRow } from '../patterns';
import { LocalSubjectKeyStore } from '../privacy/local-store';
import { searchPseudonyms } from '../privacy/lookup';
import { type BuiltQuery, buildQuery, type TableRef } from '../query/build';
import {
  type AggregateRow,
  type ContextBlock,
  contextBlocks,
  decodeAggregateRow,
  decodeRow,
  decodeSearchRow,
  type RawRow,
  type SearchRecord,
} from '../query/decode';
import { LOCAL_TABLE, LocalLakeReader } from '../query/duckdb';
import type {
  AggregateQuery,
  ContextQuery,
  Dialect,
  LogFilter,
  LogQuery,
  PatternsQuery,
  SearchQuery,
} from '../query/model';
import type { Persona } from '../schema';

export interface UiSourceOptions {
  readonly dataDir: string;
  readonly config: LogLakeConfig;
  /** @default `<dataDir>/.loglake/pseudonym.key` */
  readonly pseudonymKeyFile?: string;
}

/** A query the explorer ran: its SQL (shown on the page) and how long it took. */
export interface QueryLog {
  readonly sql: string;
  readonly params: readonly string[];
  readonly ms: number;
  readonly rows: number;
  /** Athena: bytes the query scanned, and what that costs. @default absent (the local lake) */
  readonly scannedBytes?: number;
  readonly costUsd?: number;
  /** Answered from the cache, without running. @default false */
  readonly cached?: boolean;
}

/** Where the explorer's queries run: how to build them for it and how to run them. */
export interface UiEngine {
  /** What the page header names: the data directory, or the Athena workgroup and database. */
  readonly label: string;
  readonly dialect: Dialect;
  tables(filter: LogFilter): readonly TableRef[];
  query(built: BuiltQuery): Promise<{ rows: RawRow[]; scannedBytes?: number; costUsd?: number }>;
  stream(built: BuiltQuery): AsyncIterable<RawRow[]>;
  pseudonymize(ids: string[]): Promise<string[]>;
  /** A deployed stack's alerting, as the alarm Lambda keeps it. @default absent (the local lake) */
  alertState?(): Promise<StackAlertState>;
  close(): void;
}

/** What the alerts page can say of a deployed stack's alerting. */
export type StackAlertState =
  | { readonly kind: 'no-alerting' }
  /** No stack named (the workgroup and database flags alone), or a stack deployed before the output. */
  | { readonly kind: 'table-unknown' }
  | {
      readonly kind: 'read';
      readonly table: string;
      /** The rules asked for, by name: all of the config's, or a persona's (`rulesReadableWith`). */
      readonly rules: readonly RuleStateRead[];
      /** Rules of the config over categories the persona does not read: not asked for. */
      readonly notAsked: readonly string[];
    };

/** Athena as the explorer's engine (the CLI's target, resolved from `--stack`/`--persona`). */
export interface UiAthenaOptions {
  readonly client: AthenaClient;
  readonly target: AthenaTarget;
  readonly config: LogLakeConfig;
  /** Reads only the categories of this persona's grant. @default none */
  readonly persona?: string;
  /** Poll interval of a running query. @default the runner's */
  readonly pollMs?: number;
  /** Reads the rules' state from `target.alertStateTable`. @default the CLI's client for the target's region */
  readonly dynamodb?: DynamoDBClient;
}

export class UiSource {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly cache = new Map<string, { expires: number; rows: RawRow[]; log: QueryLog }>();

  private constructor(
    private readonly engine: UiEngine,
    readonly options: UiSourceOptions,
    /** Set over Athena: the persona whose categories every query is narrowed to. */
    private readonly persona?: string,
  ) {}

  static async open(options: UiSourceOptions): Promise<UiSource> {
    // Queries range over any hours and categories: each one points the view at its own partitions
    // (`BuiltQuery.scope`), so no query opens an hour it cannot match, and opening opens none.
    const reader = await LocalLakeReader.open(options.dataDir, { scope: 'per-query' });
    const engine: UiEngine = {
      label: options.dataDir,
      dialect: 'duckdb',
      tables: () => [{ table: LOCAL_TABLE }],
      query: async (built) => ({ rows: await reader.query(built) }),
      stream: (built) => reader.stream(built),
      pseudonymize: async (ids) => {
        const key = pseudonymKey(options.dataDir, options.pseudonymKeyFile, false);
        return searchPseudonyms(key, LocalSubjectKeyStore.forDataDir(options.dataDir), ids);
      },
      close: () => reader.close(),
    };
    return new UiSource(engine, options);
  }

  /** The explorer over Athena: the CLI's runner, tables and persona scoping. */
  static async athena(o: UiAthenaOptions): Promise<UiSource> {
    const [{ runAthena }, { athenaPseudonymizer, dynamodbClient }, { readRuleStates }] = await Promise.all([
      import('../query/athena'),
      import('../cli/aws'),
      import('../alerts/dynamodb-state'),
    ]);
    const { target } = o;
    const run = {
      workGroup: target.workGroup,
      database: target.database,
      ...(o.pollMs ? { pollMs: o.pollMs } : {}),
    };
    const engine: UiEngine = {
      label: `athena: ${target.workGroup}/${target.database}`,
      dialect: 'athena',
      tables: (filter) =>
        athenaTablesFor(filter.categories, o.config, false).map((t) => ({
          database: target.database,
          table: target.tables[t],
        })),
      query: async (built) => {
        const r = await runAthena(o.client, built, run);
        const rows: RawRow[] = [];
        for await (const page of r.pages) rows.push(...page);
        return { rows, scannedBytes: r.scannedBytes, costUsd: r.costUsd };
      },
      stream: async function* (built) {
        yield* (await runAthena(o.client, built, run)).pages;
      },
      pseudonymize: async (ids) => (await athenaPseudonymizer(target))(ids),
      alertState: async () => {
        const table = target.alertStateTable;
        if (table === null) return { kind: 'no-alerting' };
        if (table === undefined) return { kind: 'table-unknown' };
        const { rules } = o.config.alerts;
        const all = Object.keys(rules).sort((a, b) => a.localeCompare(b));
        // A persona's role may read only these items (lib/access.ts): asking for more is refused.
        const asked =
          o.persona === undefined
            ? all
            : rulesReadableWith(rules, o.config.personas[o.persona as Persona]?.read ?? []);
        const db = o.dynamodb ?? dynamodbClient(target.region);
        return {
          kind: 'read',
          table,
          rules: await readRuleStates(db, table, asked),
          notAsked: all.filter((r) => !asked.includes(r)),
        };
      },
      close: () => undefined,
    };
    return new UiSource(engine, { dataDir: engine.label, config: o.config }, o.persona);
  }

  /** The lake the pages read, for their header. */
  get label(): string {
    return this.engine.label;
  }

  /** The persona the explorer reads as (over Athena). */
  get personaName(): string | undefined {
    return this.persona;
  }

  /**
   * Over Athena: the deployed stack's alerting, the rules' state read from the alarm Lambda's table (a
   * persona's rules only). Undefined for the local lake.
   */
  alertState(): Promise<StackAlertState> | undefined {
    return this.engine.alertState?.();
  }

  /** The filter the flags describe, exactly as `loglake search` reads them (a persona's: its categories). */
  filter(text: string | undefined, flags: FilterFlags, now = new Date()): Promise<LogFilter> {
    const scoped: FilterFlags =
      this.persona === undefined
        ? flags
        : {
            ...flags,
            category: personaCategories(
              this.persona,
              flags.category?.length ? parseCategories(flags.category) : undefined,
              this.options.config,
            ),
          };
    return filterFromFlags(text, scoped, this.options.config, (ids) => this.engine.pseudonymize(ids), now);
  }

  async search(query: SearchQuery, log?: QueryLog[], cacheSeconds?: number): Promise<SearchRecord[]> {
    const built = this.build(query);
    const rows = await this.run(built, log, cacheSeconds);
    return rows.map((r) => decodeSearchRow(built.columns, r));
  }

  async aggregate(query: AggregateQuery, log?: QueryLog[], cacheSeconds?: number): Promise<AggregateRow[]> {
    const built = this.build(query);
    const rows = await this.run(built, log, cacheSeconds);
    return rows.map((r) => decodeAggregateRow(built.columns, r));
  }

  /** Hits and the events around them, as `loglake search --context` shows them. */
  async context(query: ContextQuery, log?: QueryLog[]): Promise<ContextBlock[]> {
    const built = this.build(query);
    return contextBlocks(built.columns, await this.run(built, log), 'desc');
  }

  /** Stored message templates with counts, as `loglake patterns` reads them (clustered by the caller). */
  async templates(query: PatternsQuery, log?: QueryLog[]): Promise<TemplateRow[]> {
    const built = this.build(query);
    const rows = await this.run(built, log);
    return rows.map((r) => decodeRow(built.columns, r) as unknown as TemplateRow);
  }

  /** Rows page by page (exports), holding the connection until the iteration ends. */
  async *stream(query: SearchQuery): AsyncIterable<SearchRecord[]> {
    const built = this.build(query);
    let release: () => void = () => undefined;
    const turn = this.queue;
    this.queue = new Promise<void>((r) => {
      release = r;
    });
    await turn.catch(() => undefined);
    try {
      for await (const page of this.engine.stream(built))
        yield page.map((r) => decodeSearchRow(built.columns, r));
    } finally {
      release();
    }
  }

  /**
   * `filter` narrowed to the persona's categories (over Athena with a persona), whoever made it: a page's
   * own filter (a dashboard panel's, the events around a record) as much as the URL's.
   * @throws InputError naming the persona's categories when it reads none of the filter's.
   */
  scoped(filter: LogFilter): LogFilter {
    if (this.persona === undefined) return filter;
    return {
      ...filter,
      categories: personaCategories(this.persona, filter.categories, this.options.config),
    };
  }

  build(query: LogQuery): BuiltQuery {
    const scoped = { ...query, filter: this.scoped(query.filter) };
    return buildQuery(scoped, { dialect: this.engine.dialect, tables: this.engine.tables(scoped.filter) });
  }

  /**
   * Run a query: over DuckDB one at a time (one connection), over Athena at once (each query is its own
   * execution, so a dashboard's panels run side by side and the page waits for the slowest, not the sum).
   * With `cacheSeconds`, the same SQL and values within that many seconds are answered from the first run
   * (logged as cached, with no access event: nothing was read).
   */
  private run(built: BuiltQuery, log?: QueryLog[], cacheSeconds?: number): Promise<RawRow[]> {
    const key = cacheSeconds ? JSON.stringify([built.sql, built.params]) : undefined;
    const exec = async (): Promise<RawRow[]> => {
      const hit = key === undefined ? undefined : this.cache.get(key);
      if (hit && hit.expires > Date.now()) {
        log?.push({ ...hit.log, cached: true });
        return hit.rows;
      }
      const started = performance.now();
      const result = await this.engine.query(built);
      const entry: QueryLog = {
        sql: built.sql,
        params: built.params,
        ms: performance.now() - started,
        rows: result.rows.length,
        ...(result.scannedBytes === undefined ? {} : { scannedBytes: result.scannedBytes }),
        ...(result.costUsd === undefined ? {} : { costUsd: result.costUsd }),
      };
      log?.push(entry);
      if (key !== undefined && cacheSeconds) {
        for (const [k, v] of this.cache) if (v.expires <= Date.now()) this.cache.delete(k);
        this.cache.set(key, { expires: Date.now() + cacheSeconds * 1000, rows: result.rows, log: entry });
      }
      return result.rows;
    };
    if (this.engine.dialect === 'athena') return exec();
    const next = this.queue.catch(() => undefined).then(exec);
    this.queue = next;
    return next;
  }

  close(): void {
    this.engine.close();
  }
}
