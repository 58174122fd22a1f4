/**
 * Scheduled erasure on the deployed lake: what the executor Lambda (`lambdas/erase`) runs on its
 * EventBridge schedule, and how the CLI records a subject request on the audit stream. Each due request
 * of the request table has its key deleted from the key table and an `erase` event put on the audit
 * delivery stream (the same event the local lake records), then is marked done (`runDueErasures`).
 */
import type { FirehoseClient } from '@aws-sdk/client-firehose';
import { LogLakeError } from '../errors';
import { putRecordsReliably } from '../producer/put-batch';
import { scheduledEraseEvent } from './audit';
import {
  type EraseRequest,
  type ErasureDone,
  type PurgePending,
  runDueErasures,
  type SubjectRequestStore,
} from './requests';
import type { SubjectKeyStore } from './store';

/**
 * Puts one audit event on the delivery stream, retrying what Firehose refuses.
 * @throws LogLakeError when it was not accepted (the caller's step is then repeated, not lost)
 */
export async function putAuditEvent(
  client: FirehoseClient,
  stream: string,
  event: Record<string, unknown>,
): Promise<void> {
  const put = await putRecordsReliably(client, stream, [Buffer.from(`${JSON.stringify(event)}\n`)]);
  if (!put.delivered[0]) {
    const error = put.lastErrors.get(0);
    throw new LogLakeError(`audit stream ${stream} did not accept the event${error ? `: ${error}` : ''}`);
  }
}

export interface AwsErasureOptions {
  readonly keys: SubjectKeyStore;
  readonly requests: SubjectRequestStore;
  readonly firehose: FirehoseClient;
  /** The delivery stream of the `audit` category. */
  readonly auditStream: string;
  /** Who carries them out: the executor's role ARN. */
  readonly executor: string;
  /**
   * Rewrites the unlocked categories without the subject's rows (`--purge` requests), before the key
   * goes (`aws-purge.ts`); `undefined` or {@link PurgePending} when not finished: the request stays
   * pending.
   */
  readonly purge?: (request: EraseRequest) => Promise<string | PurgePending | undefined>;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * Carries out the due erasures of the deployed lake; a `--purge` request is purged first (`purge`), and
 * without a `purge` step it stays pending rather than lose the rewrite it asked for.
 */
export async function runAwsDueErasures(options: AwsErasureOptions): Promise<ErasureDone[]> {
  const now = options.now ?? Date.now;
  const by = `${options.executor} (scheduled erasure)`;
  return runDueErasures({
    keys: options.keys,
    requests: options.requests,
    executor: by,
    now,
    purge: options.purge ?? (async () => undefined),
    record: (request, destroyed, purged) =>
      putAuditEvent(
        options.firehose,
        options.auditStream,
        scheduledEraseEvent({
          time: new Date(now()).toISOString(),
          by,
          store: options.keys.location,
          request,
          destroyed,
          purged,
        }),
      ),
  });
}
