import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert';
import { ALERTS_FILE, startLocalAlerting } from '../../src/alerts/local';
import { alertsEvaluate, showDemoAlerts } from '../../src/cli/commands/alerts';
import { resolveConfig } from '../../src/config';
import type { SearchRecord } from '../../src/query';
import { record, writeParquetLake } from '../helpers/records';

const windowStart = Date.parse('2026-11-22T12:00:00Z');
const at = '2026-11-22T12:07:00Z';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'loglake-alerts-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes records as the local pipeline does: hive-partitioned Parquet under `<dir>/logs/`. */
const writeLake = (records: SearchRecord[]) => writeParquetLake(dir, records);

function events(n: number, minute: number, over: Partial<SearchRecord> = {}): SearchRecord[] {
  return Array.from({ length: n }, (_, i) =>
    record({
      timestamp: new Date(windowStart + minute * 60_000 + i * 100).toISOString(),
      correlation_id: `c-${minute}-${i}`,
      ...over,
    }),
  );
}

const incident = () => [
  ...events(90, 1, { service: 'checkout' }),
  ...events(10, 2, { service: 'checkout', level: 'ERROR', category: 'errors' }),
  ...events(1, 3, { service: 'auth', level: 'CRITICAL', category: 'security', correlation_id: 'incident-7' }),
];

describe('loglake alerts evaluate', () => {
  it('prints a JSON array of the firing alerts with rule, severity, value, threshold, window, group and firedAt', async () => {
    await writeLake(incident());
    const { output } = await alertsEvaluate(
      { dataDir: dir, at, delay: 2, format: 'json' },
      resolveConfig({}),
    );
    const alerts = JSON.parse(output) as Alert[];
    expect(alerts.map((a) => `${a.rule} ${a.severity} ${a.groupKey}`).sort()).toEqual([
      'error-rate high service=checkout',
      'security-critical critical service=auth',
    ]);
    for (const a of alerts) {
      expect(a).toMatchObject({
        value: expect.any(Number),
        threshold: expect.any(Number),
        window: { start: '2026-11-22T12:00:00.000Z', end: '2026-11-22T12:05:00.000Z', minutes: 5 },
        firedAt: '2026-11-22T12:07:00.000Z',
      });
    }
    expect(alerts.find((a) => a.rule === 'security-critical')?.search).toBe(
      `loglake search --since 2026-11-22T12:00:00.000Z --until 2026-11-22T12:05:00.000Z --category security --level CRITICAL --service auth --data-dir ${dir}`,
    );
  });

  it('prints an empty array for a quiet lake and for an empty data directory', async () => {
    expect(
      JSON.parse((await alertsEvaluate({ dataDir: dir, at, format: 'json' }, resolveConfig({}))).output),
    ).toEqual([]);
    await writeLake(events(100, 1));
    expect(
      JSON.parse((await alertsEvaluate({ dataDir: dir, at, format: 'json' }, resolveConfig({}))).output),
    ).toEqual([]);
  });

  it('honours forEvaluations by replaying the earlier schedule slots', async () => {
    const config = resolveConfig({ alerts: { rules: { 'error-rate': { forEvaluations: 2 } } } });
    // Errors only in the latest window: one breaching evaluation, not two.
    await writeLake([...events(90, 1), ...events(10, 2, { level: 'ERROR' }), ...events(100, -4)]);
    const once = await alertsEvaluate(
      { dataDir: dir, at, delay: 2, format: 'json', rule: ['error-rate'] },
      config,
    );
    expect(once.alerts).toEqual([]);
    rmSync(join(dir, 'logs'), { recursive: true });
    // Errors in the previous window too: two consecutive breaching evaluations.
    await writeLake([
      ...events(90, 1),
      ...events(10, 2, { level: 'ERROR' }),
      ...events(90, -4),
      ...events(10, -3, { level: 'ERROR' }),
    ]);
    const twice = await alertsEvaluate(
      { dataDir: dir, at, delay: 2, format: 'json', rule: ['error-rate'] },
      config,
    );
    expect(twice.alerts.map((a) => a.rule)).toEqual(['error-rate']);
  });

  it('reports new files under errors/ through the firehose-errors rule', async () => {
    const file = join(dir, 'errors', 'processing-failed', 'dt=2026-11-22', 'seg-1.ndjson');
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, '{"rawData":"eA=="}\n');
    const t = new Date(windowStart + 60_000);
    utimesSync(file, t, t);
    const { alerts } = await alertsEvaluate({ dataDir: dir, at, format: 'json' }, resolveConfig({}));
    expect(alerts).toEqual([
      expect.objectContaining({
        rule: 'firehose-errors',
        value: 1,
        group: { type: 'processing-failed', stream: 'local' },
      }),
    ]);
  });

  it('prints a readable table by default', async () => {
    await writeLake(incident());
    const { output } = await alertsEvaluate({ dataDir: dir, at }, resolveConfig({}));
    expect(output).toContain('[CRITICAL] FIRING security-critical service=auth: 1 event');
    expect(output).toContain('samples: incident-7');
  });
});

describe('startLocalAlerting', () => {
  let server: Server;
  let received: Alert[];
  let failNext: number;
  let url: string;

  beforeEach(async () => {
    received = [];
    failNext = 0;
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        if (failNext > 0) {
          failNext--;
          res.writeHead(503).end();
          return;
        }
        received.push(JSON.parse(body) as Alert);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  it('prints, appends to alerts.jsonl and posts to the webhook once per alert', async () => {
    await writeLake(incident());
    const printed: Alert[] = [];
    const alerting = startLocalAlerting({
      dataDir: dir,
      config: resolveConfig({}),
      webhookUrl: url,
      print: (a) => printed.push(a),
    });
    try {
      await alerting.tick(new Date(at));
      await alerting.tick(new Date('2026-11-22T12:08:00Z'));
    } finally {
      alerting.stop();
    }
    const lines = readFileSync(join(dir, ALERTS_FILE), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(printed).toHaveLength(2);
    expect(received.map((a) => a.rule).sort()).toEqual(['error-rate', 'security-critical']);
  });

  it('posts again at the next evaluation when the webhook was down, without duplicating alerts.jsonl', async () => {
    await writeLake(events(1, 3, { service: 'auth', level: 'CRITICAL', category: 'security' }));
    failNext = 3;
    const alerting = startLocalAlerting({ dataDir: dir, config: resolveConfig({}), webhookUrl: url });
    try {
      await expect(alerting.tick(new Date(at))).rejects.toThrow(/webhook .* failed/);
      await alerting.tick(new Date('2026-11-22T12:08:00Z'));
    } finally {
      alerting.stop();
    }
    expect(received.map((a) => a.rule)).toEqual(['security-critical']);
    expect(readFileSync(join(dir, ALERTS_FILE), 'utf8').trim().split('\n')).toHaveLength(1);
  }, 30_000);
});

describe('showDemoAlerts', () => {
  it('shows alerts on traffic delivered this very minute', async () => {
    const now = new Date();
    await writeLake([
      record({
        timestamp: now.toISOString(),
        service: 'auth',
        level: 'CRITICAL',
        category: 'security',
        correlation_id: 'demo-incident',
      }),
    ]);
    let out = '';
    const alerts = await showDemoAlerts(
      dir,
      resolveConfig({}),
      (t) => {
        out += t;
      },
      now,
    );
    expect(alerts.map((a) => a.rule)).toEqual(['security-critical']);
    expect(out).toContain('samples: demo-incident');
  });
});
