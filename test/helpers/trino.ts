/**
 * Trino for the Trino tier: statements over Trino's HTTP client protocol (`trino-client`), and an
 * Athena-API front end on top of it, so the production Athena runner (`src/query/athena.ts`, with the real
 * `@aws-sdk/client-athena`) runs its queries on a real Trino: StartQueryExecution binds
 * `ExecutionParameters` as Athena does (`EXECUTE … USING` with the literal-quoted values, verbatim),
 * GetQueryResults returns every cell as text with the header row first, paged by `MaxResults`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AthenaClient } from '@aws-sdk/client-athena';
import { Trino } from 'trino-client';
import { sqlString } from '../../src/query/build';

/** Athena's default data catalog is the Glue Data Catalog; the Trino tier's is the Hive catalog. */
export const TRINO_CATALOG = 'hive';

export interface TrinoColumn {
  readonly name: string;
  readonly type: string;
}

export interface TrinoResult {
  readonly queryId: string;
  readonly columns: readonly TrinoColumn[];
  readonly rows: readonly (readonly unknown[])[];
  /** Bytes read from storage (what Athena bills as data scanned). */
  readonly physicalInputBytes: number;
}

export class TrinoQueryError extends Error {
  constructor(
    message: string,
    readonly queryId: string,
    readonly errorName: string,
  ) {
    super(message);
    this.name = 'TrinoQueryError';
  }
}

/** A Trino client with the session Athena gives every query: UTC, the Hive catalog. */
export class TrinoSession {
  private readonly trino: Trino;

  constructor(readonly url: string) {
    this.trino = Trino.create({
      server: url,
      catalog: TRINO_CATALOG,
      source: 'loglake-tests',
      extraHeaders: { 'X-Trino-User': 'loglake', 'X-Trino-Time-Zone': 'UTC' },
    });
  }

  /**
   * Run one statement to completion and collect every row.
   * @throws TrinoQueryError with Trino's message when the query fails.
   */
  async query(sql: string, schema?: string): Promise<TrinoResult> {
    const results = await this.trino.query({
      query: sql,
      catalog: TRINO_CATALOG,
      ...(schema ? { schema } : {}),
    });
    let queryId = '';
    let columns: TrinoColumn[] | undefined;
    const rows: unknown[][] = [];
    let physicalInputBytes = 0;
    for await (const r of results) {
      queryId = r.id;
      if (r.error) throw new TrinoQueryError(r.error.message, r.id, r.error.errorName);
      if (r.columns) columns ??= r.columns.map((c) => ({ name: c.name, type: c.type }));
      for (const row of r.data ?? []) rows.push(row as unknown[]);
      physicalInputBytes = r.stats?.physicalInputBytes ?? physicalInputBytes;
    }
    return { queryId, columns: columns ?? [], rows, physicalInputBytes };
  }

  /** Rows as objects keyed by column name, values as Trino's JSON protocol returns them. */
  async rows(sql: string, schema?: string): Promise<Record<string, unknown>[]> {
    const r = await this.query(sql, schema);
    return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]])));
  }
}

/**
 * What Athena runs for a query with `ExecutionParameters`: each parameter is a SQL literal expression
 * (`'text'` with its quotes doubled, `1`, …) bound to the `?` in order. A value bound the way DuckDB takes it
 * (raw text) is an unquoted identifier here, and fails as it would on Athena.
 */
export function athenaStatement(query: string, executionParameters: readonly string[] | undefined): string {
  if (!executionParameters || executionParameters.length === 0) return query;
  return `EXECUTE IMMEDIATE ${sqlString(query)} USING ${executionParameters.join(', ')}`;
}

interface Execution {
  readonly id: string;
  readonly query: string;
  readonly database: string | undefined;
  state: 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  reason?: string;
  result?: TrinoResult;
  readonly submitted: Date;
  completed?: Date;
}

export interface AthenaOnTrino {
  /** The real Athena client, pointed at this front end. */
  readonly client: AthenaClient;
  readonly endpoint: string;
  /** Executions by id, as started (for assertions on what was sent). */
  readonly executions: ReadonlyMap<string, Readonly<Execution>>;
  close(): Promise<void>;
}

/**
 * The Athena API actions `src/query/athena.ts` uses (StartQueryExecution, GetQueryExecution,
 * GetQueryResults, StopQueryExecution) on the AWS JSON 1.1 protocol, over a Trino session. Loopback only.
 */
