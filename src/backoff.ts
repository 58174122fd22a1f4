/**
 * The one retry-delay policy of loglake: exponential backoff with full jitter, capped (the "Full Jitter"
 * of the AWS Architecture Blog's "Exponential Backoff And Jitter", which the AWS SDKs use too). The n-th
 * retry waits a uniformly random time in `[0, min(cap, base × 2^(n−1)))`: callers that fail together
 * (several producers behind one throttled stream, a full disk) spread out instead of retrying in step.
 *
 * Used by the shipper, `putRecordsReliably`, the local pipeline's delivery retries and the local alert
 * webhook. Polling a running query (the Athena runner) is not a retry and grows its interval itself.
 */

export interface BackoffPolicy {
  /** Ceiling of the first retry's delay, in ms; it doubles with every further retry. */
  readonly baseMs: number;
  /** Largest ceiling, in ms. */
  readonly capMs: number;
  /** Source of randomness in [0, 1). @default Math.random */
  readonly random?: () => number;
}

/** The largest delay of retry number `retry` (1 for the first retry) under `policy`, in ms. */
export function backoffCeiling(retry: number, policy: Pick<BackoffPolicy, 'baseMs' | 'capMs'>): number {
  // The exponent is bounded so a long outage cannot overflow to Infinity before the cap applies.
  return Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(Math.max(retry, 1) - 1, 40));
}

/** How long to wait before retry number `retry` (1 for the first retry), in ms. */
export function backoffDelay(retry: number, policy: BackoffPolicy): number {
  return Math.floor((policy.random ?? Math.random)() * backoffCeiling(retry, policy));
}

/** `setTimeout` as a promise. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
