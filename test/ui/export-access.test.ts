/**
 * The explorer's export streams its rows as the engine produces them: the read is recorded before the
 * first byte leaves (over a real local lake whose result spans several pages), and a read that cannot be
 * recorded sends no row, only an error naming the cause.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_SERVICE, type AccessEvent } from '../../src/audit/access';
import { type RunningUi, startUi } from '../../src/cli/commands/ui';
import { readIntegrityLog } from '../../src/compliance/integrity';
import { withoutAnsweredStarts } from '../../src/ui/server';
import { deliverBatches } from '../helpers/lake';
import { searchLake } from '../helpers/local';

/** More rows than one DuckDB chunk (2,048). */
const ROWS = 2_500;
const root = mkdtempSync(join(tmpdir(), 'loglake-ui-export-access-'));
const dataDir = join(root, 'data');
let ui: RunningUi;

beforeAll(async () => {
  const at = Date.now() - 60_000;
  await deliverBatches(dataDir, [
    Array.from({ length: ROWS }, (_, i) => ({
      id: `r-${i}`,
      at: at + i,
      service: 'web',
      level: 'INFO' as const,
    })),
  ]);
  ui = await startUi({ dataDir, port: 0 }, { stdout: () => undefined, stderr: () => undefined });
}, 120_000);
afterAll(async () => {
  await ui?.stop();
  rmSync(root, { recursive: true, force: true });
});

const accessDeliveries = () =>
  readIntegrityLog(dataDir).filter((l) => l.entry?.type === 'delivery' && l.entry.source === 'access').length;
const exportPath = '/export?since=1h&service=web&format=ndjson';

describe('export from the explorer', () => {
  it('records the started read before the first byte, and its completion with the same id', async () => {
    // Arrange
    const before = accessDeliveries();

    // Act: the response's headers are the first thing that leaves
    const res = await fetch(new URL(exportPath, ui.url));
    const atFirstByte = accessDeliveries();
    const body = await res.text();

    // Assert
    expect(res.status).toBe(200);
    expect(atFirstByte).toBe(before + 1);
    expect(body.trim().split('\n')).toHaveLength(ROWS);
    const events = (await searchLake(dataDir, { services: [ACCESS_SERVICE] })).map((r) => r.attributes);
    const started = events.filter((e) => e['access.outcome'] === 'started');
    expect(started).toHaveLength(1);
    expect(started[0]).toMatchObject({ 'access.command': 'ui', 'access.filter.services': 'web' });
    expect(events.filter((e) => e['access.id'] === started[0]?.['access.id'])).toEqual([
      started[0],
      expect.objectContaining({ 'access.outcome': 'completed', 'access.rows': String(ROWS) }),
    ]);
  }, 60_000);

  it('sends no row when the read cannot be recorded, and names the cause', async () => {
    // Arrange: the writer's staging directory is a file, so no Parquet file can be staged
    const staging = join(dataDir, '.loglake', 'staging');
    rmSync(staging, { recursive: true, force: true });
    writeFileSync(staging, 'not a directory');
    try {
      // Act
      const res = await fetch(new URL(exportPath, ui.url));
      const body = await res.text();

      // Assert
      expect(res.status).toBe(500);
      expect(res.headers.get('content-disposition')).toBeNull();
      expect(body).not.toContain('event r-');
      expect(body).toContain('could not be recorded');
      expect(body).toMatch(/staging|ENOTDIR|EEXIST|not a directory/i);
    } finally {
      rmSync(staging, { force: true });
    }
  }, 60_000);
});

describe('withoutAnsweredStarts', () => {
  const event = (id: string, outcome: AccessEvent['outcome']): AccessEvent => ({
    id,
    time: '2026-12-01T00:00:00.000Z',
    principal: 'ada@host',
    command: 'ui',
    engine: 'duckdb',
    lake: '/lake',
    queryKind: 'search',
    categories: 'all',
    filter: {},
    rows: outcome === 'started' ? 0 : 5,
    outcome,
    durationMs: 1,
    flags: [],
  });

  it('drops a started event whose completion is written with it, and keeps one without', () => {
    // Arrange
    const events = [
      event('a', 'started'),
      event('b', 'started'),
      event('a', 'completed'),
      event('c', 'failed'),
    ];

    // Act
    const kept = withoutAnsweredStarts(events);

    // Assert
    expect(kept.map((e) => [e.id, e.outcome])).toEqual([
      ['b', 'started'],
      ['a', 'completed'],
      ['c', 'failed'],
    ]);
  });
});
