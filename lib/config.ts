/**
 * The CDK side of the config model: reads the `loglake` context key (from `cdk.json` or `-c`) and
 * validates it with the shared schema in `src/config.ts`, so synth fails with a message naming the field.
 */
import type { Node } from 'constructs';
import { CONFIG_CONTEXT_KEY, configFromContextValue, type LogLakeConfig } from '../src/config';

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
