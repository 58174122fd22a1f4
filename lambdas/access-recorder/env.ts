/**
 * The access recorder's environment, read and validated once per cold start. The only module of this
 * function that reads `process.env`.
 */
import { z } from 'zod';
import { parseEnvironment, requiredVariable } from '../../src/environment';
import { ACCESS_RECORDER_ENV } from './constants';

export interface AccessRecorderEnv {
  readonly auditStream: string;
}

const envSchema = z
  .object({ [ACCESS_RECORDER_ENV.auditStream]: requiredVariable() })
  .transform((e): AccessRecorderEnv => ({ auditStream: e[ACCESS_RECORDER_ENV.auditStream] }));

/** Reads the environment. Throws `ConfigError` naming every missing or invalid variable (a deployment defect). */
export function readEnv(env: NodeJS.ProcessEnv = process.env): AccessRecorderEnv {
  return parseEnvironment(envSchema, env, 'Invalid access recorder environment');
}
