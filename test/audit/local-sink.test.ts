/**
 * A local query's access event is written through the query's own DuckDB instance (no second instance
 * on every search's path): the sink is handed the instance, the event lands in the lake's `audit`
 * category, and the query's engine is still usable afterwards (the writer closed only its connection).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { type AccessScope, type LakeRef, withAccessScope } from '../../src/audit/access';
import { LocalAccessSink } from '../../src/audit/local-sink';
import { DEFAULT_CONFIG } from '../../src/config';
import { listPartitions } from '../../src/local/lake-files';
import { buildQuery } from '../../src/query/build';
import { LOCAL_TABLE, LocalLakeReader } from '../../src/query/duckdb';

const root = mkdtempSync(join(tmpdir(), 'loglake-local-sink-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const auditQuery = () =>
  buildQuery(
    {
      kind: 'search',
      filter: {
        since: new Date(Date.now() - 3_600_000),
        until: new Date(Date.now() + 60_000),
        categories: ['audit'],
      },
      limit: 10,
      order: 'desc',
    },
    { dialect: 'duckdb', tables: [{ table: LOCAL_TABLE }] },
  );

describe('LocalAccessSink on the query engine', () => {
  it("records a local read through the reader's own instance, which stays open for the next query", async () => {
    // Arrange
    const dataDir = join(root, 'lake');
    const lakes: LakeRef[] = [];
    const scope: AccessScope = {
      principal: async () => 'ada@host',
      command: 'search',
      settings: async () => ({ bulkReadRows: 10_000, lockedCategories: [] }),
      sinkFor: (lake) => {
        lakes.push(lake);
        const instance = lake.engine === 'duckdb' ? lake.instance : undefined;
        return new LocalAccessSink(dataDir, DEFAULT_CONFIG, instance);
      },
    };
    const reader = await LocalLakeReader.open(join(dataDir));
    try {
      // Act
      const first = await withAccessScope(scope, () => reader.query(auditQuery()));
      const second = await withAccessScope(scope, () => reader.query(auditQuery()));

      // Assert
      expect(first).toHaveLength(0);
      const instances = lakes.map((l) => (l.engine === 'duckdb' ? l.instance : undefined));
      expect(instances[0]).toBeDefined();
      expect(instances[1]).toBe(instances[0] as DuckDBInstance);
      // The second query ran on the same engine after the first event was written, and found it.
      expect(second).toHaveLength(1);
      expect(String(second[0]?.message)).toMatch(/^search by ada@host: 0 row\(s\)/);
      const files = listPartitions(dataDir).flatMap((p) => p.visible);
      expect(files).toHaveLength(2);
    } finally {
      reader.close();
    }
  });
});
