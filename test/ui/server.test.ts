/**
 * The explorer over HTTP, on a real lake (filled by the demo) with real DuckDB: what each page answers,
 * and how it refuses bad input.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Alert, alertId, searchCommand } from '../../src/alerts/alert';
import { DEFAULT_RULES } from '../../src/alerts/config';
import { ALERTS_FILE, STATE_FILE } from '../../src/alerts/local';
import { ACCESS_SERVICE } from '../../src/audit/access';
import { type RunningUi, startUi } from '../../src/cli/commands/ui';
import { sampleTraffic } from '../../src/local/sample-traffic';
import { type DemoLake, demoLake } from './demo-lake';

let lake: DemoLake;
let ui: RunningUi;
const get = (path: string, init?: RequestInit) => fetch(new URL(path, ui.url), init);

beforeAll(async () => {
  lake = await demoLake();
  ui = await startUi(
    { dataDir: lake.dataDir, port: 0 },
    { stdout: () => undefined, stderr: () => undefined },
  );
}, 90_000);

afterAll(async () => {
  await ui?.stop();
  if (lake) rmSync(dirname(lake.dataDir), { recursive: true, force: true });
});

describe('search page', () => {
  it('shows the histogram, the fields and the newest records with redaction markers', async () => {
    // Act
    const res = await get('/?since=2h&q=charge+failed');
    const body = await res.text();

    // Assess
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(body).toMatch(/aria-label="Events over time by level: [1-9]\d* in all"/);
    expect(body).toContain('<mark class="redacted" title="removed before storage">[REDACTED:card]</mark>');
    expect(body).toContain('href="/?q=charge+failed&amp;since=2h&amp;service=payments"');
    // None of the demo's secrets, in any spacing (a pattern for "16 digits" also matches epoch times
    // side by side in the page).
    const squeeze = (t: string) => t.replace(/\s+/g, '');
    for (const secret of sampleTraffic().secrets) expect(squeeze(body)).not.toContain(squeeze(secret));
  });

  it('matches case-sensitively when case_sensitive is ticked, as --case-sensitive does', async () => {
    // Act
    const count = async (path: string) => {
      const body = await (await get(path)).text();
      return { body, n: Number(/(\d+) matching events?/.exec(body)?.[1]) };
    };
    const insensitive = await count('/?since=2h&q=CHARGE+FAILED');
    const sensitive = await count('/?since=2h&q=CHARGE+FAILED&case_sensitive=1');
    const exact = await count('/?since=2h&q=charge+failed&case_sensitive=on');

    // Assess
    expect(insensitive.n).toBeGreaterThan(0);
    expect(sensitive.n).toBe(0);
    expect(exact.n).toBe(insensitive.n);
    expect(sensitive.body).toContain('<input type="checkbox" name="case_sensitive" value="1" checked>');
    expect(insensitive.body).toContain('<input type="checkbox" name="case_sensitive" value="1">');
    expect(sensitive.body).toContain('aria-label="Remove filter Case-sensitive"');
  });

  it('escapes what the URL carries', async () => {
    // Act
    const body = await (await get('/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E')).text();

    // Assess
    expect(body).not.toContain('<script>');
    expect(body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it.each([
    ['/?since=bogus', '--since: cannot understand &quot;bogus&quot;'],
    ['/?level=loud', '--level: unknown level &quot;loud&quot;'],
    ['/?category=nope', '--category: unknown category &quot;nope&quot;'],
    ['/?limit=0', 'limit: expected a whole number from 1 to 1000'],
    ['/?sort=x', 'unknown parameter &quot;sort&quot;'],
    ['/?since=1h&since=2h', 'since: given 2 times'],
    ['/?case_sensitive=yes', 'case_sensitive: expected 1 (on) or 0 (off) (received &quot;yes&quot;)'],
    ['/?since=1h&until=2h', 'must be before'],
    ['/export?format=xml', 'format: expected csv or ndjson'],
  ])('answers %s with 400 and what was wrong', async (path, message) => {
    // Act
    const res = await get(path);

    // Assess
    expect(res.status).toBe(400);
    expect(await res.text()).toContain(message);
  });

  it('refuses another Host (DNS rebinding) and other methods', async () => {
    // Act
    // fetch may not set Host; node:http may.
    const rebound = await new Promise<{ status: number }>((resolve, reject) => {
      request(new URL('/', ui.url), { headers: { host: 'attacker.example' } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0 });
      })
        .on('error', reject)
        .end();
    });
    const post = await get('/', { method: 'POST' });

    // Assess
    expect(rebound.status).toBe(421);
    expect(post.status).toBe(405);
  });
});

describe('requests another site makes', () => {
  /** A GET as a browser sends it, with its Fetch Metadata headers (fetch would set its own mode). */
  const fetchAs = (path: string, site: string, mode: string, dest: string) =>
    new Promise<{ status: number; text: () => Promise<string> }>((resolve, reject) => {
      const headers = { 'sec-fetch-site': site, 'sec-fetch-mode': mode, 'sec-fetch-dest': dest };
      request(new URL(path, ui.url), { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, text: async () => body });
        });
      })
        .on('error', reject)
        .end();
    });

  it('refuses what a page elsewhere loads or fetches unseen (an image, a script, a fetch)', async () => {
    // Act: what a web page the user visits can make the browser ask, unseen
    const image = await fetchAs('/export?since=7d&format=ndjson', 'cross-site', 'no-cors', 'image');
    const script = await fetchAs('/?since=7d', 'same-site', 'no-cors', 'script');
    const fetched = await fetchAs('/?since=7d', 'cross-site', 'cors', 'empty');

    // Assess
    expect([image.status, script.status, fetched.status]).toEqual([403, 403, 403]);
    expect(await image.text()).not.toContain('"timestamp"');
  });

  it('serves the explorer itself, an address typed or bookmarked, and a link followed from elsewhere', async () => {
    // Act
    const own = await fetchAs('/?since=1h', 'same-origin', 'navigate', 'document');
    const typed = await fetchAs('/?since=1h', 'none', 'navigate', 'document');
    const link = await fetchAs('/?since=1h', 'cross-site', 'navigate', 'document');
    const style = await fetchAs('/style.css', 'same-origin', 'no-cors', 'style');

    // Assess
    expect([own.status, typed.status, link.status, style.status]).toEqual([200, 200, 200, 200]);
  });
});

