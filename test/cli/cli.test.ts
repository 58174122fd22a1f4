import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from '../helpers/child';
import { loglake } from '../helpers/cli';
import { searchLake, startTestLocal, type TestLocal } from '../helpers/local';
import { record, writeParquetLake } from '../helpers/records';
import { type ScriptedCall, startScriptedAws } from '../helpers/scripted-aws';

let local: TestLocal;
const now = Date.now();
const line = (i: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    timestamp: new Date(now - i * 60_000).toISOString(),
    level: i % 3 === 0 ? 'ERROR' : 'INFO',
    service: i % 2 === 0 ? 'checkout' : 'search',
    logger: 'app.main',
    message: `order ${i} for ada@example.com: 100% "done", o'k`,
    correlation_id: `cli-${i}`,
    user_id: `user-${i % 4}`,
    ...extra,
  });

beforeAll(async () => {
  local = await startTestLocal();
  await local.client.send(
    new PutRecordBatchCommand({
      DeliveryStreamName: 'logs',
      Records: Array.from({ length: 12 }, (_, i) => ({ Data: Buffer.from(`${line(i)}\n`) })),
    }),
  );
  await local.pipeline.flush();
  // The CLI reads the lake while this process keeps the pipeline; stopping it frees nothing it needs.
  await local.stop();
});
afterAll(async () => {
  await local.dispose();
});

describe('loglake CLI', () => {
  it('runs under the name npm links it as (node_modules/.bin/loglake)', async () => {
    // Prepare: npm installs the bin as a symlink named after the command, not the file.
    const dir = mkdtempSync(join(tmpdir(), 'loglake-bin-'));
    const linked = join(dir, 'loglake');
    symlinkSync(CLI, linked);

    // Act
    const r = await loglake(['search', '--since', 'yesterday'], {}, { bin: linked });

    // Assess
    rmSync(dir, { recursive: true, force: true });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--since: cannot understand "yesterday"/);
  });

  it.each([
    ['--help'],
    ['search', '--help'],
    ['stats', '--help'],
    ['export', '--help'],
    ['local', '--help'],
    ['send', '--help'],
    ['demo', '--help'],
  ])('prints help and exits 0 for %s', async (...args) => {
    // Act
    const r = await loglake(args);

    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: loglake');
  });

  it.each([
    [['search', '--bogus'], /unknown option '--bogus'/],
    [['search', '--limit', 'ten'], /argument 'ten' is invalid/],
    [['search', '--since', 'yesterday'], /--since: cannot understand "yesterday"/],
    [['search', '--level', 'LOUD', '--data-dir', '.'], /--level: unknown level "LOUD"/],
    [['search', '--athena', '--data-dir', '.'], /--athena and --data-dir exclude each other/],
    [['export', '--data-dir', '.'], /required option '--output <file>' not specified/],
    [['stats', '--group-by', 'message'], /--group-by: cannot group by "message"/],
    [['search', '--data-dir', '/nonexistent/lake'], /no local lake at \/nonexistent\/lake/],
    [[], /Usage: loglake/],
  ])('exits 2 with a clear message for %j', async (args, message) => {
    // Act
    const r = await loglake(args);

    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('prints one JSON array of normalized records, redacted', async () => {
    // Act
    const r = await loglake([
      'search',
      "O'K",
      '--data-dir',
      local.dataDir,
      '--level',
      'error',
      '--format',
      'json',
      '--since',
      '1h',
    ]);

    // Assess
    expect(r.code).toBe(0);
    const records = JSON.parse(r.stdout) as Array<{ correlation_id: string; message: string; level: string }>;
    expect(records.map((x) => x.correlation_id).sort()).toEqual(['cli-0', 'cli-3', 'cli-6', 'cli-9']);
    expect(r.stdout).not.toContain('ada@example.com');
  });

  it('finds a raw user id through its pseudonym, in NDJSON', async () => {
    // Act
    const r = await loglake([
      'search',
      '--data-dir',
      local.dataDir,
      '--user',
      'user-1',
      '--format',
      'ndjson',
      '--since',
      '1h',
    ]);

    // Assess
    expect(r.code).toBe(0);
    const ids = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { correlation_id: string; user_id: string });
    expect(ids.map((x) => x.correlation_id).sort()).toEqual(['cli-1', 'cli-5', 'cli-9']);
    expect(ids.every((x) => /^u_[0-9a-f]{32}$/.test(x.user_id))).toBe(true);
  });

  it('exits 0 with a note when nothing matches', async () => {
    // Act
    const r = await loglake(['search', 'no such text', '--data-dir', local.dataDir]);

    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('no matching records');
  });

  it('prints stats as CSV and exports every record to a file', async () => {
    // Prepare
    const out = join(mkdtempSync(join(tmpdir(), 'loglake-export-')), 'all.csv');

    // Act
    const stats = await loglake([
      'stats',
      '--data-dir',
      local.dataDir,
      '--group-by',
      'service',
      '--format',
      'csv',
      '--since',
      '1h',
    ]);
    // The producer's services: the lake also holds the access events of the queries before (audit).
    const exp = await loglake([
      'export',
      '--data-dir',
      local.dataDir,
      '--since',
      '1h',
      '--service',
      'checkout,search',
      '--output',
      out,
    ]);

    // Assess
    expect(stats.code).toBe(0);
    // Without --agg a row is the group keys and `count` alone (issue #12's JSON shape, in every format).
    expect(stats.stdout.split('\n')[0]).toBe('service,count');
    expect(stats.stdout.split('\n')).toContain('checkout,6');
    expect(exp.code).toBe(0);
    expect(exp.stderr).toContain('exported 12 records');
    const csv = readFileSync(out, 'utf8').trim().split('\n');
    expect(csv).toHaveLength(13);
    expect(csv[0]?.startsWith('timestamp,level,service,logger,message,')).toBe(true);
    rmSync(join(out, '..'), { recursive: true, force: true });
  });
});

