import { AthenaClient } from '@aws-sdk/client-athena';
import { afterEach, describe, expect, it } from 'vitest';
import { DeliveryError } from '../../src/errors';
import { buildQuery, decodeSearchRow } from '../../src/query';
import {
  type AthenaProgress,
  athenaCostUsd,
  athenaRequestToken,
  athenaRows,
  runAthena,
} from '../../src/query/athena';
import { type Script, startScriptedAws } from '../helpers/scripted-aws';

const since = new Date('2026-11-22T00:00:00Z');
const until = new Date('2026-11-22T06:00:00Z');
let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

function client(url: string): AthenaClient {
  return new AthenaClient({
    endpoint: url,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
}

const column = (name: string) => ({ Name: name, Label: name, Type: 'varchar' });
const row = (...values: Array<string | undefined>) => ({
  Data: values.map((v) => (v === undefined ? {} : { VarCharValue: v })),
});

async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const p of pages) out.push(...p);
  return out;
}

describe('runAthena', () => {
  it('sends the SQL with quoted execution parameters, reports progress, and pages through the results', async () => {
    // Prepare
    const built = buildQuery(
      { kind: 'search', filter: { since, until, correlationId: "o'brien" }, limit: 10 },
      { dialect: 'athena', tables: [{ database: 'lake', table: 'logs' }] },
    );
    const names = built.columns.map((c) => c.name);
    const values = (ts: string) =>
      built.columns.map((c) =>
        c.name === 'timestamp' || c.name === 'ingest_time'
          ? ts
          : c.kind === 'json'
            ? c.name === 'schema_errors'
              ? '[]'
              : '{}'
            : c.name === 'level'
              ? 'INFO'
              : c.name === 'category'
                ? 'runtime'
                : c.name === 'http_status' || c.name === 'duration_ms'
                  ? undefined
                  : `${c.name}-v`,
      );
    let polls = 0;
    const script: Script = (call) => {
      if (call.operation === 'StartQueryExecution') return { body: { QueryExecutionId: 'q-1' } };
      if (call.operation === 'GetQueryExecution') {
        polls++;
        const state = polls === 1 ? 'QUEUED' : polls === 2 ? 'RUNNING' : 'SUCCEEDED';
        return {
          body: {
            QueryExecution: {
              QueryExecutionId: 'q-1',
              Status: { State: state },
              Statistics: { DataScannedInBytes: polls * 50 * 1024 * 1024 },
            },
          },
        };
      }
      const first = call.body.NextToken === undefined;
      return {
        body: {
          ResultSet: {
            ResultSetMetadata: { ColumnInfo: names.map(column) },
            Rows: first
              ? [row(...names), row(...values('2026-11-22T01:00:00.000'))]
              : [row(...values('2026-11-22T02:00:00.000'))],
          },
          ...(first ? { NextToken: 'page-2' } : {}),
        },
      };
    };
    const aws = await startScriptedAws(script);
    close = aws.close;
    const progress: AthenaProgress[] = [];

    // Act
    const run = await runAthena(client(aws.url), built, {
      workGroup: 'wg',
      database: 'lake',
      pollMs: 1,
      onProgress: (p) => progress.push(p),
    });
    const rows = await collect(run.pages);

    // Assess
    const start = aws.calls[0];
    expect(start?.operation).toBe('StartQueryExecution');
    expect(start?.body.QueryString).toBe(built.sql);
    expect(start?.body.QueryString).not.toContain("o'brien");
    expect(start?.body.ExecutionParameters).toContain("'o''brien'");
    expect(start?.body.WorkGroup).toBe('wg');
    expect(start?.body.QueryExecutionContext).toEqual({ Database: 'lake' });
    expect(progress.map((p) => p.state)).toEqual(['QUEUED', 'RUNNING', 'SUCCEEDED']);
    expect(run.queryId).toBe('q-1');
    expect(run.costUsd).toBeCloseTo(athenaCostUsd(150 * 1024 * 1024));
    expect(aws.calls.filter((c) => c.operation === 'GetQueryResults').map((c) => c.body.NextToken)).toEqual([
      undefined,
      'page-2',
    ]);
    const records = rows.map((r) => decodeSearchRow(built.columns, r));
    expect(records.map((r) => r.timestamp)).toEqual(['2026-11-22T01:00:00.000Z', '2026-11-22T02:00:00.000Z']);
    expect(records[0]).toMatchObject({
      http_status: null,
      attributes: {},
      schema_errors: [],
      category: 'runtime',
    });
  });

  it('fails with the query id and Athena’s reason', async () => {
    // Prepare
    const built = buildQuery(
      { kind: 'search', filter: { since, until } },
      { dialect: 'athena', tables: [{ table: 'logs' }] },
    );
    const aws = await startScriptedAws((call) =>
      call.operation === 'StartQueryExecution'
        ? { body: { QueryExecutionId: 'q-2' } }
        : {
            body: {
              QueryExecution: {
                Status: {
                  State: 'FAILED',
                  StateChangeReason: 'Query exhausted resources at this scale factor',
                },
              },
            },
          },
    );
    close = aws.close;

    // Act
    const act = runAthena(client(aws.url), built, { workGroup: 'wg', database: 'lake', pollMs: 1 });

    // Assess
    await expect(act).rejects.toThrow(DeliveryError);
    await expect(act).rejects.toThrow(
      'Athena query q-2 failed: Query exhausted resources at this scale factor',
    );
    // Without a token every start is a new execution: nothing to start again.
    expect(aws.calls.filter((c) => c.operation === 'StartQueryExecution')).toHaveLength(1);
  });

  it('stops the query on Athena when the caller aborts', async () => {
    // Prepare
    const built = buildQuery(
      { kind: 'search', filter: { since, until } },
      { dialect: 'athena', tables: [{ table: 'logs' }] },
    );
    const controller = new AbortController();
    const aws = await startScriptedAws((call) => {
      if (call.operation === 'StartQueryExecution') return { body: { QueryExecutionId: 'q-3' } };
      if (call.operation === 'StopQueryExecution') return { body: {} };
      controller.abort();
      return { body: { QueryExecution: { Status: { State: 'RUNNING' } } } };
    });
    close = aws.close;

    // Act
    const act = runAthena(client(aws.url), built, {
      workGroup: 'wg',
      database: 'lake',
      pollMs: 1,
      signal: controller.signal,
    });

    // Assess
    await expect(act).rejects.toThrow('cancelled');
    await new Promise((r) => setTimeout(r, 50));
    expect(aws.calls.map((c) => c.operation)).toContain('StopQueryExecution');
  });
});

