import { type Stack, Token } from 'aws-cdk-lib';
import { TRANSFORM_ENV } from '../../lambdas/transform/constants';
import { configError } from '../../src/errors';

/** Lambda's limit on all environment variables of a function together (names and values). */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;
/** Room kept for values only known at deploy time (ARNs and names behind tokens). */
const TOKEN_ALLOWANCE_BYTES = 160;

/** Which config fields fill a function's environment, for the error. */
export interface EnvironmentFill {
  /** The variable holding them. */
  readonly variable: string;
  /** The config path named in the error. */
  readonly path: string;
  /** What the user can shorten. */
  readonly shorten: string;
  /** What the settings are called in the error. */
  readonly what: string;
}

const TRANSFORM_FILL: EnvironmentFill = {
  variable: TRANSFORM_ENV.settings,
  path: 'loglake.transform.rules',
  shorten: 'shorten transform.rules or redaction.extraSensitiveKeys',
  what: 'the transform settings',
};

/**
 * Fail synth, naming the config fields that fill it, when a function's environment (the transform's
 * unless `fill` says otherwise) would exceed Lambda's 4 KB limit; CloudFormation would otherwise fail
 * the deploy with a generic error.
 */
export function checkEnvironmentSize(
  environment: Record<string, string>,
  fill: EnvironmentFill = TRANSFORM_FILL,
): void {
  const bytes = Object.entries(environment).reduce(
    (sum, [k, v]) =>
      sum + Buffer.byteLength(k) + (Token.isUnresolved(v) ? TOKEN_ALLOWANCE_BYTES : Buffer.byteLength(v)),
    0,
  );
  if (bytes > LAMBDA_ENVIRONMENT_LIMIT_BYTES) {
    const settings = environment[fill.variable] ?? '';
    throw configError('Invalid loglake configuration', [
      {
        path: fill.path,
        message: `${fill.what} need ${Buffer.byteLength(settings)} bytes of Lambda environment, ${bytes} bytes in all, over Lambda's limit of ${LAMBDA_ENVIRONMENT_LIMIT_BYTES}; ${fill.shorten}`,
        received: `${bytes} bytes`,
      },
    ]);
  }
}

/**
 * Bytes counted for each value only known at deploy time (a name or ARN behind a token): generated
 * names are at most 64 characters (stack name, logical id and suffix, cut), their ARNs about 60 more.
 */
const BYTES_PER_DEPLOY_TIME_VALUE = 128;

/**
 * The size of a function's environment variables as deployed: names and literal parts as they are,
 * each value known only at deploy time as `perDeployTimeValue` bytes.
 */
export function deployedEnvironmentBytes(
  stack: Stack,
  variables: Record<string, unknown>,
  perDeployTimeValue = BYTES_PER_DEPLOY_TIME_VALUE,
): number {
  let bytes = 0;
  const count = (v: unknown): void => {
    if (typeof v === 'string') bytes += Buffer.byteLength(v);
    else if (Array.isArray(v)) v.forEach(count);
    else if (v !== null && typeof v === 'object') {
      const join = (v as Record<string, unknown>)['Fn::Join'];
      if (Array.isArray(join) && Array.isArray(join[1])) count(join[1]);
      else bytes += perDeployTimeValue;
    }
  };
  for (const [name, value] of Object.entries(variables)) {
    bytes += Buffer.byteLength(name);
    count(stack.resolve(value));
  }
  return bytes;
}
