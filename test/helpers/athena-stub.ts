/**
 * Athena as `aws-sdk-client-mock` answers it for the unit tests of Athena callers (the emulator has no
 * Athena): every query succeeds with the given statistics and returns the rows as Athena does (every cell
 * as text, the header as the first row). And the events callers put on a Firehose stream, decoded.
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

export interface AthenaAnswer {
  /** Column names of the result, in order. */
  readonly columns: readonly string[];
  /** The rows, each cell as Athena returns it: text. */
  readonly rows: readonly (readonly string[])[];
  /** `DataScannedInBytes` of every query. @default none reported */
  readonly scannedBytes?: number;
  /** Query execution ids, numbered from 1 with this prefix. @default 'q-' */
  readonly idPrefix?: string;
}

/** Make every Athena query of `athena` succeed with `answer`. */
export function answerAthena(athena: AthenaStub, answer: AthenaAnswer): void {
  let n = 0;
  const prefix = answer.idPrefix ?? 'q-';
  athena.on(StartQueryExecutionCommand).callsFake(async () => ({ QueryExecutionId: `${prefix}${++n}` }));
  athena.on(GetQueryExecutionCommand).resolves({
    QueryExecution: {
      Status: { State: 'SUCCEEDED' },
      ...(answer.scannedBytes === undefined
        ? {}
        : { Statistics: { DataScannedInBytes: answer.scannedBytes } }),
    },
  });
  athena.on(GetQueryResultsCommand).resolves({
    ResultSet: {
      ResultSetMetadata: {
        ColumnInfo: answer.columns.map((name) => ({ Name: name, Label: name, Type: 'varchar' })),
      },
      Rows: [answer.columns, ...answer.rows].map((r) => ({ Data: r.map((v) => ({ VarCharValue: v })) })),
    },
  });
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