describe('athenaRows', () => {
  it('sends the idempotency token and returns the rows of every page by column name', async () => {
    // Prepare
    const built = buildQuery(
      { kind: 'aggregate', filter: { since, until }, groupBy: ['service'] },
      { dialect: 'athena', tables: [{ table: 'logs' }] },
    );
    const names = built.columns.map((c) => c.name);
    const aws = await startScriptedAws((call) => {
      if (call.operation === 'StartQueryExecution') return { body: { QueryExecutionId: 'q-4' } };
      if (call.operation === 'GetQueryExecution')
        return { body: { QueryExecution: { Status: { State: 'SUCCEEDED' } } } };
      const first = call.body.NextToken === undefined;
      return {
        body: {
          ResultSet: {
            ResultSetMetadata: { ColumnInfo: names.map(column) },
            Rows: first ? [row(...names), row('checkout', '3')] : [row('search', '1')],
          },
          ...(first ? { NextToken: 'p2' } : {}),
        },
      };
    });
    close = aws.close;
    const token = athenaRequestToken('error-rate', built);

    // Act
    const rows = await athenaRows(client(aws.url), built, {
      workGroup: 'wg',
      database: 'lake',
      pollMs: 1,
      clientRequestToken: token,
    });

    // Assess
    expect(aws.calls[0]?.body.ClientRequestToken).toBe(token);
    expect(rows.map((r) => [r.service, r.count])).toEqual([
      ['checkout', '3'],
      ['search', '1'],
    ]);
  });
});

