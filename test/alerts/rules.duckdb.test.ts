/**
 * Each default rule on DuckDB, through the same LakeSource the Lambda uses on Athena: it fires on data
 * that should trigger it and stays quiet on data that should not.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert';
import { type AlertRule, DEFAULT_RULES } from '../../src/alerts/config';
import { LakeSource } from '../../src/alerts/lake';
import type { ErrorArrival } from '../../src/alerts/pipeline';
import { MemoryStateStore, type RunReport, runEvaluation } from '../../src/alerts/run';
import { type AccessEvent, type AccessFlag, accessLogEvent } from '../../src/audit/access';
import type { SearchRecord } from '../../src/query';
import { LOCAL_TABLE, runDuckDb } from '../../src/query/duckdb';
import type { Category, Level } from '../../src/schema';
import { memoryLake, record } from '../helpers/records';

const rule = (name: string): AlertRule => ({ ...(DEFAULT_RULES[name] as Omit<AlertRule, 'name'>), name });
// Evaluated at 12:07 with a 2-minute delay: the 5-minute window is 12:00-12:05.
const at = new Date('2026-11-22T12:07:00Z');
const windowStart = Date.parse('2026-11-22T12:00:00Z');

let close: (() => void) | undefined;
afterEach(() => close?.());

/** `n` events spread over the minute starting `minute` minutes after the window start. */
function events(n: number, minute: number, over: Partial<SearchRecord> = {}): SearchRecord[] {
  return Array.from({ length: n }, (_, i) =>
    record({
      timestamp: new Date(windowStart + minute * 60_000 + ((i * 997) % 60_000)).toISOString(),
      correlation_id: `c-${minute}-${i}-${over.service ?? 'checkout'}`,
      ...over,
    }),
  );
}

async function evaluate(
  name: string,
  records: SearchRecord[],
  arrivals: ErrorArrival[] = [],
): Promise<Alert[]> {
  const lake = await memoryLake(records);
  close = lake.close;
  const connection: DuckDBConnection = lake.connection;
  const source = new LakeSource({
    dialect: 'duckdb',
    maxSamples: 3,
    maxGroups: 50,
    lockedCategories: ['security', 'audit'],
    tables: () => [{ table: LOCAL_TABLE }],
    run: (built) => runDuckDb(connection, built),
    arrivals: async () => arrivals,
  });
  const sent: Alert[] = [];
  await runEvaluation(
    [rule(name)],
    at,
    { source, store: new MemoryStateStore(), notifier: { send: async (a) => void sent.push(...a) } },
    { delayMinutes: 2 },
  );
  return sent;
}

const level = (l: Level) => ({ level: l });
const category = (c: Category) => ({ category: c });

describe('default rule error-rate', () => {
  it('fires for the one service above 5% errors, with error samples', async () => {
    const alerts = await evaluate('error-rate', [
      ...events(90, 1, { service: 'checkout' }),
      ...events(10, 2, { service: 'checkout', ...level('ERROR'), ...category('errors') }),
      ...events(100, 1, { service: 'search' }),
      ...events(2, 3, { service: 'search', ...level('ERROR'), ...category('errors') }),
    ]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      rule: 'error-rate',
      group: { service: 'checkout' },
      value: 0.1,
      threshold: 0.05,
    });
    expect(alerts[0]?.samples).toHaveLength(3);
    expect(alerts[0]?.samples.every((s) => s.startsWith('c-2-'))).toBe(true);
  });

  it('stays quiet at 4% errors, for too few events, and for errors outside the window', async () => {
    expect(
      await evaluate('error-rate', [
        ...events(96, 1),
        ...events(4, 2, level('ERROR')),
        ...events(5, 1, { service: 'tiny', ...level('ERROR') }),
        ...events(50, 6, { service: 'later', ...level('ERROR') }),
        ...events(50, -1, { service: 'earlier', ...level('ERROR') }),
      ]),
    ).toEqual([]);
  });

  it('stays firing through a window under minEvents and resolves on a window of real traffic', async () => {
    // Prepare: three consecutive 5-minute windows (12:00, 12:05, 12:10) of checkout traffic: 100 events
    // at 10% errors, then 5 events (all errors, under minEvents 20), then 100 events without errors.
    const lake = await memoryLake([
      ...events(90, 1),
      ...events(10, 2, { ...level('ERROR'), ...category('errors') }),
      ...events(5, 6, { ...level('ERROR'), ...category('errors') }),
      ...events(100, 11),
    ]);
    close = lake.close;
    const connection: DuckDBConnection = lake.connection;
    const source = new LakeSource({
      dialect: 'duckdb',
      maxSamples: 3,
      maxGroups: 50,
      lockedCategories: ['security', 'audit'],
      tables: () => [{ table: LOCAL_TABLE }],
      run: (built) => runDuckDb(connection, built),
      arrivals: async () => [],
    });
    const sent: Alert[] = [];
    const ports = {
      source,
      store: new MemoryStateStore(),
      notifier: { send: async (a: readonly Alert[]) => void sent.push(...a) },
    };
    // Act
    const statuses: string[][] = [];
    for (const minutes of [0, 5, 10]) {
      const before = sent.length;
      await runEvaluation([rule('error-rate')], new Date(at.getTime() + minutes * 60_000), ports, {
        delayMinutes: 2,
      });
      statuses.push(sent.slice(before).map((a) => a.status));
    }
    // Assess
    expect(statuses).toEqual([['firing'], [], ['resolved']]);
    expect(sent[1]).toMatchObject({ value: 0, details: { errors: 0, total: 100 } });
  });
});

