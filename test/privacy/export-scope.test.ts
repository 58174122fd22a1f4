/**
 * `loglake subject export` (right of access) on a real local lake: a record is the person's wherever the
 * transform wrote their pseudonym, not only in the `user_id` column (which holds one id: the field's, or
 * the first one named in the text).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCommand } from '../../src/cli/commands/subject';
import type { CliIO } from '../../src/cli/io';
import { resolveConfig } from '../../src/config';
import { LocalPipeline } from '../../src/local/pipeline';
import { dataDirTransform } from '../../src/local/transform';
import { deliverEvents } from '../helpers/lake';

const dataDir = mkdtempSync(join(tmpdir(), 'loglake-export-scope-'));
afterAll(() => (process.env.KEEP ? undefined : rmSync(dataDir, { recursive: true, force: true })));

function io() {
  const out: string[] = [];
  const cli: CliIO = { stdout: (t) => void out.push(t), stderr: () => undefined };
  return { cli, out };
}

async function exported(user: string): Promise<Array<{ message: string; user_id: string | null }>> {
  const { cli, out } = io();
  await exportCommand({ user, persona: 'privacy-officer', dataDir, since: '1d', format: 'ndjson' }, cli);
  return out
    .join('')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { message: string; user_id: string | null });
}

beforeAll(async () => {
  const timestamp = new Date().toISOString();
  await deliverEvents(
    dataDir,
    [
      { service: 'shop', message: 'login ok', user_id: 'erin-5005' },
      { service: 'shop', message: 'user bob-2002 handed over to user erin-5005' },
      { service: 'admin', message: 'role granted', user_id: 'bob-2002', target: { user_id: 'erin-5005' } },
      { service: 'shop', message: 'login ok', user_id: 'bob-2002' },
      { service: 'shop', message: 'lookup returned u_no_subject' },
    ].map((e) => ({ timestamp, level: 'INFO', ...e })),
  );
}, 120_000);

describe('loglake subject export', () => {
  it("exports every record holding the person's pseudonym: in user_id, in prose after another id, in a nested user_id", async () => {
    const erin = await exported('erin-5005');

    expect(erin.map((r) => r.message).sort()).toEqual([
      'login ok',
      'role granted',
      expect.stringMatching(/^user u_[0-9a-f]{32} handed over to user u_[0-9a-f]{32}$/),
    ]);
    expect(JSON.stringify(erin)).not.toContain('erin-5005');
  }, 120_000);

  it("leaves out the records that hold only other people's pseudonyms", async () => {
    const bob = await exported('bob-2002');

    expect(bob.map((r) => r.message).sort()).toEqual([
      'login ok',
      'role granted',
      expect.stringMatching(/^user u_[0-9a-f]{32} handed over/),
    ]);
  }, 120_000);

  it('exports nothing for an id without a key, though a text holds the placeholder pseudonym', async () => {
    expect(await exported('nobody-9999')).toEqual([]);
  }, 120_000);
});

describe('loglake subject export over a retention longer than the default', () => {
  it('exports by default every record the config keeps, however old', async () => {
    // Prepare: runtime kept ten years, the person's record eight years old.
    const dir = mkdtempSync(join(tmpdir(), 'loglake-export-old-'));
    try {
      const overrides = { categories: { runtime: { expiryDays: 3650 } } };
      const config = resolveConfig(overrides);
      const configFile = join(dir, 'loglake.json');
      writeFileSync(configFile, JSON.stringify(overrides));
      const line = `${JSON.stringify({
        timestamp: new Date(Date.now() - 8 * 365 * 86_400_000).toISOString(),
        level: 'INFO',
        service: 'shop',
        message: 'order placed',
        user_id: 'gina-7007',
      })}\n`;
      const pipeline = await LocalPipeline.open({
        dataDir: dir,
        transform: dataDirTransform(config, dir),
        compaction: false,
      });
      try {
        await pipeline.put('logs', [
          { data: Buffer.from(line).toString('base64'), bytes: Buffer.byteLength(line) },
        ]);
        await pipeline.flush();
      } finally {
        await pipeline.close();
      }
      const { cli, out } = io();

      // Act
      const summary = await exportCommand(
        { user: 'gina-7007', persona: 'privacy-officer', dataDir: dir, config: configFile, format: 'ndjson' },
        cli,
      );

      // Assess
      expect(summary.byCategory).toEqual({ runtime: 1 });
      expect(out.join('')).toContain('order placed');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
