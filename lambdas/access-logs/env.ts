/**
 * The access-log function's environment, read and validated once per cold start. The only module of
 * this function that reads `process.env`.
 */
import { z } from 'zod';
import { categoryRuleSchema } from '../../src/config';
import { jsonVariable, parseEnvironment, requiredVariable } from '../../src/environment';
import { CATEGORIES } from '../../src/schema';
import type { AccessLogRules, AccessLogSource } from '../../src/sources/access-logs';
import { ACCESS_LOG_FORMATS } from '../../src/transform/sources/access-logs';
import { ACCESS_LOGS_ENV } from './constants';

export interface AccessLogsEnv {
  readonly stream: string;
  readonly source: AccessLogSource;
  readonly rules: AccessLogRules;
  /** The ledger table's name. */
  readonly ledger: string;
}

const envSchema = z
  .object({
    [ACCESS_LOGS_ENV.stream]: requiredVariable(),
    [ACCESS_LOGS_ENV.ledger]: requiredVariable(),
    [ACCESS_LOGS_ENV.source]: jsonVariable(
      z.strictObject({ format: z.enum(ACCESS_LOG_FORMATS), category: z.enum(CATEGORIES).optional() }),
    ),
    [ACCESS_LOGS_ENV.rules]: jsonVariable(
      z.strictObject({ rules: z.array(categoryRuleSchema), defaultCategory: z.enum(CATEGORIES) }),
    ),
  })
  .transform(
    (e): AccessLogsEnv => ({
      stream: e[ACCESS_LOGS_ENV.stream],
      source: e[ACCESS_LOGS_ENV.source],
      rules: e[ACCESS_LOGS_ENV.rules],
      ledger: e[ACCESS_LOGS_ENV.ledger],
    }),
  );

/**
 * Reads the environment. Throws `ConfigError` naming every missing or invalid variable and the value
 * received (a deployment defect: the function cannot run safely without them).
 */
export function readEnv(env: NodeJS.ProcessEnv = process.env): AccessLogsEnv {
  return parseEnvironment(envSchema, env, 'Invalid access-log function environment');
}
