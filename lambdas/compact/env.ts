/**
 * The compaction Lambda's environment, read and validated once per cold start. The only module of this
 * function that reads `process.env`.
 */
import { z } from 'zod';
import { jsonVariable, parseEnvironment, requiredVariable } from '../../src/environment';
import { COMPACT_ENV } from './constants';

export interface CompactEnv {
  readonly bucket: string;
  readonly workgroup: string;
  readonly database: string;
  readonly table: string;
  readonly categories: readonly string[];
  readonly closedAfterMinutes: number;
  readonly lookbackHours: number;
  readonly targetFileMiB: number;
}

const settingsSchema = z.strictObject({
  categories: z.array(z.string().regex(/^[a-z][a-z0-9_]*$/)).min(1),
  closedAfterMinutes: z.number().int().min(0),
  lookbackHours: z.number().int().min(1),
  targetFileMiB: z.number().int().min(1),
});

const envSchema = z
  .object({
    [COMPACT_ENV.bucket]: requiredVariable(),
    [COMPACT_ENV.workgroup]: requiredVariable(),
    [COMPACT_ENV.database]: requiredVariable(),
    [COMPACT_ENV.table]: requiredVariable(),
    [COMPACT_ENV.settings]: jsonVariable(settingsSchema),
  })
  .transform(
    (e): CompactEnv => ({
      bucket: e[COMPACT_ENV.bucket],
      workgroup: e[COMPACT_ENV.workgroup],
      database: e[COMPACT_ENV.database],
      table: e[COMPACT_ENV.table],
      ...e[COMPACT_ENV.settings],
    }),
  );

/**
 * Reads the environment. Throws `ConfigError` naming every missing or invalid variable and the value
 * received (a deployment defect: the function cannot run safely without them).
 */
export function readEnv(env: NodeJS.ProcessEnv = process.env): CompactEnv {
  return parseEnvironment(envSchema, env, 'Invalid compaction environment');
}
