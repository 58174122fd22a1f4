/**
 * Recovery of a spool segment with a torn frame in the middle, in the real `loglake local` process: what
 * a write cut short by a full disk leaves when the next append goes on after it. The process names the
 * skipped frame at start and counts it in its stop summary, and every record around it is delivered
 * exactly once.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dataDirPaths } from '../../src/local/datadir';
import { exited, killAll, type ReadyChild, startLocalProcess } from '../helpers/child';
import { firehoseClient, searchLake } from '../helpers/local';
import { taggedBatch } from '../helpers/tagged-batch';

const dataDir = mkdtempSync(join(tmpdir(), 'loglake-torn-'));
const children: ChildProcess[] = [];
afterAll(() => {
  killAll(children);
  rmSync(dataDir, { recursive: true, force: true });
});

/** `loglake local` in its own process, delivering only when asked to stop (or after 15 minutes). */
const startLocal = (): Promise<ReadyChild> =>
  startLocalProcess(dataDir, ['--flush-seconds', '900', '--no-alerts', '--quiet'], children);

describe('loglake local recovering a spool segment with a torn frame in the middle', () => {
  it('skips the torn frame with a warning and a count, and delivers every record around it exactly once', async () => {
    // Prepare: three acknowledged requests in one segment, then the process is killed before delivery.
    const first = await startLocal();
    const client = firehoseClient(first.url);
    const batches = [0, 1, 2].map((b) => Array.from({ length: 5 }, (_, i) => `torn-${b * 5 + i}`));
    for (const ids of batches) {
      const out = await client.send(taggedBatch('torn', ids, Date.now()));
      expect(out.FailedPutCount).toBe(0);
    }
    client.destroy();
    first.child.kill('SIGKILL');
    await exited(first.child);
    // Between the first and second frame, the first half of a frame cut short (ENOSPC mid-write).
    const spool = dataDirPaths(dataDir).spool('logs');
    const segments = readdirSync(spool).filter((f) => f.endsWith('.seg'));
    expect(segments).toHaveLength(1);
    const file = join(spool, segments[0] as string);
    const frames = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(frames).toHaveLength(3);
    const [one, two, three] = frames as [string, string, string];
    const torn = two.slice(0, Math.floor(two.length / 2));
    writeFileSync(file, `${one}\n${torn}\n${two}\n${three}\n`);

    // Act: restart (recovery delivers the segment), then stop.
    const second = await startLocal();
    second.child.kill('SIGTERM');
    const code = await exited(second.child);

    // Assess
    expect(code).toBe(0);
    const stderr = second.stderr();
    const segmentId = (segments[0] as string).replace(/\.seg$/, '');
    expect(stderr).toContain(
      `loglake local: logs spool segment ${segmentId}: skipped 1 torn or damaged frame(s) (${torn.length + 1} bytes, ` +
        'never acknowledged or corrupted on disk) and recovered 15 record(s) around them\n',
    );
    expect(stderr).toMatch(
      /loglake local: stopped; 0 records accepted, 15 events delivered, 1 damaged spool frame\(s\) skipped at start\n/,
    );
    const found = (await searchLake(dataDir, { services: ['torn'] })).map((r) => r.correlation_id);
    expect(found.sort()).toEqual(batches.flat().sort());
    expect(readdirSync(spool).filter((f) => f.endsWith('.seg'))).toEqual([]);
  }, 120_000);
});