describe('search: --where, patterns, events around, live tail', () => {
  it('filters by --where conditions from the query bar, each one a chip', async () => {
    // Act
    const res = await get('/?since=2h&where=http_status%3E%3D500&where=http_status%3C600');
    const body = await res.text();

    // Assess
    expect(res.status).toBe(200);
    const statuses = [...body.matchAll(/<dt>http_status<\/dt><dd><a [^>]*>(\d+)<\/a><\/dd>/g)].map((m) =>
      Number(m[1]),
    );
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s >= 500)).toBe(true);
    expect(body).toContain('aria-label="Remove filter where http_status&gt;=500"');
    expect(body).toContain('<input type="hidden" name="where" value="http_status&lt;600">');
  });

  it('answers a bad --where with 400 naming it', async () => {
    // Act
    const res = await get('/?where=http_status%3Eabc');

    // Assess
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/http_status/);
  });

  it('groups the messages into patterns, most frequent first', async () => {
    // Act
    const res = await get('/patterns?since=2h&service=payments');
    const body = await res.text();

    // Assess
    expect(res.status).toBe(200);
    const counts = [...body.matchAll(/<tr><td>(\d+)<\/td><td><a href/g)].map((m) => Number(m[1]));
    expect(counts.length).toBeGreaterThan(0);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    expect(body).toMatch(/charge failed for card <mark class="redacted"[^>]*>\[REDACTED:card\]<\/mark>/);
    expect(body).toContain(
      '<a href="/patterns?since=2h&amp;service=payments" aria-current="page">Patterns</a>',
    );
  });

  it('shows the events around a record, the record itself marked', async () => {
    // Arrange: one record of the search, and its link
    const search = await (await get('/?since=2h&service=payments&q=charge+failed&limit=1')).text();
    const href = /<a href="(\/around\?[^"]+)">Events around this one<\/a>/
      .exec(search)?.[1]
      ?.replaceAll('&amp;', '&');
    expect(href).toBeDefined();

    // Act
    const body = await (await get(href ?? '')).text();

    // Assess
    const hit = /<div class="hit" aria-current="true">([\s\S]*?)<\/div>/.exec(body)?.[1] ?? '';
    expect(hit).toContain('charge failed');
    const times = [...body.matchAll(/<time datetime="([^"]+)"/g)].map((m) => m[1]);
    expect(times.length).toBeGreaterThan(5);
    expect(times).toEqual([...times].sort());
    const services = [...body.matchAll(/<\/span> ([\w-]+) · /g)].map((m) => m[1]);
    expect(new Set(services)).toEqual(new Set(['payments']));
  });

  it.each([
    ['/around?service=payments', 'at: the time of the event'],
    ['/around?at=2026-11-30T10:00:00Z&service=payments&by=user', 'by: expected service or correlation_id'],
    ['/around?at=2026-11-30T10:00:00Z&service=payments&n=500', 'n: expected a whole number from 1 to 50'],
    ['/tail?from=bogus', 'from: cannot understand'],
  ])('answers %s with 400', async (path, message) => {
    // Act
    const res = await get(path);

    // Assess
    expect(res.status).toBe(400);
    expect(await res.text()).toContain(message);
  });

  it('live tail reloads itself with its start fixed and shows what arrived since', async () => {
    // Act: a tail started before the demo's records arrived shows them; one started now shows none
    const early = new Date(Date.now() - 3_600_000).toISOString();
    const old = await (await get(`/tail?service=payments&from=${encodeURIComponent(early)}`)).text();
    const fresh = await (await get('/tail?service=payments')).text();

    // Assess
    expect(old).toMatch(/<meta http-equiv="refresh" content="2; url=\/tail\?service=payments&amp;from=/);
    expect(old).toContain('charge failed');
    expect(fresh).toContain('Waiting for new records');
  });
});

