/** The access hook itself: when an event is recorded, with what, and what happens when recording fails. */
import { describe, expect, it } from 'vitest';
import {
  type AccessEvent,
  type AccessScope,
  accessFlags,
  auditedPages,
  withAccessScope,
} from '../../src/audit/access';
import { buildQuery } from '../../src/query/build';
import type { RawRow } from '../../src/query/decode';

const built = buildQuery(
  {
    kind: 'search',
    filter: {
      since: new Date('2026-11-30T00:00:00Z'),
      until: new Date('2026-11-30T01:00:00Z'),
      categories: ['audit'],
      text: 'refund',
    },
    limit: 10,
    order: 'desc',
  },
  { dialect: 'duckdb', tables: [{ table: 'logs' }] },
);
const lake = { engine: 'duckdb', dataDir: '/lake' } as const;

function scope(events: AccessEvent[], fail = false): AccessScope {
  return {
    principal: async () => 'ada@host',
    command: 'search',
    persona: 'auditor',
    settings: async () => ({ bulkReadRows: 2, lockedCategories: ['security', 'audit'] }),
    sinkFor: () => ({
      record: async (e) => {
        if (fail) throw new Error('disk full');
        events.push(e);
      },
    }),
  };
}

async function* pages(n: number, failAfter?: number): AsyncIterable<RawRow[]> {
  for (let i = 0; i < n; i++) {
    if (failAfter !== undefined && i === failAfter) throw new Error('engine failed');
    yield [{ i }, { i }];
  }
}

describe('auditedPages', () => {
  it('records a completed read before the last page reaches the caller', async () => {
    // Arrange
    const events: AccessEvent[] = [];
    const seenAtRecord: number[] = [];
    let seen = 0;
    const base = scope(events);
    const s: AccessScope = {
      ...base,
      sinkFor: (l) => ({
        record: async (e: AccessEvent) => {
          seenAtRecord.push(seen);
          await base.sinkFor(l).record(e);
        },
      }),
    };

    // Act
    await withAccessScope(s, async () => {
      for await (const page of auditedPages(built, lake, pages(3))) seen += page.length;
    });

    // Assert
    expect(seen).toBe(6);
    expect(seenAtRecord).toEqual([0, 4]);
    expect(events[1]).toMatchObject({
      principal: 'ada@host',
      persona: 'auditor',
      command: 'search',
      engine: 'duckdb',
      lake: '/lake',
      queryKind: 'search',
      categories: ['audit'],
      rows: 6,
      outcome: 'completed',
      flags: ['bulk_read', 'locked_category'],
    });
    expect(events[1]?.filter).toMatchObject({ text: 'refund', categories: 'audit' });
  });

  it('records a started event before the first page of several reaches the caller, linked to its completion', async () => {
    // Arrange: what the sink holds when each page reaches the caller
    const events: AccessEvent[] = [];
    const heldAtPage: string[][] = [];

    // Act
    await withAccessScope(scope(events), async () => {
      for await (const _ of auditedPages(built, lake, pages(3)))
        heldAtPage.push(events.map((e) => e.outcome));
    });

    // Assert
    expect(heldAtPage).toEqual([['started'], ['started'], ['started', 'completed']]);
    const [start, end] = events;
    expect(start).toMatchObject({
      principal: 'ada@host',
      persona: 'auditor',
      command: 'search',
      categories: ['audit'],
      rows: 0,
      outcome: 'started',
      flags: ['locked_category'],
    });
    expect(start?.filter).toMatchObject({ text: 'refund', categories: 'audit' });
    expect(end).toMatchObject({ outcome: 'completed', rows: 6, time: start?.time });
    expect(start?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(end?.id).toBe(start?.id);
  });

  it('records one event, no started one, when the rows fit in one page', async () => {
    // Arrange
    const events: AccessEvent[] = [];

    // Act
    await withAccessScope(scope(events), async () => {
      for await (const _ of auditedPages(built, lake, pages(1))) {
        // read the one page
      }
    });

    // Assert
    expect(events.map((e) => [e.outcome, e.rows])).toEqual([['completed', 2]]);
    expect(events[0]?.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('hands over no page of several when the started event cannot be recorded, naming the cause', async () => {
    // Arrange
    let seen = 0;

    // Act
    const run = withAccessScope(scope([], true), async () => {
      for await (const page of auditedPages(built, lake, pages(3))) seen += page.length;
    });

    // Assert
    await expect(run).rejects.toThrow(/could not be recorded, so its results are withheld: disk full/);
    expect(seen).toBe(0);
  });

  it('records an abandoned read (the caller stopped) and a failed one', async () => {
    // Arrange
    const events: AccessEvent[] = [];

    // Act
    await withAccessScope(scope(events), async () => {
      for await (const _ of auditedPages(built, lake, pages(5))) break;
      await expect(async () => {
        for await (const _ of auditedPages(built, lake, pages(5, 2))) {
          // read on until the engine fails
        }
      }).rejects.toThrow('engine failed');
    });

    // Assert
    expect(events.map((e) => [e.outcome, e.rows])).toEqual([
      ['started', 0],
      ['abandoned', 2],
      ['started', 0],
      ['failed', 4],
    ]);
    expect(events[1]?.id).toBe(events[0]?.id);
    expect(events[3]?.id).toBe(events[2]?.id);
    expect(events[2]?.id).not.toBe(events[0]?.id);
  });

  it('withholds the last page when the event cannot be recorded', async () => {
    // Arrange
    let seen = 0;

    // Act
    const run = withAccessScope(scope([], true), async () => {
      for await (const page of auditedPages(built, lake, pages(1))) seen += page.length;
    });

    // Assert
    await expect(run).rejects.toThrow(/could not be recorded, so its results are withheld: disk full/);
    expect(seen).toBe(0);
  });

  it('records nothing when the settings turn auditing off, and the rows still flow', async () => {
    // Arrange
    const events: AccessEvent[] = [];
    const off: AccessScope = {
      ...scope(events),
      settings: async () => ({ bulkReadRows: 2, lockedCategories: [], disabled: true }),
    };
    let seen = 0;

    // Act
    await withAccessScope(off, async () => {
      for await (const page of auditedPages(built, lake, pages(2))) seen += page.length;
    });

    // Assert
    expect(seen).toBe(4);
    expect(events).toEqual([]);
  });

  it('passes pages through untouched outside a scope', async () => {
    // Arrange
    const source = pages(1);

    // Act
    const out = auditedPages(built, lake, source);

    // Assert
    expect(out).toBe(source);
  });
});

describe('accessFlags', () => {
  const settings = { bulkReadRows: 100, lockedCategories: ['audit'] as const };
  it.each([
    [{ queryKind: 'search', rows: 101, categories: ['runtime'] }, ['bulk_read']],
    [{ queryKind: 'aggregate', rows: 5000, categories: ['runtime'] }, []],
    [{ queryKind: 'search', rows: 1, categories: 'all', persona: 'security' }, ['locked_category']],
    [{ queryKind: 'search', rows: 1, categories: 'all' }, []],
    [{ queryKind: 'search', rows: 100, categories: ['audit'], persona: 'auditor' }, ['locked_category']],
  ] as const)('%j → %j', (event, flags) => {
    // Act
    const got = accessFlags(event, settings);

    // Assert
    expect(got).toEqual(flags);
  });
});
