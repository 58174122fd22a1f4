/**
 * What every PutRecordBatch caller needs, in one place: which failures are worth another attempt, how
 * to read a batch response entry by entry, and a one-shot reliable put for callers without a queue of
 * their own (the transform Lambda forwarding to the audit stream and re-ingesting what it defers).
 * The `Shipper` uses the first two in its own concurrent queue.
 */
import {
  type FirehoseClient,
  PutRecordBatchCommand,
  type PutRecordBatchCommandOutput,
} from '@aws-sdk/client-firehose';
import { backoffDelay, sleep as defaultSleep } from '../backoff';
import { type BatchLimits, FIREHOSE_PUT_LIMITS, fillBatch } from './pack';

const RETRYABLE_NAMES = new Set([
  'ServiceUnavailableException',
  'ThrottlingException',
  'InternalFailure',
  'InternalServerError',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'AbortError',
  // Credentials that could not be had or had run out: an instance or task role's endpoint answers late
  // under load, and a refreshed session or a corrected clock (the SDK adjusts its skew) succeeds later.
  'CredentialsProviderError',
  'ExpiredTokenException',
  'RequestExpired',
]);
const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);

/** True when retrying the same call later can succeed (throttling, 5xx, timeouts, dropped connections). */
export function isRetryable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as {
    name?: string;
    code?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  };
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && (status >= 500 || status === 429)) return true;
  if (e.$retryable) return true;
  if (e.name && RETRYABLE_NAMES.has(e.name)) return true;
  if (e.code && RETRYABLE_CODES.has(e.code)) return true;
  // Node and the SDK's HTTP handler report a connection dropped mid-response this way.
  return /socket hang up|ECONNRESET|other side closed|premature close/i.test(
    String((error as Error).message),
  );
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'UND_ERR_SOCKET',
]);

/**
 * A failed call in words a person can act on, naming `endpoint`: `cannot connect to <endpoint>:
 * ECONNREFUSED` for a connection that failed, the AWS error code and message for an error Firehose
 * answered, `no answer … within` for a timeout.
 */
export function describeCallError(error: unknown, endpoint: string): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const e = error as {
    name?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  if (e.code && CONNECTION_CODES.has(e.code)) {
    return e.code === 'ECONNRESET' || e.code === 'EPIPE'
      ? `connection to ${endpoint} dropped: ${e.code}`
      : `cannot connect to ${endpoint}: ${e.code}`;
  }
  if (e.name === 'AbortError' || e.name === 'TimeoutError') return `no answer from ${endpoint} in time`;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined)
    return `${endpoint} answered ${e.name ?? 'an error'} (HTTP ${status}): ${e.message ?? ''}`.trim();
  return e.message ?? String(error);
}

/**
 * Per entry of a PutRecordBatch call: `undefined` when Firehose acknowledged it, otherwise the error
 * code. Entries answer positionally; an entry without an answer (a short response) or without a
 * `RecordId` tells nothing about its record, so it counts as failed and is sent again.
 */
export function entryErrors(
  batchLength: number,
  output: Partial<PutRecordBatchCommandOutput>,
): (string | undefined)[] {
  const responses = output.RequestResponses ?? [];
  return Array.from({ length: batchLength }, (_, i) => {
    const r = responses[i];
    if (!r) return 'NoResponseEntry';
    if (r.ErrorCode) return r.ErrorCode;
    return r.RecordId ? undefined : 'NoRecordId';
  });
}

export interface PutOptions {
  /**
   * Attempts per record, including the first.
   * @default 4
   */
  readonly maxAttempts?: number;
  /**
   * Ceiling of the first retry's delay; it doubles per retry, full jitter (see `src/backoff.ts`).
   * @default 100
   */
  readonly baseDelayMs?: number;
  /**
   * Largest backoff ceiling.
   * @default 5000
   */
  readonly maxDelayMs?: number;
  /** @default the Firehose PutRecordBatch limits (500 records, 4 MiB) */
  readonly limits?: BatchLimits;
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
  /** Whether a call failed with an error that retrying cannot fix (e.g. AccessDeniedException). */
  readonly permanent: boolean;
  readonly attempts: number;
}

/**
 * Puts every record into `streamName` within the call limits, retrying failed entries (FailedPutCount)
 * and retryable call failures with exponential backoff and full jitter. Stops at once on an error
 * retrying cannot fix. Never throws for a delivery failure: see `delivered`.
 */
export async function putRecordsReliably(
  client: FirehoseClient,
  streamName: string,
  records: readonly Uint8Array[],
  options: PutOptions = {},
): Promise<PutResult> {
  const maxAttempts = options.maxAttempts ?? 4;
  const backoff = {
    baseMs: options.baseDelayMs ?? 100,
    capMs: options.maxDelayMs ?? 5_000,
    random: options.random ?? Math.random,
  };
  const limits = options.limits ?? FIREHOSE_PUT_LIMITS;
  const sleep = options.sleep ?? defaultSleep;
  const delivered = records.map(() => false);
  const lastErrors = new Map<number, string>();
  let pending = records.map((data, index) => ({ data, index }));
  let attempt = 0;
  let permanent = false;
  while (pending.length > 0 && attempt < maxAttempts && !permanent) {
    if (attempt > 0) await sleep(backoffDelay(attempt, backoff));
    attempt++;
    const failed: typeof pending = [];
    while (pending.length > 0) {
      const batch: typeof pending = [];
      fillBatch(batch, 0, pending, limits);
      // A record larger than the batch byte limit still goes, alone (Firehose answers for it).
      if (batch.length === 0) batch.push(pending.shift() as (typeof pending)[number]);
      try {
        const output = await client.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: streamName,
            Records: batch.map((r) => ({ Data: r.data })),
          }),
        );
        entryErrors(batch.length, output).forEach((code, j) => {
          const r = batch[j] as (typeof batch)[number];
          if (code === undefined) {
            delivered[r.index] = true;
            lastErrors.delete(r.index);
          } else {
            failed.push(r);
            lastErrors.set(r.index, code);
          }
        });
      } catch (error) {
        const code = error instanceof Error ? error.name : 'UnknownError';
        if (!isRetryable(error)) permanent = true;
        for (const r of batch) {
          failed.push(r);
          lastErrors.set(r.index, code);
        }
      }
    }
    pending = failed;
  }
  return { delivered, lastErrors, attempts: attempt, permanent };
}