describe('click-to-filter and the time picker', () => {
  it('links every field of a record to the search narrowed to its value', async () => {
    // Act
    const body = await (await get('/?since=2h&service=checkout-api&limit=5')).text();
    const links = new Map(
      [...body.matchAll(/<a href="\/\?([^"]+)" class="filter" aria-label="Filter ([^ ]+) = [^"]*">/g)].map(
        (m) => [m[2], new URLSearchParams((m[1] ?? '').replaceAll('&amp;', '&'))],
      ),
    );

    // Assess: the search kept, one filter added, by the field's own parameter or as a --where
    for (const field of ['correlation_id', 'logger', 'http_status', 'attributes.client_ip', 'category']) {
      const qs = links.get(field);
      expect(qs, field).toBeDefined();
      expect(qs?.get('since'), field).toBe('2h');
      expect(qs?.getAll('service'), field).toEqual(['checkout-api']);
    }
    expect(links.get('correlation_id')?.get('correlation_id')).toMatch(/^[0-9a-f]{32}$/);
    expect(links.get('logger')?.getAll('where')).toEqual(['logger=express.access']);
    expect(links.get('http_status')?.getAll('where')[0]).toMatch(/^http_status=\d{3}$/);
    expect(links.get('attributes.client_ip')?.getAll('where')[0]).toMatch(/^attributes\.client_ip=/);
    expect(links.has('timestamp')).toBe(false);
    expect(links.has('message')).toBe(false);
  });

  it('lists the attributes the records carry most, each with its top values over the whole range', async () => {
    // Act: a page of 5 records, over a range of many more.
    const body = await (await get('/?since=2h&service=identity&limit=5')).text();
    const aside = /<aside aria-label="Fields">([\s\S]*?)<\/aside>/.exec(body)?.[1] ?? '';
    const boxes = [
      ...aside.matchAll(/<ul aria-labelledby="field-(attributes\.[^"]+)">([\s\S]*?)<\/ul>/g),
    ].map(([, label, list]) => ({
      label: label as string,
      values: [
        ...(list as string).matchAll(/<a href="\/\?([^"]+)"[^>]*>([^<]*)<\/a><span>(\d+)<\/span>/g),
      ].map(([, href, value, count]) => ({
        href: (href as string).replaceAll('&amp;', '&'),
        value,
        count: Number(count),
      })),
    }));

    // Assess: attribute boxes after the columns', each value's count what its own filter finds.
    expect(boxes.length).toBeGreaterThan(0);
    expect(boxes.length).toBeLessThanOrEqual(5);
    const shown = boxes.flatMap((b) => b.values);
    expect(shown.length).toBeGreaterThan(0);
    for (const { href, count } of shown.slice(0, 6)) {
      const narrowed = await (await get(`/?${href}&limit=1`)).text();
      expect(Number(/(\d+) matching events?/.exec(narrowed)?.[1])).toBe(count);
    }
    // Counted over the range, not the page: some value stands for more events than the page shows.
    expect(Math.max(...shown.map((v) => v.count))).toBeGreaterThan(5);
  });

  it('narrows a list filter to the value clicked', async () => {
    // Act
    const body = await (await get('/?since=2h&service=payments,identity&limit=50')).text();
    const href = /<a href="\/\?([^"]+)" class="filter" aria-label="Filter service = payments">/.exec(
      body,
    )?.[1];

    // Assess
    expect(new URLSearchParams((href ?? '').replaceAll('&amp;', '&')).getAll('service')).toEqual([
      'payments',
    ]);
  });

  it('an attribute link finds exactly the events with that value', async () => {
    // Arrange
    const body = await (await get('/?since=2h&service=identity&q=login&limit=1')).text();
    const href =
      /<a href="\/\?([^"]+)" class="filter" aria-label="Filter attributes.event.outcome = ([a-z]+)">/.exec(
        body,
      );
    expect(href).not.toBeNull();

    // Act
    const narrowed = await (await get(`/?${(href?.[1] ?? '').replaceAll('&amp;', '&')}&limit=1000`)).text();

    // Assess
    const outcomes = [...narrowed.matchAll(/aria-label="Filter attributes\.event\.outcome = ([a-z]+)"/g)].map(
      (m) => m[1],
    );
    expect(outcomes.length).toBeGreaterThan(0);
    expect(new Set(outcomes)).toEqual(new Set([href?.[2]]));
    expect(narrowed).toContain(`aria-label="Remove filter where attributes.event.outcome=${href?.[2]}"`);
  });

  it('takes a preset as since, keeps it across a new search, and lets a From time win', async () => {
    // Act
    const preset = await (await get('/?since=15m')).text();
    const carried = await (await get('/?range=15m&since=&until=&q=login')).text();
    const typed = await (
      await get('/?range=15m&since=2026-11-30T08%3A00%3A00&until=2026-11-30T09%3A00%3A00')
    ).text();

    // Assess
    expect(preset).toContain('aria-current="true" aria-label="Last 15m"');
    expect(preset).toContain('<input type="hidden" name="range" value="15m">');
    const span = (body: string) => {
      const m = /from (\S+) to (\S+?);/.exec(body);
      return Date.parse(m?.[2] ?? '') - Date.parse(m?.[1] ?? '');
    };
    // The same range as the preset's link (ending, as every search, the future tolerance after now).
    expect(span(carried)).toBe(span(preset));
    expect(span(carried)).toBeLessThan(3_600_000);
    expect(carried).toContain('<input type="hidden" name="range" value="15m">');
    expect(typed).toContain('from 2026-11-30T08:00:00.000Z to 2026-11-30T09:00:00.000Z;');
    expect(typed).not.toContain('name="range"');
    expect(typed).toContain('name="since" step="1" value="2026-11-30T08:00:00"');
  });

  it('answers a range that is not a relative time with 400', async () => {
    // Act
    const res = await get('/?range=yesterday');

    // Assess
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('range: expected a relative time');
  });
});

