import { mkdtempSync, rmSync } from 'node:fs';
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
});