describe('loglake search/stats/export --athena --persona', () => {
  let aws: Awaited<ReturnType<typeof startScriptedAws>>;
  let out: string;
  beforeAll(async () => {
    // Athena as the SDK sees it: every query succeeds with no rows.
    aws = await startScriptedAws((call) => {
      if (call.operation === 'StartQueryExecution') return { body: { QueryExecutionId: `q-${Date.now()}` } };
      if (call.operation === 'GetQueryExecution')
        return { body: { QueryExecution: { Status: { State: 'SUCCEEDED' } } } };
      return { body: { ResultSet: { ResultSetMetadata: { ColumnInfo: [] }, Rows: [] } } };
    });
    out = mkdtempSync(join(tmpdir(), 'loglake-persona-'));
  });
  afterAll(async () => {
    await aws.close();
    rmSync(out, { recursive: true, force: true });
  });

  const athena = (command: string, ...extra: string[]) => {
    const before = aws.calls.length;
    return loglake(
      [
        command,
        '--athena',
        '--region',
        'eu-west-1',
        '--workgroup',
        'wg',
        '--database',
        'lake',
        '--audit-stream',
        'lake-audit',
        ...extra,
      ],
      { AWS_ENDPOINT_URL: aws.url, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
    ).then((r) => ({ ...r, calls: aws.calls.slice(before) }));
  };
  const started = (calls: ScriptedCall[]) => {
    const start = calls.find((c) => c.operation === 'StartQueryExecution');
    return {
      sql: String(start?.body.QueryString),
      params: (start?.body.ExecutionParameters ?? []) as string[],
    };
  };
  const quoted = (cs: string[]) => cs.map((c) => `'${c}'`);

  it.each([['search'], ['stats'], ['export', '--output', 'auditor.csv']])(
    'reads only the auditor’s categories, from both tables, in %s',
    async (command, ...extra) => {
      // Act
      const r = await athena(
        command,
        '--persona',
        'auditor',
        ...extra.map((e) => (e.endsWith('.csv') ? join(out, e) : e)),
      );

      // Assess
      expect(r.code, r.stderr).toBe(0);
      const { sql, params } = started(r.calls);
      expect(sql).toContain('"lake"."logs"');
      expect(sql).toContain('"lake"."audit"');
      expect(sql.match(/"category" IN \(\?, \?, \?, \?\)/g)).toHaveLength(2);
      const categories = quoted(['framework', 'errors', 'security', 'audit']);
      expect(params.filter((p) => categories.includes(p))).toEqual([...categories, ...categories]);
    },
  );

  it('narrows to the overlap with --category, and a developer reads the logs table only', async () => {
    // Act
    const auditor = await athena('search', '--persona', 'auditor', '--category', 'errors,debug');
    const developer = await athena('search', '--persona', 'developer');

    // Assess
    expect(auditor.code, auditor.stderr).toBe(0);
    expect(started(auditor.calls).sql).not.toContain('"audit"');
    expect(started(auditor.calls).params).toContain("'errors'");
    expect(started(auditor.calls).params).not.toContain("'debug'");
    expect(developer.code, developer.stderr).toBe(0);
    expect(started(developer.calls).sql).not.toContain('"lake"."audit"');
    expect(started(developer.calls).sql).toContain('"category" IN (?, ?, ?, ?, ?)');
  });

  it('exits 2 without calling AWS when the persona may read none of --category', async () => {
    // Act
    const r = await athena('search', '--persona', 'developer', '--category', 'security,audit');

    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      '--persona developer may read debug, runtime, framework, errors, api_access, none of --category security, audit',
    );
    expect(r.calls).toEqual([]);
  });
});

