/**
 * What the explorer reads: the local lake through DuckDB, with every query built by the one query
 * builder (`src/query`). One reader for the server's life; queries run one at a time on its connection.
 */

import { type FilterFlags, filterFromFlags } from '../cli/options';
import type { LogLakeConfig } from '../config';
import { pseudonymKey } from '../local/datadir';
import { LocalSubjectKeyStore } from '../privacy/local-store';
import { searchPseudonyms } from '../privacy/lookup';
import { type BuiltQuery, buildQuery } from '../query/build';
import {
  type AggregateRow,
  decodeAggregateRow,
  decodeSearchRow,
  type RawRow,
  type SearchRecord,
} from '../query/decode';
import { LOCAL_TABLE, LocalLakeReader } from '../query/duckdb';
import type { AggregateQuery, LogFilter, SearchQuery } from '../query/model';

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
}

export class UiSource {
  private queue: Promise<unknown> = Promise.resolve();
  /** Every query run, for the page's "queries" footer. Cleared by the caller per request. */
  private constructor(
    private readonly reader: LocalLakeReader,
    readonly options: UiSourceOptions,
  ) {}

  static async open(options: UiSourceOptions): Promise<UiSource> {
    return new UiSource(await LocalLakeReader.open(options.dataDir), options);
  }

  /** The filter the flags describe, exactly as `loglake search` reads them. */
  filter(text: string | undefined, flags: FilterFlags, now = new Date()): Promise<LogFilter> {
    return filterFromFlags(
      text,
      flags,
      this.options.config,
      async (ids) => {
        const key = pseudonymKey(this.options.dataDir, this.options.pseudonymKeyFile, false);
        return searchPseudonyms(key, LocalSubjectKeyStore.forDataDir(this.options.dataDir), ids);
      },
      now,
    );
  }

  async search(query: SearchQuery, log?: QueryLog[]): Promise<SearchRecord[]> {
    const built = this.build(query);
    const rows = await this.run(built, log);
    return rows.map((r) => decodeSearchRow(built.columns, r));
  }

  async aggregate(query: AggregateQuery, log?: QueryLog[]): Promise<AggregateRow[]> {
    const built = this.build(query);
    const rows = await this.run(built, log);
    return rows.map((r) => decodeAggregateRow(built.columns, r));
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
      for await (const page of this.reader.stream(built))
        yield page.map((r) => decodeSearchRow(built.columns, r));
    } finally {
      release();
    }
  }

  build(query: SearchQuery | AggregateQuery): BuiltQuery {
    return buildQuery(query, { dialect: 'duckdb', tables: [{ table: LOCAL_TABLE }] });
  }

  private run(built: BuiltQuery, log?: QueryLog[]): Promise<RawRow[]> {
    const next = this.queue
      .catch(() => undefined)
      .then(async () => {
        const started = performance.now();
        const rows = await this.reader.query(built);
        log?.push({
          sql: built.sql,
          params: built.params,
          ms: performance.now() - started,
          rows: rows.length,
        });
        return rows;
      });
    this.queue = next;
    return next;
  }

  close(): void {
    this.reader.close();
  }
}
