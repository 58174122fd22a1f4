/**
 * The erasure executor's environment, read and validated once per cold start. The only module of this
 * function that reads `process.env`.
 */
import { z } from 'zod';
import { jsonVariable, parseEnvironment, requiredVariable } from '../../src/environment';
import { CATEGORIES } from '../../src/schema';
import { ERASE_ENV } from './constants';

export interface EraseEnv {
  readonly requestTable: string;
  readonly keyTable: string;
  readonly auditStream: string;
  readonly principal: string;
  readonly purge: z.output<typeof purgeSchema>;
}

const purgeSchema = z
  .strictObject({
    bucket: z.string().min(1),
    workgroup: z.string().min(1),
    database: z.string().min(1),
    table: z.string().min(1),
    categories: z.array(z.enum(CATEGORIES)),
    locked: z.array(z.enum(CATEGORIES)),
    /** Days back the find query looks, per category of `categories`. */
    searchDays: z.partialRecord(z.enum(CATEGORIES), z.number().int().min(1)),
  })
  .superRefine((p, ctx) => {
    for (const c of p.categories) {
      if (p.searchDays[c] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['searchDays', c],
          message: `is required: category ${c} is purged`,
        });
      }
    }
  });

const envSchema = z
  .object({
    [ERASE_ENV.requestTable]: requiredVariable(),
    [ERASE_ENV.keyTable]: requiredVariable(),
    [ERASE_ENV.auditStream]: requiredVariable(),
    [ERASE_ENV.principal]: requiredVariable(),
    [ERASE_ENV.purge]: jsonVariable(purgeSchema),
  })
  .transform(
    (e): EraseEnv => ({
      requestTable: e[ERASE_ENV.requestTable],
      keyTable: e[ERASE_ENV.keyTable],
      auditStream: e[ERASE_ENV.auditStream],
      principal: e[ERASE_ENV.principal],
      purge: e[ERASE_ENV.purge],
    }),
  );

/** Reads the environment. Throws `ConfigError` naming every missing or invalid variable (a deployment defect). */
export function readEnv(env: NodeJS.ProcessEnv = process.env): EraseEnv {
  return parseEnvironment(envSchema, env, 'Invalid erasure executor environment');
}