describe('loglake send', () => {
  it('ships stdin lines to the local endpoint, where search finds them', async () => {
    // Prepare
    const target = await startTestLocal();
    try {
      const lines = Array.from({ length: 30 }, (_, i) => line(100 + i, { correlation_id: `send-${i}` })).join(
        '\n',
      );

      // Act
      const r = await loglake(
        ['send', '--stream', 'logs', '--endpoint', target.endpoint.url],
        {},
        { stdin: lines },
      );
      await target.pipeline.flush();

      // Assess
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/30 line\(s\) in \d+ record\(s\)/);
      const found = await searchLake(target.dataDir, { correlationId: 'send-17' });
      expect(found).toHaveLength(1);
    } finally {
      await target.dispose();
    }
  });
});

describe('loglake demo', () => {
  it('runs the pipeline end to end and shows the incident redacted', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'loglake-demo-'));

    // Act (no timed assertion: run times belong in bench/)
    const r = await loglake(['demo', '--data-dir', dir, '--no-ui']);

    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('The security incident, found by its correlation id');
    expect(r.stdout).toContain('none of the planted secrets, emails, card numbers or IPs is in the lake');
    expect(r.stdout).toMatch(/security\s+\d+/);
    expect(r.stdout).toContain('FIRING security-critical');
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});

