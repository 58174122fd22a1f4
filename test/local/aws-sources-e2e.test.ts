/**
 * AWS WAF and VPC Flow Logs records through the local pipeline: put with the real Firehose client the
 * way each service puts them (WAF one JSON record per request, VPC Flow Logs plain-text lines), parsed by
 * the same transform, written as Parquet, then found by search with their own fields kept.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchRecord } from '../../src/query';
import { searchLake, startTestLocal, type TestLocal } from '../helpers/local';

const FIXTURES = join(__dirname, '..', 'fixtures', 'aws-sources');
const now = Date.now();
const minutesAgo = (m: number) => now - m * 60_000;

/** The documented WAF records, re-timed to the last minutes so they land in today's partitions. */
const waf = readFileSync(join(FIXTURES, 'waf.ndjson'), 'utf8')
  .split('\n')
  .filter((l) => l !== '')
  .map((l, i) => ({ ...(JSON.parse(l) as Record<string, unknown>), timestamp: minutesAgo(10 - i) }));
/** The documented default-format flow lines, with `start` and `end` moved to the last minutes. */
const flows = readFileSync(join(FIXTURES, 'vpc-flow-default.txt'), 'utf8')
  .split('\n')
  .filter((l) => l !== '')
  .map((l, i) => {
    const fields = l.split(' ');
    fields[10] = String(Math.floor(minutesAgo(20 - i) / 1000));
    fields[11] = String(Math.floor(minutesAgo(19 - i) / 1000));
    return fields.join(' ');
  });

let local: TestLocal;
let found: SearchRecord[];

beforeAll(async () => {
  local = await startTestLocal({ flushSeconds: 1 });
  const put = async (stream: string, records: string[]) => {
    const out = await local.client.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: stream,
        Records: records.map((r) => ({ Data: Buffer.from(`${r}\n`) })),
      }),
    );
    expect(out.FailedPutCount).toBe(0);
  };
  await put(
    'aws-waf-logs-loglake',
    waf.map((w) => JSON.stringify(w)),
  );
  await put('logs', flows);
  await local.pipeline.flush();
  found = await searchLake(local.dataDir);
});
afterAll(async () => {
  await local?.dispose();
});

const byService = (service: string) => found.filter((r) => r.service === service);

describe('AWS sources through the local pipeline', () => {
  it('finds every WAF record with its decision, its request and WAF’s country, the client address anonymized', () => {
    const records = byService('aws.waf');
    expect(records.map((r) => r.message).sort()).toEqual([
      'ALLOW GET /CanaryTest by Default_Action',
      'BLOCK GET /CanaryTest by AWS-AWSManagedRulesCommonRuleSet (SizeRestrictions_QUERYSTRING)',
      'BLOCK GET /CanaryTest by RateBasedRule',
      'BLOCK GET /foo by STMTest_SQLi_XSS',
    ]);
    const blocked = records.find((r) => r.message.includes('RateBasedRule'));
    expect(blocked).toMatchObject({ level: 'WARN', category: 'security', http_method: 'GET' });
    expect(blocked?.attributes).toMatchObject({
      terminatingRuleType: 'RATE_BASED',
      'httpRequest.country': 'FR',
      'httpRequest.clientIp': '52.46.82.0',
    });
    const allowed = records.find((r) => r.message.startsWith('ALLOW'));
    expect(allowed?.category).toBe('api_access');
    expect(JSON.stringify(records)).not.toContain('hoppy=dog');
    expect(JSON.stringify(records)).not.toContain('eyJhbGciOiJIUzI1NiJ9');
  });

  it('finds every flow line as its own record, private addresses kept and REJECTs in security', () => {
    const records = byService('aws.vpc-flow-logs');
    expect(records).toHaveLength(flows.length);
    const rejected = records.filter((r) => r.attributes.action === 'REJECT');
    expect(rejected.map((r) => r.category)).toEqual(['security', 'security']);
    const ssh = records.find((r) => r.attributes.srcport === '20641');
    expect(ssh?.attributes).toMatchObject({
      srcaddr: '172.31.16.139',
      dstaddr: '172.31.16.21',
      dstport: '22',
    });
    expect(ssh?.metrics).toMatchObject({ packets: 20, bytes: 4249 });
    const ping = records.find((r) => r.attributes.action === 'ACCEPT' && r.attributes.protocol === '1');
    expect(ping?.attributes.srcaddr).toBe('203.0.113.0');
  });
});
