/**
 * The default `bulk-read` rule over the access events the CLI writes into a real local lake: quiet while
 * the reads are ordinary (the rule's own reads of the audit category included), firing at high severity
 * once an export returns more rows than `accessAudit.bulkReadRows`, or once a persona reads a locked
 * category.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert';
import { SECURITY_CHANNEL } from '../../src/alerts/config';
import { DEFAULT_CONFIG } from '../../src/config';
import { loglake } from '../helpers/cli';
import { type KnownLake, writeBulkReadConfig, writeKnownLake } from '../helpers/known-lake';

let lake: KnownLake;
beforeAll(async () => {
  lake = await writeKnownLake();
});
afterAll(() => lake?.dispose());

/** `loglake alerts evaluate --rule bulk-read` a minute from now, so events of this minute are in its window. */
async function bulkReadAlerts(dataDir = lake.dataDir): Promise<Alert[]> {
  const r = await loglake([
    'alerts',
    'evaluate',
    '--data-dir',
    dataDir,
    '--rule',
    'bulk-read',
    '--at',
    new Date(Date.now() + 60_000).toISOString(),
    '--flush-seconds',
    '1',
    '--format',
    'json',
  ]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Alert[];
}

describe('the bulk-read rule over the local lake', () => {
  it('stays quiet on ordinary reads, its own evaluations included', async () => {
    // Arrange: ordinary queries, each an unflagged access event
    for (const args of [
      ['search', '--since', '1d', '--limit', '5'],
      ['stats', '--since', '1d'],
    ]) {
      const r = await loglake([...args, '--data-dir', lake.dataDir]);
      expect(r.code, r.stderr).toBe(0);
    }

    // Act: twice, so the second evaluation also sees the first one's access event
    const first = await bulkReadAlerts();
    const second = await bulkReadAlerts();

    // Assert
    expect(first).toEqual([]);
    expect(second).toEqual([]);
  });

  it('fires at high severity once an export returns more rows than accessAudit.bulkReadRows', async () => {
    // Arrange
    const config = writeBulkReadConfig(lake);
    const exported = await loglake([
      'export',
      '--data-dir',
      lake.dataDir,
      '--since',
      '1d',
      '--output',
      '-',
      '--config',
      config,
    ]);
    expect(exported.code, exported.stderr).toBe(0);

    // Act
    const alerts = await bulkReadAlerts();

    // Assert
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      rule: 'bulk-read',
      severity: 'high',
      status: 'firing',
      group: { service: 'loglake-access' },
      value: 1,
    });
    expect(alerts[0]?.search).toContain('--category audit');
  });
});

describe('the bulk-read rule on a persona reading a locked category', () => {
  // A lake of its own: the rule's state in the shared one already holds the export's incident.
  let own: KnownLake;
  beforeAll(async () => {
    own = await writeKnownLake();
  });
  afterAll(() => own?.dispose());

  it('fires at high severity on the security channel when the auditor searches the locked security category', async () => {
    // Arrange: the known lake's one security event (2 days old), far below accessAudit.bulkReadRows, of a
    // category the auditor may read
    expect(DEFAULT_CONFIG.categories.security.locked).toBe(true);
    expect(DEFAULT_CONFIG.personas.auditor.read).toContain('security');
    const read = await loglake([
      'search',
      '--data-dir',
      own.dataDir,
      '--persona',
      'auditor',
      '--category',
      'security',
      '--since',
      '7d',
      '--limit',
      '5',
    ]);
    expect(read.code, read.stderr).toBe(0);
    expect(read.stdout).not.toBe('');

    // Act
    const alerts = await bulkReadAlerts(own.dataDir);

    // Assert
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      rule: 'bulk-read',
      severity: 'high',
      status: 'firing',
      channels: [SECURITY_CHANNEL],
      group: { service: 'loglake-access' },
      value: 1,
    });
    // The events behind the alert, listed by its own search, name the persona, the category and why.
    expect(alerts[0]?.search).toContain("--where 'attributes.access.flags!='");
    const flagged = await loglake([
      'search',
      '--data-dir',
      own.dataDir,
      '--since',
      '1d',
      '--category',
      'audit',
      '--service',
      'loglake-access',
      '--where',
      'attributes.access.flags!=',
      '--format',
      'json',
    ]);
    expect(flagged.code, flagged.stderr).toBe(0);
    const events = JSON.parse(flagged.stdout) as { attributes: Record<string, string> }[];
    expect(events.map((e) => e.attributes)).toEqual([
      expect.objectContaining({
        'access.command': 'search',
        'access.persona': 'auditor',
        'access.categories': 'security',
        'access.rows': '1',
        'access.flags': 'locked_category',
      }),
    ]);
  });
});
