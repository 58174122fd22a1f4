import { App } from 'aws-cdk-lib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { configFromContext } from '../lib/config';
import { appContextFromNode } from '../lib/private/app-context';
import { DEFAULT_CONFIG, objectLockRetentionDays, resolveConfig } from '../src/config';
import { ConfigError } from '../src/errors';

function problemsOf(fn: () => unknown): ConfigError['problems'] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

/**
 * One failing input per validation in src/config.ts: the override, the field path the error must
 * name, and the value it must report as received.
 */
const INVALID: ReadonlyArray<{ what: string; override: unknown; path: string; received: unknown }> = [
  { what: 'name with uppercase', override: { name: 'LogLake' }, path: 'loglake.name', received: 'LogLake' },
  { what: 'name too short', override: { name: 'l' }, path: 'loglake.name', received: 'l' },
  {
    what: 'unknown category',
    override: { categories: { verbose: { expiryDays: 1 } } },
    path: 'loglake.categories.verbose',
    received: { expiryDays: 1 },
  },
  {
    what: 'unknown field in a category',
    override: { categories: { debug: { ttl: 3 } } },
    path: 'loglake.categories.debug.ttl',
    received: 3,
  },
  {
    what: 'expiry of zero days',
    override: { categories: { debug: { expiryDays: 0 } } },
    path: 'loglake.categories.debug.expiryDays',
    received: 0,
  },
  {
    what: 'fractional expiry',
    override: { categories: { debug: { expiryDays: 1.5 } } },
    path: 'loglake.categories.debug.expiryDays',
    received: 1.5,
  },
  {
    what: 'expiry beyond 100 years',
    override: { categories: { audit: { expiryDays: 40_000 } } },
    path: 'loglake.categories.audit.expiryDays',
    received: 40_000,
  },
  {
    what: 'expiry as a string',
    override: { categories: { debug: { expiryDays: '14' } } },
    path: 'loglake.categories.debug.expiryDays',
    received: '14',
  },
  {
    what: 'unknown storage class',
    override: { categories: { errors: { transitions: [{ storageClass: 'COLD', afterDays: 40 }] } } },
    path: 'loglake.categories.errors.transitions.0.storageClass',
    received: 'COLD',
  },
  {
    what: 'more than five transitions',
    override: {
      categories: {
        audit: {
          transitions: [31, 60, 90, 120, 150, 180].map((d) => ({ storageClass: 'GLACIER', afterDays: d })),
        },
      },
    },
    path: 'loglake.categories.audit.transitions',
    received: undefined,
  },
  {
    what: 'transitions out of order',
    override: {
      categories: {
        api_access: {
          transitions: [
            { storageClass: 'GLACIER_IR', afterDays: 90 },
            { storageClass: 'GLACIER', afterDays: 60 },
          ],
        },
      },
    },
    path: 'loglake.categories.api_access.transitions.1.afterDays',
    received: 60,
  },
  {
    what: 'STANDARD_IA before 30 days',
    override: { categories: { errors: { transitions: [{ storageClass: 'STANDARD_IA', afterDays: 10 }] } } },
    path: 'loglake.categories.errors.transitions.0.afterDays',
    received: 10,
  },
  {
    what: 'transition at or after expiry',
    override: { categories: { errors: { transitions: [{ storageClass: 'STANDARD_IA', afterDays: 90 }] } } },
    path: 'loglake.categories.errors.transitions.0.afterDays',
    received: 90,
  },
  {
    what: 'locked not a boolean',
    override: { categories: { security: { locked: 'yes' } } },
    path: 'loglake.categories.security.locked',
    received: 'yes',
  },
  {
    what: 'sample rate above 1',
    override: { categories: { debug: { sampleRate: 1.5 } } },
    path: 'loglake.categories.debug.sampleRate',
    received: 1.5,
  },
  {
    what: 'negative sample rate',
    override: { categories: { debug: { sampleRate: -0.1 } } },
    path: 'loglake.categories.debug.sampleRate',
    received: -0.1,
  },
  {
    what: 'persona reading an unknown category',
    override: { personas: { developer: { read: ['debug', 'secrets'] } } },
    path: 'loglake.personas.developer.read.1',
    received: 'secrets',
  },
  {
    what: 'unknown persona',
    override: { personas: { intern: { read: [], write: [] } } },
    path: 'loglake.personas.intern',
    received: { read: [], write: [] },
  },
  {
    what: 'persona writing a locked category',
    override: { personas: { ops: { write: ['runtime', 'audit'] } } },
    path: 'loglake.personas.ops.write.1',
    received: 'audit',
  },
  {
    what: 'unknown Object Lock mode',
    override: { objectLock: { mode: 'STRICT' } },
    path: 'loglake.objectLock.mode',
    received: 'STRICT',
  },
  {
    what: 'lock retention longer than the shortest locked expiry',
    override: { objectLock: { retentionDays: 400 } },
    path: 'loglake.objectLock.retentionDays',
    received: 400,
  },
  {
    what: 'lock retention of zero days',
    override: { objectLock: { retentionDays: 0 } },
    path: 'loglake.objectLock.retentionDays',
    received: 0,
  },
  {
    what: 'buffer interval below 60 s',
    override: { firehose: { bufferIntervalSeconds: 30 } },
    path: 'loglake.firehose.bufferIntervalSeconds',
    received: 30,
  },
  {
    what: 'buffer interval above 900 s',
    override: { firehose: { bufferIntervalSeconds: 901 } },
    path: 'loglake.firehose.bufferIntervalSeconds',
    received: 901,
  },
  {
    what: 'buffer size below the Parquet minimum',
    override: { firehose: { bufferSizeMiB: 5 } },
    path: 'loglake.firehose.bufferSizeMiB',
    received: 5,
  },
  {
    what: 'buffer size above 128 MiB',
    override: { firehose: { bufferSizeMiB: 256 } },
    path: 'loglake.firehose.bufferSizeMiB',
    received: 256,
  },
  {
    what: 'processor buffer above 3 MB',
    override: { firehose: { processorBufferSizeMiB: 4 } },
    path: 'loglake.firehose.processorBufferSizeMiB',
    received: 4,
  },
  {
    what: 'processor buffer below 0.2 MB',
    override: { firehose: { processorBufferSizeMiB: 0.1 } },
    path: 'loglake.firehose.processorBufferSizeMiB',
    received: 0.1,
  },
  {
    what: 'processor interval above 900 s',
    override: { firehose: { processorBufferIntervalSeconds: 1000 } },
    path: 'loglake.firehose.processorBufferIntervalSeconds',
    received: 1000,
  },
  {
    what: 'output format ORC',
    override: { output: { format: 'orc' } },
    path: 'loglake.output.format',
    received: 'orc',
  },
  {
    what: 'unknown compression',
    override: { output: { compression: 'ZSTD' } },
    path: 'loglake.output.compression',
    received: 'ZSTD',
  },
  {
    what: 'error output expiry of zero days',
    override: { errorOutput: { expiryDays: 0 } },
    path: 'loglake.errorOutput.expiryDays',
    received: 0,
  },
  {
    what: 'scan cutoff below the Athena minimum',
    override: { athena: { bytesScannedCutoffPerQuery: 1024 } },
    path: 'loglake.athena.bytesScannedCutoffPerQuery',
    received: 1024,
  },
  {
    what: 'results expiry of zero days',
    override: { athena: { resultsExpiryDays: 0 } },
    path: 'loglake.athena.resultsExpiryDays',
    received: 0,
  },
  {
    what: 'log retention CloudWatch does not offer',
    override: { lambdaLogRetentionDays: 10 },
    path: 'loglake.lambdaLogRetentionDays',
    received: 10,
  },
  {
    what: 'IPv4 prefix above 32',
    override: { redaction: { ipv4PrefixLength: 33 } },
    path: 'loglake.redaction.ipv4PrefixLength',
    received: 33,
  },
  {
    what: 'IPv6 prefix above 128',
    override: { redaction: { ipv6PrefixLength: 129 } },
    path: 'loglake.redaction.ipv6PrefixLength',
    received: 129,
  },
  {
    what: 'empty extra sensitive key',
    override: { redaction: { extraSensitiveKeys: [''] } },
    path: 'loglake.redaction.extraSensitiveKeys.0',
    received: '',
  },
  {
    what: 'max past hours of zero',
    override: { transform: { maxPastHours: 0 } },
    path: 'loglake.transform.maxPastHours',
    received: 0,
  },
  {
    what: 'negative max future minutes',
    override: { transform: { maxFutureMinutes: -1 } },
    path: 'loglake.transform.maxFutureMinutes',
    received: -1,
  },
  {
    what: 'rule with an unknown category',
    override: { transform: { rules: [{ category: 'misc', levels: ['INFO'] }] } },
    path: 'loglake.transform.rules.0.category',
    received: 'misc',
  },
  {
    what: 'rule with an unknown level',
    override: { transform: { rules: [{ category: 'debug', levels: ['TRACE'] }] } },
    path: 'loglake.transform.rules.0.levels.0',
    received: 'TRACE',
  },
  {
    what: 'rule with an empty logger prefix',
    override: { transform: { rules: [{ category: 'framework', loggerPrefixes: [''] }] } },
    path: 'loglake.transform.rules.0.loggerPrefixes.0',
    received: '',
  },
  {
    what: 'rule with an empty service prefix',
    override: { transform: { rules: [{ category: 'framework', servicePrefixes: [''] }] } },
    path: 'loglake.transform.rules.0.servicePrefixes.0',
    received: '',
  },
  {
    what: 'rule with an empty marker',
    override: { transform: { rules: [{ category: 'audit', markers: [''] }] } },
    path: 'loglake.transform.rules.0.markers.0',
    received: '',
  },
  {
    what: 'rule with a non-boolean http flag',
    override: { transform: { rules: [{ category: 'api_access', http: 'yes' }] } },
    path: 'loglake.transform.rules.0.http',
    received: 'yes',
  },
  {
    what: 'rule with an unknown condition',
    override: { transform: { rules: [{ category: 'debug', regex: '.*' }] } },
    path: 'loglake.transform.rules.0.regex',
    received: '.*',
  },
  {
    what: 'unknown default category',
    override: { transform: { defaultCategory: 'misc' } },
    path: 'loglake.transform.defaultCategory',
    received: 'misc',
  },
  {
    what: 'locked default category',
    override: { transform: { defaultCategory: 'audit' } },
    path: 'loglake.transform.defaultCategory',
    received: 'audit',
  },
  {
    what: 'unknown top-level field',
    override: { region: 'us-east-1' },
    path: 'loglake.region',
    received: 'us-east-1',
  },
];

