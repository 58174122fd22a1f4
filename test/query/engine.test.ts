import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LATE_MATERIALIZATION_ROWS, openEngine } from '../../src/query/engine';

const root = mkdtempSync(join(tmpdir(), 'loglake-engine-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('openEngine', () => {
  it('reads the other columns of only the rows a LIMIT keeps, up to a search page of 10,000 rows', async () => {
    // Prepare
    const engine = await openEngine(root);
    try {
      const connection = await engine.instance.connect();

      // Act
      const result = await connection.runAndReadAll(
        "SELECT current_setting('late_materialization_max_rows') AS rows",
      );
      connection.closeSync();

      // Assess: DuckDB's own default is 50, below the CLI's default --limit of 100.
      expect(Number(result.getRowObjectsJS()[0]?.rows)).toBe(LATE_MATERIALIZATION_ROWS);
      expect(LATE_MATERIALIZATION_ROWS).toBeGreaterThanOrEqual(1_000);
    } finally {
      engine.close();
    }
  });

  it('spills into a data directory that has no .loglake/tmp yet, and removes its spill directory on close', async () => {
    // Prepare: a fresh data directory, and a sort far larger than the smallest memory limit.
    const dataDir = mkdtempSync(join(root, 'data-'));
    const spillBase = join(dataDir, '.loglake', 'tmp');
    const engine = await openEngine(spillBase, { memoryLimitBytes: 64 * 1024 ** 2, threads: 1 });
    try {
      const connection = await engine.instance.connect();

      // Act: ~4M rows of 60 random characters sorted (about 300 MiB) cannot stay in 64 MiB.
      const result = await connection.runAndReadAll(
        'SELECT count(*) AS n FROM (SELECT md5(i::VARCHAR) || md5((i * 7)::VARCHAR) AS s FROM range(4000000) t(i) ORDER BY s OFFSET 1)',
      );
      connection.closeSync();

      // Assess: the query ran, having spilled under the data directory.
      expect(Number(result.getRowObjectsJS()[0]?.n)).toBe(3_999_999);
      expect(existsSync(engine.spillDir)).toBe(true);
      expect(engine.spillDir.startsWith(spillBase)).toBe(true);
    } finally {
      engine.close();
    }
    expect(existsSync(engine.spillDir)).toBe(false);
  });
});
