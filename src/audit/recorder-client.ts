/**
 * The CLI's side of the access recorder (`src/audit/recorder.ts`): each access or privacy event is POSTed
 * to the recorder's function URL, signed with SigV4 (service `lambda`) with the caller's own credentials;
 * the URL's `AWS_IAM` auth verifies the signature and hands the recorder the signer. The call resolves
 * only once the recorder answered 2xx, that is once Firehose accepted the event, so a query still
 * releases no row before its event is written. Throttling and 5xx answers (and network errors) are
 * retried with the SDK's policy (3 attempts, full-jitter backoff); any other answer fails at once with
 * the recorder's reason.
 */
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { type BackoffPolicy, backoffDelay, sleep } from '../backoff';
import { DeliveryError } from '../errors';
import type { PrivacyRequest } from '../privacy/audit';
import type { AccessEvent, AccessSink } from './access';
import type { RecorderBody } from './recorder';

/** The service a function URL's SigV4 signature is scoped to. */
export const RECORDER_SIGNING_SERVICE = 'lambda';

/** The SDK's standard retry mode: 3 attempts, full jitter from 100 ms, at most 20 s. */
const STANDARD_ATTEMPTS = 3;
const STANDARD_BACKOFF: BackoffPolicy = { baseMs: 100, capMs: 20_000 };

export interface RecorderClientOptions {
  /** The recorder's function URL (stack output `AccessRecorderUrl`). */
  readonly url: string;
  /** The region to sign for when the URL does not say (`<id>.lambda-url.<region>.on.aws` does). */
  readonly region: string | undefined;
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** @default 3, as the SDK's standard retry mode */
  readonly maxAttempts?: number;
  /** @default full jitter from 100 ms to 20 s */
  readonly backoff?: BackoffPolicy;
  /** The signing time. @default now */
  readonly now?: () => Date;
}

/** The region of a function URL (`https://<id>.lambda-url.<region>.on.aws/`), if its host names one. */
export function functionUrlRegion(url: string): string | undefined {
  return /^[a-z0-9]+\.lambda-url\.([a-z0-9-]+)\./.exec(new URL(url).hostname)?.[1];
}

/** A POST of `body` to `url`, signed for Lambda with `credentials`: its headers, ready to send. */
export async function signRecorderRequest(
  options: Pick<RecorderClientOptions, 'url' | 'region' | 'credentials' | 'now'>,
  body: string,
): Promise<{ readonly url: string; readonly headers: Record<string, string>; readonly body: string }> {
  const url = new URL(options.url);
  const region = functionUrlRegion(options.url) ?? options.region;
  if (!region) throw new DeliveryError(`access recorder ${options.url}: no region to sign for`);
  const signer = new SignatureV4({
    service: RECORDER_SIGNING_SERVICE,
    region,
    credentials: options.credentials,
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { host: url.host, 'content-type': 'application/json' },
      body,
    },
    options.now ? { signingDate: options.now() } : {},
  );
  return { url: url.toString(), headers: signed.headers, body };
}

/** Sends events to the access recorder; one instance per CLI run. */
export class RecorderClient {
  constructor(private readonly options: RecorderClientOptions) {}

  /**
   * Records one event: resolves once the recorder answered 2xx.
   * @throws DeliveryError with the recorder's reason (4xx), or after the last retry (5xx, throttling,
   *   network)
   */
  async send(body: RecorderBody): Promise<void> {
    const text = JSON.stringify(body);
    const attempts = this.options.maxAttempts ?? STANDARD_ATTEMPTS;
    let last = '';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (attempt > 1) await sleep(backoffDelay(attempt - 1, this.options.backoff ?? STANDARD_BACKOFF));
      // Signed again each time: a signature is valid for minutes, and a retry may come later.
      const request = await signRecorderRequest(this.options, text);
      let response: Response;
      try {
        response = await fetch(request.url, {
          method: 'POST',
          // `host` is set by fetch itself, from the URL that was signed.
          headers: Object.fromEntries(Object.entries(request.headers).filter(([k]) => k !== 'host')),
          body: request.body,
        });
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
        continue;
      }
      const answer = await response.text();
      if (response.ok) return;
      last = `${response.status} ${reasonOf(answer)}`;
      if (!(response.status === 429 || response.status >= 500)) break;
    }
    throw new DeliveryError(`access recorder ${this.options.url} did not record the event: ${last}`);
  }

  /** An {@link AccessSink} over this client. */
  accessSink(): AccessSink {
    return { record: (event: AccessEvent) => this.send({ kind: 'access', event }) };
  }

  recordPrivacy(request: PrivacyRequest): Promise<void> {
    return this.send({ kind: 'privacy', request });
  }
}

function reasonOf(answer: string): string {
  try {
    const parsed = JSON.parse(answer) as { error?: unknown; Message?: unknown; message?: unknown };
    const reason = parsed.error ?? parsed.Message ?? parsed.message;
    if (typeof reason === 'string') return reason;
  } catch {
    // Not JSON (a proxy's page): its start is still the best reason there is.
  }
  return answer.slice(0, 300);
}
