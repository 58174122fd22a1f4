/**
 * Runs a built Athena query for the alarm Lambda: StartQueryExecution with execution parameters, polling,
 * paginated results. The client request token is derived from the rule and the query text, so a retried
 * evaluation of the same slot reuses the first execution instead of scanning again.
 */
import { createHash } from 'node:crypto';
import {
  type AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { DeliveryError } from '../../src/errors';
import { athenaExecutionParameters, type BuiltQuery, type RawRow } from '../../src/query';

export interface AthenaRunnerOptions {
  readonly workgroup: string;
  readonly database: string;
  /** @default 250 ms, doubling up to 5 s */
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const wait = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function athenaRunner(athena: AthenaClient, options: AthenaRunnerOptions) {
  const sleep = options.sleep ?? wait;
  return async (built: BuiltQuery, token: string): Promise<RawRow[]> => {
    const params = athenaExecutionParameters(built.params);
    const { QueryExecutionId: id } = await athena.send(
      new StartQueryExecutionCommand({
        QueryString: built.sql,
        ...(params.length > 0 ? { ExecutionParameters: params } : {}),
        WorkGroup: options.workgroup,
        QueryExecutionContext: { Database: options.database },
        ClientRequestToken: createHash('sha256')
          .update(token)
          .update(built.sql)
          .update(JSON.stringify(params))
          .digest('hex')
          .slice(0, 64),
      }),
    );
    if (!id) throw new DeliveryError('Athena returned no query execution id');
    let delay = options.pollMs ?? 250;
    for (;;) {
      const { QueryExecution: q } = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      const state = q?.Status?.State;
      if (state === 'SUCCEEDED') break;
      if (state === 'FAILED' || state === 'CANCELLED') {
        throw new DeliveryError(
          `Athena query ${id} ${state}: ${q?.Status?.StateChangeReason ?? 'no reason given'}`,
        );
      }
      await sleep(delay);
      delay = Math.min(delay * 2, 5_000);
    }
    const rows: RawRow[] = [];
    let header: string[] | undefined;
    let next: string | undefined;
    do {
      const page = await athena.send(
        new GetQueryResultsCommand({
          QueryExecutionId: id,
          ...(next ? { NextToken: next } : {}),
          MaxResults: 1000,
        }),
      );
      for (const row of page.ResultSet?.Rows ?? []) {
        const cells = (row.Data ?? []).map((d) => d.VarCharValue ?? null);
        if (!header) {
          // The first row of the first page repeats the column names.
          header = cells.map((c) => c ?? '');
          continue;
        }
        rows.push(Object.fromEntries(header.map((h, i) => [h, cells[i] ?? null])));
      }
      next = page.NextToken;
    } while (next);
    return rows;
  };
}
