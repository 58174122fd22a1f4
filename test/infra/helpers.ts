/**
 * Synthesis helpers for infrastructure tests: the app exactly as `bin/app.ts` builds it (same context
 * from cdk.json, same nag plugins), with Lambda bundling skipped so a test synthesizes in well under a
 * second. `test/infra/synth.test.ts` runs the real `cdk synth` with bundling.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type DeploymentTarget, resolveConfig } from '../../lib/config';
import { LogLakeStack } from '../../lib/stack';
import type { LogLakeConfigOverride } from '../../src/config';

export const ROOT = path.resolve(__dirname, '../..');

/** The `context` block of cdk.json: feature flags and the `loglake` defaults. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return cdkJson.context;
}

export interface SynthOptions {
  readonly override?: LogLakeConfigOverride;
  readonly target?: DeploymentTarget;
}

export function synthStack(options: SynthOptions = {}): { app: App; stack: LogLakeStack } {
  const app = new App({
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] },
  });
  const stack = new LogLakeStack(app, 'LogLake', {
    config: resolveConfig(options.override ?? {}),
    target: options.target,
  });
  return { app, stack };
}

const cache = new Map<string, Template>();

/** Template of the stack for a config override; cached per override (templates are immutable). */
export function template(options: SynthOptions = {}): Template {
  const key = JSON.stringify(options);
  let t = cache.get(key);
  if (!t) {
    t = Template.fromStack(synthStack(options).stack);
    cache.set(key, t);
  }
  return t;
}

type Resource = { Type: string; Properties: Record<string, unknown> };

/** Resources of one type keyed by logical id. */
export function resourcesOf(t: Template, type: string): Record<string, Resource> {
  return t.findResources(type) as Record<string, Resource>;
}

/** The one resource of `type` whose logical id starts with `prefix` (CDK appends a hash). */
export function resourceNamed(t: Template, type: string, prefix: string): [string, Resource] {
  const found = Object.entries(resourcesOf(t, type)).filter(([id]) => id.startsWith(prefix));
  if (found.length !== 1) {
    throw new Error(
      `expected one ${type} starting with ${prefix}, found ${found.map(([id]) => id).join(', ')}`,
    );
  }
  return found[0] as [string, Resource];
}
