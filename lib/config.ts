/**
 * The CDK side of the config model: reads the `loglake` context key (from `cdk.json` or `-c`) and
 * validates it with the shared schema in `src/config.ts`, so synth fails with a message naming the field.
 */
import type { Node } from 'constructs';
import { z } from 'zod';
import { type LogLakeConfig, resolveConfig } from '../src/config';
import { ConfigError } from '../src/errors';

export * from '../src/config';

/** Context key holding overrides, e.g. `{"context": {"loglake": {"categories": {"debug": {"expiryDays": 7}}}}}`. */
export const CONFIG_CONTEXT_KEY = 'loglake';

/**
 * Validated config from context. `-c loglake='{"…"}'` arrives as a string and is parsed as JSON.
 * @throws ConfigError naming every invalid field and the value received.
 */
export function configFromContext(node: Node): LogLakeConfig {
  let raw: unknown = node.tryGetContext(CONFIG_CONTEXT_KEY);
  if (typeof raw === 'string') {
    const text = raw;
    try {
      raw = JSON.parse(text);
    } catch (cause) {
      throw new ConfigError(
        `${CONFIG_CONTEXT_KEY}: not valid JSON (received ${text.slice(0, 80)})`,
        [{ path: CONFIG_CONTEXT_KEY, message: 'not valid JSON', received: text }],
        { cause },
      );
    }
  }
  return resolveConfig(raw ?? {}, CONFIG_CONTEXT_KEY);
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

const appContextSchema = z.strictObject({
  target: z.enum(DEPLOYMENT_TARGETS).default('aws'),
  stackName: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9-]{0,127}$/, 'a CloudFormation stack name: letters, digits, dashes')
    .default('LogLake'),
  account: z
    .string()
    .regex(/^\d{12}$/, 'a 12-digit AWS account id')
    .optional(),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region such as us-east-1')
    .optional(),
});
export type AppContext = z.infer<typeof appContextSchema>;

/**
 * The app's own settings from context: deployment target, stack name and an optional explicit
 * environment. Without `loglake:account`/`loglake:region` the stack is environment-agnostic, so
 * `cdk synth` needs no credentials and makes no lookups.
 * @throws ConfigError naming the context key and the value received.
 */
export function appContextFromNode(node: Node): AppContext {
  const raw = Object.fromEntries(
    Object.entries(APP_CONTEXT_KEYS).map(([field, key]) => [field, node.tryGetContext(key) ?? undefined]),
  );
  const result = appContextSchema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const field = String(issue.path[0]) as keyof typeof APP_CONTEXT_KEYS;
    return { path: APP_CONTEXT_KEYS[field] ?? field, message: issue.message, received: raw[field] };
  });
  throw new ConfigError(
    `Invalid app context:\n${problems.map((p) => `  - ${p.path}: ${p.message} (received ${JSON.stringify(p.received)})`).join('\n')}`,
    problems,
  );
}
