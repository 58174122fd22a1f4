/**
 * The CDK side of the config model: reads the `loglake` context key (from `cdk.json` or `-c`) and
 * validates it with the shared schema in `src/config.ts`, so synth fails with a message naming the field.
 */
import type { Node } from 'constructs';
import { type LogLakeConfig, resolveConfig } from '../src/config';
import { parseJsonOrThrow } from '../src/errors';

/** Context key holding overrides, e.g. `{"context": {"loglake": {"categories": {"debug": {"expiryDays": 7}}}}}`. */
export const CONFIG_CONTEXT_KEY = 'loglake';

/**
 * Validated config from context. `-c loglake='{"…"}'` arrives as a string and is parsed as JSON.
 * @throws ConfigError naming every invalid field and the value received.
 */
export function configFromContext(node: Node): LogLakeConfig {
  const raw: unknown = node.tryGetContext(CONFIG_CONTEXT_KEY);
  const value =
    typeof raw === 'string'
      ? parseJsonOrThrow(raw, CONFIG_CONTEXT_KEY, 'Invalid loglake configuration')
      : raw;
  return resolveConfig(value ?? {}, CONFIG_CONTEXT_KEY);
}

/** Where the stack is deployed: real AWS, or the MiniStack emulator (which lacks a few resource types). */
export const DEPLOYMENT_TARGETS = ['aws', 'emulator'] as const;
export type DeploymentTarget = (typeof DEPLOYMENT_TARGETS)[number];
