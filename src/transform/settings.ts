/**
 * The transform's slice of the configuration, as passed to the Lambda in `LOGLAKE_TRANSFORM_SETTINGS`
 * and validated with the same zod schema as the whole config.
 */
import { z } from 'zod';
import { configSchema, type LogLakeConfig } from '../config';
import { ConfigError } from '../errors';
import type { StreamName } from '../schema';
import type { TransformSettings } from './types';

const { categories, transform, redaction } = configSchema.shape;

/**
 * `{ categories, transform, redaction }` of the config schema (zod cannot `.pick` a refined object, so
 * the slice is rebuilt from the same field schemas, with the one cross-field rule that concerns it).
 */
export const transformSettingsSchema = z
  .strictObject({ categories, transform, redaction })
  .superRefine((c, ctx) => {
    if (c.categories[c.transform.defaultCategory].locked) {
      ctx.addIssue({
        code: 'custom',
        path: ['transform', 'defaultCategory'],
        input: c.transform.defaultCategory,
        message: 'the default category must not be a locked category',
      });
    }
  });
export type TransformConfigSlice = z.infer<typeof transformSettingsSchema>;

/** The slice of a validated config that the transform Lambda receives (serialize with `JSON.stringify`). */
export function transformConfigSlice(config: LogLakeConfig): TransformConfigSlice {
  return { categories: config.categories, transform: config.transform, redaction: config.redaction };
}

/** Settings for {@link transformRecords} from a validated config. */
export function settingsFromConfig(
  config: Pick<LogLakeConfig, 'categories' | 'transform' | 'redaction'>,
  pseudonymKey: string | Uint8Array,
  stream: StreamName,
): TransformSettings {
  return {
    categories: config.categories,
    transform: config.transform,
    redaction: config.redaction,
    pseudonymKey,
    stream,
  };
}

/**
 * Parses and validates the JSON text of the config slice. Throws {@link ConfigError} naming every
 * field at fault and the value received.
 */
export function parseTransformConfig(json: string, source: string): TransformConfigSlice {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (cause) {
    throw new ConfigError(
      `${source}: not valid JSON (received ${json.slice(0, 80)})`,
      [{ path: source, message: 'not valid JSON', received: json }],
      { cause },
    );
  }
  const result = transformSettingsSchema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => ({
    path: [source, ...issue.path.map(String)].join('.'),
    message: issue.message,
    received: 'input' in issue ? issue.input : undefined,
  }));
  throw new ConfigError(
    `Invalid ${source}:\n${problems.map((p) => `  - ${p.path}: ${p.message} (received ${JSON.stringify(p.received) ?? 'nothing'})`).join('\n')}`,
    problems,
  );
}
