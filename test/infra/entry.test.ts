/**
 * The construct library's entry point (`loglake/constructs` → lib/index.ts): it imports, it exports what
 * users compose with, and nothing from lib/private.
 */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers';

describe('lib/index.ts', () => {
  it('exports exactly the public runtime members', async () => {
    const entry = await import('../../lib/index');

    expect(Object.keys(entry).sort()).toEqual(
      [
        // constructs
        'Alerting',
        'LogLake',
        'LogLakeAccess',
        'LogLakeAccessLogs',
        'LogLakeAccessRecorder',
        'LogLakeCatalog',
        'LogLakeCompaction',
        'LogLakeFunction',
        'LogLakeIngest',
        'LogLakePrefixSubscriptions',
        'LogLakeQuery',
        'LogLakeStack',
        'LogLakeStorage',
        'LogLakeSubscriptions',
        // configuration
        'CONFIG_CONTEXT_KEY',
        'ConfigError',
        'DEFAULT_CONFIG',
        'DEPLOYMENT_TARGETS',
        'configFromContext',
        'resolveConfig',
        // the record contract and the names shared with the deployed pipeline
        'CATEGORIES',
        'NAMED_QUERIES',
        'PERSONAS',
        'PROCESSING_FAILED',
        'STACK_OUTPUTS',
        'STREAMS',
        'TRANSFORM_METRICS',
        'alertTopicOutput',
        'bucketOutput',
        'personaRoleOutput',
        'personaWorkGroupOutput',
        'streamOutput',
        'tableOutput',
      ].sort(),
    );
  });

  it('exports working constructs and config functions', async () => {
    const { LogLake, resolveConfig, STACK_OUTPUTS } = await import('../../lib/index');

    expect(typeof LogLake.prototype.grantQuery).toBe('function');
    expect(resolveConfig({ name: 'mine' }).name).toBe('mine');
    expect(STACK_OUTPUTS.logsStream).toBe('LogsStreamName');
  });

  it('re-exports nothing from lib/private', async () => {
    const entry = (await import('../../lib/index')) as Record<string, unknown>;
    const privateModules = readdirSync(path.join(ROOT, 'lib/private')).filter((f) => f.endsWith('.ts'));

    for (const file of privateModules) {
      const helpers = (await import(path.join(ROOT, 'lib/private', file))) as Record<string, unknown>;
      const leaked = Object.entries(helpers).filter(([name, value]) => entry[name] === value);
      expect(leaked.map(([name]) => `${file}: ${name}`)).toEqual([]);
    }
  });
});

describe('the CDK peers check (lib/private/peers.ts)', () => {
  it('finds every peer in this checkout, so importing the entry point does not throw', async () => {
    const { missingPeers } = await import('../../lib/private/peers');
    expect(missingPeers()).toEqual([]);
  });

  it('names each peer a project lacks, and the command that installs them', async () => {
    // Arrange: a resolver that finds only `constructs`.
    const { missingPeers, missingPeersMessage } = await import('../../lib/private/peers');
    const resolve = (name: string) => {
      if (name === 'constructs') return '/project/node_modules/constructs/lib/index.js';
      throw Object.assign(new Error(`Cannot find module '${name}'`), { code: 'MODULE_NOT_FOUND' });
    };

    // Act
    const missing = missingPeers(resolve);

    // Assert
    expect(missing).toEqual(['aws-cdk-lib', 'cdk-nag']);
    expect(missingPeersMessage(missing)).toBe(
      'loglake/constructs needs aws-cdk-lib, cdk-nag in your project: they are optional peer dependencies of loglake (its CLI and producers do without them). Install them with: npm install aws-cdk-lib cdk-nag',
    );
  });
});
