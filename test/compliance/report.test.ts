/**
 * `loglake compliance-report` over a lake with known contents written by the real pipeline: a clean
 * lake passes (the secret the transform removed is not found again); a secret written straight into a
 * Parquet file and a tampered object are found, with their location, and the report exits 3.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ALERTS, enabledRules } from '../../src/alerts/config';
import { FileStateStore, STATE_FILE } from '../../src/alerts/local';
import type { Observation } from '../../src/alerts/observe';
import { runEvaluation } from '../../src/alerts/run';
import { planCleanup } from '../../src/compliance/cleanup';
import { lakeObjectKeys } from '../../src/compliance/integrity';
import { type ComplianceReport, EVIDENCE_ITEMS, localComplianceReport } from '../../src/compliance/report';
import { DEFAULT_CONFIG } from '../../src/config';
import { DETECTOR_SET_LABEL } from '../../src/redact/version';
import { utcDate, utcHour } from '../../src/time';
import { loglake } from '../helpers/cli';
import { DAY, HOUR, type KnownLake, plantParquet, writeKnownLake } from '../helpers/known-lake';

let lake: KnownLake;
beforeAll(async () => {
  lake = await writeKnownLake();
});
afterAll(() => lake?.dispose());

const report = async (...extra: string[]) => {
  const r = await loglake([
    'compliance-report',
    '--data-dir',
    lake.dataDir,
    '--config',
    lake.configFile,
    '--since',
    '30d',
    ...extra,
  ]);
  return r;
};
const json = (stdout: string) => JSON.parse(stdout) as ComplianceReport;
const item = (r: ComplianceReport, id: string) => {
  const found = r.items.find((i) => i.id === id);
  if (!found) throw new Error(`no item ${id}`);
  return found;
};

describe('loglake compliance-report', () => {
  it('passes on the clean lake, with all nine items and their sources', async () => {
    // Arrange: a read to be reported
    const search = await loglake(['search', 'card declined', '--data-dir', lake.dataDir, '--since', '1d']);
    expect(search.code, search.stderr).toBe(0);

    // Act
    const r = await report('--format', 'json', '--standard', 'gdpr');

    // Assert
    expect(r.code, r.stderr).toBe(0);
    const rep = json(r.stdout);
    expect(rep.schema).toBe('loglake.compliance-report/v1');
    expect(rep.status).toBe('pass');
    expect(rep.findings).toEqual([]);
    expect(rep.items.map((i) => i.id)).toEqual([...EVIDENCE_ITEMS]);
    for (const i of rep.items) expect(i.source.length).toBeGreaterThan(10);
    expect(item(rep, 'retention').controls).toEqual(['Art. 5(1)(e)']);
    expect(item(rep, 'redaction').summary[0]).toBe('unredacted secrets found: 0');
    // The detectors' own version, not the package's.
    expect(item(rep, 'redaction').summary[1]).toContain(`(all of the period), ${DETECTOR_SET_LABEL}`);
    expect(item(rep, 'retention').rows.find((row) => row[0] === 'debug')).toEqual([
      'debug',
      14,
      14,
      false,
      expect.stringMatching(/^\d{4}-/),
    ]);
    const access = item(rep, 'accessLog');
    expect(access.rows.some((row) => row[3] === 'search' && row[5] === 2)).toBe(true);
    // What was searched for, from the event's filter fields; no bytes scanned on the local lake.
    const searchRow = access.rows.find((row) => row[3] === 'search');
    expect(access.columns.slice(-2)).toEqual(['filters', 'bytes scanned']);
    expect(searchRow?.[8]).toMatch(/^since=\S+ text=card declined until=\S+$/);
    expect(searchRow?.[9]).toBe('');
    expect(item(rep, 'accessControl').rows).toContainEqual(['auditor', 'audit', true, false]);
    expect(item(rep, 'accessControl').rows).toContainEqual(['developer', 'security', false, false]);
    const requests = item(rep, 'requests');
    expect(requests.rows).toEqual([
      [
        expect.any(String),
        'erase',
        'dpo@vm',
        'privacy_officer',
        'r_3f1c0d9e5a7b2468',
        'key destroyed',
        '',
        'GDPR Art. 17 request 2026-118',
        expect.stringContaining('GDPR Art. 17(3)(b)'),
      ],
    ]);
    expect(requests.summary).toEqual(['1 request event(s) in the period: 1 erase']);
    const volume = item(rep, 'volume');
    expect(volume.rows).toContainEqual(['errors', 'payments', 2, 2, 1]);
    expect(item(rep, 'integrity').status).toBe('ok');
    // Every object the pipeline delivered in the period is in the manifest (not the 40-day-old runtime
    // file, nor the access events of the report's own reads, written after its period ended).
    const manifest = item(rep, 'integrity').rows.map((row) => row[0]);
    const recent = lakeObjectKeys(lake.dataDir).filter(
      (k) => /category=(errors|api_access|security|audit)\//.test(k) && !k.includes('/access-'),
    );
    expect(recent.length).toBeGreaterThanOrEqual(4);
    for (const key of recent) expect(manifest).toContain(key);
    expect(item(rep, 'encryption').summary.join(' ')).toContain('does not encrypt data at rest');
  });

  it('reports the oldest data of each category, and the categories holding data past their expiry', async () => {
    // Act
    const r = await report('--format', 'json');

    // Assert: the known lake's 20-day-old debug and 40-day-old runtime lines, by the start of their hour
    expect(r.code, r.stderr).toBe(0);
    const retention = item(json(r.stdout), 'retention');
    const hourOf = (agoMs: number) => {
      const d = new Date(lake.now - agoMs);
      return `${utcDate(d)}T${utcHour(d)}:00:00.000Z`;
    };
    const row = (category: string) => retention.rows.find((x) => x[0] === category);
    expect(row('debug')).toEqual(['debug', 14, 14, false, hourOf(20 * DAY)]);
    expect(row('runtime')).toEqual(['runtime', 30, 30, false, hourOf(40 * DAY)]);
    expect(row('errors')?.[4]).toBe(hourOf(HOUR + 1500));
    expect(retention.status).toBe('notice');
    expect(retention.summary).toEqual([
      'notice: debug holds data older than its 14 days: run `loglake cleanup`',
      'notice: runtime holds data older than its 30 days: run `loglake cleanup`',
    ]);
  });

  it('renders Markdown and HTML from the same report', async () => {
    // Act
    const md = await report('--format', 'md');
    const html = await report('--format', 'html', '--output', join(lake.root, 'report.html'));

    // Assert
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toContain('# loglake compliance report');
    expect(md.stdout).toContain('## 5. Redaction verification — OK');
    expect(md.stdout).toContain('| persona | category | read | write |');
    expect(html.code, html.stderr).toBe(0);
    const page = readFileSync(join(lake.root, 'report.html'), 'utf8');
    expect(page).toContain('<h2 id="redaction">5. Redaction verification');
    expect(page).toContain('<td>auditor</td><td>audit</td><td>yes</td><td>no</td>');
  });

  it('finds a secret written straight into Parquet and a tampered object, and exits 3', async () => {
    // Arrange
    const at = new Date(lake.now - 3 * HOUR);
    const planted = `logs/category=runtime/dt=${utcDate(at)}/hour=${utcHour(at)}/planted.parquet`;
    await plantParquet(lake.dataDir, planted, [
      { timestamp: at.toISOString(), message: 'order placed' },
      { timestamp: at.toISOString(), message: 'deploy with AKIAIOSFODNN7EXAMPLE now' },
      {
        timestamp: at.toISOString(),
        message: 'deploy',
        message_template: 'deploy ghp_R5fpQ2x7Lm9Kd3Vt8Wn1Yc4Hb6Js0Ae2Zu5G',
      },
      // A real-looking request id is kept; a key used as a correlation id is not.
      {
        timestamp: at.toISOString(),
        message: 'paid',
        correlation_id: '4990ed56-0826-4ffe-af98-6f0b04c59e5f',
      },
      { timestamp: at.toISOString(), message: 'paid', correlation_id: 'sk_live_4eC39HqLyjWDarjtT1zdp7dc' },
    ]);
    const victim = lakeObjectKeys(lake.dataDir).find((k) => k.includes('category=errors/'));
    if (!victim) throw new Error('the known lake has no errors object');
    // Rewritten with other content, still valid Parquet: what an editor of the lake would leave.
    await plantParquet(lake.dataDir, victim, [
      { timestamp: new Date(lake.now - HOUR).toISOString(), level: 'INFO', message: 'card accepted' },
    ]);

    // Act
    const r = await report('--format', 'json');

    // Assert
    expect(r.code).toBe(3);
    const rep = json(r.stdout);
    expect(rep.status).toBe('fail');
    const redaction = item(rep, 'redaction');
    expect(redaction.status).toBe('violation');
    expect(redaction.summary[0]).toBe('unredacted secrets found: 3');
    expect(redaction.rows).toEqual([
      [planted, 1, 'message', 'aws_access_key'],
      [planted, 2, 'message_template', 'github_token'],
      [planted, 4, 'correlation_id', 'stripe_key'],
    ]);
    const integrity = item(rep, 'integrity');
    expect(integrity.status).toBe('violation');
    expect(integrity.summary.some((s) => s.startsWith(`FINDING: changed ${victim}`))).toBe(true);
    expect(integrity.summary.some((s) => s.startsWith(`FINDING: unrecorded ${planted}`))).toBe(true);
    expect(rep.findings.map((f) => f.item).sort()).toEqual([
      'integrity',
      'integrity',
      'redaction',
      'redaction',
      'redaction',
    ]);
    expect(r.stderr).toContain('compliance-report: fail, 5 finding(s)');
  });

  it('reports retention shorter than the policy as a finding', async () => {
    // Arrange
    const config = join(lake.root, 'short.json');
    writeFileSync(config, JSON.stringify({ categories: { debug: { expiryDays: 7 } } }));

    // Act
    const r = await loglake([
      'compliance-report',
      '--data-dir',
      lake.dataDir,
      '--config',
      config,
      '--format',
      'json',
    ]);

    // Assert
    expect(r.code).toBe(3);
    const retention = item(json(r.stdout), 'retention');
    expect(retention.status).toBe('violation');
    expect(retention.summary).toContain("FINDING: debug is kept 7 days, shorter than the policy's 14");
  });

  it('counts data as overdue from the moment it expires, as cleanup does', async () => {
    // Arrange: one debug hour whose expiry (end of the hour + 14 days) is `expiry`
    const dataDir = mkdtempSync(join(tmpdir(), 'loglake-overdue-'));
    const expiry = Date.parse('2026-06-15T12:00:00.000Z');
    const start = new Date(expiry - 14 * DAY - HOUR);
    await plantParquet(dataDir, `logs/category=debug/dt=${utcDate(start)}/hour=${utcHour(start)}/p.parquet`, [
      { timestamp: start.toISOString(), message: 'boundary' },
    ]);
    const overdueAt = async (until: number) => {
      const rep = await localComplianceReport({
        dataDir,
        config: DEFAULT_CONFIG,
        since: new Date(until - 30 * DAY),
        until: new Date(until),
        standards: ['gdpr'],
        now: new Date(until),
      });
      return item(rep, 'retention').summary.some((s) => s.startsWith('notice: debug holds data older'));
    };
    try {
      // Act
      const before = await overdueAt(expiry - HOUR);
      const at = await overdueAt(expiry);
      const after = await overdueAt(expiry + HOUR);

      // Assert
      expect([before, at, after]).toEqual([false, true, true]);
      expect(planCleanup(dataDir, DEFAULT_CONFIG, new Date(expiry)).expired).toHaveLength(1);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('reports when each rule last fired and last resolved, from the local rule state', async () => {
    // Arrange: the bulk-read rule breaches at 10:05 and is quiet at 10:10, kept by the local state store
    const [rule] = enabledRules(DEFAULT_ALERTS).filter((r) => r.name === 'bulk-read');
    if (!rule) throw new Error('no bulk-read rule');
    const flagged: Observation = {
      group: { service: 'loglake-access' },
      groupKey: 'service=loglake-access',
      value: 2,
      breaching: true,
      judged: true,
      details: {},
      samples: [],
    };
    const store = new FileStateStore(join(lake.dataDir, STATE_FILE));
    for (const [at, observations] of [
      ['2026-11-20T10:05:00Z', [flagged]],
      ['2026-11-20T10:10:00Z', []],
    ] as const) {
      await runEvaluation(
        [rule],
        new Date(at),
        { source: { observe: async () => [...observations] }, store, notifier: { send: async () => {} } },
        { delayMinutes: 2 },
      );
    }

    // Act
    const r = await report('--format', 'json');

    // Assert
    const coverage = item(json(r.stdout), 'alertCoverage');
    expect(coverage.columns.slice(-2)).toEqual(['last fired', 'last resolved']);
    const row = coverage.rows.find((x) => x[0] === 'bulk-read');
    expect(row?.slice(-3)).toEqual([
      null,
      '2026-11-20T10:05:00.000Z (service=loglake-access)',
      '2026-11-20T10:10:00.000Z (service=loglake-access)',
    ]);
    expect(coverage.rows.find((x) => x[0] === 'error-rate')?.slice(-2)).toEqual([null, null]);
  });
});

describe('loglake compliance-report on a lake whose path holds glob characters and a quote', () => {
  it("rescans the lake's own files, not those of a look-alike neighbour DuckDB's glob would match", async () => {
    // Prepare: a secret planted in the lake; at the same key in `lake x o'k` (what the unescaped
    // glob `lake [x] o'k` matches), a clean file.
    const globLake = await writeKnownLake(Date.now(), "lake [x] o'k");
    try {
      const at = new Date(globLake.now - 3 * HOUR);
      const key = `logs/category=runtime/dt=${utcDate(at)}/hour=${utcHour(at)}/planted.parquet`;
      await plantParquet(globLake.dataDir, key, [
        { timestamp: at.toISOString(), message: 'deploy with AKIAIOSFODNN7EXAMPLE now' },
      ]);
      await plantParquet(join(globLake.root, "lake x o'k"), key, [
        { timestamp: at.toISOString(), message: 'deploy done' },
      ]);

      // Act
      const r = await loglake([
        'compliance-report',
        '--data-dir',
        globLake.dataDir,
        '--config',
        globLake.configFile,
        '--since',
        '30d',
        '--format',
        'json',
      ]);

      // Assess
      expect(r.code, r.stderr).toBe(3);
      const redaction = item(json(r.stdout), 'redaction');
      expect(redaction.summary[0]).toBe('unredacted secrets found: 1');
      expect(redaction.rows).toEqual([[key, 0, 'message', 'aws_access_key']]);
    } finally {
      globLake.dispose();
    }
  });
});
