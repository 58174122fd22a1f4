/** The compaction Lambda's environment, read and validated once per cold start. */
import { z } from 'zod';
import { ConfigError } from '../../src/errors';
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

const envSchema = z.object({
  [COMPACT_ENV.bucket]: z.string().min(3),
  [COMPACT_ENV.workgroup]: z.string().min(1),
  [COMPACT_ENV.database]: z.string().min(1),
  [COMPACT_ENV.table]: z.string().min(1),
  [COMPACT_ENV.settings]: z.string().transform((s, ctx): z.infer<typeof settingsSchema> => {
    try {
      const parsed = settingsSchema.safeParse(JSON.parse(s));
      if (parsed.success) return parsed.data;
      ctx.addIssue({
        code: 'custom',
        message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      });
    } catch {
      ctx.addIssue({ code: 'custom', message: 'not JSON' });
    }
    return z.NEVER;
  }),
});

/** @throws ConfigError naming each missing or malformed variable and the value received. */
export function readEnv(env: NodeJS.ProcessEnv = process.env): CompactEnv {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => ({
      path: i.path.map(String).join('.'),
      message: i.message,
      received: env[String(i.path[0])],
    }));
    throw new ConfigError(
      `compaction Lambda environment: ${problems.map((p) => `${p.path}: ${p.message} (received ${JSON.stringify(p.received)})`).join('; ')}`,
      problems,
    );
  }
  const e = parsed.data;
  return {
    bucket: e[COMPACT_ENV.bucket],
    workgroup: e[COMPACT_ENV.workgroup],
    database: e[COMPACT_ENV.database],
    table: e[COMPACT_ENV.table],
    ...e[COMPACT_ENV.settings],
  };
}