describe('resolveConfig', () => {
  it('returns the DESIGN defaults when nothing is overridden', () => {
    expect(resolveConfig({})).toEqual(DEFAULT_CONFIG);
    expect(resolveConfig(undefined)).toEqual(DEFAULT_CONFIG);
  });

  it('merges objects key by key and replaces arrays', () => {
    const config = resolveConfig({
      categories: { debug: { expiryDays: 7 } },
      personas: { developer: { read: ['debug'] } },
    });

    expect(config.categories.debug).toEqual({ ...DEFAULT_CONFIG.categories.debug, expiryDays: 7 });
    expect(config.categories.runtime).toEqual(DEFAULT_CONFIG.categories.runtime);
    expect(config.personas.developer).toEqual({ read: ['debug'], write: [] });
  });

  for (const c of INVALID) {
    it(`rejects ${c.what}, naming ${c.path} and the value received`, () => {
      const problems = problemsOf(() => resolveConfig(c.override));

      const problem = problems.find((p) => p.path === c.path);
      expect(problem, JSON.stringify(problems)).toBeDefined();
      if (c.received !== undefined) expect(problem?.received).toEqual(c.received);
    });
  }

  it('puts the field and the value in the error message', () => {
    expect(() => resolveConfig({ firehose: { bufferSizeMiB: 512 } })).toThrow(
      /loglake\.firehose\.bufferSizeMiB: .*\(received 512\)/,
    );
  });

  it('reports every problem at once', () => {
    const problems = problemsOf(() =>
      resolveConfig({ name: 'X', firehose: { bufferSizeMiB: 1 }, output: { compression: 'ZSTD' } }),
    );

    expect(problems.map((p) => p.path).sort()).toEqual(
      ['loglake.firehose.bufferSizeMiB', 'loglake.name', 'loglake.output.compression'].sort(),
    );
  });

  it('rejects an override that is not an object', () => {
    expect(problemsOf(() => resolveConfig(['debug']))).toEqual([
      { path: 'loglake', message: 'expected an object', received: ['debug'] },
    ]);
  });

  // security tiers to Glacier IR at day 90, so its expiry must stay above 90 for the override to be valid.
  it('never accepts a retention longer than the shortest locked expiry (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3000 }),
        fc.integer({ min: 91, max: 3000 }),
        (retention, expiry) => {
          const override = {
            objectLock: { retentionDays: retention },
            categories: { security: { expiryDays: expiry } },
          };
          let ok = true;
          try {
            resolveConfig(override);
          } catch (e) {
            if (!(e instanceof ConfigError)) throw e;
            ok = false;
          }
          expect(ok).toBe(retention <= Math.min(expiry, DEFAULT_CONFIG.categories.audit.expiryDays));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('objectLockRetentionDays', () => {
  it('defaults to the shortest locked category’s expiry', () => {
    expect(objectLockRetentionDays(DEFAULT_CONFIG)).toBe(365);
    expect(objectLockRetentionDays(resolveConfig({ categories: { security: { expiryDays: 100 } } }))).toBe(
      100,
    );
  });

  it('uses the configured retention when given', () => {
    expect(objectLockRetentionDays(resolveConfig({ objectLock: { retentionDays: 30 } }))).toBe(30);
  });
});

describe('configFromContext', () => {
  it('reads the loglake context key as an object', () => {
    const app = new App({ context: { loglake: { categories: { debug: { expiryDays: 3 } } } } });

    expect(configFromContext(app.node).categories.debug.expiryDays).toBe(3);
  });

  it('reads the loglake context key given as JSON text on the command line', () => {
    const app = new App({ context: { loglake: '{"athena":{"resultsExpiryDays":2}}' } });

    expect(configFromContext(app.node).athena.resultsExpiryDays).toBe(2);
  });

  it('rejects context text that is not JSON, naming the key', () => {
    const app = new App({ context: { loglake: '{categories:' } });

    expect(problemsOf(() => configFromContext(app.node))).toEqual([
      { path: 'loglake', message: expect.stringMatching(/^not valid JSON: /), received: '{categories:' },
    ]);
  });

  it('rejects an invalid value, naming the field and the value', () => {
    const app = new App({ context: { loglake: { objectLock: { mode: 'LEGAL' } } } });

    expect(() => configFromContext(app.node)).toThrow(/loglake\.objectLock\.mode: .*\(received "LEGAL"\)/);
  });
});

describe('appContextFromNode', () => {
  it('defaults to the aws target, stack LogLake and no environment', () => {
    const app = new App();

    expect(appContextFromNode(app.node)).toEqual({ target: 'aws', stackName: 'LogLake' });
  });

  it('reads the target, stack name, account and region', () => {
    const app = new App({
      context: {
        'loglake:target': 'emulator',
        'loglake:stackName': 'Logs-Prod',
        'loglake:account': '123456789012',
        'loglake:region': 'eu-west-1',
      },
    });

    expect(appContextFromNode(app.node)).toEqual({
      target: 'emulator',
      stackName: 'Logs-Prod',
      account: '123456789012',
      region: 'eu-west-1',
    });
  });

  for (const [key, value] of [
    ['loglake:target', 'moon'],
    ['loglake:stackName', '1-stack'],
    ['loglake:account', '1234'],
    ['loglake:region', 'mars'],
  ] as const) {
    it(`rejects ${key}=${value}, naming the key and the value`, () => {
      const app = new App({ context: { [key]: value } });

      expect(problemsOf(() => appContextFromNode(app.node))).toEqual([
        expect.objectContaining({ path: key, received: value }),
      ]);
    });
  }
});
