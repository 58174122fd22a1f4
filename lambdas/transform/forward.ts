/**
 * Reliable `PutRecordBatch`: batches within the Firehose limits (500 records, 4 MiB per call), checks
 * `FailedPutCount` and retries only the failed entries with exponential backoff and full jitter.
 */
import { type FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';

/** Firehose PutRecordBatch limits. */
export const MAX_BATCH_RECORDS = 500;
export const MAX_BATCH_BYTES = 4 * 1024 * 1024;

export interface PutOptions {
  /**
   * Attempts per record, including the first.
   * @default 4
   */
  readonly maxAttempts?: number;
  /**
   * Base of the exponential backoff between attempts.
   * @default 100
   */
  readonly baseDelayMs?: number;
  /** @default setTimeout-based sleep */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
}

export interface PutResult {
  /** Per input index: delivered or not (after all attempts). */
  readonly delivered: boolean[];
  /** Error code of the last failed attempt of each undelivered record (for logs/metrics). */
  readonly lastErrors: Map<number, string>;
  readonly attempts: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Splits indices into batches that respect the record-count and byte limits. */
export function batches(sizes: readonly number[], indices: readonly number[]): number[][] {
  const out: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  for (const i of indices) {
    const size = sizes[i] ?? 0;
    if (current.length > 0 && (current.length >= MAX_BATCH_RECORDS || bytes + size > MAX_BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(i);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Puts every record into `streamName`; never throws for a delivery failure (see `delivered`). */
export async function putRecordsReliably(
  client: FirehoseClient,
  streamName: string,
  records: readonly Uint8Array[],
  options: PutOptions = {},
): Promise<PutResult> {
  const maxAttempts = options.maxAttempts ?? 4;
  const baseDelayMs = options.baseDelayMs ?? 100;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const delivered = records.map(() => false);
  const lastErrors = new Map<number, string>();
  const sizes = records.map((r) => r.byteLength);
  let pending = records.map((_, i) => i);
  let attempt = 0;
  while (pending.length > 0 && attempt < maxAttempts) {
    if (attempt > 0) await sleep(random() * baseDelayMs * 2 ** attempt);
    attempt++;
    const failed: number[] = [];
    for (const batch of batches(sizes, pending)) {
      try {
        const response = await client.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: streamName,
            Records: batch.map((i) => ({ Data: records[i] })),
          }),
        );
        const results = response.RequestResponses ?? [];
        // Entries answer positionally; a short answer leaves the unanswered entries failed.
        const complete = results.length === batch.length;
        const allOk = complete && response.FailedPutCount === 0;
        batch.forEach((index, j) => {
          const entry = results[j];
          if (allOk || (complete && entry !== undefined && !entry.ErrorCode)) {
            delivered[index] = true;
            lastErrors.delete(index);
          } else {
            failed.push(index);
            lastErrors.set(index, entry?.ErrorCode ?? 'MissingResponseEntry');
          }
        });
      } catch (error) {
        const code = error instanceof Error ? error.name : 'UnknownError';
        for (const index of batch) {
          failed.push(index);
          lastErrors.set(index, code);
        }
      }
    }
    pending = failed;
  }
  return { delivered, lastErrors, attempts: attempt };
}
