/**
 * Runs built queries on Athena, for the CLI and the alarm Lambda alike: StartQueryExecution with
 * execution parameters (and, for retried work, an idempotency token), polling with an optional progress
 * callback (state, bytes scanned, cost estimate), paginated results keyed by column name. No CLI or
 * Lambda concerns here: the caller brings the client, prints progress, and owns cancellation.
 */
import { createHash } from 'node:crypto';
import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  type GetQueryResultsCommandOutput,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { auditedPages } from '../audit/access';
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
  /**
   * Athena's idempotency token: a repeated start with the same token returns the first execution instead
   * of scanning again (see {@link athenaRequestToken}).
   * @default none: every call starts a new execution
   */
  readonly clientRequestToken?: string;
  /** Called on every poll. @default no progress reporting */
  readonly onProgress?: (p: AthenaProgress) => void;
  /** Aborting stops the query on Athena (StopQueryExecution). @default not cancellable */
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
 * Start the query, wait until it succeeds, and return a pager over its results. Under an idempotency
 * token, an execution that failed is started once more under a token derived from it.
 * @throws DeliveryError naming the query id and Athena's reason when it fails or is cancelled.
 */
export async function runAthena(
  client: AthenaClient,
  built: BuiltQuery,
  options: AthenaRunOptions,
): Promise<AthenaRun> {
  if (built.dialect !== 'athena') throw new Error(`runAthena: query was built for ${built.dialect}`);
  const token = options.clientRequestToken;
  const first = await startAndWait(client, built, options, token);
  if (!('failed' in first)) return first;
  // Under a token, a start repeated by a retried invocation returns the execution the token made first,
  // failed included: the retry would fail the same way each time, however passing the failure (an
  // internal error, S3 slowing down). Once more under a token of that failed execution's own: a
  // fresh execution, still one per retried piece of work.
  if (token === undefined || first.state !== 'FAILED' || options.signal?.aborted) throw first.failed;
  const again = await startAndWait(client, built, options, retryToken(token, first.queryId));
  if ('failed' in again) throw again.failed;
  return again;
}

/** The token of the execution started once more after the execution `queryId` of `token` failed. */
function retryToken(token: string, queryId: string): string {
  return createHash('sha256').update(token).update('\0').update(queryId).digest('hex');
}

interface FailedRun {
  readonly failed: DeliveryError;
  readonly queryId: string;
  readonly state: 'FAILED' | 'CANCELLED';
}

async function startAndWait(
  client: AthenaClient,
  built: BuiltQuery,
  options: AthenaRunOptions,
  token: string | undefined,
): Promise<AthenaRun | FailedRun> {
  const started = Date.now();
  const start = await client.send(
    new StartQueryExecutionCommand({
      QueryString: built.sql,
      WorkGroup: options.workGroup,
      QueryExecutionContext: { Database: options.database },
      ...(token ? { ClientRequestToken: token } : {}),
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
          // Inside an access scope (the CLI, the alarm Lambda) the read is recorded in `audit`.
          pages: auditedPages(
            built,
            { engine: 'athena', workGroup: options.workGroup, database: options.database },
            resultPages(client, queryId, options.pageSize ?? 1000),
            () => ({ bytesScanned: scannedBytes, queryId }),
          ),
        };
      }
      if (state === 'FAILED' || state === 'CANCELLED') {
        const reason =
          q?.Status?.StateChangeReason ?? q?.Status?.AthenaError?.ErrorMessage ?? 'no reason given';
        return {
          failed: new DeliveryError(`Athena query ${queryId} ${state.toLowerCase()}: ${reason}`),
          queryId,
          state,
        };
      }
      if (options.signal?.aborted) throw new DeliveryError(`Athena query ${queryId} cancelled`);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(options.maxPollMs ?? 2_000, Math.round(delay * 1.5));
    }
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
}

/** {@link runAthena}, then every row of every page. */
export async function athenaRows(
  client: AthenaClient,
  built: BuiltQuery,
  options: AthenaRunOptions,
): Promise<RawRow[]> {
  const rows: RawRow[] = [];
  for await (const page of (await runAthena(client, built, options)).pages) rows.push(...page);
  return rows;
}

/**
 * An idempotency token for one piece of work running `built`: the same `work` (e.g. a rule name) and the
 * same SQL and parameters (which carry the time window) give the same token, so a retried evaluation of
 * one schedule slot reuses the first execution. 64 hex characters (Athena accepts 32 to 128).
 */
export function athenaRequestToken(work: string, built: BuiltQuery): string {
  return createHash('sha256')
    .update(work)
    .update('\0')
    .update(built.sql)
    .update('\0')
    .update(JSON.stringify(built.params))
    .digest('hex');
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
