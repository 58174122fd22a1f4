/**
 * Each access-log object shipped once: a ledger record per object delivery (the object and S3's
 * `sequencer` of the write that created it, so a key written again is a new delivery), claimed by one
 * attempt at a time, checkpointed as commits are acknowledged, and closed when the object is done. The
 * record is what AWS Lambda Powertools' idempotency utility keeps per event, with a progress checkpoint
 * added, so a retry resumes where the failed attempt's last acknowledged commit ended instead of
 * starting over (`src/sources/dynamodb-ledger.ts` keeps it in DynamoDB, `lib/access-logs.ts`).
 *
 * What is exactly once and what is not:
 * - A notification for an object already done sends nothing (S3's duplicate notifications, Lambda's
 *   duplicate deliveries of an event, a dead-letter redrive after success): outcome `already-shipped`.
 * - A retry (Lambda's two retries, a redrive) skips every line below the checkpoint: those lines were
 *   acknowledged once and are never sent again.
 * - The window left: the lines of the one commit an attempt had put when it died (a timeout, a crash,
 *   a commit Firehose acknowledged only in part, the checkpoint write failing) are sent again by the next
 *   attempt. That is at most one commit (about one PutRecordBatch, 4 MiB) per failed attempt, and every
 *   such duplicate carries the same `access_log.object` and `access_log.line`.
 * - Past the ledger: Firehose itself delivers at least once (a retried S3 write can repeat a file).
 *   A ledger record expires (DynamoDB TTL) 30 days after its last write, longer than the dead-letter
 *   queue keeps an event (14 days), so a redrive still finds it.
 *
 * Leases: a claim holds the object until the attempt's deadline (Lambda's remaining time). Another
 * event for the same delivery meanwhile finds it `busy` and fails ({@link ObjectBusyError}), so Lambda
 * retries it later (it finds the object done, or takes over a dead attempt's lease). Lambda's retries of
 * one event keep its request id, the lease owner, and take their own lease over at once. An attempt whose
 * lease was taken over stops at its next checkpoint without sending more.
 */
import { LogLakeError } from '../errors';
import { type ShipAccessLogInput, type ShipAccessLogReport, shipAccessLog } from './access-logs';

/** The ledger table's attribute names, shared with the table's definition (`lib/access-logs.ts`). */
export const ACCESS_LOG_LEDGER_ATTRIBUTES = {
  /** Partition key: `s3://bucket/key`. */
  object: 'object',
  /** Sort key: S3's `sequencer` of the write (its `versionId` or `eTag` where an event has none). */
  delivery: 'delivery',
  /** `in_progress` or `done`. */
  state: 'state',
  /** The attempt holding the lease (Lambda's request id, kept across Lambda's retries of an event). */
  owner: 'owner',
  /** Epoch ms the lease ends (the holder's deadline). */
  leaseUntil: 'leaseUntil',
  /** Attempts that claimed the object: 1 on the first. */
  attempt: 'attempt',
  /** First line not yet acknowledged: every line below it was acknowledged once. */
  nextLine: 'nextLine',
  /** Epoch seconds the record expires (DynamoDB TTL). */
  expiresAt: 'expiresAt',
  /** How a done object ended: `shipped`, `gone`, `replaced`. */
  outcome: 'outcome',
  /** Lines and records the last attempt sent, and when it finished (ISO). */
  lines: 'lines',
  records: 'records',
  finishedAt: 'finishedAt',
} as const;

/** Days a ledger record is kept after its last write (longer than the dead-letter queue's 14 days). */
export const LEDGER_RETENTION_DAYS = 30;

/** One write of one object: what a ledger record is about. */
export interface ObjectDelivery {
  /** `s3://bucket/key`. */
  readonly object: string;
  /** S3's `sequencer` of the write (same in every notification of that write, growing per write of the key). */
  readonly delivery: string;
}

/** The lease an attempt holds; checkpoints and the close hold only while it does. */
export interface Lease {
  readonly owner: string;
  readonly attempt: number;
}

/** How a done object ended: its lines sent, or nothing left to send (deleted, or written again). */
export type DoneOutcome = 'shipped' | 'gone' | 'replaced';

export type Claim =
  | { readonly state: 'claimed'; readonly lease: Lease; readonly nextLine: number }
  | { readonly state: 'done'; readonly outcome: DoneOutcome; readonly attempts: number }
  | { readonly state: 'busy'; readonly owner: string; readonly leaseUntil: number };

export interface DoneSummary {
  readonly outcome: DoneOutcome;
  readonly lines: number;
  readonly records: number;
}