export async function startAthenaOnTrino(trino: TrinoSession): Promise<AthenaOnTrino> {
  const executions = new Map<string, Execution>();
  const byToken = new Map<string, string>();

  const actions: Record<string, (input: Record<string, unknown>) => unknown> = {
    StartQueryExecution: (input) => {
      const token = input.ClientRequestToken as string | undefined;
      const existing = token ? byToken.get(token) : undefined;
      if (existing) return { QueryExecutionId: existing };
      const query = input.QueryString as string;
      const params = input.ExecutionParameters as string[] | undefined;
      const database = (input.QueryExecutionContext as { Database?: string } | undefined)?.Database;
      const id = randomUUID();
      const execution: Execution = { id, query, database, state: 'RUNNING', submitted: new Date() };
      executions.set(id, execution);
      if (token) byToken.set(token, id);
      trino.query(athenaStatement(query, params), database).then(
        (result) => {
          if (execution.state === 'CANCELLED') return;
          execution.result = result;
          execution.state = 'SUCCEEDED';
          execution.completed = new Date();
        },
        (error: unknown) => {
          if (execution.state === 'CANCELLED') return;
          execution.state = 'FAILED';
          execution.reason = error instanceof Error ? error.message : String(error);
          execution.completed = new Date();
        },
      );
      return { QueryExecutionId: id };
    },
    GetQueryExecution: (input) => {
      const e = execution(input);
      return {
        QueryExecution: {
          QueryExecutionId: e.id,
          Query: e.query,
          StatementType: 'DML',
          QueryExecutionContext: e.database ? { Database: e.database } : {},
          Status: {
            State: e.state,
            SubmissionDateTime: e.submitted.getTime() / 1000,
            ...(e.completed ? { CompletionDateTime: e.completed.getTime() / 1000 } : {}),
            ...(e.reason
              ? {
                  StateChangeReason: e.reason,
                  AthenaError: {
                    ErrorCategory: 2,
                    ErrorType: 1006,
                    Retryable: false,
                    ErrorMessage: e.reason,
                  },
                }
              : {}),
          },
          Statistics: { DataScannedInBytes: e.result?.physicalInputBytes ?? 0 },
          EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Trino 476' },
        },
      };
    },
    GetQueryResults: (input) => {
      const e = execution(input);
      if (e.state !== 'SUCCEEDED' || !e.result) {
        throw new AthenaApiError(
          'InvalidRequestException',
          `Query has not yet finished. Current state: ${e.state}`,
        );
      }
      const { columns, rows } = e.result;
      const max = Math.min(Number(input.MaxResults ?? 1000), 1000);
      const offset = input.NextToken === undefined ? 0 : Number(input.NextToken);
      // Athena's first page of a SELECT starts with a row of the column labels.
      const header = { Data: columns.map((c) => ({ VarCharValue: c.name })) };
      const all = [header, ...rows.map((row) => ({ Data: row.map(cell) }))];
      const page = all.slice(offset, offset + max);
      return {
        ResultSet: {
          Rows: page,
          ResultSetMetadata: {
            ColumnInfo: columns.map((c) => ({
              CatalogName: TRINO_CATALOG,
              Name: c.name,
              Label: c.name,
              Type: c.type.replace(/\(.*$/, ''),
              Nullable: 'UNKNOWN',
              CaseSensitive: c.type.startsWith('varchar'),
            })),
          },
        },
        ...(offset + max < all.length ? { NextToken: String(offset + max) } : {}),
        UpdateCount: 0,
      };
    },
    StopQueryExecution: (input) => {
      const e = execution(input);
      if (e.state === 'RUNNING' || e.state === 'QUEUED') {
        e.state = 'CANCELLED';
        e.reason = 'Query cancelled by user';
      }
      return {};
    },
  };

  function execution(input: Record<string, unknown>): Execution {
    const e = executions.get(String(input.QueryExecutionId));
    if (!e)
      throw new AthenaApiError(
        'InvalidRequestException',
        `QueryExecution ${String(input.QueryExecutionId)} was not found`,
      );
    return e;
  }

  const server = createServer((req, res) => void handle(req, res));
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    const action = actions[target.replace(/^AmazonAthena\./, '')];
    let status = 200;
    let body: unknown;
    try {
      if (!target.startsWith('AmazonAthena.') || !action) {
        throw new AthenaApiError('InvalidRequestException', `unsupported action ${target || '(none)'}`);
      }
      body = action(JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>);
    } catch (error) {
      status = 400;
      body =
        error instanceof AthenaApiError
          ? { __type: error.type, Message: error.message }
          : { __type: 'InternalServerException', Message: String(error) };
    }
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify(body));
  }

  // Athena keeps connections open far longer than Node's 5 s default: with that default, a poll that
  // reuses a socket the server is just closing fails with ECONNRESET on a busy machine.
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new AthenaClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  return {
    client,
    endpoint,
    executions,
    close: async () => {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

class AthenaApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** A cell as Athena's GetQueryResults renders it: text, NULL as a datum without a value. */
function cell(value: unknown): { VarCharValue?: string } {
  return value === null || value === undefined ? {} : { VarCharValue: athenaText(value) };
}

/** Athena's text of a value: arrays as `[a, b]` and maps as `{k=v}` (not JSON: queries must format JSON). */
function athenaText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map(athenaText).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${k}=${athenaText(v)}`)
      .join(', ')}}`;
  }
  return String(value);
}
