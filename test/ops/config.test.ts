/** `loglake config validate`: the effective configuration, or every problem with its field and value. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LogLakeConfig } from '../../src/config';
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
