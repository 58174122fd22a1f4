import { mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/alert';
import { ALERTS_FILE, LocalNotifier, PENDING_FILE, startLocalAlerting } from '../../src/alerts/local';
import { alertsEvaluate, showDemoAlerts } from '../../src/cli/commands/alerts';
import { resolveConfig } from '../../src/config';
import type { SearchRecord } from '../../src/query';
import { minuteEvents, record, writeParquetLake } from '../helpers/records';

const windowStart = Date.parse('2026-11-22T12:00:00Z');
const at = '2026-11-22T12:07:00Z';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'loglake-alerts-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Writes records as the local pipeline does: hive-partitioned Parquet under `<dir>/logs/`. */
const writeLake = (records: SearchRecord[]) => writeParquetLake(dir, records);

const events = (n: number, minute: number, over: Partial<SearchRecord> = {}) =>
  minuteEvents(windowStart, n, minute, over);

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

  it('evaluates the windows it missed while it was not running (a laptop asleep), under their own slots', async () => {
    // Prepare: the incident is in 12:00-12:05; alerting ran at 11:57, then not until 12:17.
    await writeLake(incident());
    const alerting = startLocalAlerting({ dataDir: dir, config: resolveConfig({}) });
    let report: Awaited<ReturnType<typeof alerting.tick>>;
    // Act
    try {
      await alerting.tick(new Date('2026-11-22T11:57:00Z'));
      report = await alerting.tick(new Date('2026-11-22T12:17:00Z'));
    } finally {
      alerting.stop();
    }
    // Assess: windows ending 12:00, 12:05 and 12:10 were read late; the incident fired at 12:07.
    const alerts = readFileSync(join(dir, ALERTS_FILE), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Alert);
    expect(alerts.filter((a) => a.status === 'firing').map((a) => [a.rule, a.firedAt, a.window.end])).toEqual(
      [
        ['error-rate', '2026-11-22T12:07:00.000Z', '2026-11-22T12:05:00.000Z'],
        ['security-critical', '2026-11-22T12:07:00.000Z', '2026-11-22T12:05:00.000Z'],
      ],
    );
    expect(report.outcomes.find((o) => o.rule === 'error-rate')).toMatchObject({
      outcome: 'evaluated',
      caughtUp: 3,
    });
  });

  it('keeps an alert the webhook refused and posts it at the next evaluation, without duplicating alerts.jsonl', async () => {
    // Arrange
    await writeLake(events(1, 3, { service: 'auth', level: 'CRITICAL', category: 'security' }));
    failNext = 3;
    const errors: Error[] = [];
    const alerting = startLocalAlerting({
      dataDir: dir,
      config: resolveConfig({}),
      webhookUrl: url,
      onDeliveryError: (e) => errors.push(e),
    });

    // Act
    try {
      await alerting.tick(new Date(at));
      const kept = JSON.parse(readFileSync(join(dir, PENDING_FILE), 'utf8')) as unknown[];
      expect(kept).toHaveLength(1);
      await alerting.tick(new Date('2026-11-22T12:08:00Z'));
    } finally {
      alerting.stop();
    }

    // Assess
    expect(errors.map((e) => e.message)).toEqual([
      expect.stringMatching(new RegExp(`^webhook ${url} did not accept alerts: HTTP 503 after 3 attempt`)),
    ]);
    expect(received.map((a) => a.rule)).toEqual(['security-critical']);
    expect(readFileSync(join(dir, ALERTS_FILE), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(dir, PENDING_FILE), 'utf8'))).toEqual([]);
  }, 30_000);
});

