/**
 * Synthesis helpers for infrastructure tests: the app exactly as `bin/app.ts` builds it (same context
 * from cdk.json, same nag plugins), with Lambda bundling skipped so a test synthesizes in well under a
 * second. `test/infra/synth.test.ts` runs the real `cdk synth` with bundling.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { expect } from 'vitest';
import type { DeploymentTarget } from '../../lib/config';
import { LogLakeStack } from '../../lib/stack';
import type { LogLakeConfigOverride } from '../../src/config';
import { resolveConfig } from '../../src/config';

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

/** An app with bundling skipped and one empty stack with a fixed environment, for a construct alone. */
export function bareStack(): { app: App; stack: Stack } {
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Bare', { env: { account: '123456789012', region: 'eu-west-1' } });
  return { app, stack };
}

/** How {@link flat} renders a reference to `logicalId`: `<LogicalId>` without the CDK's hash suffix. */
export function refTo(logicalId: string): string {
  return `<${logicalId.replace(/[0-9A-F]{8}$/, '')}>`;
}

/**
 * A CloudFormation value as text: Fn::Join parts concatenated, refs and attributes as `<LogicalId>` with
 * the CDK's 8-character hash suffix removed, objects as their values.
 */
export function flat(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.map(flat).join(' ');
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if ('Fn::Join' in o) return ((o['Fn::Join'] as [string, unknown[]])[1] ?? []).map(flat).join('');
    if ('Ref' in o) return refTo(String(o.Ref));
    if ('Fn::GetAtt' in o) return refTo(String((o['Fn::GetAtt'] as string[])[0]));
    return Object.values(o).map(flat).join(' ');
  }
  return String(v);
}

/** One IAM statement with its actions and resources sorted and flattened, for exact comparisons. */
export interface FlatStatement {
  readonly effect: string;
  readonly actions: string[];
  readonly resources: string[];
  /** The condition as `<operator> <key>=<values>` lines, or '' without one. */
  readonly condition: string;
}

/** Statements of the one policy (`AWS::IAM::Policy` or `AWS::IAM::ManagedPolicy`) whose id starts with `prefix`. */
export function policyStatementsOf(t: Template, prefix: string): FlatStatement[] {
  const policies = {
    ...resourcesOf(t, 'AWS::IAM::Policy'),
    ...resourcesOf(t, 'AWS::IAM::ManagedPolicy'),
  };
  const found = Object.entries(policies).filter(([id]) => id.startsWith(prefix));
  if (found.length !== 1) throw new Error(`expected one policy ${prefix}*, found ${found.map(([id]) => id)}`);
  const doc = found[0]?.[1].Properties.PolicyDocument as { Statement: Record<string, unknown>[] };
  return doc.Statement.map((s) => ({
    effect: String(s.Effect),
    actions: [s.Action].flat().map(String).sort(),
    resources: [s.Resource].flat().map(flat).sort(),
    condition: Object.entries((s.Condition ?? {}) as Record<string, Record<string, unknown>>)
      .flatMap(([op, kv]) =>
        Object.entries(kv).map(([k, v]) => `${op} ${k}=${[v].flat().map(flat).join(',')}`),
      )
      .join('\n'),
  }));
}

/**
 * Checks that the table whose logical id starts with `prefix` is a privacy table as `lib/private/privacy-table.ts`
 * builds it (on demand, keyed by `partitionKey`, encrypted with the key `keyPrefix`, deletion protection,
 * retained, no point-in-time recovery) and returns its logical id.
 */
export function expectPrivacyTable(
  t: Template,
  prefix: string,
  partitionKey: string,
  keyPrefix = 'LogLakeKey',
): string {
  const [id, table] = resourceNamed(t, 'AWS::DynamoDB::Table', prefix);
  const [keyLogicalId] = resourceNamed(t, 'AWS::KMS::Key', keyPrefix);
  expect(table.Properties).toMatchObject({
    KeySchema: [{ AttributeName: partitionKey, KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
    DeletionProtectionEnabled: true,
    SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
    PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
  });
  expect(flat(table.Properties.SSESpecification)).toContain(refTo(keyLogicalId));
  expect((table as unknown as { DeletionPolicy: string }).DeletionPolicy).toBe('Retain');
  return id;
}