describe('access events', () => {
  it('records every query a page runs as the ui command, with the filter', async () => {
    // Arrange
    const marker = `needle-${Date.now()}`;

    // Act
    await get(`/?since=2h&q=${marker}`);
    const audit = await (
      await get(
        `/export?since=10m&category=audit&service=loglake-access&format=ndjson&where=${encodeURIComponent(`attributes.access.filter.text=${marker}`)}`,
      )
    ).text();

    // Assess: the search page's queries (histogram, records, one per sidebar field), each an event
    const events = audit
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { attributes: Record<string, string> });
    expect(events.length).toBeGreaterThanOrEqual(9);
    expect(events.every((e) => e.attributes['access.command'] === 'ui')).toBe(true);
    expect(events.every((e) => e.attributes['access.engine'] === 'duckdb')).toBe(true);
    expect(events.map((e) => e.attributes['access.query_kind']).sort()).toContain('search');
  });
});

describe('live tail access events', () => {
  const tailEvents = async () => {
    const where = encodeURIComponent('attributes.access.command=ui-tail');
    const text = await (
      await get(`/export?since=1h&category=audit&service=loglake-access&format=ndjson&where=${where}`)
    ).text();
    return text.split('\n').filter(Boolean).length;
  };

  it('records the first poll and polls that return rows, as loglake tail does', async () => {
    // Arrange
    const before = await tailEvents();
    const early = new Date(Date.now() - 3_600_000).toISOString();

    // Act: a tail started, reloaded three times with nothing new, then a reload returning rows
    await get('/tail?service=payments');
    const from = new Date().toISOString();
    for (let i = 0; i < 3; i++) await get(`/tail?service=payments&from=${encodeURIComponent(from)}`);
    await get(`/tail?service=payments&from=${encodeURIComponent(early)}`);

    // Assess
    expect((await tailEvents()) - before).toBe(2);
  });

  it('does not show the tails’ own access events', async () => {
    // Arrange
    const early = new Date(Date.now() - 3_600_000).toISOString();
    await get('/tail?service=payments');

    // Act
    const body = await (
      await get(`/tail?category=audit&service=loglake-access&from=${encodeURIComponent(early)}`)
    ).text();

    // Assess: the explorer's other reads are there, the tails' are not
    expect(body).toContain('Filter attributes.access.command = ui"');
    expect(body).not.toContain('Filter attributes.access.command = ui-tail"');
  });
});