describe('default rule security-critical', () => {
  it('fires on a single CRITICAL security event', async () => {
    const alerts = await evaluate('security-critical', [
      ...events(50, 1, category('security')),
      ...events(1, 4, {
        service: 'auth',
        ...category('security'),
        ...level('CRITICAL'),
        correlation_id: 'incident-1',
      }),
    ]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      severity: 'critical',
      group: { service: 'auth' },
      value: 1,
      samples: ['incident-1'],
    });
    expect(alerts[0]?.search).toContain('--category security --level CRITICAL --service auth');
  });

  it('stays quiet on CRITICAL events in other categories and on ERROR in security', async () => {
    expect(
      await evaluate('security-critical', [
        ...events(3, 1, { ...category('errors'), ...level('CRITICAL') }),
        ...events(3, 1, { ...category('security'), ...level('ERROR') }),
      ]),
    ).toEqual([]);
  });
});

/**
 * An access event as the transform stores it: the event the audit hook writes (`accessLogEvent`), its
 * `access` object flattened with dots into `attributes`, in the audit category.
 */
function accessRecord(minute: number, flags: AccessFlag[], over: Partial<AccessEvent> = {}): SearchRecord {
  const event: AccessEvent = {
    time: new Date(windowStart + minute * 60_000).toISOString(),
    principal: 'alice@laptop',
    command: 'export',
    engine: 'duckdb',
    lake: '/var/lib/loglake',
    queryKind: 'search',
    categories: ['runtime'],
    filter: { since: '2026-11-22T00:00:00.000Z', until: '2026-11-22T12:00:00.000Z' },
    rows: flags.includes('bulk_read') ? 250_000 : 40,
    outcome: 'completed',
    durationMs: 900,
    flags,
    ...over,
  };
  const raw = accessLogEvent(event);
  const attributes: Record<string, string> = {};
  const flatten = (prefix: string, value: unknown): void => {
    if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) flatten(`${prefix}.${k}`, v);
    } else attributes[prefix] = String(value);
  };
  flatten('access', raw.access);
  return record({
    timestamp: event.time,
    level: raw.level as Level,
    service: String(raw.service),
    logger: String(raw.logger),
    message: String(raw.message),
    correlation_id: null,
    attributes,
    category: 'audit',
  });
}

describe('default rule bulk-read', () => {
  it('fires on a bulk export and on a persona reading a locked category, at high severity', async () => {
    const alerts = await evaluate('bulk-read', [
      ...Array.from({ length: 20 }, (_, i) => accessRecord(i % 5, [])),
      accessRecord(2, ['bulk_read']),
      accessRecord(3, ['locked_category'], {
        persona: 'auditor',
        categories: ['security'],
        command: 'search',
      }),
    ]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      rule: 'bulk-read',
      severity: 'high',
      status: 'firing',
      group: { service: 'loglake-access' },
      value: 2,
    });
    expect(alerts[0]?.search).toContain('--category audit');
  });

  it('stays quiet on ordinary reads, and on flagged-looking events outside the audit category', async () => {
    const lookalike = { ...accessRecord(1, ['bulk_read']), category: 'runtime' as Category };
    expect(
      await evaluate('bulk-read', [...Array.from({ length: 30 }, () => accessRecord(1, [])), lookalike]),
    ).toEqual([]);
  });

  it('stays quiet on a bulk read outside the window', async () => {
    expect(await evaluate('bulk-read', [accessRecord(-10, ['bulk_read'])])).toEqual([]);
  });
});

describe('default rule volume-anomaly', () => {
  /** A steady hour of ~100 events per 5 minutes in `runtime` before the window. */
  const baseline = (c: Category = 'runtime') =>
    Array.from({ length: 12 }, (_, k) => events(95 + ((k * 7) % 11), -5 * (k + 1), category(c))).flat();

  it('fires on a spike against the trailing hour', async () => {
    const alerts = await evaluate('volume-anomaly', [...baseline(), ...events(400, 2, category('runtime'))]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ group: { category: 'runtime' }, unit: 'sigma' });
    expect(alerts[0]?.value).toBeGreaterThan(2);
  });

  it('fires when a category goes silent', async () => {
    const alerts = await evaluate('volume-anomaly', baseline('api_access'));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]?.value).toBeLessThan(-2);
  });

  it('stays quiet on ordinary volume and on a category without a baseline', async () => {
    expect(
      await evaluate('volume-anomaly', [
        ...baseline(),
        ...events(101, 2, category('runtime')),
        ...events(30, 2, category('framework')),
      ]),
    ).toEqual([]);
  });
});

