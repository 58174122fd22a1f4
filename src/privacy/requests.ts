/**
 * Erasure requests with a cancellation window (`loglake subject erase --after 7d`): the request is kept
 * until it is due, `subject cancel` withdraws it, and whoever runs {@link runDueErasures} destroys the keys
 * of the due ones. Requests are addressed by subject reference, never by raw id, like the keys.
 *
 * One shape, two stores: locally one JSON file per subject (`local-requests.ts`); on AWS one item per
 * subject in the request table (`dynamodb-requests.ts`). A closed
 * request (done, cancelled) stays as a record of what happened, so `subject status` can tell a destroyed
 * key from one that never existed.
 *
 * Carrying out and withdrawing exclude each other by compare-and-set ({@link SubjectRequestStore.replace}):
 * an executor first claims a due request, and only an unclaimed pending request can be cancelled, so a
 * cancelled request is never carried out and two executors never both carry one out.
 */
import { z } from 'zod';
import { SUBJECT_REF } from './local-files';
import type { SubjectKeyStore } from './store';

const REF = SUBJECT_REF;

/**
 * How long an executor's claim on a due request holds. A run that dies after claiming (before closing)
 * leaves the claim; the next run after this long carries the request out again (destroying and purging
 * are idempotent). Longer than a run may take (the AWS executor's timeout is Lambda's 15 minutes, for
 * `--purge`).
 */
export const ERASURE_CLAIM_LEASE_MS = 20 * 60_000;

export const eraseRequestSchema = z.strictObject({
  subject: z.string().regex(REF),
  state: z.enum(['pending', 'done', 'cancelled']),
  requested: z.iso.datetime(),
  due: z.iso.datetime(),
  reason: z.string(),
  principal: z.string(),
  persona: z.string(),
  purge: z.boolean(),
  /**
   * The pseudonym a pending `--purge` request finds the person's rows by (the raw id is never kept).
   * Dropped when the request is closed: kept after the key is gone it would link the reference to the
   * person's records.
   */
  pseudonym: z
    .string()
    .regex(/^u_[0-9a-f]{32}$/)
    .optional(),
  /**
   * What the purge of a pending `--purge` request did in the runs that did not finish it (a purge larger
   * than one run, or one that failed an hour), summed over those runs: the final outcome counts them too.
   * Dropped when the request is closed.
   */
  purgedSoFar: z.strictObject({ files: z.number().int().min(0), rows: z.number().int().min(0) }).optional(),
  /**
   * What the purge did, once it finished in a run whose later step failed (destroying the key, recording
   * the event): the next run does not purge again, and records this rather than a purge that found
   * nothing left. The pseudonym is dropped with it. Dropped when the request is closed.
   */
  purged: z.string().optional(),
  /** When an executor claimed it (a pending request being carried out; it can no longer be cancelled). */
  claimed: z.iso.datetime().optional(),
  /** When it was carried out or withdrawn. */
  closed: z.iso.datetime().optional(),
  /** Who withdrew it, or who carried it out. */
  closedBy: z.string().optional(),
  outcome: z.string().optional(),
});
/** One subject's latest erasure request. */
export type EraseRequest = z.output<typeof eraseRequestSchema>;

/** Where erasure requests are kept (locally: files beside the keys; on AWS: the request table). */
export interface SubjectRequestStore {
  /** `local:<dir>`, `dynamodb:<table>`. */
  readonly location: string;
  /** The subject's latest request, or `undefined`. */
  get(ref: string): Promise<EraseRequest | undefined>;
  /** Replaces the subject's request, durably, whatever it was. */
  put(request: EraseRequest): Promise<void>;
  /**
   * Replaces the subject's request with `next` only if the stored one is still `current` (the same
   * state, request time and claim; `undefined`: none stored), durably.
   * @returns false, storing nothing, when it was not (cancelled, claimed or replaced meanwhile)
   */
  replace(current: EraseRequest | undefined, next: EraseRequest): Promise<boolean>;
  /** Every request in the state given. */
  list(state: EraseRequest['state']): Promise<EraseRequest[]>;
}

/** Whether two versions of a subject's request are the same one in the same step (see `replace`). */
export function sameRequestStep(a: EraseRequest | undefined, b: EraseRequest | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.state === b.state && a.requested === b.requested && a.claimed === b.claimed;
}

/** Files replaced and rows left out by a purge, so far. */
export interface PurgeProgress {
  readonly files: number;
  readonly rows: number;
}

/**
 * A purge step that has not finished: what every run of the request did so far (the earlier runs'
 * {@link EraseRequest.purgedSoFar} included), kept on the request for the next run.
 */
export interface PurgePending {
  readonly pending: PurgeProgress;
}

