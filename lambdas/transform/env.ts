/**
 * The transform Lambda's environment, read and validated once per cold start. The only module of this
 * function that reads `process.env`.
 */
import { z } from 'zod';
import { jsonVariable, optionalVariable, parseEnvironment, requiredVariable } from '../../src/environment';
import { STREAMS, type StreamName } from '../../src/schema';
import { type TransformConfigSlice, transformSettingsSchema } from '../../src/transform';
import { TRANSFORM_ENV } from './constants';

export interface TransformEnv {
  /** Config slice `{ categories, transform, redaction }`. */
  readonly config: TransformConfigSlice;
  /** The delivery stream this function transforms for. */
  readonly stream: StreamName;
  /** Secrets Manager secret holding the pseudonym HMAC key. */
  readonly pseudonymSecretArn: string;
  /** DynamoDB table of per-subject pseudonym keys. */
  readonly subjectKeyTable: string;
  /** Audit delivery stream name; when set (on `logs`), locked-category records are forwarded there. */
  readonly auditStreamName: string | undefined;
}

const envSchema = z
  .object({
    [TRANSFORM_ENV.stream]: z.enum(STREAMS, { error: `must be one of ${STREAMS.join(', ')}` }),
    [TRANSFORM_ENV.settings]: jsonVariable(transformSettingsSchema),
    [TRANSFORM_ENV.pseudonymSecretArn]: requiredVariable(),
    [TRANSFORM_ENV.subjectKeyTable]: requiredVariable(),
    [TRANSFORM_ENV.auditStreamName]: optionalVariable(),
  })
  .transform(
    (e): TransformEnv => ({
      config: e[TRANSFORM_ENV.settings],
      stream: e[TRANSFORM_ENV.stream],
      pseudonymSecretArn: e[TRANSFORM_ENV.pseudonymSecretArn],
      subjectKeyTable: e[TRANSFORM_ENV.subjectKeyTable],
      auditStreamName: e[TRANSFORM_ENV.auditStreamName],
    }),
  );

/**
 * Reads the environment. Throws `ConfigError` naming every missing or invalid variable and the value
 * received (a deployment defect: the function cannot run safely without them).
 */
export function readEnv(env: NodeJS.ProcessEnv = process.env): TransformEnv {
  return parseEnvironment(envSchema, env, 'Invalid transform environment');
}
