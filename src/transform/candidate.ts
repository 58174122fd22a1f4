/**
 * The working state of one record inside a `transformRecords` call, shared by the stages that decide
 * its output (transformation, response fitting) and the metrics that count it.
 */
import type { Level, LogRecord } from '../schema';
import type { TransformInputRecord, TransformOutputRecord } from './types';

/** What the metrics and the compact fallback need from a record's delivered events. */
export interface Summary {
  events: number;
  eventsWithSchemaErrors: number;
  unparseable: number;
  redactions: Record<string, number>;
  /** Most severe level among the events. */
  level: Level;
  /** The first event (the record's category and partition come from it). */
  first: Pick<LogRecord, 'timestamp' | 'service' | 'logger' | 'ingest_time'>;
}

/**
 * One record between transformation and the response-size check. Events are not kept (they die young,
 * which keeps garbage collection cheap); a compact fallback re-decodes the input.
 */
export interface Candidate {
  readonly input: TransformInputRecord;
  output: TransformOutputRecord;
  summary?: Summary;
  arrivalMs: number;
  /** Size of this record's entry in the serialized response. */
  size: number;
  compact: boolean;
  control: boolean;
  sampledOut: number;
  forwarded: boolean;
  deferred: boolean;
  failure?: string;
  /** Its log events belong to different partitions: re-ingested as these parts, returned `Dropped`. */
  split?: SplitPart[];
  /** Pieces left out (delivered as parts of a split; see `Pieces` in `decode.ts`). */
  omit?: ReadonlySet<number>;
  /** The error every event of the record carries from the caller (`recordErrors`): why it is here. */
  runError?: string;
}

/** One part of a split record: the pieces it holds and its bytes. */
export interface SplitPart {
  /** Indexes of the received record's pieces (CloudWatch Logs log events, or lines). */
  readonly pieces: readonly number[];
  /** The record to put into the stream (marked, so that it is never split again). */
  readonly data: Buffer;
}
