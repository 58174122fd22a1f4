/**
 * Every read of the lake is itself an access event, on the paths `access.test.ts` does not run:
 * `loglake patterns`, `search --context`, `subject export` (a person's right of access) and the
 * compliance report's own reads (its queries and its redaction rescan of every stored record). Each runs
 * against a real local lake written by the pipeline; the events are found by search in the `audit`
 * category, with who, what, scope and the rows handed over.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComplianceReport } from '../../src/compliance/report';
import { loglake } from '../helpers/cli';
import { type KnownLake, writeKnownLake } from '../helpers/known-lake';

interface AccessRow {
  level: string;
  category: string;
  attributes: Record<string, string>;
}

let lake: KnownLake;
beforeAll(async () => {
  lake = await writeKnownLake();
});
afterAll(() => lake?.dispose());

/** The access events of `command`, oldest first (the listing's own search events are left out by command). */
async function eventsOf(command: string): Promise<Record<string, string>[]> {
  const r = await loglake([
    'search',
    '--data-dir',
    lake.dataDir,
    '--category',
    'audit',
    '--service',
    'loglake-access',
    '--where',
    `attributes.access.command=${command}`,
    '--since',
    '1h',
    '--order',
    'asc',
    '--limit',
    '1000',
    '--format',
    'json',
  ]);
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as AccessRow[]).map((e) => {
    expect(e.category).toBe('audit');
    return e.attributes;
  });
}

const lines = (text: string) => text.split('\n').filter(Boolean);

describe('access events of the other read paths', () => {
  it('records loglake patterns: the templates it read, with its filter', async () => {
    // Act
    const r = await loglake([
      'patterns',
      '--data-dir',
      lake.dataDir,
      '--service',
      'payments',
      '--since',
      '1d',
      '--format',
      'json',
    ]);

    // Assert
    expect(r.code, r.stderr).toBe(0);
    const patterns = JSON.parse(r.stdout) as Array<{ count: number; templates: number }>;
    expect(patterns.reduce((n, p) => n + p.count, 0)).toBe(6);
    const [event, ...more] = await eventsOf('patterns');
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      'access.engine': 'duckdb',
      'access.query_kind': 'patterns',
      'access.outcome': 'completed',
      'access.categories': 'all',
      'access.filter.services': 'payments',
      // One row per stored template read, before they are merged into patterns.
      'access.rows': String(patterns.reduce((n, p) => n + p.templates, 0)),
    });
    expect(event?.['access.principal']).toMatch(/\S+@\S+/);
    expect(event?.['access.lake']).toContain(lake.dataDir);
  });

  it('records search --context: hits and their neighbours, all counted', async () => {
    // Act
    const r = await loglake([
      'search',
      'card declined',
      '--context',
      '1',
      '--data-dir',
      lake.dataDir,
      '--since',
      '1d',
      '--format',
      'ndjson',
    ]);

    // Assert: two hits and the payments event either side of them
    expect(r.code, r.stderr).toBe(0);
    const shown = lines(r.stdout);
    expect(shown).toHaveLength(3);
    const context = (await eventsOf('search')).filter((e) => e['access.query_kind'] === 'context');
    expect(context).toHaveLength(1);
    expect(context[0]).toMatchObject({
      'access.filter.text': 'card declined',
      'access.rows': String(shown.length),
      'access.outcome': 'completed',
      'access.categories': 'all',
    });
  });

  it("records a subject export (right of access) with the persona, the subject's pseudonym and the rows", async () => {
    // Act
    const r = await loglake([
      'subject',
      'export',
      '--user',
      'customer-42',
      '--persona',
      'privacy-officer',
      '--data-dir',
      lake.dataDir,
      '--config',
      lake.configFile,
      '--output',
      '-',
    ]);

    // Assert
    expect(r.code, r.stderr).toBe(0);
    const exported = lines(r.stdout);
    expect(exported).toHaveLength(1);
    const [event, ...more] = await eventsOf('subject export');
    expect(more).toEqual([]);
    expect(event).toMatchObject({
      'access.persona': 'privacy-officer',
      'access.query_kind': 'search',
      'access.rows': '1',
      'access.outcome': 'completed',
    });
    // The pseudonym the query looked for, never the raw id.
    const { user_id } = JSON.parse(exported[0] ?? '{}') as { user_id: string };
    expect(event?.['access.filter.pseudonyms']).toBe(user_id);
    expect(JSON.stringify(event)).not.toContain('customer-42');
  });

  it("records the compliance report's own reads: its queries and the rescan of every stored record", async () => {
    // Act
    const r = await loglake([
      'compliance-report',
      '--data-dir',
      lake.dataDir,
      '--config',
      lake.configFile,
      '--since',
      '30d',
      '--format',
      'json',
    ]);

    // Assert
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as ComplianceReport;
    const item = (id: string) => report.items.find((i) => i.id === id);
    const rescanned = Number(/^(\d+) stored record/.exec(item('redaction')?.summary[1] ?? '')?.[1]);
    expect(rescanned).toBeGreaterThan(10);
    const all = await eventsOf('compliance-report');
    // The rescan hands its rows over object by object: a started event first, then its completion.
    const started = all.filter((e) => e['access.outcome'] === 'started');
    const events = all.filter((e) => e['access.outcome'] !== 'started');
    expect(started.map((e) => [e['access.categories'], e['access.rows']])).toEqual([['all', '0']]);
    expect(events.filter((e) => e['access.id'] === started[0]?.['access.id'])).toHaveLength(1);
    const reads = events.map((e) => [e['access.query_kind'], e['access.categories'], e['access.rows']]);
    expect(reads).toEqual([
      ['scan', 'audit', String(item('accessLog')?.rows.length)],
      ['scan', 'all', String(rescanned)],
      ['scan', 'audit', String(item('requests')?.rows.length)],
      ['aggregate', 'all', String(item('volume')?.rows.length)],
    ]);
    for (const e of events) {
      expect(e['access.filter.since']).toBe(report.period.since);
      expect(e['access.filter.until']).toBe(report.period.until);
      expect(e['access.outcome']).toBe('completed');
      expect(e['access.principal']).toMatch(/\S+@\S+/);
    }
  });
});
