/**
 * The explorer over Athena (`loglake ui --workgroup … --persona …`), at the data layer: the real Athena
 * runner and AWS SDK clients against aws-sdk-client-mock (the emulator has no Athena). Each panel shows
 * the bytes its query scanned and their cost, a dashboard reloaded inside its refresh interval runs no
 * query again, a persona's queries read only its categories, and every query is an access event on
 * the audit stream.
 */
import { AthenaClient, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { FirehoseClient, PutRecordCommand } from '@aws-sdk/client-firehose';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { withAccessScope } from '../../src/audit/access';
import { cliAccessScope } from '../../src/cli/access';
import { type RunningUi, startUi } from '../../src/cli/commands/ui';
import { answerAthena, putEvents } from '../helpers/athena-stub';

const athena = mockClient(AthenaClient);
const firehose = mockClient(FirehoseClient);
const sts = mockClient(STSClient);
const SCANNED = 50 * 1024 * 1024;
let ui: RunningUi;

/** One row that every panel of the errors dashboard can decode (columns are read by name). */
const COLUMNS = [
  'service',
  'error_type',
  'http_status',
  'bucket_start',
  'count',
  'errors',
  'error_rate',
  'first_seen',
  'last_seen',
  'sample_correlation_ids',
];
const ROW = [
  'payments',
  'TimeoutError',
  '503',
  String(Math.floor(Date.now() / 60_000) * 60_000),
  '7',
  '3',
  '0.4286',
  new Date().toISOString(),
  new Date().toISOString(),
  '["corr-1"]',
];

beforeAll(async () => {
  answerAthena(athena, { columns: COLUMNS, rows: [ROW], scannedBytes: SCANNED });
  firehose.on(PutRecordCommand).resolves({ RecordId: 'r' });
  sts.on(GetCallerIdentityCommand).resolves({ Arn: 'arn:aws:sts::123456789012:assumed-role/dev/alice' });
  // As `loglake ui` runs: inside the CLI's access scope.
  ui = await withAccessScope(cliAccessScope('ui'), () =>
    startUi(
      {
        port: 0,
        workgroup: 'loglake-developer',
        database: 'loglake_db',
        region: 'eu-west-1',
        persona: 'developer',
        auditStream: 'loglake-audit',
      },
      { stdout: () => undefined, stderr: () => undefined },
      new AthenaClient({ region: 'eu-west-1' }),
    ),
  );
});

afterEach(() => {
  athena.resetHistory();
  firehose.resetHistory();
});

afterAll(async () => {
  await ui?.stop();
  athena.restore();
  firehose.restore();
  sts.restore();
});

const get = (path: string) => fetch(new URL(path, ui.url));

describe('a dashboard over Athena', () => {
  it('shows bytes scanned and cost per panel, and caches the results for the refresh interval', async () => {
    // Arrange: both views inside one refresh interval (the range moves at whole minutes)
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 50_000) await new Promise((r) => setTimeout(r, 60_000 - intoMinute + 100));

    // Act
    const first = await (await get('/dashboard?id=errors')).text();
    const starts = athena.commandCalls(StartQueryExecutionCommand);
    const events = putEvents(firehose, 'loglake-audit');
    const second = await (await get('/dashboard?id=errors')).text();

    // Assess: one query per panel, each shown with what it scanned (50 MiB, ~$0.00024), and one for
    // the service filter's list
    const metas = [...first.matchAll(/<p class="meta">([^<]*)<\/p><\/section>/g)].map((m) => m[1]);
    expect(metas).toHaveLength(4);
    expect(metas.every((m) => m?.includes('scanned 50.00 MiB (~$0.00024)'))).toBe(true);
    expect(starts).toHaveLength(5);
    expect(starts.every((c) => c.args[0].input.WorkGroup === 'loglake-developer')).toBe(true);
    expect(starts[0]?.args[0].input.QueryString).toContain('"loglake_db"."logs"');
    expect(first).toMatch(/>payments<\/a><\/td><td><a [^>]*>TimeoutError<\/a><\/td><td>7<\/td>/);

    // Assess: the reload inside the minute ran nothing and says so
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(5);
    const cached = [...second.matchAll(/<p class="meta">([^<]*)<\/p><\/section>/g)].map((m) => m[1]);
    expect(cached.every((m) => m?.startsWith('cached (first run'))).toBe(true);

    // Assess: every query an access event on the audit stream, as the persona, with the bytes
    expect(events).toHaveLength(5);
    expect(events[0]?.access).toMatchObject({
      command: 'ui',
      persona: 'developer',
      engine: 'athena',
      principal: 'arn:aws:sts::123456789012:assumed-role/dev/alice',
      bytes_scanned: String(SCANNED),
      lake: 'loglake-developer/loglake_db',
    });
  }, 90_000);

  it('runs the panels of a dashboard side by side, not one after another', async () => {
    // Act: the security dashboard (a query per panel the developer persona reads, no service list
    // first), a range no earlier view cached
    const page = await get('/dashboard?id=security&since=3h');
    expect(page.status).toBe(200);

    // Assess: how many queries were started and not yet read at once, from the client's calls in order
    let inFlight = 0;
    let most = 0;
    for (const call of athena.calls()) {
      const name = (call.args[0] as { constructor: { name: string } }).constructor.name;
      if (name === 'StartQueryExecutionCommand') most = Math.max(most, ++inFlight);
      if (name === 'GetQueryResultsCommand') inFlight--;
    }
    const starts = athena.commandCalls(StartQueryExecutionCommand).length;
    expect(starts).toBeGreaterThanOrEqual(3);
    expect(most).toBe(starts);
  }, 90_000);

  it("narrows every query to the persona's categories", async () => {
    // Act
    await get('/?since=1h');

    // Assess
    const starts = athena.commandCalls(StartQueryExecutionCommand);
    expect(starts.length).toBeGreaterThan(0);
    for (const call of starts) {
      expect(call.args[0].input.QueryString).toContain('"category" IN (?, ?, ?, ?, ?)');
      expect(call.args[0].input.ExecutionParameters).toEqual(
        expect.arrayContaining(["'debug'", "'runtime'", "'framework'", "'errors'", "'api_access'"]),
      );
      expect(call.args[0].input.ExecutionParameters).not.toContain("'security'");
    }
  });

  it('refuses a category outside the persona', async () => {
    // Act
    const res = await get('/?since=1h&category=security');

    // Assess
    expect(res.status).toBe(400);
    expect(athena.commandCalls(StartQueryExecutionCommand)).toHaveLength(0);
  });

  it("narrows a dashboard's panels to the persona's categories", async () => {
    // Act: the security dashboard names security, audit and every category in its panels
    const res = await get('/dashboard?id=security&since=5h');

    // Assess: no query reads a category the developer persona may not read, nor the audit table
    expect(res.status).toBe(200);
    const starts = athena.commandCalls(StartQueryExecutionCommand);
    expect(starts.length).toBeGreaterThan(0);
    for (const call of starts) {
      expect(call.args[0].input.QueryString).not.toContain('"loglake_db"."audit"');
      expect(call.args[0].input.ExecutionParameters).not.toContain("'security'");
      expect(call.args[0].input.ExecutionParameters).not.toContain("'audit'");
    }
    // Assess: a panel over only categories the persona does not read says so
    expect(await res.text()).toContain('may read debug, runtime, framework, errors, api_access');
  });

  it("narrows the events around a record to the persona's categories", async () => {
    // Act: no category, then a category the persona may not read
    const any = await get(`/around?at=${encodeURIComponent(new Date().toISOString())}&service=payments`);
    const locked = await get(
      `/around?at=${encodeURIComponent(new Date().toISOString())}&service=payments&category=audit`,
    );

    // Assess
    expect(any.status).toBe(200);
    expect(locked.status).toBe(400);
    const starts = athena.commandCalls(StartQueryExecutionCommand);
    expect(starts).toHaveLength(1);
    expect(starts[0]?.args[0].input.QueryString).toContain('"category" IN (?, ?, ?, ?, ?)');
    expect(starts[0]?.args[0].input.ExecutionParameters).not.toContain("'security'");
  });

  it('says the alerts page needs the stack to find the rules’ state, when only the workgroup is named', async () => {
    // Act
    const body = await (await get('/alerts')).text();

    // Assess
    expect(body).toContain('alarm Lambda evaluates the enabled rules');
    expect(body).toContain('name the stack with <code>--stack</code>');
  });
});
