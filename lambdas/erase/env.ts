/**
 * The erasure executor's environment, read and validated once per cold start. The only module of this
 * function that reads `process.env`.
 */
import { z } from 'zod';
import { parseEnvironment, requiredVariable } from '../../src/environment';
import { ERASE_ENV } from './constants';

export interface EraseEnv {
  readonly requestTable: string;
  readonly keyTable: string;
  readonly auditStream: string;
  readonly principal: string;
}

const envSchema = z
  .object({
    [ERASE_ENV.requestTable]: requiredVariable(),
    [ERASE_ENV.keyTable]: requiredVariable(),
    [ERASE_ENV.auditStream]: requiredVariable(),
    [ERASE_ENV.principal]: requiredVariable(),
  })
  .transform(
    (e): EraseEnv => ({
      requestTable: e[ERASE_ENV.requestTable],
      keyTable: e[ERASE_ENV.keyTable],
      auditStream: e[ERASE_ENV.auditStream],
      principal: e[ERASE_ENV.principal],
    }),
  );

/** Reads the environment. Throws `ConfigError` naming every missing or invalid variable (a deployment defect). */
export function readEnv(env: NodeJS.ProcessEnv = process.env): EraseEnv {
  return parseEnvironment(envSchema, env, 'Invalid erasure executor environment');
}
