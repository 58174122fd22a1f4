/**
 * The CloudTrail trail's table (lib/trail.ts) on a real engine: Trino, which Athena engine v3 is. The
 * table is created from the synthesized stack's own Glue table (`accessAudit.trail.enabled`), its files
 * are CloudTrail log files as a trail delivers them (one gzipped `{"Records":[…]}` document on one line,
 * camelCase keys, under `AWSLogs/<account>/CloudTrail/<region>/yyyy/MM/dd/`), and the compliance report's
 * "who accessed what" item runs its own query over them through the real Athena client.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TRAIL_PREFIX, TRAIL_TABLE } from '../../lib/trail';
import { type DeployedLake, deployedLake, readAccessLog } from '../../src/compliance/aws';
import { DEFAULT_CONFIG } from '../../src/config';
import { bucketOutput, STACK_OUTPUTS, tableOutput } from '../../src/outputs';
import {
  type GlueTable,
  SYNTH_ACCOUNT,
  SYNTH_REGION,
  synthesizedGlueTables,
  trinoCreateTable,
} from '../helpers/trino-ddl';
import { openTierLake, type TierLake } from './lake';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const FIXTURE = join(__dirname, '../fixtures/aws-sources/cloudtrail-delivery.json');

type TrailRecord = Record<string, unknown> & { eventTime: string };
const fixture = (JSON.parse(readFileSync(FIXTURE, 'utf8')) as { Records: TrailRecord[] }).Records;
/** Fixture record `i` (its index in the file) moved to `day` (`yyyy-MM-dd`), at `time` if given. */
function recordOn(i: number, day: string, time?: string): TrailRecord {
  const r = fixture[i];
  if (!r) throw new Error(`no record ${i} in ${FIXTURE}`);
  const moved = JSON.parse(JSON.stringify(r).replaceAll(r.eventTime.slice(0, 10), day)) as TrailRecord;
  return time ? { ...moved, eventTime: `${day}T${time}Z` } : moved;
}

const ymd = (t: number) => new Date(t).toISOString().slice(0, 10);

let lake: TierLake;
let dir: string;
let root: string;
let trail: GlueTable;
let deployed: DeployedLake;
// Yesterday and today (UTC): inside the table's projected days, which run up to tomorrow.
const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
const yesterday = today - DAY;
const window = { since: new Date(yesterday + HOUR), until: new Date(today + 12 * HOUR) };

/** Writes one CloudTrail log file of `records`, delivered on `day`, where the trail puts it. */
function deliver(day: number, name: string, records: readonly TrailRecord[]) {
  const [y, m, d] = ymd(day).split('-');
  const folder = join(
    root,
    dir,
    TRAIL_PREFIX,
    'AWSLogs',
    SYNTH_ACCOUNT,
    'CloudTrail',
    SYNTH_REGION,
    y as string,
    m as string,
    d as string,
  );
  mkdirSync(folder, { recursive: true });
  const stamp = `${ymd(day).replaceAll('-', '')}T0325Z`;
  writeFileSync(
    join(folder, `${SYNTH_ACCOUNT}_CloudTrail_${SYNTH_REGION}_${stamp}_${name}.json.gz`),
    gzipSync(JSON.stringify({ Records: records })),
  );
}

beforeAll(async () => {
  lake = await openTierLake();
  root = inject('trino').lakeRoot;
  dir = `${lake.schema}-trail`;
  const table = synthesizedGlueTables({ accessAudit: { trail: { enabled: true } } })[TRAIL_TABLE];
  if (!table) throw new Error(`the stack with accessAudit.trail.enabled has no Glue table ${TRAIL_TABLE}`);
  trail = table;
  const y = ymd(yesterday);
  const t = ymd(today);
  // Yesterday's file: the fixture as delivered (mallory reads and fails to delete an audit object, Athena
  // reads for alice, Firehose reads its error output, alice starts the query), and one read of
  // mallory's before the period began.
  deliver(yesterday, 'a1', [...fixture.map((_, i) => recordOn(i, y)), recordOn(0, y, '00:30:00')]);
  // Today's: one more read each by mallory and by Athena for alice.
  deliver(today, 'b2', [recordOn(0, t, '00:10:00'), recordOn(2, t, '00:11:00')]);
  // Today after noon (outside `window`, inside `busyWindow`): 21 principals, one of whom read three times.
  const busy = Array.from({ length: 21 }, (_, i) => {
    const r = recordOn(0, t, `13:${String(i).padStart(2, '0')}:00`);
    return {
      ...r,
      userIdentity: { ...(r.userIdentity as object), arn: `arn:aws:iam::111122223333:user/u${i}` },
    };
  });
  deliver(today, 'd4', [...busy, busy[7] as TrailRecord, busy[7] as TrailRecord]);
  // Three days ago: outside the period.
  deliver(yesterday - 2 * DAY, 'c3', [recordOn(0, ymd(yesterday - 2 * DAY))]);
  await lake.trino.query(trinoCreateTable(trail, lake.schema, dir));
  deployed = deployedLake('TierStack', SYNTH_REGION, {
    [bucketOutput('logs')]: 'tier-logs',
    [bucketOutput('audit')]: 'tier-audit',
    [STACK_OUTPUTS.key]: `arn:aws:kms:${SYNTH_REGION}:${SYNTH_ACCOUNT}:key/tier`,
    [STACK_OUTPUTS.database]: lake.schema,
    [STACK_OUTPUTS.workGroup]: 'primary',
    [tableOutput('logs')]: 'logs',
    [tableOutput('audit')]: 'audit',
    [STACK_OUTPUTS.trailTable]: TRAIL_TABLE,
  });
}, 180_000);

