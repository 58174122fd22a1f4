/**
 * The CDK side of the config model: reads the `loglake` context key (from `cdk.json` or `-c`) and
 * validates it with the shared schema in `src/config.ts`, so synth fails with a message naming the field.
 */
import type { Node } from 'constructs';
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
