/**
 * The CDK side of the config model: reads the `loglake` context key (from `cdk.json` or `-c`) and
 * validates it with the shared schema in `src/config.ts`, so synth fails with a message naming the field.
 */
import type { Node } from 'constructs';
import { z } from 'zod';
import { CONFIG_CONTEXT_KEY, configFromContextValue, type LogLakeConfig } from '../src/config';
import { configErrorFromZod } from '../src/errors';

export { CONFIG_CONTEXT_KEY };

/**
 * Validated config from context. `-c loglake='{"…"}'` arrives as a string and is parsed as JSON.
 * @throws ConfigError naming every invalid field and the value received.
 */
export function configFromContext(node: Node): LogLakeConfig {
  return configFromContextValue(node.tryGetContext(CONFIG_CONTEXT_KEY), CONFIG_CONTEXT_KEY);
}

/** Where the stack is deployed: real AWS, or the MiniStack emulator (which lacks a few resource types). */
export const DEPLOYMENT_TARGETS = ['aws', 'emulator'] as const;
export type DeploymentTarget = (typeof DEPLOYMENT_TARGETS)[number];

/** Context keys of the app itself (not the lake config): `-c loglake:target=emulator`. */
export const APP_CONTEXT_KEYS = {
  target: 'loglake:target',
  stackName: 'loglake:stackName',
  account: 'loglake:account',
  region: 'loglake:region',
} as const;

/** Keyed by the context keys themselves, so every problem names the `-c` key to fix. */
const appContextSchema = z
  .strictObject({
    [APP_CONTEXT_KEYS.target]: z.enum(DEPLOYMENT_TARGETS).default('aws'),
    [APP_CONTEXT_KEYS.stackName]: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'a CloudFormation stack name: letters, digits, dashes')
      .default('LogLake'),
    [APP_CONTEXT_KEYS.account]: z
      .string()
      .regex(/^\d{12}$/, 'a 12-digit AWS account id')
      .optional(),
    [APP_CONTEXT_KEYS.region]: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as us-east-1')
      .optional(),
  })
  .transform((c) => ({
    target: c[APP_CONTEXT_KEYS.target],
    stackName: c[APP_CONTEXT_KEYS.stackName],
    account: c[APP_CONTEXT_KEYS.account],
    region: c[APP_CONTEXT_KEYS.region],
  }));
export type AppContext = z.infer<typeof appContextSchema>;

/**
 * The app's own settings from context: deployment target, stack name and an optional explicit
 * environment. Without `loglake:account`/`loglake:region` the stack is environment-agnostic, so
 * `cdk synth` needs no credentials and makes no lookups.
 * @throws ConfigError naming the context key and the value received.
 */
export function appContextFromNode(node: Node): AppContext {
  const raw = Object.fromEntries(
    Object.values(APP_CONTEXT_KEYS).map((key) => [key, node.tryGetContext(key) ?? undefined]),
  );
  const result = appContextSchema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  throw configErrorFromZod('Invalid app context', result.error.issues, { input: raw });
}
