/**
 * The subscriber function's environment, read and validated once per cold start. The only module of
 * this function that reads `process.env`.
 */

import { z } from 'zod';
import { jsonVariable, parseEnvironment } from '../../src/environment';
import { type SubscriberSettings, subscriberSettingsSchema } from '../../src/sources/subscriber';
import { SUBSCRIBER_ENV } from './constants';

const envSchema = z
  .object({ [SUBSCRIBER_ENV.settings]: jsonVariable(subscriberSettingsSchema) })
  .transform((e): SubscriberSettings => e[SUBSCRIBER_ENV.settings]);

/** Throws `ConfigError` naming the variable (or the field inside it) and the value received. */
export function readEnv(env: NodeJS.ProcessEnv = process.env): SubscriberSettings {
  return parseEnvironment(envSchema, env, 'Invalid subscriber function environment');
}