afterAll(async () => {
  await lake?.trino.query(`DROP TABLE IF EXISTS hive."${lake.schema}"."${TRAIL_TABLE}"`);
  if (root && dir) rmSync(join(root, dir), { recursive: true, force: true });
  await lake?.close();
});

describe("the CloudTrail trail's table on Trino", () => {
  it("lists each principal's operations on the lake's objects in the period, from the delivered files", async () => {
    // Act: the compliance report's "who accessed what" item, with the stack's trail table
    const item = await readAccessLog(lake.athena.client, deployed, DEFAULT_CONFIG, window);

    // Assess: S3 operations only (not the Athena call), only those of the period (not mallory's earlier
    // read, nor the file of three days ago), counted across both days' files.
    const start = item.summary.findIndex((s) => s.startsWith('CloudTrail (table'));
    expect(item.summary.slice(start)).toEqual([
      "CloudTrail (table cloudtrail): 6 operation(s) on the lake's objects by 3 principal(s), reads outside loglake included",
      '  arn:aws:iam::111122223333:user/mallory GetObject ×2',
      '  arn:aws:sts::111122223333:assumed-role/loglake-security/alice GetObject ×2',
      '  arn:aws:iam::111122223333:user/mallory DeleteObject ×1',
      '  firehose.amazonaws.com GetObject ×1',
    ]);
    expect(item.source).toContain("the CloudTrail trail's table cloudtrail");
  });

  it('totals every principal and operation of the period, listing the 20 most frequent', async () => {
    // Act
    const busyWindow = { since: new Date(today + 13 * HOUR), until: new Date(today + 14 * HOUR) };
    const item = await readAccessLog(lake.athena.client, deployed, DEFAULT_CONFIG, busyWindow);

    // Assess: 23 reads by 21 principals, though only 20 pairs are listed
    const start = item.summary.findIndex((s) => s.startsWith('CloudTrail (table'));
    const lines = item.summary.slice(start);
    expect(lines[0]).toBe(
      "CloudTrail (table cloudtrail): 23 operation(s) on the lake's objects by 21 principal(s), reads outside loglake included; the 20 most frequent of 21 principal and operation pairs:",
    );
    expect(lines).toHaveLength(21);
    expect(lines[1]).toBe('  arn:aws:iam::111122223333:user/u7 GetObject ×3');
  });

  it('reads camelCase keys into the lower-case fields, and an object under a string field as its JSON text', async () => {
    // Act
    const rows = await lake.trino.rows(
      `SELECT r.eventname AS operation, r.readonly AS ro, r.errorcode AS error, r.resources[1].arn AS object,
         json_extract_scalar(r.requestparameters, '$.key') AS "key",
         json_extract_scalar(r.responseelements, '$.queryExecutionId') AS query,
         r.useridentity.sessioncontext.sessionissuer.username AS issuer
       FROM hive."${lake.schema}"."${TRAIL_TABLE}" CROSS JOIN UNNEST(records) AS r
       WHERE day = '${ymd(yesterday).replaceAll('-', '/')}' AND r.eventtime > '${ymd(yesterday)}T03'
       ORDER BY r.eventtime`,
    );

    // Assess
    const key = `logs/category=audit/dt=${ymd(yesterday)}/hour=03/part-0.parquet`;
    expect(rows).toEqual([
      {
        operation: 'GetObject',
        ro: 'true',
        error: null,
        object: `arn:aws:s3:::loglake-audit-111122223333/${key}`,
        key,
        query: null,
        issuer: null,
      },
      {
        operation: 'DeleteObject',
        ro: 'false',
        error: 'AccessDenied',
        object: `arn:aws:s3:::loglake-audit-111122223333/${key}`,
        key,
        query: null,
        issuer: null,
      },
      expect.objectContaining({
        operation: 'StartQueryExecution',
        query: 'c0ffee00-1234-4abc-9def-0123456789ab',
      }),
      expect.objectContaining({ operation: 'GetObject', issuer: 'loglake-security' }),
      expect.objectContaining({
        operation: 'GetObject',
        issuer: null,
        object: expect.stringContaining('/errors/'),
      }),
    ]);
  });
});
