/**
 * Runs built queries on Athena: StartQueryExecution with execution parameters, polling with a progress
 * callback (state, bytes scanned, cost estimate), paginated results decoded by column name.
 */
import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type GetQueryResultsCommandOutput,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { DeliveryError } from '../errors';
import { athenaExecutionParameters, type BuiltQuery } from './build';
import type { RawRow } from './decode';

/** Athena on-demand price: USD per TiB scanned. */
export const ATHENA_USD_PER_TIB = 5;
/** Athena bills at least 10 MB per query, rounded up to whole MB. */
export const ATHENA_MIN_BILLED_BYTES = 10 * 1024 * 1024;

/** Estimated cost in USD of a query that scanned `bytes`. */
export function athenaCostUsd(bytes: number): number {
  const mb = 1024 * 1024;
  const billed = Math.max(ATHENA_MIN_BILLED_BYTES, Math.ceil(bytes / mb) * mb);
  return (billed / 1024 ** 4) * ATHENA_USD_PER_TIB;
}

export interface AthenaProgress {
  readonly queryId: string;
  readonly state: string;
  readonly scannedBytes: number;
  readonly costUsd: number;
  readonly elapsedMs: number;
}

export interface AthenaRunOptions {
  readonly workGroup: string;
  readonly database: string;
  /** Called on every poll. */
  readonly onProgress?: (p: AthenaProgress) => void;
  /** Aborting stops the query on Athena (StopQueryExecution). */
  readonly signal?: AbortSignal;
  /** First poll delay; grows to `maxPollMs`. @default 250 ms */
  readonly pollMs?: number;
  /** @default 2000 ms */
  readonly maxPollMs?: number;
  /** Rows per GetQueryResults page (Athena's maximum is 1000). @default 1000 */
  readonly pageSize?: number;
}

export interface AthenaRun {
  readonly queryId: string;
  readonly scannedBytes: number;
  readonly costUsd: number;
  /** Pages of rows, keyed by column name; NULL cells are null. */
  readonly pages: AsyncIterable<RawRow[]>;
}

/**
 * Start the query, wait until it succeeds, and return a pager over its results.
 * @throws DeliveryError naming the query id and Athena's reason when it fails or is cancelled.
 */
export async function runAthena(
  client: AthenaClient,
  built: BuiltQuery,
  options: AthenaRunOptions,
): Promise<AthenaRun> {
  if (built.dialect !== 'athena') throw new Error(`runAthena: query was built for ${built.dialect}`);
  const started = Date.now();
  const start = await client.send(
    new StartQueryExecutionCommand({
      QueryString: built.sql,
      WorkGroup: options.workGroup,
      QueryExecutionContext: { Database: options.database },
      // The API rejects an empty list; a query without parameters simply has none.
      ...(built.params.length > 0 ? { ExecutionParameters: athenaExecutionParameters(built.params) } : {}),
    }),
  );
  const queryId = start.QueryExecutionId;
  if (!queryId) throw new DeliveryError('Athena returned no query execution id');
  const stop = () => {
    void client.send(new StopQueryExecutionCommand({ QueryExecutionId: queryId })).catch(() => undefined);
  };
  options.signal?.addEventListener('abort', stop, { once: true });
  let delay = options.pollMs ?? 250;
  try {
    for (;;) {
      const { QueryExecution: q } = await client.send(
        new GetQueryExecutionCommand({ QueryExecutionId: queryId }),
      );
      const state = q?.Status?.State ?? 'UNKNOWN';
      const scannedBytes = q?.Statistics?.DataScannedInBytes ?? 0;
      const progress = {
        queryId,
        state,
        scannedBytes,
        costUsd: athenaCostUsd(scannedBytes),
        elapsedMs: Date.now() - started,
      };
      options.onProgress?.(progress);
      if (state === 'SUCCEEDED') {
        return {
          queryId,
          scannedBytes,
          costUsd: progress.costUsd,
          pages: resultPages(client, queryId, options.pageSize ?? 1000),
        };
      }
      if (state === 'FAILED' || state === 'CANCELLED') {
        const reason =
          q?.Status?.StateChangeReason ?? q?.Status?.AthenaError?.ErrorMessage ?? 'no reason given';
        throw new DeliveryError(`Athena query ${queryId} ${state.toLowerCase()}: ${reason}`);
      }
      if (options.signal?.aborted) throw new DeliveryError(`Athena query ${queryId} cancelled`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(options.maxPollMs ?? 2_000, Math.round(delay * 1.5));
    }
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
}

async function* resultPages(
  client: AthenaClient,
  queryId: string,
  pageSize: number,
): AsyncIterable<RawRow[]> {
  let token: string | undefined;
  let names: string[] | undefined;
  let first = true;
  do {
    const page: GetQueryResultsCommandOutput = await client.send(
      new GetQueryResultsCommand({ QueryExecutionId: queryId, MaxResults: pageSize, NextToken: token }),
    );
    names ??= (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => c.Label ?? c.Name ?? '');
    let rows = page.ResultSet?.Rows ?? [];
    // The first row of a SELECT's first page repeats the column names.
    if (first && rows.length > 0 && rows[0]?.Data?.every((d, i) => d.VarCharValue === names?.[i]))
      rows = rows.slice(1);
    first = false;
    yield rows.map((row) => {
      const out: Record<string, unknown> = {};
      (names ?? []).forEach((name, i) => {
        out[name] = row.Data?.[i]?.VarCharValue ?? null;
      });
      return out;
    });
    token = page.NextToken;
  } while (token);
}
