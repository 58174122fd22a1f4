import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { clusterTemplates, type TemplateCount, templateCounts } from '../../src/patterns';

const t = (
  template: string,
  count: number,
  firstSeen = '2026-11-22T10:00:00.000Z',
  lastSeen = firstSeen,
) => ({
  template,
  count,
  firstSeen,
  lastSeen,
  example: `${template} (example)`,
});

describe('clusterTemplates', () => {
  it('merges templates that differ in a minority of tokens, with <*> where they differ', () => {
    // Act
    const patterns = clusterTemplates([
      t('user alice logged in', 5, '2026-11-22T10:00:00.000Z'),
      t('user bob logged in', 7, '2026-11-22T09:00:00.000Z', '2026-11-22T11:00:00.000Z'),
      t('payment <NUM> failed', 3),
    ]);

    // Assess
    expect(patterns).toEqual([
      {
        template: 'user <*> logged in',
        count: 12,
        firstSeen: '2026-11-22T09:00:00.000Z',
        lastSeen: '2026-11-22T11:00:00.000Z',
        example: 'user bob logged in (example)',
        templates: 2,
      },
      {
        template: 'payment <NUM> failed',
        count: 3,
        firstSeen: '2026-11-22T10:00:00.000Z',
        lastSeen: '2026-11-22T10:00:00.000Z',
        example: 'payment <NUM> failed (example)',
        templates: 1,
      },
    ]);
  });

  it('keeps apart templates of other lengths, other first words, or too few tokens in common', () => {
    // Act
    const patterns = clusterTemplates([
      t('connection opened', 4),
      t('connection closed', 3),
      t('user alice logged in', 2),
      t('user alice logged in twice', 2),
      t('admin alice logged in', 1),
    ]);

    // Assess
    expect(patterns.map((p) => p.template)).toEqual([
      'connection opened',
      'connection closed',
      'user alice logged in',
      'user alice logged in twice',
      'admin alice logged in',
    ]);
  });

  it('merges only identical templates at similarity 1', () => {
    // Act
    const patterns = clusterTemplates([t('user alice logged in', 1), t('user bob logged in', 1)], 1);

    // Assess
    expect(patterns).toHaveLength(2);
  });

  it('keeps every event, and gives the same clusters in any input order', () => {
    const templates = fc.array(
      fc.record({
        words: fc.array(fc.constantFrom('a', 'b', 'c', '<NUM>', 'user', 'x'), { minLength: 1, maxLength: 5 }),
        count: fc.integer({ min: 1, max: 50 }),
      }),
      { maxLength: 30 },
    );
    fc.assert(
      fc.property(templates, fc.func(fc.integer()), (items, order) => {
        // Prepare: distinct templates, as the query returns them.
        const unique = new Map<string, TemplateCount>();
        for (const i of items) unique.set(i.words.join(' '), t(i.words.join(' '), i.count));
        const list = [...unique.values()];
        const shuffled = [...list].sort((a, b) => order(a.template) - order(b.template));

        // Act
        const a = clusterTemplates(list);
        const b = clusterTemplates(shuffled);

        // Assess
        expect(b).toEqual(a);
        expect(a.reduce((n, p) => n + p.count, 0)).toBe(list.reduce((n, p) => n + p.count, 0));
        for (let i = 1; i < a.length; i++) expect(a[i - 1]?.count).toBeGreaterThanOrEqual(a[i]?.count ?? 0);
      }),
    );
  });
});

describe('templateCounts', () => {
  it('masks the messages of events without a stored template and adds them to the same template', () => {
    // Act
    const counts = templateCounts([
      {
        template: 'order <NUM> failed',
        message: null,
        count: 4,
        first_seen: '2026-11-22T10:00:00.000Z',
        last_seen: '2026-11-22T10:30:00.000Z',
        example: 'order 7 failed',
      },
      {
        template: null,
        message: 'order 12 failed',
        count: 1,
        first_seen: '2026-11-22T09:00:00.000Z',
        last_seen: '2026-11-22T09:00:00.000Z',
        example: 'order 12 failed',
      },
    ]);

    // Assess
    expect(counts).toEqual([
      {
        template: 'order <NUM> failed',
        count: 5,
        firstSeen: '2026-11-22T09:00:00.000Z',
        lastSeen: '2026-11-22T10:30:00.000Z',
        example: 'order 7 failed',
      },
    ]);
  });
});
