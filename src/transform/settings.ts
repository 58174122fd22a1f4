/**
 * The transform's slice of the configuration, as passed to the Lambda in `LOGLAKE_TRANSFORM_SETTINGS`
 * and validated with the same zod schema as the whole config.
 */
import { z } from 'zod';
import { configSchema, type LogLakeConfig } from '../config';
import { configErrorFromZod, parseJsonOrThrow } from '../errors';
import type { Pseudonymizer } from '../redact/pseudonym';
import type { StreamName } from '../schema';
import type { TransformSettings } from './types';

const { categories, transform, redaction } = configSchema.shape;
const TITLE = 'Invalid transform settings';

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
  pseudonyms?: Pseudonymizer,
): TransformSettings {
  return {
    categories: config.categories,
    transform: config.transform,
    redaction: config.redaction,
    pseudonymKey,
    ...(pseudonyms === undefined ? {} : { pseudonyms }),
    stream,
  };
}

/**
 * Parses and validates the JSON text of the config slice. Throws a `ConfigError` naming every
 * field at fault and the value received.
 */
export function parseTransformConfig(json: string, source: string): TransformConfigSlice {
  const raw = parseJsonOrThrow(json, source, TITLE);
  const result = transformSettingsSchema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  throw configErrorFromZod(TITLE, result.error.issues, { source, input: raw });
}