describe('loglake and a data directory that is not there', () => {
  const typo = join(tmpdir(), 'loglake-no-such-lake', 'data');

  it.each([
    [['search']],
    [['stats']],
    [['export', '--output', join(tmpdir(), 'loglake-never.csv')]],
    [['alerts', 'evaluate']],
    [['compact']],
    [['compact', '--dry-run']],
    [['patterns']],
    [['cleanup', '--dry-run']],
    [['compliance-report']],
  ])('refuses it the same way in %j: exit 2, the path named', async (args) => {
    // Act
    const r = await loglake([...args, '--data-dir', typo]);

    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no local lake at ${typo}`);
    expect(r.stdout).toBe('');
  });
});

describe('loglake and a data directory whose path has glob characters', () => {
  let dir: string;
  beforeAll(() => {
    // Every character DuckDB's glob would read as a pattern, in one directory name.
    dir = join(mkdtempSync(join(tmpdir(), 'loglake-glob-')), 'lake [x]*?{y}');
    cpSync(local.dataDir, dir, { recursive: true });
  });
  afterAll(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('finds every record with search, stats and export', async () => {
    // Prepare
    const out = join(dir, '..', 'all.ndjson');

    // Act
    // The producer's services: the lake also holds the access events of the queries before (audit).
    const only = ['--service', 'checkout,search'];
    const search = await loglake([
      'search',
      '--data-dir',
      dir,
      '--since',
      '1h',
      '--format',
      'ndjson',
      ...only,
    ]);
    const stats = await loglake(['stats', '--data-dir', dir, '--since', '1h', '--format', 'json', ...only]);
    const exp = await loglake([
      'export',
      '--data-dir',
      dir,
      '--since',
      '1h',
      ...only,
      '--format',
      'ndjson',
      '--output',
      out,
    ]);

    // Assess
    expect(search.code, search.stderr).toBe(0);
    expect(search.stdout.trim().split('\n')).toHaveLength(12);
    expect(stats.code, stats.stderr).toBe(0);
    const statsRows = JSON.parse(stats.stdout) as Array<{ count: number }>;
    expect(statsRows.reduce((n, r) => n + r.count, 0)).toBe(12);
    // Grouped by category (the default) without --agg: the group key and `count`, nothing else.
    expect(statsRows.length).toBeGreaterThan(0);
    for (const r of statsRows) expect(Object.keys(r)).toEqual(['category', 'count']);
    expect(exp.code, exp.stderr).toBe(0);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(12);
  });
});

describe('loglake search --level', () => {
  it('takes every alias the transform maps (panic, trace, warning …)', async () => {
    // Act
    const r = await loglake([
      'search',
      '--data-dir',
      local.dataDir,
      '--since',
      '1h',
      '--level',
      'err,panic,trace',
      '--format',
      'ndjson',
    ]);

    // Assess
    expect(r.code, r.stderr).toBe(0);
    const levels = r.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { level: string }).level);
    expect(new Set(levels)).toEqual(new Set(['ERROR']));
    expect(levels).toHaveLength(4);
  });
});

describe('loglake output in a terminal of a given width', () => {
  const uuid = (i: number) => `5d0f179c-7b9f-4ef1-95c2-eaa3cdcb10${String(i).padStart(2, '0')}`;
  const message = (i: number) =>
    `payment authorization ${i} failed after three retries: upstream gateway answered 502 Bad Gateway and the customer saw the retry page`;
  const start = Date.parse('2026-11-22T12:01:00Z');
  const window = ['--since', '2026-11-22T00:00Z', '--until', '2026-11-23T00:00Z'];
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'loglake-width-'));
    // Errors for the error-rate rule, a critical security event for security-critical: both fire.
    await writeParquetLake(dir, [
      ...Array.from({ length: 10 }, (_, i) =>
        record({
          timestamp: new Date(start + i * 1000).toISOString(),
          service: 'payments-gateway',
          level: i < 3 ? 'ERROR' : 'INFO',
          category: i < 3 ? 'errors' : 'runtime',
          correlation_id: uuid(i),
          message: message(i),
        }),
      ),
      record({
        timestamp: new Date(start + 60_000).toISOString(),
        service: 'identity',
        level: 'CRITICAL',
        category: 'security',
        correlation_id: uuid(99),
        message: 'role admin granted',
      }),
    ]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const lines = (text: string) => text.replace(/\n$/, '').split('\n');
  const flowed = (text: string) => text.replace(/ \\\n/g, ' ').replace(/\s+/g, ' ');

  it.each([80, 200])('fits search to %i columns: ids whole, messages whole at word breaks', async (width) => {
    // Act
    const r = await loglake(['search', '--data-dir', dir, ...window], { COLUMNS: String(width) });

    // Assess
    expect(r.code, r.stderr).toBe(0);
    for (const l of lines(r.stdout)) expect(l.length).toBeLessThanOrEqual(width);
    for (const i of [0, 5, 9, 99]) expect(r.stdout).toContain(uuid(i));
    for (const i of [0, 5, 9]) expect(flowed(r.stdout)).toContain(message(i));
    if (width === 200) expect(lines(r.stdout)[0]).toMatch(/CORRELATION_ID\s+MESSAGE$/);
  });

  it.each([80, 200])('fits stats and alerts to %i columns without breaking a word', async (width) => {
    // Act
    const stats = await loglake(['stats', '--data-dir', dir, '--group-by', 'service,level', ...window], {
      COLUMNS: String(width),
    });
    const alerts = await loglake(
      // The AWS-like delay: windows on whole minutes, as the command below shows.
      ['alerts', 'evaluate', '--data-dir', dir, '--at', '2026-11-22T12:07:00Z', '--delay', '2'],
      { COLUMNS: String(width) },
    );

    // Assess
    expect(stats.code, stats.stderr).toBe(0);
    expect(alerts.code, alerts.stderr).toBe(0);
    for (const l of [...lines(stats.stdout), ...lines(alerts.stdout)]) {
      expect(l.length).toBeLessThanOrEqual(width);
    }
    for (const value of ['payments-gateway', 'identity', 'CRITICAL', '100.0%', '0.0%']) {
      expect(stats.stdout.split(/\s+/)).toContain(value);
    }
    expect(alerts.stdout).toContain('FIRING security-critical service=identity');
    expect(alerts.stdout).toContain(uuid(99));
    const command = flowed(alerts.stdout).match(/loglake search [^\n]*?--data-dir \S+/g) ?? [];
    expect(command).toContain(
      `loglake search --since 2026-11-22T12:00:00.000Z --until 2026-11-22T12:05:00.000Z --category security --level CRITICAL --service identity --data-dir ${dir}`,
    );
  });

  it('writes whole lines into a pipe when COLUMNS is not set', async () => {
    // Act
    const r = await loglake(['search', '--data-dir', dir, ...window]);

    // Assess
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toHaveLength(12);
    expect(lines(r.stdout).find((l) => l.includes(uuid(5)))).toContain(message(5));
  });
});

describe('loglake export --output', () => {
  it('refuses a file in a directory that does not exist: exit 2, a clear message, nothing written', async () => {
    // Prepare
    const base = mkdtempSync(join(tmpdir(), 'loglake-out-'));
    const target = join(base, 'missing', 'dir', 'x.csv');

    // Act
    const r = await loglake(['export', '--data-dir', local.dataDir, '--since', '1h', '--output', target]);

    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `loglake: error: --output: cannot write ${target}: directory ${join(base, 'missing', 'dir')} does not exist\n`,
    );
    expect(readdirSync(base)).toEqual([]);
    rmSync(base, { recursive: true, force: true });
  });

  it.each([['x.csv'], ['deeper/x.csv']])(
    'names a parent that is a file, not a directory (package.json/%s): exit 2, nothing written',
    async (below) => {
      // Prepare: a project folder, whose package.json is a file.
      const base = mkdtempSync(join(tmpdir(), 'loglake-out-'));
      writeFileSync(join(base, 'package.json'), '{}\n');
      const target = join('package.json', below);

      // Act
      const r = await loglake(
        ['export', '--data-dir', local.dataDir, '--since', '1h', '--output', target],
        {},
        { cwd: base },
      );

      // Assess
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(
        `loglake: error: --output: cannot write ${target}: package.json is not a directory\n`,
      );
      expect(readdirSync(base)).toEqual(['package.json']);
      rmSync(base, { recursive: true, force: true });
    },
  );

  it('writes to stdout for -, and no file named -', async () => {
    // Prepare
    const cwd = mkdtempSync(join(tmpdir(), 'loglake-stdout-'));

    // Act
    const r = await loglake(
      [
        'export',
        '--data-dir',
        local.dataDir,
        '--since',
        '1h',
        '--service',
        'checkout,search',
        '--output',
        '-',
      ],
      {},
      { cwd },
    );

    // Assess
    expect(r.code, r.stderr).toBe(0);
    const csv = r.stdout.trim().split('\n');
    expect(csv[0]?.startsWith('timestamp,level,service,')).toBe(true);
    expect(csv).toHaveLength(13);
    expect(r.stderr).toContain('exported 12 records to stdout');
    expect(readdirSync(cwd)).toEqual([]);
    rmSync(cwd, { recursive: true, force: true });
  });
});

describe('loglake error messages', () => {
  it('names a data directory in use without the error class', async () => {
    // Prepare
    const held = await startTestLocal();
    try {
      // Act
      const r = await loglake(['local', '--data-dir', held.dataDir, '--port', '0']);

      // Assess
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^loglake: error: data directory .* is in use by process \d+/);
      expect(r.stderr).not.toMatch(/[A-Za-z]+Error\b/);
    } finally {
      await held.dispose();
    }
  });

  it('says why `local` could not shut down without the error class, exiting 1', async () => {
    // Prepare: a fault preloaded into the real process: closing the listening socket fails.
    const dir = mkdtempSync(join(tmpdir(), 'loglake-shutdown-'));
    const fault = join(dir, 'fault.cjs');
    writeFileSync(
      fault,
      `const net = require('node:net');
const close = net.Server.prototype.close;
net.Server.prototype.close = function (callback) {
  return close.call(this, () => callback?.(new RangeError('the listening socket could not be closed')));
};
`,
    );
    const child = spawn(
      process.execPath,
      ['--require', fault, CLI, 'local', '--data-dir', join(dir, 'data'), '--port', '0', '--no-alerts'],
      { env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (stdout.includes(' ready: ')) resolve();
      });
      void exit.then(() => resolve());
    });

    // Act
    child.kill('SIGINT');
    const code = await exit;

    // Assess
    rmSync(dir, { recursive: true, force: true });
    expect(stdout).toContain('loglake local ready: ');
    expect(code).toBe(1);
    expect(stderr).toContain('loglake local: shutdown failed: the listening socket could not be closed\n');
    expect(stderr).not.toMatch(/[A-Za-z]+Error\b/);
  });

  it('says why an Athena query failed without the error class', async () => {
    // Prepare
    const aws = await startScriptedAws((call) => {
      if (call.operation === 'StartQueryExecution') return { body: { QueryExecutionId: 'q-1' } };
      return {
        body: { QueryExecution: { Status: { State: 'FAILED', StateChangeReason: 'TABLE_NOT_FOUND: logs' } } },
      };
    });
    try {
      // Act
      const r = await loglake(
        ['search', '--athena', '--region', 'eu-west-1', '--workgroup', 'wg', '--database', 'lake'],
        { AWS_ENDPOINT_URL: aws.url, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
      );

      // Assess
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('loglake: error: Athena query q-1 failed: TABLE_NOT_FOUND: logs');
      expect(r.stderr).not.toMatch(/[A-Za-z]+Error\b/);
    } finally {
      await aws.close();
    }
  });

  it('treats an unknown --rule as a usage error (exit 2), naming the enabled rules', async () => {
    // Act
    const r = await loglake(['alerts', 'evaluate', '--data-dir', local.dataDir, '--rule', 'nope']);

    // Assess
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^loglake: error: --rule: "nope" is not an enabled rule; enabled: .*error-rate/);
    expect(r.stdout).toBe('');
  });
});

describe('loglake start-up', () => {
  /** Runs the CLI with a probe that lists, at exit, which of the heavy packages were loaded. */
  async function loadedPackages(args: string[], env: Record<string, string> = {}): Promise<string[]> {
    const dir = mkdtempSync(join(tmpdir(), 'loglake-probe-'));
    const probe = join(dir, 'probe.cjs');
    const out = join(dir, 'loaded.json');
    writeFileSync(
      probe,
      `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(Object.keys(require.cache))));\n`,
    );
    const r = await loglake(args, env, { nodeArgs: ['--require', probe] });
    const files = JSON.parse(readFileSync(out, 'utf8')) as string[];
    rmSync(dir, { recursive: true, force: true });
    expect(r.code, r.stderr).toBe(0);
    const heavy = /node_modules[\\/](@duckdb[\\/]node-api|@aws-sdk[\\/]client-[a-z-]+|zod)[\\/]/;
    return [...new Set(files.map((f) => heavy.exec(f)?.[1]).filter((m): m is string => m !== undefined))]
      .map((m) => m.replaceAll('\\', '/'))
      .sort();
  }

  it('loads none of DuckDB, the AWS SDK or zod for --help', async () => {
    // Act
    const loaded = await loadedPackages(['--help']);

    // Assess
    expect(loaded).toEqual([]);
  });

  it('loads DuckDB but no AWS SDK client for a local search', async () => {
    // Act
    const loaded = await loadedPackages(['search', '--data-dir', local.dataDir, '--since', '1h']);

    // Assess
    expect(loaded).toEqual(['@duckdb/node-api', 'zod']);
  });
});
