import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildQuery, type ContextQuery, contextBlocks } from '../../src/query';
import { runDuckDb } from '../../src/query/duckdb';
import { memoryLake, record } from '../helpers/records';

const tables = [{ table: 'logs' }];
const at = (minute: number) => new Date(Date.parse('2026-11-22T10:00:00Z') + minute * 60_000).toISOString();

describe('search --context on DuckDB', () => {
  // api: one event a minute, 0..9, "boom" at 3 and 5; web: 0..3, "boom" at 2; a keyless hit at 9.
  const records = [
    ...Array.from({ length: 10 }, (_, m) =>
      record({
        timestamp: at(m),
        service: 'api',
        level: 'INFO',
        correlation_id: `api-${m}`,
        message: m === 3 || m === 5 ? `boom ${m}` : `tick ${m}`,
        category: m === 7 ? 'errors' : 'runtime',
      }),
    ),
    ...Array.from({ length: 4 }, (_, m) =>
      record({
        timestamp: at(m),
        service: 'web',
        correlation_id: m < 2 ? 'req-1' : 'req-2',
        message: m === 2 ? 'boom web' : `web ${m}`,
      }),
    ),
    record({ timestamp: at(9), service: 'batch', correlation_id: null, message: 'boom alone' }),
    // Outside the search range, but within the hour the neighbours are looked for in.
    record({ timestamp: at(-30), service: 'web', correlation_id: 'req-1', message: 'early' }),
  ];
  let lake: Awaited<ReturnType<typeof memoryLake>>;
  beforeAll(async () => {
    lake = await memoryLake(records);
  });
  afterAll(() => lake.close());

  async function context(query: Omit<ContextQuery, 'kind'>) {
    const built = buildQuery({ kind: 'context', ...query }, { dialect: 'duckdb', tables });
    return contextBlocks(built.columns, await runDuckDb(lake.connection, built));
  }
  const show = (blocks: Awaited<ReturnType<typeof context>>) =>
    blocks.map((b) => b.records.map((r) => `${r.context_hit ? '*' : ''}${r.message}`));
  const range = { since: new Date(at(0)), until: new Date(at(10)) };

  it('shows N events before and after each hit of the same service, overlapping blocks merged', async () => {
    // Act
    const blocks = await context({ filter: { ...range, text: 'boom' }, before: 1, after: 1 });

    // Assess: newest hit first; api's two hits share one block.
    expect(show(blocks)).toEqual([
      ['*boom alone'],
      ['tick 2', '*boom 3', 'tick 4', '*boom 5', 'tick 6'],
      ['web 1', '*boom web', 'web 3'],
    ]);
    expect(blocks.map((b) => b.key)).toEqual(['batch', 'api', 'web']);
  });

  it('takes neighbours from other categories and before the search range, not from other services', async () => {
    // Act
    const blocks = await context({
      filter: { ...range, text: 'boom', services: ['web'] },
      before: 3,
      after: 0,
    });

    // Assess
    expect(show(blocks)).toEqual([['early', 'web 0', 'web 1', '*boom web']]);
  });

  it('shows neighbours sharing the correlation id with --context-by correlation_id', async () => {
    // Act
    const blocks = await context({
      filter: { ...range, text: 'boom', services: ['web', 'batch'] },
      before: 5,
      after: 5,
      by: 'correlation_id',
    });

    // Assess: a hit without a correlation id has no neighbours by it: it stands alone.
    expect(show(blocks)).toEqual([['*boom alone'], ['*boom web', 'web 3']]);
    expect(blocks.map((b) => b.key)).toEqual([null, 'req-2']);
  });

  it('keeps to the categories of the search (a persona reads only its own)', async () => {
    // Act
    const blocks = await context({
      filter: { ...range, text: 'boom 5', categories: ['runtime'] },
      before: 0,
      after: 2,
    });

    // Assess: minute 7 is in `errors`, so the next runtime event after 6 is 8.
    expect(show(blocks)).toEqual([['*boom 5', 'tick 6', 'tick 8']]);
  });

  it('limits the hits, newest first', async () => {
    // Act
    const blocks = await context({ filter: { ...range, text: 'boom' }, before: 0, after: 0, limit: 2 });

    // Assess
    expect(show(blocks)).toEqual([['*boom alone'], ['*boom 5']]);
  });
});
