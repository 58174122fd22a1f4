/**
 * Athena as `aws-sdk-client-mock` answers it for the unit tests of Athena callers (the emulator has no
 * Athena): every query, or each by its SQL, succeeds with the given statistics and returns the rows as
 * Athena does (every cell as text, the header as the first row), or fails with Athena's reason. And the
 * events callers put on a Firehose stream, decoded.
 */
import {
  type AthenaClientResolvedConfig,
  type ServiceInputTypes as AthenaInput,
  type ServiceOutputTypes as AthenaOutput,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import {
  type FirehoseClientResolvedConfig,
  type ServiceInputTypes as FirehoseInput,
  type ServiceOutputTypes as FirehoseOutput,
  PutRecordCommand,
} from '@aws-sdk/client-firehose';
import type { AwsStub } from 'aws-sdk-client-mock';

type AthenaStub = AwsStub<AthenaInput, AthenaOutput, AthenaClientResolvedConfig>;
type FirehoseStub = AwsStub<FirehoseInput, FirehoseOutput, FirehoseClientResolvedConfig>;

/** One query's result as Athena gives it. */
export interface AthenaResult {
  /** Column names of the result, in order. */
  readonly columns: readonly string[];
  /** The rows, each cell as Athena returns it: text. */
  readonly rows: readonly (readonly string[])[];
  /** The query ends FAILED with this `StateChangeReason` instead of returning rows. @default succeeds */
  readonly failure?: string;
}

/** How the stubbed Athena numbers and meters its queries. */
export interface AthenaStubOptions {
  /** `DataScannedInBytes` of every query. @default none reported */
  readonly scannedBytes?: number;
  /** Query execution ids, numbered from 1 with this prefix. @default 'q-' */
  readonly idPrefix?: string;
}

export interface AthenaAnswer extends AthenaResult, AthenaStubOptions {}

/** The result of the queries whose SQL matches `sql`. */
export interface AthenaRoute extends AthenaResult {
  readonly sql: RegExp;
}

/**
 * Make every Athena query of `athena` succeed with `answer`.
 * @returns the SQL of the queries started, in order (filled as they start).
 */
export function answerAthena(athena: AthenaStub, answer: AthenaAnswer): string[] {
  return answerAthenaPerQuery(athena, [{ sql: /(?:)/, ...answer }], answer);
}

/**
 * Answer each Athena query of `athena` with the first route whose pattern its SQL matches; a query no
 * route matches is refused at StartQueryExecution, naming its SQL.
 * @returns the SQL of the queries started, in order (filled as they start).
 */
export function answerAthenaPerQuery(
  athena: AthenaStub,
  routes: readonly AthenaRoute[],
  options: AthenaStubOptions = {},
): string[] {
  const prefix = options.idPrefix ?? 'q-';
  const started: string[] = [];
  const results = new Map<string, AthenaResult>();
  const resultOf = (id: string | undefined): AthenaResult => {
    const result = results.get(id ?? '');
    if (!result) throw new Error(`the Athena stub started no query ${id}`);
    return result;
  };
  athena.on(StartQueryExecutionCommand).callsFake(async (input: { QueryString?: string }) => {
    const sql = input.QueryString ?? '';
    const route = routes.find((r) => r.sql.test(sql));
    if (!route) throw new Error(`the Athena stub has no answer for the query: ${sql}`);
    started.push(sql);
    const id = `${prefix}${started.length}`;
    results.set(id, route);
    return { QueryExecutionId: id };
  });
  athena.on(GetQueryExecutionCommand).callsFake(async (input: { QueryExecutionId?: string }) => {
    const { failure } = resultOf(input.QueryExecutionId);
    return {
      QueryExecution: {
        QueryExecutionId: input.QueryExecutionId,
        Status:
          failure === undefined ? { State: 'SUCCEEDED' } : { State: 'FAILED', StateChangeReason: failure },
        ...(options.scannedBytes === undefined
          ? {}
          : { Statistics: { DataScannedInBytes: options.scannedBytes } }),
      },
    };
  });
  athena.on(GetQueryResultsCommand).callsFake(async (input: { QueryExecutionId?: string }) => {
    const { columns, rows } = resultOf(input.QueryExecutionId);
    return {
      ResultSet: {
        ResultSetMetadata: {
          ColumnInfo: columns.map((name) => ({ Name: name, Label: name, Type: 'varchar' })),
        },
        Rows: [columns, ...rows].map((r) => ({ Data: r.map((v) => ({ VarCharValue: v })) })),
      },
    };
  });
  return started;
}

/** One event as the access audit puts it on the audit stream. */
export interface PutEvent {
  readonly category: string;
  readonly service: string;
  readonly level: string;
  readonly access: Record<string, unknown>;
}

/** The events put on `stream` through `firehose`'s PutRecord calls, in order. */
export function putEvents(firehose: FirehoseStub, stream: string): PutEvent[] {
  return firehose.commandCalls(PutRecordCommand).map((c) => {
    const input = c.args[0].input;
    if (input.DeliveryStreamName !== stream)
      throw new Error(`PutRecord to ${input.DeliveryStreamName}, expected ${stream}`);
    return JSON.parse(Buffer.from(input.Record?.Data ?? new Uint8Array()).toString()) as PutEvent;
  });
}
