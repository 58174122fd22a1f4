/**
 * `loglake config validate`: the effective configuration, or every problem with its field and value;
 * without `--config`, the one `cdk deploy` would use (cdk.json's `context.loglake`, read as the CDK app reads it).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { configFromContext } from '../../lib/config';
import { DEFAULT_CONFIG, type LogLakeConfig } from '../../src/config';
import { loglake } from '../helpers/cli';

const dir = mkdtempSync(join(tmpdir(), 'loglake-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

describe('loglake config validate', () => {
  it('prints the defaults merged with the file (exit 0)', async () => {
    // Arrange
    const config = file('ok.json', {
      categories: { debug: { expiryDays: 7 } },
      accessAudit: { bulkReadRows: 50 },
    });

    // Act
    const r = await loglake(['config', 'validate', '--config', config]);

    // Assert
    expect(r.code, r.stderr).toBe(0);
    const effective = JSON.parse(r.stdout) as LogLakeConfig;
    expect(effective.categories.debug.expiryDays).toBe(7);
    expect(effective.categories.runtime.expiryDays).toBe(30);
    expect(effective.accessAudit).toEqual({
      enabled: true,
      bulkReadRows: 50,
      trail: { enabled: false, managementEvents: true },
    });
    expect(r.stderr).toContain('valid');
  });

  it('lists every error with its field and the value received (exit 2)', async () => {
    // Arrange
    const config = file('bad.json', {
      firehose: { bufferSizeMiB: 512 },
      categories: { debug: { expiryDays: -1 } },
      personas: { developer: { write: ['audit'] } },
    });

    // Act
    const r = await loglake(['config', 'validate', '--config', config]);

    // Assert
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${config}.firehose.bufferSizeMiB:`);
    expect(r.stderr).toContain('(received 512)');
    expect(r.stderr).toContain(`${config}.categories.debug.expiryDays:`);
    expect(r.stderr).toContain('(received -1)');
    expect(r.stderr).toContain(`${config}.personas.developer.write.0: locked categories are immutable`);
  });

  it('names a file that is not JSON', async () => {
    // Arrange
    const config = file('broken.json', '{ "name": ');

    // Act
    const r = await loglake(['config', 'validate', '--config', config]);

    // Assert
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(config);
  });
});

describe('loglake config validate without --config: the configuration cdk deploy uses', () => {
  /** A project directory whose cdk.json has `context`. */
  function project(name: string, context: Record<string, unknown>): string {
    const root = join(dir, name);
    mkdirSync(root, { recursive: true });
    writeFileSync(
      join(root, 'cdk.json'),
      JSON.stringify({
        app: 'npx tsx bin/app.ts',
        context: { '@aws-cdk/core:checkSecretUsage': true, ...context },
      }),
    );
    return root;
  }

  it("reads cdk.json's context.loglake from the working directory, the same config the CDK app builds", async () => {
    // Arrange
    const context = {
      loglake: { categories: { debug: { expiryDays: 3 } }, accessAudit: { bulkReadRows: 25 } },
    };
    const root = project('cdk-ok', context);

    // Act
    const r = await loglake(['config', 'validate'], {}, { cwd: root });

    // Assert
    expect(r.code, r.stderr).toBe(0);
    const effective = JSON.parse(r.stdout) as LogLakeConfig;
    expect(effective.categories.debug.expiryDays).toBe(3);
    expect(effective.accessAudit.bulkReadRows).toBe(25);
    expect(effective).toEqual(configFromContext(new App({ context }).node));
    expect(r.stderr).toContain(`${join(root, 'cdk.json')} context.loglake: valid`);
  });

  it('reads a context value given as JSON text, as -c loglake=… passes it', async () => {
    // Arrange
    const root = project('cdk-text', { loglake: '{"categories":{"runtime":{"expiryDays":45}}}' });

    // Act
    const r = await loglake(['config', 'validate', '--cdk-json', join(root, 'cdk.json')]);

    // Assert
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as LogLakeConfig).categories.runtime.expiryDays).toBe(45);
  });

  it("lists cdk.json's errors by field, named from the file (exit 2), as synth would refuse them", async () => {
    // Arrange
    const context = {
      loglake: { categories: { debug: { expiryDays: 0 } }, firehose: { bufferSizeMiB: 512 } },
    };
    const root = project('cdk-bad', context);
    const source = `${join(root, 'cdk.json')} context.loglake`;

    // Act
    const r = await loglake(['config', 'validate'], {}, { cwd: root });

    // Assert
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${source}.categories.debug.expiryDays:`);
    expect(r.stderr).toContain(`${source}.firehose.bufferSizeMiB:`);
    expect(r.stderr).toContain('(received 512)');
    expect(() => configFromContext(new App({ context }).node)).toThrow(/categories\.debug\.expiryDays/);
  });

  it('takes the defaults where there is no cdk.json, or it has no context.loglake', async () => {
    // Arrange
    const empty = join(dir, 'no-project');
    mkdirSync(empty, { recursive: true });
    const bare = project('cdk-bare', {});

    // Act
    const none = await loglake(['config', 'validate'], {}, { cwd: empty });
    const noKey = await loglake(['config', 'validate'], {}, { cwd: bare });

    // Assert
    for (const r of [none, noKey]) {
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(JSON.parse(JSON.stringify(DEFAULT_CONFIG)));
    }
    expect(none.stderr).toContain('config: the defaults: valid');
    expect(noKey.stderr).toContain('no context.loglake: the defaults');
  });

  it('refuses --config with --cdk-json, and names a cdk.json that is missing', async () => {
    // Act
    const both = await loglake(['config', 'validate', '--config', 'a.json', '--cdk-json', 'cdk.json']);
    const missing = await loglake(['config', 'validate', '--cdk-json', join(dir, 'nowhere', 'cdk.json')]);

    // Assert
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('--config and --cdk-json');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(join(dir, 'nowhere', 'cdk.json'));
  });
});
