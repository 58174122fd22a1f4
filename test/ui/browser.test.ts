/**
 * The explorer in a real browser (Debian's Chromium, driven by playwright-core) over a lake the demo
 * filled: search → filter from the sidebar → open a record → trace view; every dashboard draws its
 * charts; labels and keyboard navigation. Screenshots of each page go to `.ci/artifacts/ui/`.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alert, alertId, searchCommand } from '../../src/alerts/alert';
import { DEFAULT_RULES } from '../../src/alerts/config';
import { ALERTS_FILE } from '../../src/alerts/local';
import { ACCESS_SERVICE } from '../../src/audit/access';
import { startLocal } from '../../src/cli/commands/local';
import { type RunningUi, startUi } from '../../src/cli/commands/ui';
import { firehoseClientConfig, Shipper } from '../../src/producer';
import { type DemoLake, demoLake } from './demo-lake';
import { uiTestEnv } from './env';

if (!uiTestEnv.chromium) {
  const message =
    'browser tests need Chromium: apt-get install -y chromium (or set LOGLAKE_CHROMIUM to its binary)';
  if (uiTestEnv.ci) throw new Error(`${message}; CI must have it (.ci/run installs it)`);
  console.warn(`test/ui/browser.test.ts: SKIPPED: ${message}`);
}

describe.skipIf(!uiTestEnv.chromium)('the explorer in Chromium', () => {
  let lake: DemoLake;
  let ui: RunningUi;
  let browser: Browser;
  let page: Page;
  const url = (path: string) => new URL(path, ui.url).toString();
  const shot = (name: string) =>
    page.screenshot({ path: join(uiTestEnv.artifacts, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(uiTestEnv.artifacts, { recursive: true });
    lake = await demoLake();
    ui = await startUi(
      { dataDir: lake.dataDir, port: 0 },
      { stdout: () => undefined, stderr: () => undefined },
    );
    browser = await chromium.launch({ executablePath: uiTestEnv.chromium, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await ui?.stop();
    if (lake) rmSync(dirname(lake.dataDir), { recursive: true, force: true });
  });

  it('search → filter from the sidebar → open a record → trace view', async () => {
    // Act: search
    await page.goto(url('/?since=2h'));
    await page.getByLabel('Message text').fill('login');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/q=login/);
    await shot('search');

    // Assess
    await expect(
      page.locator('svg[aria-label^="Events over time by level"] rect').count(),
    ).resolves.toBeGreaterThan(0);

    // Act: filter from the sidebar
    await page.getByRole('link', { name: 'Filter level = WARN' }).click();
    await page.waitForURL(/level=WARN/);

    // Assess
    const summaries = await page.locator('.records summary').allTextContents();
    expect(summaries.length).toBeGreaterThan(0);
    expect(summaries.every((s) => s.includes('WARN'))).toBe(true);
    await expect(page.getByRole('link', { name: /Remove filter Level WARN/ }).count()).resolves.toBe(1);

    // Act: open a record with the keyboard
    const first = page.locator('.records summary').first();
    await first.focus();
    await page.keyboard.press('Enter');

    // Assess: expanded to every field
    const record = page.locator('.records details').first();
    await expect(record.getAttribute('open')).resolves.toBe('');
    await expect(record.locator('dl.fields').isVisible()).resolves.toBe(true);
    await shot('search-record');

    // Act: its correlation id → the trace view
    await record.getByRole('link', { name: 'trace view' }).click();
    await page.waitForURL(/\/trace\?id=/);
    await shot('trace');

    // Assess
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      `Trace ${lake.incidentCorrelationId}`,
    );
    await expect(page.locator('svg[aria-label^="Timeline of 16 events"] circle').count()).resolves.toBe(16);
    await expect(page.locator('details[open] .lvl-CRITICAL').count()).resolves.toBeGreaterThan(0);
    await expect(page.locator('details[open] mark.redacted').first().isVisible()).resolves.toBe(true);
  });

  it('trace view shows an error’s stack trace inline', async () => {
    // Arrange: a payments error (the sample traffic gives them a stack), opened
    await page.goto(url('/?since=2h&service=payments&level=ERROR&q=charge+failed'));
    await page.locator('.records summary').first().click();
    const record = page.locator('.records details[open]').first();
    await expect(record.locator('pre.stack').textContent()).resolves.toContain('at capture (');

    // Act: its trace
    await record.getByRole('link', { name: 'trace view' }).click();
    await page.waitForURL(/\/trace\?id=/);

    // Assess: the error is open in the trace, its stack visible without a click
    const stack = page.locator('.records details[open] pre.stack').first();
    await expect(stack.isVisible()).resolves.toBe(true);
    await expect(stack.textContent()).resolves.toMatch(/Error: upstream closed\n\s+at capture \(/);
  });

  it('click-to-filter on a record’s attribute and correlation id', async () => {
    // Arrange: a login record, opened
    await page.goto(url('/?since=2h&service=identity&q=login+failed'));
    await page.locator('.records summary').first().click();
    const record = page.locator('.records details[open]').first();

    // Act: its attribute event.outcome
    await record.getByRole('link', { name: 'Filter attributes.event.outcome = failure' }).click();
    await page.waitForURL(/where=attributes\.event\.outcome%3Dfailure/);
    await shot('click-to-filter');

    // Assess: every record carries it, and the condition is a chip that removes it
    const shown = await page.locator('.records summary').count();
    expect(shown).toBeGreaterThan(0);
    await expect(
      page.locator('.records a[aria-label="Filter attributes.event.outcome = failure"]').count(),
    ).resolves.toBe(shown);
    // The sidebar lists the attribute too, with that one value left.
    await expect(
      page.locator('aside a[aria-label="Filter attributes.event.outcome = failure"]').count(),
    ).resolves.toBe(1);
    await expect(
      page.getByRole('link', { name: 'Remove filter where attributes.event.outcome=failure' }).count(),
    ).resolves.toBe(1);

    // Act: the incident's correlation id, from a record
    await page.locator('.records summary').first().click();
    await page
      .locator('.records details[open]')
      .first()
      .getByRole('link', { name: `Filter correlation_id = ${lake.incidentCorrelationId}` })
      .click();
    await page.waitForURL(/correlation_id=inc-/);

    // Assess
    await expect(page.locator('#result-count').textContent()).resolves.toMatch(/^12 matching events/);
  });

  it('time picker: a preset, then an absolute From/To range, both in the URL', async () => {
    // Act: the 15-minute preset
    await page.goto(url('/?service=payments'));
    await page.getByRole('link', { name: 'Last 15m' }).click();
    await page.waitForURL(/since=15m/);

    // Assess
    expect(new URL(page.url()).searchParams.getAll('service')).toEqual(['payments']);
    await expect(page.getByRole('link', { name: 'Last 15m' }).getAttribute('aria-current')).resolves.toBe(
      'true',
    );

    // Act: a range typed into the native inputs (UTC), to the second, searched
    const from = new Date(Date.now() - 2 * 3_600_000);
    const to = new Date(Date.now() - 3_600_000);
    // Seconds other than 0: Chromium leaves `:00` out of an input's value (the whole-minute case is below).
    from.setUTCSeconds(17, 0);
    to.setUTCSeconds(43, 0);
    const local = (d: Date) => d.toISOString().slice(0, 19);
    await page.getByLabel('From (UTC)').fill(local(from));
    await page.getByLabel('To (UTC)').fill(local(to));
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/until=/);
    await shot('time-picker');

    // Assess: the URL holds the range, and so does the result
    const params = new URL(page.url()).searchParams;
    expect(params.get('since')).toBe(local(from));
    expect(params.get('until')).toBe(local(to));
    await expect(page.locator('#result-count').textContent()).resolves.toContain(
      `from ${local(from)}.000Z to ${local(to)}.000Z`,
    );

    // Act: whole minutes, which the browser sends without seconds (`2026-12-03T13:05`)
    const minuteFrom = new Date(from);
    const minuteTo = new Date(to);
    minuteFrom.setUTCSeconds(0, 0);
    minuteTo.setUTCSeconds(0, 0);
    await page.getByLabel('From (UTC)').fill(local(minuteFrom));
    await page.getByLabel('To (UTC)').fill(local(minuteTo));
    await page.getByRole('button', { name: 'Search' }).click();
    // The URL's `until` is the whole minute, with or without `:00` (the browser's choice).
    await page.waitForURL((u) =>
      [local(minuteTo), local(minuteTo).slice(0, 16)].includes(u.searchParams.get('until') ?? ''),
    );

    // Assess: read as those minutes, UTC
    await expect(page.locator('#result-count').textContent()).resolves.toContain(
      `from ${local(minuteFrom)}.000Z to ${local(minuteTo)}.000Z`,
    );
  });

  it('patterns tab → a pattern → its search; events around a record', async () => {
    // Act: the patterns of the payments service
    await page.goto(url('/?since=2h&service=payments'));
    await page.getByRole('link', { name: 'Patterns' }).click();
    await page.waitForURL(/\/patterns\?/);
    await shot('patterns');

    // Assess
    const rows = page.locator('table.patterns tbody tr');
    await expect(rows.count()).resolves.toBeGreaterThan(0);
    await expect(page.locator('table.patterns mark.redacted').first().isVisible()).resolves.toBe(true);

    // Act: the most frequent pattern's search
    await rows.first().getByRole('link').click();
    await page.waitForURL(/\/\?q=/);

    // Assess
    const summaries = await page.locator('.records summary').allTextContents();
    expect(summaries.length).toBeGreaterThan(0);
    expect(summaries.every((s) => s.includes('payments'))).toBe(true);

    // Act: open a record with the keyboard, then the events around it
    await page.locator('.records summary').first().focus();
    await page.keyboard.press('Enter');
    const opened = page.locator('.records details[open]').first();
    const message = (await opened.locator('summary').textContent()) ?? '';
    await opened.getByRole('link', { name: 'Events around this one' }).click();
    await page.waitForURL(/\/around\?/);
    await shot('events-around');

    // Assess: the record itself, open and marked, among its neighbours from the same service
    const hit = page.locator('.hit[aria-current="true"] details[open] summary').first();
    await expect(hit.textContent()).resolves.toBe(message);
    const around = await page.locator('.around summary').allTextContents();
    expect(around.length).toBeGreaterThan(1);
    expect(around.every((s) => s.includes(' payments · '))).toBe(true);
  });

  it('live tail shows an event sent through the local endpoint', async () => {
    // Arrange: the local pipeline on the lake the explorer reads, and a tail of one service
    const local = await startLocal(
      { dataDir: lake.dataDir, port: 0, flushSeconds: 1, quiet: true },
      { stdout: () => undefined, stderr: () => undefined },
    );
    const marker = `tail-probe-${Date.now()}`;
    try {
      await page.goto(url('/tail?service=tail-probe'));
      await expect(page.getByText('Waiting for new records').isVisible()).resolves.toBe(true);

      // Act: one event, shipped as a producer ships it
      const shipper = new Shipper({
        streamName: 'logs',
        clientConfig: firehoseClientConfig({ endpoint: local.endpoint.url }),
      });
      await shipper.write(
        JSON.stringify({
          timestamp: new Date().toISOString(),
          level: 'WARN',
          service: 'tail-probe',
          message: marker,
        }),
      );
      await shipper.close();
      await local.pipeline.flush();

      // Assess: the page reloads itself until the event is there
      await page.locator('.records summary', { hasText: marker }).waitFor({ timeout: 30_000 });
      await shot('live-tail');
      await expect(page.locator('.records summary').count()).resolves.toBe(1);
      await expect(page.locator('#tail-status').textContent()).resolves.toContain('1 record');
    } finally {
      // Leave the self-reloading page, so its next reload does not abort the next test's navigation.
      await page.goto('about:blank');
      await local.stop();
    }
  });

  it('exports the current result as CSV', async () => {
    // Act
    await page.goto(url('/?since=2h&service=payments'));
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'CSV' }).click(),
    ]);
    const file = join(uiTestEnv.artifacts, 'export.csv');
    await download.saveAs(file);
    const rows = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .filter((l) => /^\d{4}-/.test(l));

    // Assess
    const shown = Number(
      /(\d+) matching event/.exec((await page.locator('#result-count').textContent()) ?? '')?.[1],
    );
    expect(rows.length).toBe(shown);
    expect(rows.every((r) => r.includes(',payments,'))).toBe(true);
  });

  it.each(['errors', 'tracing', 'security', 'ai'])('dashboard %s draws non-empty charts', async (id) => {
    // Act
    await page.goto(url(`/dashboard?id=${id}`));
    await shot(`dashboard-${id}`);

    // Assess: nothing wider than the 1280 px window (a legend of many series wraps)
    await expect(
      page.evaluate<number>('document.documentElement.scrollWidth - document.documentElement.clientWidth'),
    ).resolves.toBe(0);
    const panels = page.locator('section.panel');
    const count = await panels.count();
    expect(count).toBeGreaterThanOrEqual(2);
    for (let i = 0; i < count; i++) {
      const panel = panels.nth(i);
      const marks = await panel
        .locator('svg[role="img"] rect, table.data tbody tr, .records details')
        .count();
      expect(marks, (await panel.locator('h2').textContent()) ?? '').toBeGreaterThan(0);
    }
  });

  it('dashboards index links each dashboard; the trace lookup finds a correlation id', async () => {
    // Act: the index
    await page.goto(url('/dashboards'));
    await shot('dashboards');

    // Assess
    const links = await page.evaluate<string[]>(
      "[...document.querySelectorAll('ul.dashboards a')].map((a) => a.getAttribute('href'))",
    );
    expect(links).toEqual(['errors', 'tracing', 'security', 'ai'].map((id) => `/dashboard?id=${id}`));

    // Act: the trace lookup, a correlation id typed and submitted
    await page.goto(url('/trace'));
    await shot('trace-lookup');
    await page.getByLabel('Correlation id').fill(lake.incidentCorrelationId);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/trace\?id=inc-/);

    // Assess
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      `Trace ${lake.incidentCorrelationId}`,
    );
  });

  it('a dashboard is usable from the keyboard: a service chosen in the select, applied', async () => {
    // Arrange
    await page.goto(url('/dashboard?id=errors'));
    const select = page.getByLabel('Service');
    const services = (await select.locator('option').allTextContents()).filter((s) => s !== 'all services');
    expect(services.length).toBeGreaterThan(0);

    // Act: tab to the select, move to the first service, tab to Apply and press it
    let tabs = 0;
    while (
      (await page.evaluate<string | null>("document.activeElement?.getAttribute('name') ?? null")) !==
        'service' &&
      tabs < 30
    ) {
      await page.keyboard.press('Tab');
      tabs++;
    }
    await page.keyboard.press('ArrowDown');
    while ((await page.evaluate<string | null>('document.activeElement?.textContent ?? null')) !== 'Apply') {
      await page.keyboard.press('Tab');
      if (++tabs >= 60) break;
    }
    await page.keyboard.press('Enter');
    await page.waitForURL(/service=/);

    // Assess
    expect(tabs).toBeLessThan(60);
    expect(new URL(page.url()).searchParams.get('service')).toBe(services[0]);
    await expect(page.locator('#service-filter').textContent()).resolves.toBe(services[0]);
  });

  it('alerts page lists what fires with a search link', async () => {
    // Act
    await page.goto(url('/alerts'));
    await shot('alerts');

    // Assess
    await expect(
      page.locator('#firing ~ table tbody tr, section:has(#firing) tbody tr').count(),
    ).resolves.toBeGreaterThan(0);
    await page.locator('section:has(#firing) a', { hasText: 'search' }).first().click();
    await page.waitForURL(/since=/);
    await expect(page.locator('.records summary').count()).resolves.toBeGreaterThan(0);
  });

  it('an alert of the history links to its search, the rule’s where kept as a chip', async () => {
    // Arrange: a bulk-read alert in the local alerting's history (as src/alerts/local.ts appends it)
    const rule = DEFAULT_RULES['bulk-read'];
    if (rule === undefined) throw new Error('no default rule bulk-read');
    const end = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    const window = {
      start: new Date(end.getTime() - 3_600_000).toISOString(),
      end: end.toISOString(),
      minutes: 60,
    };
    const group = { service: ACCESS_SERVICE };
    const search = searchCommand(rule, group, window, `--data-dir ${lake.dataDir}`);
    const groupKey = `service=${ACCESS_SERVICE}`;
    const alert: Alert = {
      version: 1,
      id: alertId('bulk-read', groupKey, 'firing', window.end),
      source: 'rule',
      status: 'firing',
      rule: 'bulk-read',
      description: rule.description,
      severity: rule.severity,
      kind: rule.kind,
      value: 1,
      threshold: rule.threshold,
      unit: 'events',
      window,
      group,
      groupKey,
      firedAt: window.end,
      since: window.end,
      repeat: false,
      samples: [],
      details: {},
      ...(search ? { search } : {}),
    };
    const file = join(lake.dataDir, ALERTS_FILE);
    const before = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    appendFileSync(file, `${JSON.stringify(alert)}\n`);
    try {
      // Act
      await page.goto(url('/alerts'));
      await page
        .locator('section:has(#history) tr', { hasText: 'bulk-read' })
        .getByRole('link', { name: 'search' })
        .click();
      await page.waitForURL(/where=/);

      // Assess
      expect(new URL(page.url()).searchParams.getAll('where')).toEqual(['attributes.access.flags!=']);
      await expect(
        page.getByRole('link', { name: 'Remove filter where attributes.access.flags!=' }).count(),
      ).resolves.toBe(1);
    } finally {
      if (before === undefined) rmSync(file, { force: true });
      else writeFileSync(file, before);
    }
  });

  it('every control has a label, every chart a name, and the keyboard reaches the search', async () => {
    // Arrange: a record's events-around page
    await page.goto(url('/?since=2h&service=payments'));
    // (In a closed record: hidden, so not a role the accessibility tree has.)
    const around = await page
      .locator('a', { hasText: 'Events around this one' })
      .first()
      .getAttribute('href');
    expect(around).toMatch(/^\/around\?/);

    for (const path of [
      '/?since=2h',
      '/patterns?since=2h',
      '/tail',
      around ?? '/around',
      '/trace',
      `/trace?id=${lake.incidentCorrelationId}`,
      '/dashboards',
      ...['errors', 'tracing', 'security', 'ai'].map((id) => `/dashboard?id=${id}`),
      '/alerts',
    ]) {
      // Act
      await page.goto(url(path));
      // In the page (a string: the test's own types have no DOM): controls with no label and no name.
      const unlabeled = await page.evaluate<string[]>(`
        [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
          .filter((el) => !(el.labels && el.labels.length > 0) && !el.getAttribute('aria-label')
            && !(el.tagName === 'BUTTON' && el.textContent.trim()))
          .map((el) => el.outerHTML)`);
      const unnamed = await page.locator('svg[role="img"]:not([aria-label])').count();

      // Assess
      expect(unlabeled, path).toEqual([]);
      expect(unnamed, path).toBe(0);
      await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en');
    }

    // Act: from the top of the page, the keyboard alone
    await page.goto(url('/?since=2h'));
    await page.keyboard.press('Tab');
    const first = await page.evaluate<string | null>('document.activeElement?.textContent ?? null');
    await page.keyboard.press('Enter');
    let tabs = 0;
    while (
      (await page.evaluate<string | null>("document.activeElement?.getAttribute('name') ?? null")) !== 'q' &&
      tabs < 30
    ) {
      await page.keyboard.press('Tab');
      tabs++;
    }
    await page.keyboard.type('charge failed');
    await page.keyboard.press('Enter');
    await page.waitForURL(/q=charge\+failed/);

    // Assess
    expect(first).toBe('Skip to content');
    expect(tabs).toBeLessThan(30);
    const summaries = await page.locator('.records summary').allTextContents();
    expect(summaries.length).toBeGreaterThan(0);
    expect(summaries.every((s) => s.includes('charge failed'))).toBe(true);
    await expect(page.locator('.records summary mark.redacted').first().textContent()).resolves.toBe(
      '[REDACTED:card]',
    );
  });
});
