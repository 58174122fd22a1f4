/**
 * The one place that turns "an endpoint and maybe a region" into a Firehose client config, shared by
 * `loglake send`, the demo and the pino transport so they all behave alike against the local pipeline.
 */
import type { FirehoseClientConfig } from '@aws-sdk/client-firehose';
import { InputError } from '../errors';

/** Region given to a loopback endpoint when none is: the local pipeline ignores it, the SDK needs one. */
export const LOOPBACK_REGION = 'us-east-1';

/**
 * Credentials given to a loopback endpoint: the local pipeline checks no signature, but the SDK refuses
 * to send unsigned requests, and a fresh machine has no credentials to find.
 */
export const LOOPBACK_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

/** True for `localhost`, `127.0.0.0/8` and `[::1]`: an endpoint on this machine (`loglake local`, an emulator). */
export function isLoopbackEndpoint(url: URL): boolean {
  const host = url.hostname;
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

export interface EndpointOptions {
  /** Firehose endpoint URL. @default the AWS endpoint of the region */
  readonly endpoint?: string;
  /** AWS region. @default the SDK's resolution (AWS_REGION, the profile); `us-east-1` for a loopback endpoint */
  readonly region?: string;
}

/**
 * Client config for an endpoint. A loopback endpoint gets placeholder credentials and a region when
 * none is given, since it checks neither; any other endpoint leaves credentials and region to the SDK's
 * own resolution (environment, profile, instance role).
 * @param name - what to call the endpoint in an error message (e.g. the CLI flag `--endpoint`)
 * @throws InputError when `endpoint` is not a URL.
 */
export function firehoseClientConfig(options: EndpointOptions, name = 'endpoint'): FirehoseClientConfig {
  const { endpoint, region } = options;
  if (!endpoint) return region ? { region } : {};
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new InputError(`${name}: not a URL: ${JSON.stringify(endpoint)}`);
  }
  if (!isLoopbackEndpoint(url)) return { endpoint, ...(region ? { region } : {}) };
  return { endpoint, region: region ?? LOOPBACK_REGION, credentials: { ...LOOPBACK_CREDENTIALS } };
}
