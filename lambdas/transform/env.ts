/**
 * The transform Lambda's environment, read and validated once per cold start. The only module of this
 * function that reads `process.env`.
 */
import { ConfigError } from '../../src/errors';
import { STREAMS, type StreamName } from '../../src/schema';
import { parseTransformConfig, type TransformConfigSlice } from '../../src/transform';
import { TRANSFORM_ENV } from './constants';

export interface TransformEnv {
  /** Config slice `{ categories, transform, redaction }`. */
  readonly config: TransformConfigSlice;
  /** The delivery stream this function transforms for. */
  readonly stream: StreamName;
  /** Secrets Manager secret holding the pseudonym HMAC key. */
  readonly pseudonymSecretArn: string;
  /** Audit delivery stream name; when set (on `logs`), locked-category records are forwarded there. */
  readonly auditStreamName: string | undefined;
}

/**
 * Reads the environment. Throws {@link ConfigError} naming every missing or invalid variable and the
 * value received (a deployment defect: the function cannot run safely without them).
 */
export function readEnv(env: NodeJS.ProcessEnv = process.env): TransformEnv {
  const problems: Array<{ path: string; message: string; received: unknown }> = [];
  const settings = env[TRANSFORM_ENV.settings];
  const stream = env[TRANSFORM_ENV.stream];
  const secretArn = env[TRANSFORM_ENV.pseudonymSecretArn];
  const audit = env[TRANSFORM_ENV.auditStreamName];
  if (!settings) problems.push({ path: TRANSFORM_ENV.settings, message: 'is required', received: settings });
  if (!stream || !(STREAMS as readonly string[]).includes(stream)) {
    problems.push({
      path: TRANSFORM_ENV.stream,
      message: `must be one of ${STREAMS.join(', ')}`,
      received: stream,
    });
  }
  if (!secretArn) {
    problems.push({ path: TRANSFORM_ENV.pseudonymSecretArn, message: 'is required', received: secretArn });
  }
  let config: TransformConfigSlice | undefined;
  if (settings) {
    try {
      config = parseTransformConfig(settings, TRANSFORM_ENV.settings);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  if (problems.length > 0 || !config) {
    throw new ConfigError(
      `Invalid transform environment:\n${problems.map((p) => `  - ${p.path}: ${p.message} (received ${JSON.stringify(p.received) ?? 'nothing'})`).join('\n')}`,
      problems,
    );
  }
  return {
    config,
    stream: stream as StreamName,
    pseudonymSecretArn: secretArn as string,
    auditStreamName: audit === undefined || audit === '' ? undefined : audit,
  };
}
