import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchLake, startTestLocal, type TestLocal } from '../helpers/local';
import { type ScriptedCall, startScriptedAws } from '../helpers/scripted-aws';

const CLI = join(__dirname, '..', '..', 'bin', 'loglake.cjs');

/** Run the real CLI in its own process (`bin` defaults to the package's bin file). */
function loglake(
  args: string[],
  stdin?: string,
  env: Record<string, string> = {},
  bin = CLI,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: {
        ...process.env,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        LOGLAKE_DATA_DIR: '',
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

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
    const r = await loglake(['search', '--since', 'yesterday'], undefined, {}, linked);

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
    const exp = await loglake(['export', '--data-dir', local.dataDir, '--since', '1h', '--output', out]);

    // Assess
    expect(stats.code).toBe(0);
    expect(stats.stdout.split('\n')[0]).toBe('service,count,errors,error_rate,first_seen,last_seen');
    expect(stats.stdout).toContain('checkout,6,');
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
      [command, '--athena', '--region', 'eu-west-1', '--workgroup', 'wg', '--database', 'lake', ...extra],
      undefined,
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
      const r = await loglake(['send', '--stream', 'logs', '--endpoint', target.endpoint.url], lines);
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
  it('runs the pipeline end to end and shows the incident redacted, within 30 s', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'loglake-demo-'));

    // Act
    const started = Date.now();
    const r = await loglake(['demo', '--data-dir', dir]);

    // Assess
    expect(r.code).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(r.stdout).toContain('The security incident, found by its correlation id');
    expect(r.stdout).toContain('none of the planted secrets, emails, card numbers or IPs is in the lake');
    expect(r.stdout).toMatch(/security\s+\d+/);
    expect(r.stdout).toContain('FIRING security-critical');
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});
