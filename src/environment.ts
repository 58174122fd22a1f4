/**
 * Reading a Lambda's environment with a zod schema, the one way both functions do it: every missing or
 * malformed variable is reported at once, naming the variable (and the field inside a JSON variable) and
 * the value received. Each function's `env.ts`, the only module of that function touching
 * `process.env`, hands its environment to {@link parseEnvironment} once at cold start.
 */
import { z } from 'zod';
import { configErrorFromZod } from './errors';

/**
 * The environment `env` parsed with `schema`.
 * @throws ConfigError titled `title`, one problem per variable or field at fault.
 */
export function parseEnvironment<T extends z.ZodType>(
  schema: T,
  env: Readonly<Record<string, string | undefined>>,
  title: string,
): z.output<T> {
  const result = schema.safeParse(env, { reportInput: true });
  if (result.success) return result.data;
  throw configErrorFromZod(title, result.error.issues, { input: env });
}

/** A required variable: present and not empty. */
export const requiredVariable = () => z.string({ error: 'is required' }).min(1, 'is required');

/** An optional variable: absent and empty both read as `undefined`. */
export const optionalVariable = () =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' ? undefined : v));

/**
 * A required variable holding JSON, validated with `schema`. A problem inside the value keeps its path
 * below the variable's name, e.g. `LOGLAKE_ALERT_TOPICS.critical`.
 */
export function jsonVariable<T extends z.ZodType>(schema: T) {
  return requiredVariable().transform((text, ctx): z.output<T> => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      ctx.addIssue({ code: 'custom', message: `not valid JSON: ${(cause as Error).message}`, input: text });
      return z.NEVER;
    }
    const parsed = schema.safeParse(value, { reportInput: true });
    if (parsed.success) return parsed.data;
    for (const issue of parsed.error.issues) {
      ctx.addIssue({
        code: 'custom',
        message:
          issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.join(', ')}` : issue.message,
        path: issue.path,
        input: issue.input,
      });
    }
    return z.NEVER;
  });
}