describe('local delivery to the channels a rule names', () => {
  let server: Server;
  let port: number;
  let received: Array<{ path: string; alert: Alert; key: string | undefined }>;
  /** Set: the server takes requests and never answers. */
  let hang: boolean;

  const listen = (p = 0) =>
    new Promise<void>((r) => {
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => {
          body += c;
        });
        req.on('end', () => {
          if (hang) return;
          received.push({
            path: req.url ?? '',
            alert: JSON.parse(body) as Alert,
            key: req.headers['idempotency-key'] as string | undefined,
          });
          res.writeHead(202).end();
        });
      });
      server.listen(p, '127.0.0.1', () => {
        port = (server.address() as AddressInfo).port;
        r();
      });
    });
  const close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });

  /** The default rules, `security-critical` routed to a chat, a paging and an email channel. */
  const config = () => {
    const c = resolveConfig({
      alerts: {
        channels: {
          chat: { type: 'chat', webhookUrl: 'https://chat.example.com/hook' },
          pager: { type: 'paging', url: 'https://events.example.com/enqueue' },
          mail: { type: 'email', addresses: ['oncall@example.com'] },
        },
        rules: { 'security-critical': { channels: ['chat', 'pager', 'mail'] } },
      },
    });
    // The schema asks for https (SNS subscriptions on AWS); the local receiver is plain HTTP on loopback.
    return {
      ...c,
      alerts: {
        ...c.alerts,
        channels: {
          ...c.alerts.channels,
          chat: { type: 'chat' as const, webhookUrl: `http://127.0.0.1:${port}/chat` },
          pager: { type: 'paging' as const, url: `http://127.0.0.1:${port}/pager`, firingOnly: false },
        },
      },
    };
  };

  beforeEach(async () => {
    received = [];
    hang = false;
    await listen();
  });
  afterEach(close);

  it('posts to the chat and paging webhooks, and says the email channel is only recorded', async () => {
    // Arrange
    await writeLake(events(1, 3, { service: 'auth', level: 'CRITICAL', category: 'security' }));
    const notes: string[] = [];
    const alerting = startLocalAlerting({ dataDir: dir, config: config(), onNote: (n) => notes.push(n) });

    // Act
    try {
      await alerting.tick(new Date(at));
    } finally {
      alerting.stop();
    }

    // Assess
    expect(received.map((r) => r.path).sort()).toEqual(['/chat', '/pager']);
    for (const r of received) {
      expect(r.alert).toMatchObject({
        rule: 'security-critical',
        status: 'firing',
        channels: ['chat', 'pager', 'mail'],
      });
      expect(r.key).toBe(r.alert.id);
    }
    expect(notes).toEqual([
      expect.stringMatching(
        /channel mail \(email\) is delivered by its SNS topic on AWS only; locally the alert is recorded in alerts.jsonl only/,
      ),
    ]);
    expect(readFileSync(join(dir, ALERTS_FILE), 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('names a dead channel endpoint, keeps the alert in the history, and delivers it when the endpoint is back', async () => {
    // Arrange: the endpoint is down (nothing listens on its port).
    await writeLake(events(1, 3, { service: 'auth', level: 'CRITICAL', category: 'security' }));
    const c = config();
    await close();
    const errors: Error[] = [];
    const alerting = startLocalAlerting({
      dataDir: dir,
      config: c,
      onDeliveryError: (e) => errors.push(e),
      onNote: () => undefined,
    });

    try {
      // Act 1
      await alerting.tick(new Date(at));

      // Assess 1: each endpoint named once, the alert recorded, both deliveries kept.
      expect(errors.map((e) => e.message).sort()).toEqual([
        expect.stringMatching(
          new RegExp(
            `^channel chat \\(http://127\\.0\\.0\\.1:${port}/chat\\) did not accept alerts: .*ECONNREFUSED.* after 3 attempt\\(s\\); 1 alert\\(s\\) for it kept in `,
          ),
        ),
        expect.stringMatching(
          new RegExp(`^channel pager \\(http://127\\.0\\.0\\.1:${port}/pager\\) did not accept`),
        ),
      ]);
      expect(readFileSync(join(dir, ALERTS_FILE), 'utf8').trim().split('\n')).toHaveLength(1);
      expect(JSON.parse(readFileSync(join(dir, PENDING_FILE), 'utf8'))).toHaveLength(2);

      // Act 2: the receiver is back on the same port; the next evaluation finds nothing new.
      await listen(port);
      await alerting.tick(new Date('2026-11-22T12:08:00Z'));
    } finally {
      alerting.stop();
    }

    // Assess 2
    expect(received.map((r) => r.path).sort()).toEqual(['/chat', '/pager']);
    expect(received.every((r) => r.alert.rule === 'security-critical')).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, PENDING_FILE), 'utf8'))).toEqual([]);
    expect(errors).toHaveLength(2);
  }, 60_000);

  it('pages only firing alerts on a firingOnly paging channel; chat gets the resolve too', async () => {
    // Arrange: a resolved alert, as the engine sends when an incident stops breaching.
    const resolved = {
      version: 1,
      id: 'security-critical|*|resolved|2026-11-22T12:08:00.000Z',
      source: 'rule',
      status: 'resolved',
      rule: 'security-critical',
      description: 'critical security events',
      severity: 'critical',
      channels: ['chat', 'pager'],
      kind: 'count',
      value: 0,
      threshold: 0,
      unit: 'events',
      window: { start: '2026-11-22T12:02:00.000Z', end: '2026-11-22T12:07:00.000Z' },
      group: {},
      groupKey: '*',
      firedAt: '2026-11-22T12:08:00.000Z',
      since: '2026-11-22T12:07:00.000Z',
      repeat: false,
      samples: [],
      details: {},
    } as unknown as Alert;
    const c = config();
    const notifier = new LocalNotifier({
      dataDir: dir,
      channels: {
        ...c.alerts.channels,
        pager: { type: 'paging', url: `http://127.0.0.1:${port}/pager`, firingOnly: true },
      },
    });

    // Act
    await notifier.send([resolved]);

    // Assess
    expect(received.map((r) => [r.path, r.alert.status])).toEqual([['/chat', 'resolved']]);
    expect(readFileSync(join(dir, ALERTS_FILE), 'utf8')).toContain(resolved.id);
  });

  it('gives up on an endpoint that does not answer within the timeout, and keeps the alert', async () => {
    // Arrange
    await writeLake(events(1, 3, { service: 'auth', level: 'CRITICAL', category: 'security' }));
    hang = true;
    const errors: Error[] = [];
    const alerting = startLocalAlerting({
      dataDir: dir,
      config: config(),
      webhookTimeoutMs: 300,
      onDeliveryError: (e) => errors.push(e),
      onNote: () => undefined,
    });

    // Act
    try {
      await alerting.tick(new Date(at));
    } finally {
      alerting.stop();
    }

    // Assess
    expect(errors.map((e) => e.message)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /channel chat .* did not accept alerts: no answer within 300 ms after 3 attempt/,
        ),
      ]),
    );
    expect(readFileSync(join(dir, ALERTS_FILE), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(dir, PENDING_FILE), 'utf8'))).toHaveLength(2);
  }, 60_000);
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