describe('export', () => {
  it('streams every matching record as CSV and NDJSON, oldest first', async () => {
    // Act
    const csv = await (await get('/export?since=2h&level=error&format=csv')).text();
    const nd = await get('/export?since=2h&level=error&format=ndjson');
    const lines = (await nd.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { level: string; timestamp: string });

    // Assess
    expect(nd.headers.get('content-disposition')).toMatch(/attachment; filename="loglake-.*\.ndjson"/);
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.every((r) => r.level === 'ERROR')).toBe(true);
    expect(lines.map((r) => r.timestamp)).toEqual(lines.map((r) => r.timestamp).sort());
    expect(csv.startsWith('timestamp,level,service')).toBe(true);
    expect(csv.match(/^\d{4}-/gm)?.length).toBe(lines.length);
  });
});

describe('trace view', () => {
  it('shows the incident across services in time order, errors open', async () => {
    // Act
    const res = await get(`/trace?id=${lake.incidentCorrelationId}`);
    const body = await res.text();

    // Assess
    expect(res.status).toBe(200);
    expect(body).toMatch(/aria-label="Timeline of 16 events across 2 services"/);
    const times = [...body.matchAll(/<time datetime="([^"]+)"/g)].map((m) => m[1]);
    expect(times).toHaveLength(16);
    expect(times).toEqual([...times].sort());
    expect(body).toMatch(/<details open><summary>[^\n]*CRITICAL/);
    expect(body).toContain('[REDACTED:');
  });

  it('says so when no event has the id', async () => {
    // Act
    const body = await (await get('/trace?id=no-such-id')).text();

    // Assess
    expect(body).toContain('No events with correlation id no-such-id');
  });
});