/** An error of a purge step that did part of its work first (every run so far, as {@link PurgePending}). */
export interface PurgeProgressError extends Error {
  readonly progress: PurgeProgress;
}

function progressOf(error: unknown): PurgeProgress | undefined {
  const p = (error as Partial<PurgeProgressError> | undefined)?.progress;
  return p !== undefined && Number.isInteger(p.files) && Number.isInteger(p.rows) ? p : undefined;
}

/** What carrying out one due request did. */
export interface ErasureDone {
  readonly request: EraseRequest;
  /** False when the key was already gone. */
  readonly destroyed: boolean;
}

export interface RunDueOptions {
  readonly keys: SubjectKeyStore;
  readonly requests: SubjectRequestStore;
  /** Who carries them out (recorded as `closedBy` and in the audit event). */
  readonly executor: string;
  /**
   * Records the audit event of a carried-out request; a request whose event could not be recorded stays
   * pending and is carried out again next time (its key is gone by then: "no key").
   */
  readonly record: (request: EraseRequest, destroyed: boolean, purged?: string) => Promise<void>;
  /**
   * Rewrites the unlocked categories without the subject's rows (`--purge`), before the key goes, and
   * says what it did; `undefined` when it cannot run now (the data directory is in use), or
   * {@link PurgePending} when it did part of it: the request stays pending (with what was done so far)
   * and is carried out next time. An error carrying `progress` ({@link PurgeProgressError}) keeps that
   * progress on the request too.
   */
  readonly purge?: (request: EraseRequest) => Promise<string | PurgePending | undefined>;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * Carries out every pending request that is due: claims it (compare-and-set, so a cancel in between wins
 * and a second executor skips it), destroys the key, records the audit event, then marks it done, in
 * that order, so a crash in between repeats the step after {@link ERASURE_CLAIM_LEASE_MS} (destroying is
 * idempotent) rather than losing it. A run that overlaps another one, or repeats one, changes nothing.
 * A request whose step fails is released and the run goes on with the others (a request that fails run
 * after run must not hold back everyone listed after it); the run then throws its error (an
 * `AggregateError` when several failed).
 */
export async function runDueErasures(options: RunDueOptions): Promise<ErasureDone[]> {
  const now = options.now ?? Date.now;
  const done: ErasureDone[] = [];
  const failed: unknown[] = [];
  for (const request of await options.requests.list('pending')) {
    if (Date.parse(request.due) > now()) continue;
    if (request.claimed !== undefined && now() - Date.parse(request.claimed) < ERASURE_CLAIM_LEASE_MS)
      continue;
    const claimed: EraseRequest = { ...request, claimed: new Date(now()).toISOString() };
    if (!(await options.requests.replace(request, claimed))) continue;
    const { claimed: _released, ...unclaimed } = claimed;
    // Gives the claim back so the next run takes the request at once, not after the lease, with what a
    // purge did so far (the outcome, when it is done, counts every run's).
    const release = (progress?: PurgeProgress, purged?: string) => {
      if (purged !== undefined) {
        const { pseudonym: _found, purgedSoFar: _counted, ...rest } = unclaimed;
        return options.requests.replace(claimed, { ...rest, purged });
      }
      return options.requests.replace(
        claimed,
        progress ? { ...unclaimed, purgedSoFar: progress } : unclaimed,
      );
    };
    let closed: EraseRequest;
    let destroyed: boolean;
    let purged = request.purged;
    try {
      if (request.purge && options.purge && purged === undefined) {
        const step = await options.purge(request);
        if (step === undefined || typeof step !== 'string') {
          await release(step?.pending);
          continue;
        }
        purged = step;
      }
      destroyed = await options.keys.destroy(request.subject);
      await options.record(request, destroyed, purged);
      const { pseudonym: _dropped, purgedSoFar: _counted, purged: _told, ...kept } = unclaimed;
      closed = {
        ...kept,
        state: 'done',
        closed: new Date(now()).toISOString(),
        closedBy: options.executor,
        outcome: [destroyed ? 'key destroyed' : 'no key (already destroyed, or never seen)', purged]
          .filter(Boolean)
          .join('; '),
      };
    } catch (error) {
      // The step's own error is the one to report; if the release fails too, the lease frees the claim.
      await release(progressOf(error), purged).catch(() => false);
      failed.push(error);
      continue;
    }
    // False only when another run took the claim over after the lease: it closes the request itself.
    if (await options.requests.replace(claimed, closed)) done.push({ request: closed, destroyed });
  }
  if (failed.length === 1) throw failed[0];
  if (failed.length > 1)
    throw new AggregateError(
      failed,
      `${failed.length} due erasure requests failed: ${failed.map((e) => (e instanceof Error ? e.message : String(e))).join('; ')}`,
    );
  return done;
}