describe('athenaRows under an idempotency token', () => {
  /** Athena as it treats tokens: a start with a token seen before returns that token's execution. */
  async function athenaWithTokens(failing: ReadonlySet<number>) {
    const executions = new Map<string, string>();
    const aws = await startScriptedAws((call) => {
      if (call.operation === 'StartQueryExecution') {
        const token = call.body.ClientRequestToken as string;
        if (!executions.has(token)) executions.set(token, `q-${executions.size + 1}`);
        return { body: { QueryExecutionId: executions.get(token) } };
      }
      const id = Number(String(call.body.QueryExecutionId).slice(2));
      if (call.operation === 'GetQueryExecution') {
        return failing.has(id)
          ? { body: { QueryExecution: { Status: { State: 'FAILED', StateChangeReason: 'SlowDown' } } } }
          : { body: { QueryExecution: { Status: { State: 'SUCCEEDED' } } } };
      }
      return {
        body: {
          ResultSet: {
            ResultSetMetadata: { ColumnInfo: [column('service'), column('count')] },
            Rows: [row('service', 'count'), row('checkout', '3')],
          },
        },
      };
    });
    close = aws.close;
    return aws;
  }
  const built = buildQuery(
    { kind: 'aggregate', filter: { since, until }, groupBy: ['service'] },
    { dialect: 'athena', tables: [{ table: 'logs' }] },
  );
  const options = {
    workGroup: 'wg',
    database: 'lake',
    pollMs: 1,
    clientRequestToken: athenaRequestToken('error-rate', built),
  };
  const starts = (calls: ReadonlyArray<{ operation: string; body: Record<string, unknown> }>) =>
    calls.filter((c) => c.operation === 'StartQueryExecution').map((c) => c.body.ClientRequestToken);

  it('starts a failed execution once more under a token of its own, the same on every retry', async () => {
    // Prepare: the token's first execution failed (in an invocation before this one, say).
    const aws = await athenaWithTokens(new Set([1]));

    // Act: the work is retried twice.
    const first = await athenaRows(client(aws.url), built, options);
    const second = await athenaRows(client(aws.url), built, options);

    // Assess: one new execution, made once and found again, not one per retry.
    expect(first.map((r) => [r.service, r.count])).toEqual([['checkout', '3']]);
    expect(second).toEqual(first);
    const tokens = starts(aws.calls);
    expect(tokens).toHaveLength(4);
    expect(new Set(tokens).size).toBe(2);
    expect(tokens[1]).not.toBe(tokens[0]);
    expect(tokens[3]).toBe(tokens[1]);
  });

  it('fails with the second execution’s reason when that one fails too, and starts no third', async () => {
    // Prepare
    const aws = await athenaWithTokens(new Set([1, 2]));

    // Act
    const act = athenaRows(client(aws.url), built, options);

    // Assess
    await expect(act).rejects.toThrow('Athena query q-2 failed: SlowDown');
    expect(starts(aws.calls)).toHaveLength(2);
  });
});

describe('athenaRequestToken', () => {
  const query = (service: string) =>
    buildQuery(
      { kind: 'aggregate', filter: { since, until, services: [service] }, groupBy: ['service'] },
      { dialect: 'athena', tables: [{ table: 'logs' }] },
    );

  it('is stable for the same work and query, and differs when either differs', () => {
    // Act
    const same = [
      athenaRequestToken('rule-a', query('checkout')),
      athenaRequestToken('rule-a', query('checkout')),
    ];
    const otherWork = athenaRequestToken('rule-b', query('checkout'));
    const otherParams = athenaRequestToken('rule-a', query('search'));

    // Assess
    expect(same[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(same[1]).toBe(same[0]);
    expect(new Set([same[0], otherWork, otherParams]).size).toBe(3);
  });
});

describe('athenaCostUsd', () => {
  it('bills at least 10 MB and $5 per TiB', () => {
    // Act
    const tiny = athenaCostUsd(1);
    const tib = athenaCostUsd(1024 ** 4);

    // Assess
    expect(tiny).toBeCloseTo((10 * 1024 * 1024 * 5) / 1024 ** 4, 12);
    expect(tib).toBeCloseTo(5, 9);
  });
});