describe('default rule firehose-errors', () => {
  const arrival = (minute: number, type = 'processing-failed'): ErrorArrival => ({
    at: new Date(windowStart + minute * 60_000).toISOString(),
    type,
    stream: 'logs',
    object: `bucket/errors/${type}/x-${minute}`,
  });

  it('fires on any new object under the error prefix in its window', async () => {
    const alerts = await evaluate('firehose-errors', [], [arrival(3)]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      group: { type: 'processing-failed', stream: 'logs' },
      value: 1,
      threshold: 0,
    });
    expect(alerts[0]?.search).toBeUndefined();
  });

  it('stays quiet when nothing arrived in its window', async () => {
    // The rule's window is 15 minutes (11:50-12:05): an object from 11:40 is old news.
    expect(await evaluate('firehose-errors', [], [arrival(-20)])).toEqual([]);
  });
});

/** Evaluate one rule at `at` + each of `minutes`, with one state store, through DuckDB. */
async function evaluateSlots(
  which: string | AlertRule,
  records: SearchRecord[],
  minutes: number[],
  maxGroups: number,
) {
  const evaluated = typeof which === 'string' ? rule(which) : which;
  const lake = await memoryLake(records);
  close = lake.close;
  const connection: DuckDBConnection = lake.connection;
  const source = new LakeSource({
    dialect: 'duckdb',
    maxSamples: 3,
    maxGroups,
    lockedCategories: ['security', 'audit'],
    tables: () => [{ table: LOCAL_TABLE }],
    run: (built) => runDuckDb(connection, built),
    arrivals: async () => [],
  });
  const sent: Alert[] = [];
  const store = new MemoryStateStore();
  const notifier = { send: async (a: readonly Alert[]) => void sent.push(...a) };
  const slots: { alerts: string[]; report: RunReport }[] = [];
  for (const m of minutes) {
    const before = sent.length;
    const report = await runEvaluation(
      [evaluated],
      new Date(at.getTime() + m * 60_000),
      { source, store, notifier },
      {
        delayMinutes: 2,
      },
    );
    slots.push({ alerts: sent.slice(before).map((a) => `${a.status} ${a.groupKey}`), report });
  }
  return slots;
}

describe('maxGroups and groups already firing', () => {
  const critical = { ...level('CRITICAL'), ...category('security') };

  it('keeps a firing count group that more active groups push out of the limit, and resolves it when it is quiet', async () => {
    // Prepare: auth breaches alone in 12:00-12:05; billing, busier, joins it in 12:05-12:10; only
    // billing in 12:10-12:15. One group per evaluation.
    const records = [
      ...events(3, 1, { service: 'auth', ...critical }),
      ...events(10, 6, { service: 'billing', ...critical }),
      ...events(3, 7, { service: 'auth', ...critical }),
      ...events(10, 11, { service: 'billing', ...critical }),
    ];
    // Act
    const slots = await evaluateSlots('security-critical', records, [0, 5, 10], 1);
    // Assess
    expect(slots.map((s) => s.alerts)).toEqual([
      ['firing service=auth'],
      ['firing service=billing'],
      ['resolved service=auth'],
    ]);
  });

  it('reads a pushed-out group back by a numeric group value (service and http_status)', async () => {
    // Prepare: 5xx per service and status; checkout's 502s fire alone, then billing's busier 500s fill
    // the one-group limit while checkout keeps breaching, then checkout stops.
    const byStatus: AlertRule = {
      ...rule('security-critical'),
      name: 'server-errors',
      filter: { where: ['http_status>=500'] },
      groupBy: ['service', 'http_status'],
      channels: [],
    };
    const records = [
      ...events(3, 1, { service: 'checkout', http_status: 502 }),
      ...events(10, 6, { service: 'billing', http_status: 500 }),
      ...events(3, 7, { service: 'checkout', http_status: 502 }),
      ...events(10, 11, { service: 'billing', http_status: 500 }),
    ];
    // Act
    const slots = await evaluateSlots(byStatus, records, [0, 5, 10], 1);
    // Assess
    expect(slots.map((s) => s.alerts)).toEqual([
      ['firing http_status=502,service=checkout'],
      ['firing http_status=500,service=billing'],
      ['resolved http_status=502,service=checkout'],
    ]);
  });

  it('judges a firing error-rate group on its own figures when worse groups fill the limit', async () => {
    const records = [
      ...events(90, 1),
      ...events(10, 2, { ...level('ERROR'), ...category('errors') }),
      ...events(50, 6, { service: 'search' }),
      ...events(50, 7, { service: 'search', ...level('ERROR'), ...category('errors') }),
      ...events(100, 6),
    ];
    const slots = await evaluateSlots('error-rate', records, [0, 5], 1);
    expect(slots.map((s) => s.alerts)).toEqual([
      ['firing service=checkout'],
      ['firing service=search', 'resolved service=checkout'],
    ]);
    const outcome = slots[1]?.report.outcomes[0];
    expect(outcome?.outcome === 'evaluated' && outcome.decisions).toContainEqual(
      expect.objectContaining({ groupKey: 'service=checkout', value: 0, action: 'resolve' }),
    );
  });
});