/** Where the ledger is kept (DynamoDB on AWS: `DynamoDbObjectLedger`). */
export interface ObjectLedger {
  /**
   * Claims the delivery for `owner` until `leaseUntil` (epoch ms): a new delivery, one in progress whose
   * lease ended before `now`, or one whose lease `owner` already holds. Else says it is done or busy.
   */
  claim(delivery: ObjectDelivery, owner: string, leaseUntil: number, now: number): Promise<Claim>;
  /** Records that every line below `nextLine` was acknowledged. False when the lease was taken over. */
  checkpoint(delivery: ObjectDelivery, lease: Lease, nextLine: number, now: number): Promise<boolean>;
  /** Marks the delivery done. False when the lease was taken over. */
  finish(delivery: ObjectDelivery, lease: Lease, summary: DoneSummary, now: number): Promise<boolean>;
}

/** Another attempt holds the object's lease: this event is retried later (it then finds the object done). */
export class ObjectBusyError extends LogLakeError {
  constructor(
    readonly object: string,
    readonly owner: string,
    readonly leaseUntil: number,
  ) {
    super(
      `${object}: being shipped by another attempt (${owner}) until ${new Date(leaseUntil).toISOString()}; retried later`,
    );
    this.name = 'ObjectBusyError';
  }
}

/** What became of one notification. */
export type ObjectOutcome =
  /** Sent (from the checkpoint on, when an earlier attempt had acknowledged lines). */
  | 'shipped'
  /** Done before: nothing sent. */
  | 'already-shipped'
  /** Deleted before it was read: nothing left to send. */
  | 'gone'
  /** Written again before it was read: the newer write's own notification ships it. */
  | 'replaced'
  /**
   * Another attempt took the lease over while this one ran: it stopped at its next checkpoint, the other
   * finishes (the report's counts are zero; the commit it had put is the duplicate window).
   */
  | 'taken-over';

export interface ShipObjectOnceReport extends ShipAccessLogReport {
  readonly object: string;
  readonly outcome: ObjectOutcome;
  /** The attempt's number (1 on the first claim); absent when nothing was claimed. */
  readonly attempt?: number;
  /** The line this attempt started from (1 unless it resumed a failed attempt). */
  readonly fromLine?: number;
}

/** The object's lines, or why there are none to read. */
export type OpenedObject =
  | { readonly lines: AsyncIterable<string> | Iterable<string> }
  | { readonly missing: 'gone' | 'replaced' };

export interface ShipObjectOnceInput {
  readonly delivery: ObjectDelivery;
  readonly ledger: ObjectLedger;
  /** Who this attempt is: Lambda's request id (the same in Lambda's retries of one event). */
  readonly owner: string;
  /** Epoch ms this attempt can run until (its deadline); the lease ends then. */
  readonly leaseUntil: number;
  /** Opens the object, called only once it is claimed (a done object is not even read). */
  readonly open: () => Promise<OpenedObject>;
  /** How the lines are sent (`shipAccessLog`'s input but for what this sets). */
  readonly ship: Omit<ShipAccessLogInput, 'lines' | 'object' | 'fromLine' | 'onCommit'>;
  /** @default Date.now */
  readonly now?: () => number;
}

const NOTHING_SENT = { lines: 0, skipped: 0, unparsed: 0, truncated: 0, records: 0 } as const;

class LeaseLost extends Error {}

/**
 * Ships one object delivery at most once past its checkpoint: claims it in the ledger, sends its lines
 * from the checkpoint on (recording a checkpoint after each acknowledged commit) and closes it. Throws
 * {@link ObjectBusyError} when another live attempt holds it, and whatever the sending or the ledger
 * throws (the event is then retried, from the last checkpoint).
 */
export async function shipObjectOnce(input: ShipObjectOnceInput): Promise<ShipObjectOnceReport> {
  const { delivery, ledger } = input;
  const now = input.now ?? Date.now;
  const object = delivery.object;
  const claim = await ledger.claim(delivery, input.owner, input.leaseUntil, now());
  if (claim.state === 'done') return { object, outcome: 'already-shipped', ...NOTHING_SENT };
  if (claim.state === 'busy') throw new ObjectBusyError(object, claim.owner, claim.leaseUntil);
  const { lease, nextLine: fromLine } = claim;
  const base = { object, attempt: lease.attempt, fromLine };

  const opened = await input.open();
  if ('missing' in opened) {
    const { missing } = opened;
    const closed = await ledger.finish(delivery, lease, { outcome: missing, lines: 0, records: 0 }, now());
    return { ...base, outcome: closed ? missing : 'taken-over', ...NOTHING_SENT };
  }
  let report: ShipAccessLogReport;
  try {
    report = await shipAccessLog({
      ...input.ship,
      lines: opened.lines,
      object,
      fromLine,
      onCommit: async (nextLine) => {
        if (!(await ledger.checkpoint(delivery, lease, nextLine, now()))) throw new LeaseLost();
      },
    });
  } catch (error) {
    if (error instanceof LeaseLost) return { ...base, outcome: 'taken-over', ...NOTHING_SENT };
    throw error;
  }
  const summary = { outcome: 'shipped', lines: report.lines, records: report.records } as const;
  const closed = await ledger.finish(delivery, lease, summary, now());
  return { ...base, outcome: closed ? 'shipped' : 'taken-over', ...report };
}
