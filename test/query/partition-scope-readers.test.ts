/**
 * The readers that serve many queries (the explorer, local alert evaluation, the compliance report) open
 * only the partitions each query can match, as `loglake search` does (partition-scope.test.ts): the lake
 * holds, in an hour outside every range read here, a file that is not Parquet at all, which DuckDB
 * refuses as soon as a view names it. Each reader still finds every row inside its ranges.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateLocalLake, startLocalAlerting } from '../../src/alerts/local';
import { localComplianceReport } from '../../src/compliance/report';
import { resolveConfig } from '../../src/config';
import type { SearchRecord } from '../../src/query';
import { UiSource } from '../../src/ui/source';
import { minuteEvents, writeParquetLake } from '../helpers/records';

const config = resolveConfig({});
const windowStart = Date.parse('2026-11-22T12:00:00Z');
const at = new Date('2026-11-22T12:07:00Z');
const hour = (h: number) => ({
  since: new Date(Date.UTC(2026, 10, 22, h)),
  until: new Date(Date.UTC(2026, 10, 22, h + 1)),
});

const events = (n: number, minute: number, over: Partial<SearchRecord> = {}) =>
  minuteEvents(windowStart, n, minute, over);

/** A file in 2026-11-22 hour 20 of `category` that DuckDB cannot open: reading it fails the query. */
function breakHour(dataDir: string, category: string): void {
  const dir = join(dataDir, 'logs', `category=${category}`, 'dt=2026-11-22', 'hour=20');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'not-parquet.parquet'), 'these bytes are not a Parquet file');
}

let root: string;
let dataDir: string;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'loglake-scope-readers-'));
  dataDir = join(root, 'lake');
  // An incident at 12:01–12:03 (error-rate and security-critical fire at 12:07) with one event of its
  // service just before, an access event and a privacy request in the audit category, and a broken hour
  // at 20:00 in runtime and in audit.
  await writeParquetLake(dataDir, [
    ...events(1, -1, { service: 'checkout', correlation_id: 'before-noon' }),
    ...events(90, 1, { service: 'checkout' }),
    ...events(10, 2, { service: 'checkout', level: 'ERROR', category: 'errors' }),
    ...events(1, 3, {
      service: 'auth',
      level: 'CRITICAL',
      category: 'security',
      correlation_id: 'incident-7',
    }),
    ...events(1, 4, {
      service: 'loglake-access',
      category: 'audit',
      correlation_id: 'access-1',
      attributes: {
        'access.principal': 'alice',
        'access.command': 'search',
        'access.rows': '3',
        'access.flags': '',
      },
    }),
    ...events(1, 5, {
      service: 'loglake-privacy',
      category: 'audit',
      correlation_id: 'request-1',
      attributes: { 'privacy.action': 'erase', 'privacy.subject': 'r_1', 'privacy.outcome': 'key destroyed' },
    }),
  ]);
  breakHour(dataDir, 'runtime');
  breakHour(dataDir, 'audit');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('UiSource over the local lake', () => {
  it('opens no hour a query cannot match: search, histogram and events around one record', async () => {
    // Prepare
    const source = await UiSource.open({ dataDir, config });
    try {
      // Act
      const found = await source.search({ kind: 'search', filter: hour(12), order: 'asc' });
      const histogram = await source.aggregate({
        kind: 'aggregate',
        filter: hour(12),
        groupBy: ['category'],
      });
      const around = await source.context({
        kind: 'context',
        filter: { since: new Date(windowStart + 60_000), until: new Date(windowStart + 60_001) },
        limit: 10,
        before: 2,
        after: 2,
      });
      const reaching = await source
        .search({ kind: 'search', filter: hour(20), order: 'asc' })
        .catch((error: unknown) => error);

      // Assess
      expect(found).toHaveLength(103);
      expect(Object.fromEntries(histogram.map((r) => [r.group.category, r.count]))).toEqual({
        audit: 2,
        errors: 10,
        runtime: 90,
        security: 1,
      });
      // The neighbour in the hour before is found: the context query reads an hour either side.
      expect(around.flatMap((b) => b.records.map((r) => r.correlation_id))).toEqual([
        'before-noon',
        'c-1-0',
        'c-1-1',
        'c-1-2',
      ]);
      expect(String(reaching)).toMatch(/not-parquet\.parquet/);
    } finally {
      source.close();
    }
  });
});

describe('local alert evaluation', () => {
  it('evaluateLocalLake reads only each rule window’s hours', async () => {
    // Act
    const alerts = await evaluateLocalLake({ dataDir, config, at, delayMinutes: 2 });

    // Assess
    expect(alerts.map((a) => `${a.rule} ${a.severity} ${a.groupKey}`).sort()).toEqual([
      'error-rate high service=checkout',
      'security-critical critical service=auth',
    ]);
  });

  it('the pipeline’s alerting tick reads only each rule window’s hours', async () => {
    // Prepare
    const tickDir = join(root, 'tick');
    await writeParquetLake(tickDir, [
      ...events(90, 1, { service: 'checkout' }),
      ...events(10, 2, { service: 'checkout', level: 'ERROR', category: 'errors' }),
    ]);
    breakHour(tickDir, 'runtime');
    const printed: string[] = [];
    const alerting = startLocalAlerting({
      dataDir: tickDir,
      config,
      delayMinutes: 2,
      print: (a) => printed.push(`${a.rule} ${a.severity} ${a.groupKey}`),
    });

    // Act
    try {
      await alerting.tick(at);
    } finally {
      alerting.stop();
    }

    // Assess
    expect(printed).toEqual(['error-rate high service=checkout']);
  });
});

describe('localComplianceReport', () => {
  it('reads only the hours of its period, and every access event, request and record in it', async () => {
    // Act
    const report = await localComplianceReport({
      dataDir,
      config,
      ...hour(12),
      standards: ['gdpr'],
      now: at,
    });

    // Assess
    const item = (id: string) => report.items.find((i) => i.id === id);
    expect(item('accessLog')?.rows.map((r) => r[1])).toEqual(['alice']);
    expect(item('requests')?.rows.map((r) => [r[1], r[4], r[5]])).toEqual([
      ['erase', 'r_1', 'key destroyed'],
    ]);
    expect(item('volume')?.summary[0]).toBe('103 record(s) in the period, in 5 category/service group(s)');
  });
});
