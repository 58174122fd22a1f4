/** The dashboards as data: every panel's query is valid in the one query builder, in both dialects. */
import { describe, expect, it } from 'vitest';
import { buildQuery } from '../../src/query/build';
import { DASHBOARDS, panelQuery } from '../../src/ui/dashboards';
import { searchLink, shellWords } from '../../src/ui/pages/alerts';

describe('dashboard definitions', () => {
  it('are the four of the specification, with their refresh intervals', () => {
    // Assess
    expect(DASHBOARDS.map((d) => [d.id, d.refreshSeconds])).toEqual([
      ['errors', 60],
      ['tracing', undefined],
      ['security', 300],
      ['ai', 300],
    ]);
  });

  it('narrow by service only where no panel names services of its own', () => {
    // Assess: the service filter replaces a panel's services, so a dashboard offering it has none
    for (const d of DASHBOARDS.filter((x) => x.serviceFilter)) {
      expect(d.panels.filter((p) => p.filter.services).map((p) => p.id)).toEqual([]);
    }
  });

  it.each(DASHBOARDS.flatMap((d) => d.panels.map((p) => [`${d.id}/${p.id}`, p] as const)))(
    '%s builds for DuckDB and Athena, pruned by dt/hour',
    (_name, panel) => {
      // Act
      const query = panelQuery(panel, new Date('2026-11-30T08:00:00Z'), new Date('2026-11-30T10:00:00Z'));
      const built = ['duckdb', 'athena'].map((dialect) =>
        buildQuery(query, { dialect: dialect as 'duckdb' | 'athena', tables: [{ table: 'logs' }] }),
      );

      // Assess
      for (const b of built) {
        const at = b.sql.indexOf('"dt" BETWEEN ? AND ?');
        expect(at).toBeGreaterThan(0);
        // The parameters before the partition bounds (a map key a panel groups by) come first.
        const before = b.sql.slice(0, at).split('?').length - 1;
        expect(b.params.slice(before, before + 2)).toEqual(['2026-11-30', '2026-11-30']);
      }
    },
  );
});

describe('alert search links', () => {
  it('reads the shell quoting of searchCommand back', () => {
    // Act
    const words = shellWords("loglake search 'it'\\''s down' --service 'a b' --data-dir /tmp/x");

    // Assess
    expect(words).toEqual(['loglake', 'search', "it's down", '--service', 'a b', '--data-dir', '/tmp/x']);
  });

  it('turns the command into the same search in the explorer', () => {
    // Act
    const link = searchLink(
      "loglake search 'login failed' --since 2026-11-30T10:00:00.000Z --until 2026-11-30T10:05:00.000Z --level ERROR,CRITICAL --service identity --data-dir /lake",
    );

    // Assess
    expect(Object.fromEntries(new URLSearchParams(link))).toEqual({
      q: 'login failed',
      since: '2026-11-30T10:00:00.000Z',
      until: '2026-11-30T10:05:00.000Z',
      level: 'ERROR,CRITICAL',
      service: 'identity',
    });
  });

  it('keeps every --where of the command', () => {
    // Act
    const link = searchLink(
      "loglake search --since 2026-11-30T10:00:00.000Z --until 2026-11-30T10:05:00.000Z --category audit --service loglake-access --where 'attributes.access.flags!=' --where 'attributes.a=x,y' --case-sensitive --data-dir /lake",
    );

    // Assess
    expect(new URLSearchParams(link).get('q')).toBeNull();
    expect(new URLSearchParams(link).getAll('where')).toEqual([
      'attributes.access.flags!=',
      'attributes.a=x,y',
    ]);
  });
});
