/**
 * File-system faults at the commit of a delivery (the segment's removal) and after it, injected into
 * `node:fs` itself: a kill -9 at any point after such a fault is simulated by copying the data directory
 * as it is on disk right then, and recovering the copy with a new pipeline.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config';
import { LocalPipeline } from '../../src/local/pipeline';
import { dataDirTransform } from '../../src/local/transform';
import { searchLake } from '../helpers/local';

/** What the mocked `node:fs` does besides the real thing (set per test). */
const faults = vi.hoisted(() => ({
  /** Called before every `unlinkSync`; may throw instead of it, or note what it is about to remove. */
  beforeUnlink: (_path: string): void => undefined,
  /** Called after every `unlinkSync` that succeeded. */
  afterUnlink: (_path: string): void => undefined,
}));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const unlinkSync: typeof fs.unlinkSync = (path) => {
    faults.beforeUnlink(String(path));
    fs.unlinkSync(path);
    faults.afterUnlink(String(path));
  };
  return { ...fs, unlinkSync, default: { ...fs, unlinkSync } };
});

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  faults.beforeUnlink = () => undefined;
  faults.afterUnlink = () => undefined;
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function eioError(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`EIO: i/o error, unlink '${path}'`), { code: 'EIO', path });
}

/** One JSON event per id, as a producer sends it (base64 data and its decoded size). */
function events(ids: readonly string[]): Array<{ data: string; bytes: number }> {
  return ids.map((id) => {
    const line = `${JSON.stringify({ timestamp: new Date().toISOString(), level: 'INFO', service: 'commit', message: `event ${id}`, correlation_id: id })}\n`;
    return { data: Buffer.from(line).toString('base64'), bytes: Buffer.byteLength(line) };
  });
}

async function openPipeline(dataDir: string, warnings: string[]): Promise<LocalPipeline> {
  return LocalPipeline.open({
    dataDir,
    transform: dataDirTransform(DEFAULT_CONFIG, dataDir),
    flushIntervalMs: 900_000,
    deliveryBackoff: { baseMs: 1, capMs: 5 },
    compaction: false,
    onWarning: (m) => warnings.push(m),
  });
}

describe('a delivery whose cleanup fails after its commit', () => {
  it('keeps the delivered files: a kill -9 while the cleanup is retried loses nothing acknowledged', async () => {
    // Prepare
    const dataDir = tempDir('loglake-commit-');
    const snapshot = join(tempDir('loglake-commit-crash-'), 'data');
    const warnings: string[] = [];
    const pipeline = await openPipeline(dataDir, warnings);
    let closed = false;
    cleanups.push(async () => {
      if (!closed) await pipeline.close();
    });
    const ids = Array.from({ length: 5 }, (_, i) => `commit-${i}`);
    await pipeline.put('logs', events(ids));
    const lake = `${join(dataDir, 'logs')}${sep}`;
    let manifestFailed = false;
    let killedAt: string | undefined;
    faults.beforeUnlink = (path) => {
      // The segment is gone (the delivery committed); removing its manifest fails once.
      if (!manifestFailed && path.endsWith('.manifest')) {
        manifestFailed = true;
        throw eioError(path);
      }
    };
    faults.afterUnlink = (path) => {
      // The process dies right after anything removes a delivered file.
      if (killedAt === undefined && path.startsWith(lake)) {
        killedAt = path;
        cpSync(dataDir, snapshot, { recursive: true });
      }
    };

    // Act
    await pipeline.flush();
    await pipeline.close();
    closed = true;
    faults.beforeUnlink = () => undefined;
    faults.afterUnlink = () => undefined;
    // Killed at the end if no delivered file was ever removed.
    if (killedAt === undefined) cpSync(dataDir, snapshot, { recursive: true });
    const recovered = await openPipeline(snapshot, []);
    await recovered.close();
    const stored = (await searchLake(snapshot, { services: ['commit'] })).map((r) => r.correlation_id);

    // Assess
    expect(manifestFailed).toBe(true);
    expect(warnings.some((w) => w.includes('EIO'))).toBe(true);
    expect(stored.sort(), `killed after removing ${killedAt}`).toEqual([...ids].sort());
    expect(killedAt, 'a committed delivery was undone after its segment was removed').toBeUndefined();
  });
});
