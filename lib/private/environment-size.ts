import { Token } from 'aws-cdk-lib';
import { TRANSFORM_ENV } from '../../lambdas/transform/constants';
import { configError } from '../../src/errors';

/** Lambda's limit on all environment variables of a function together (names and values). */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;
/** Room kept for values only known at deploy time (ARNs and names behind tokens). */
const TOKEN_ALLOWANCE_BYTES = 160;

/**
 * Fail synth, naming the config fields that fill it, when the transform's environment would exceed
 * Lambda's 4 KB limit; CloudFormation would otherwise fail the deploy with a generic error.
 */
export function checkEnvironmentSize(environment: Record<string, string>): void {
  const bytes = Object.entries(environment).reduce(
    (sum, [k, v]) =>
      sum + Buffer.byteLength(k) + (Token.isUnresolved(v) ? TOKEN_ALLOWANCE_BYTES : Buffer.byteLength(v)),
    0,
  );
  if (bytes > LAMBDA_ENVIRONMENT_LIMIT_BYTES) {
    const settings = environment[TRANSFORM_ENV.settings] ?? '';
    throw configError('Invalid loglake configuration', [
      {
        path: 'loglake.transform.rules',
        message: `the transform settings need ${Buffer.byteLength(settings)} bytes of Lambda environment, ${bytes} bytes in all, over Lambda's limit of ${LAMBDA_ENVIRONMENT_LIMIT_BYTES}; shorten transform.rules or redaction.extraSensitiveKeys`,
        received: `${bytes} bytes`,
      },
    ]);
  }
}