describe('dashboards', () => {
  it.each([
    { id: 'errors', refresh: 60, when: 'refreshing every 60 s' },
    { id: 'tracing', refresh: undefined, when: 'on demand (no refresh)' },
    { id: 'security', refresh: 300, when: 'refreshing every 300 s' },
    { id: 'ai', refresh: 300, when: 'refreshing every 300 s' },
  ])('$id renders every panel with data, $when', async ({ id, refresh }) => {
    // Act
    const res = await get(`/dashboard?id=${id}`);
    const body = await res.text();

    // Assess
    expect(res.status).toBe(200);
    const panels = [
      ...body.matchAll(/<section class="panel"[^>]*data-panel="([^"]+)">([\s\S]*?)<\/section>/g),
    ];
    expect(panels.length).toBeGreaterThanOrEqual(2);
    for (const [, name, content] of panels) {
      expect(content, name).not.toContain('class="empty"');
      expect(content, name).toMatch(/<svg role="img"|<table class="data"|<details>/);
    }
    if (refresh) expect(body).toContain(`<meta http-equiv="refresh" content="${refresh}">`);
    else expect(body).not.toContain('http-equiv="refresh"');
  });

  it('shows the AI pipeline cost per model from the records', async () => {
    // Act
    const body = await (await get('/dashboard?id=ai')).text();

    // Assess
    const cost = /data-panel="ai-cost">([\s\S]*?)<\/section>/.exec(body)?.[1] ?? '';
    expect(cost).toMatch(/claude-sonnet: \$\d+\.\d{4}/);
  });

  it('security: auth failures by recorded fields (401/403, ECS outcome), WAF blocks by rule, GuardDuty findings', async () => {
    // Act
    const body = await (await get('/dashboard?id=security')).text();
    const panel = (id: string) =>
      new RegExp(`data-panel="${id}">([\\s\\S]*?)</section>`).exec(body)?.[1] ?? '';

    // Assess: the login failures (ECS event.outcome) and the API's 401s, though neither says "failed"
    // the same way; a login that succeeded "after 12 failures" is not one
    const auth = panel('auth-failures');
    expect(auth).toMatch(/>identity<\/a><\/td><td><a [^>]*>auth\.login<\/a><\/td><td>12<\/td>/);
    expect(auth).toMatch(/>checkout-api<\/a><\/td>/);
    expect(auth).not.toContain('aws.waf');
    // Blocks by the rule that blocked, not the requests WAF let through
    const waf = panel('waf-blocks');
    expect(waf).toContain('AWS-AWSManagedRulesSQLiRuleSet');
    expect(waf).toContain('RateLimitPerIp');
    expect(waf).not.toContain('Default_Action');
    expect(panel('ids-alerts')).toMatch(/(Recon|UnauthorizedAccess|CredentialAccess):/);
  });

  it('AI: every service that names its model, narrowed by the service filter', async () => {
    // Act
    const all = await (await get('/dashboard?id=ai')).text();
    const one = await (await get('/dashboard?id=ai&service=support-bot')).text();
    const models = (body: string) => /data-panel="ai-models">([\s\S]*?)<\/section>/.exec(body)?.[1] ?? '';

    // Assess
    expect(models(all)).toContain('gpt-4o-mini');
    expect(models(all)).toContain('claude-sonnet');
    expect(models(one)).toContain('gpt-4o-mini');
    expect(models(one)).not.toContain('claude-sonnet');
    expect(one).toContain('<option value="support-bot" selected>support-bot</option>');
    // Only services with AI events are offered
    expect(all).toContain('<option value="genai-pipeline">genai-pipeline</option>');
    expect(all).not.toContain('<option value="checkout-api">');
    expect(/data-panel="ai-latency">([\s\S]*?)<\/section>/.exec(one)?.[1]).toMatch(/gpt-4o-mini: \d+ ms/);
  });

  it.each([
    ['errors', 'checkout-api'],
    ['tracing', 'payments'],
  ])('%s: the explorer’s own access events are not a service', async (id, service) => {
    // Arrange: a page read, so the lake holds access events of the explorer
    await get('/?since=10m');

    // Act
    const page = await (await get(`/dashboard?id=${id}`)).text();
    // The page, not its footer (which lists the queries, with the service they leave out).
    const body = page.slice(0, page.indexOf('<footer>'));

    // Assess
    expect(body).toContain(service);
    expect(body).not.toContain(ACCESS_SERVICE);
  });

  it('keeps its range and service in the URL: presets, from/to, the select', async () => {
    // Act
    const preset = await (await get('/dashboard?id=ai&since=1h&service=support-bot')).text();
    const absolute = await (
      await get('/dashboard?id=errors&since=2026-11-30T08:00:00&until=2026-11-30T09:30:00')
    ).text();

    // Assess
    expect(preset).toContain(
      '<a href="/dashboard?service=support-bot&amp;id=ai&amp;since=1h" aria-current="true" aria-label="Last 1h">1h</a>',
    );
    expect(preset).toContain('<input type="hidden" name="range" value="1h">');
    expect(absolute).toContain('Range: 2026-11-30T08:00:00.000Z to 2026-11-30T09:30:00.000Z');
    expect(absolute).toContain('name="since" step="1" value="2026-11-30T08:00:00"');
    expect(absolute).toContain('name="until" step="1" value="2026-11-30T09:30:00"');
  });

  it.each([
    ['/dashboard?id=security&service=x', 'unknown parameter &quot;service&quot;'],
    ['/dashboard?id=errors&range=soon', 'range: expected a relative time'],
  ])('answers %s with 400', async (path, message) => {
    // Act
    const res = await get(path);

    // Assess
    expect(res.status).toBe(400);
    expect(await res.text()).toContain(message);
  });

  it('refuses an unknown dashboard', async () => {
    // Act
    const res = await get('/dashboard?id=nope');

    // Assess
    expect(res.status).toBe(400);
    expect(await res.text()).toContain(
      'no dashboard &quot;nope&quot;; expected one of errors, tracing, security, ai',
    );
  });
});

describe('alerts page', () => {
  it('shows what fires over the demo data with a search that reproduces it', async () => {
    // Act
    const body = await (await get('/alerts')).text();

    // Assess
    const firing = /<h2 id="firing">[\s\S]*?<\/section>/.exec(body)?.[0] ?? '';
    expect(firing).toContain('security-critical');
    const href = /<a href="\/\?([^"]+)">search<\/a>/.exec(firing)?.[1]?.replaceAll('&amp;', '&');
    expect(href).toBeDefined();
    const search = await (await get(`/?${href}`)).text();
    expect(search).toMatch(/[1-9]\d* matching events?/);
  });

  it("shows the local alerting's rule state and history, the search keeping the rule's where", async () => {
    // Arrange: what the local alerting writes (src/alerts/local.ts) when bulk-read fires.
    const rule = DEFAULT_RULES['bulk-read'];
    if (rule === undefined) throw new Error('no default rule bulk-read');
    const window = { start: '2026-11-30T10:00:00.000Z', end: '2026-11-30T10:05:00.000Z', minutes: 5 };
    const group = { service: ACCESS_SERVICE };
    const search = searchCommand(rule, group, window, `--data-dir ${lake.dataDir}`);
    const alert: Alert = {
      version: 1,
      id: alertId('bulk-read', `service=${ACCESS_SERVICE}`, 'firing', window.end),
      source: 'rule',
      status: 'firing',
      rule: 'bulk-read',
      description: rule.description,
      severity: rule.severity,
      kind: rule.kind,
      value: 3,
      threshold: rule.threshold,
      unit: 'events',
      window,
      group,
      groupKey: `service=${ACCESS_SERVICE}`,
      firedAt: window.end,
      since: window.end,
      repeat: false,
      samples: [],
      details: {},
      ...(search ? { search } : {}),
    };
    // The demo's own alerting may have written these files: put them back after.
    const kept = [ALERTS_FILE, STATE_FILE].map((f) => {
      const file = join(lake.dataDir, f);
      return { file, text: existsSync(file) ? readFileSync(file, 'utf8') : undefined };
    });
    appendFileSync(join(lake.dataDir, ALERTS_FILE), `${JSON.stringify(alert)}\n`);
    mkdirSync(dirname(join(lake.dataDir, STATE_FILE)), { recursive: true });
    const groupState = {
      status: 'firing',
      consecutive: 1,
      since: '2026-11-30T10:05:00.000Z',
      lastEvaluatedAt: '2026-11-30T10:05:00.000Z',
      lastValue: 3,
    };
    writeFileSync(
      join(lake.dataDir, STATE_FILE),
      JSON.stringify({
        'bulk-read': {
          state: { groups: { [`service=${ACCESS_SERVICE}`]: groupState } },
          outbox: [],
          version: 1,
        },
      }),
    );

    try {
      // Act
      const body = await (await get('/alerts')).text();

      // Assess
      const state = /<h2 id="state">[\s\S]*?<\/section>/.exec(body)?.[0] ?? '';
      expect(state).toContain(`<td>bulk-read</td><td>service=${ACCESS_SERVICE}</td><td>firing</td>`);
      const history = /<h2 id="history">[\s\S]*?<\/section>/.exec(body)?.[0] ?? '';
      expect(history).toContain('>bulk-read</td>');
      const href = /<a href="\/\?([^"]+)">search<\/a>/.exec(history)?.[1]?.replaceAll('&amp;', '&') ?? '';
      const link = new URLSearchParams(href);
      expect(link.getAll('where')).toEqual(['attributes.access.flags!=']);
      expect(link.get('service')).toBe(ACCESS_SERVICE);
      expect((await get(`/?${href}`)).status).toBe(200);
    } finally {
      for (const { file, text } of kept) {
        if (text === undefined) rmSync(file, { force: true });
        else writeFileSync(file, text);
      }
    }
  });
});
