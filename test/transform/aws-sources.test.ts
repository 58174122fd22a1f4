/**
 * AWS service logs through the real transform: the records AWS documents (test/fixtures/aws-sources,
 * each with its documentation page), delivered the way each service delivers them (WAF and VPC Flow
 * Logs straight to Firehose, CloudTrail and VPC Flow Logs through a CloudWatch Logs subscription, a
 * CloudTrail log file from S3).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config';
import type { LogRecord } from '../../src/schema';
import { categoryFromFilterNames, subscriptionFilterName } from '../../src/sources/names';
import { decodeRecords, type TransformSettings, transformRecords } from '../../src/transform';
import { parseFlowLogFormat } from '../../src/transform/sources/vpc-flow';
import { cwl, input, settings } from './helpers';

const FIXTURES = join(__dirname, '..', 'fixtures', 'aws-sources');
const lines = (file: string) =>
  readFileSync(join(FIXTURES, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');

/** A VPC Flow Logs `LogFormat` of these fields. */
const logFormat = (...fields: string[]) => fields.map((f) => `\${${f}}`).join(' ');

interface Out {
  readonly category: string | undefined;
  readonly records: LogRecord[];
}

/** One Firehose record arriving one hour after `eventMs`, so the event keeps its own time. */
function transform(data: string | Uint8Array, eventMs: number, s: TransformSettings = settings()): Out {
  const [out] = transformRecords([input(data, 'r0', eventMs + 3_600_000)], s).records;
  if (!out) throw new Error('no output');
  expect(out.result).toBe('Ok');
  return { category: out.metadata?.partitionKeys.category, records: decodeRecords(out.data) };
}

function only(out: Out): LogRecord {
  expect(out.records).toHaveLength(1);
  return out.records[0] as LogRecord;
}

describe('AWS WAF', () => {
  const [allow, rateBlock, sqliBlock, groupBlock] = lines('waf.ndjson') as [string, string, string, string];

  it('reads an ALLOW as an api_access request at INFO, its decision and its request kept', () => {
    const out = transform(allow, 1738705092889);
    const r = only(out);
    expect(out.category).toBe('api_access');
    expect(r).toMatchObject({
      timestamp: '2025-02-04T21:38:12.889Z',
      level: 'INFO',
      service: 'aws.waf',
      message: 'ALLOW GET /CanaryTest by Default_Action',
      http_method: 'GET',
      http_path: '/CanaryTest',
      correlation_id: 'FepO0F8fIAMEqoQ=',
    });
    expect(r.attributes).toMatchObject({
      action: 'ALLOW',
      terminatingRuleId: 'Default_Action',
      'httpRequest.country': 'US',
      'httpRequest.headers.user-agent': 'okhttp/3.12.1',
      'nonTerminatingMatchingRules.0.ruleId': 'ProtectedSQLIBody',
      'labels.1.name': 'awswaf:forwardedip:geo:region:US-VA',
    });
    expect(r.schema_errors).toEqual([]);
  });

  it('anonymizes the client address per the IP policy and keeps WAF’s country', () => {
    const r = only(transform(allow, 1738705092889));
    expect(r.attributes['httpRequest.clientIp']).toBe('54.239.98.0');
    expect(r.attributes['httpRequest.headers.x-forwarded-for']).toBe('54.239.98.0');
    expect(JSON.stringify(r)).not.toContain('54.239.98.137');
    const wider = only(
      transform(allow, 1738705092889, settings('logs', { redaction: { ipv4PrefixLength: 16 } })),
    );
    expect(wider.attributes['httpRequest.clientIp']).toBe('54.239.0.0');
    expect(wider.attributes['httpRequest.country']).toBe('US');
  });

  it('keeps header names but never the values of Cookie and Authorization', () => {
    const r = only(transform(sqliBlock, 1576280412771));
    expect(r.attributes['httpRequest.headers.cookie']).toMatch(/^\[REDACTED/);
    expect(r.attributes['httpRequest.headers.authorization']).toMatch(/^\[REDACTED/);
    const text = JSON.stringify(r);
    expect(text).not.toContain('8f14e45fceea167a5a36dedd4bea2543');
    expect(text).not.toContain('eyJhbGciOiJIUzI1NiJ9');
    const allowed = only(transform(allow, 1738705092889));
    expect(JSON.stringify(allowed)).not.toContain('hoppy=dog');
  });

  it('puts a BLOCK in security at WARN with its terminating rule and rule matches', () => {
    const out = transform(rateBlock, 1683355579981);
    const r = only(out);
    expect(out.category).toBe('security');
    expect(r.level).toBe('WARN');
    expect(r.message).toBe('BLOCK GET /CanaryTest by RateBasedRule');
    expect(r.attributes).toMatchObject({
      terminatingRuleType: 'RATE_BASED',
      'rateBasedRuleList.0.rateBasedRuleName': 'RateBasedRule',
      'httpRequest.country': 'FR',
    });
    expect(r.metrics['rateBasedRuleList.0.maxRateAllowed']).toBe(100);
    const sqli = only(
      transform(sqliBlock, 1576280412771, settings('logs', { transform: { maxPastHours: 24 * 365 * 20 } })),
    );
    expect(sqli.attributes['terminatingRuleMatchDetails.0.conditionType']).toBe('SQL_INJECTION');
  });

  it('names the rule of a managed rule group that blocked, and keeps every group’s matches', () => {
    const out = transform(groupBlock, 1683355579981);
    const r = only(out);
    expect(out.category).toBe('security');
    expect(r.level).toBe('WARN');
    expect(r.message).toBe(
      'BLOCK GET /CanaryTest by AWS-AWSManagedRulesCommonRuleSet (SizeRestrictions_QUERYSTRING)',
    );
    expect(r.attributes).toMatchObject({
      terminatingRuleType: 'MANAGED_RULE_GROUP',
      'ruleGroupList.0.ruleGroupId': 'AWS#AWSManagedRulesAmazonIpReputationList',
      'ruleGroupList.0.nonTerminatingMatchingRules.0.ruleId': 'AWSManagedIPDDoSList',
      'ruleGroupList.0.nonTerminatingMatchingRules.0.action': 'COUNT',
      'ruleGroupList.1.ruleGroupId': 'AWS#AWSManagedRulesCommonRuleSet',
      'ruleGroupList.1.terminatingRule.ruleId': 'SizeRestrictions_QUERYSTRING',
      'ruleGroupList.1.terminatingRule.action': 'BLOCK',
      'labels.0.name': 'awswaf:managed:aws:core-rule-set:SizeRestrictions_QueryString',
    });
    // A group that matched nothing leaves no message suffix: the ALLOW above names only its rule.
    expect(only(transform(allow, 1738705092889)).message).toBe('ALLOW GET /CanaryTest by Default_Action');
  });
});

describe('a source’s category, changed the way the README says', () => {
  it('a rule on the source’s service put first sends all of its events to that category, BLOCKs and REJECTs too', () => {
    const [allow, rateBlock] = lines('waf.ndjson') as [string, string];
    const rules = [
      { category: 'api_access', servicePrefixes: ['aws.waf'] },
      { category: 'security', servicePrefixes: ['aws.vpc-flow-logs'] },
      ...DEFAULT_CONFIG.transform.rules,
    ];
    const s = settings('logs', { transform: { rules, maxPastHours: 24 * 365 * 20 } });
    expect(transform(rateBlock, 1683355579981, s).category).toBe('api_access');
    expect(transform(allow, 1738705092889, s).category).toBe('api_access');
    const flow = lines('vpc-flow-default.txt')[0] as string;
    expect(transform(flow, 1418530010_000, s).category).toBe('security');
    // Without the rules: the BLOCK is in security, the accepted flow in the default category.
    expect(transform(rateBlock, 1683355579981).category).toBe('security');
    expect(
      transform(flow, 1418530010_000, settings('logs', { transform: { maxPastHours: 24 * 365 * 20 } }))
        .category,
    ).toBe('runtime');
  });
});

describe('VPC Flow Logs', () => {
  const flows = lines('vpc-flow-default.txt');

  it('reads every default-format line of a record as its own event', () => {
    const out = transform(
      flows.join('\n'),
      1418530010_000,
      settings('logs', { transform: { maxPastHours: 24 * 365 * 20 } }),
    );
    expect(out.records).toHaveLength(flows.length);
    expect(out.records.map((r) => r.service)).toEqual(flows.map(() => 'aws.vpc-flow-logs'));
    expect(out.records.map((r) => r.attributes['log-status'])).toEqual([
      'OK',
      'OK',
      'NODATA',
      'SKIPDATA',
      'OK',
      'OK',
      'OK',
    ]);
    expect(out.records.map((r) => r.level)).toEqual(['INFO', 'INFO', 'INFO', 'WARN', 'INFO', 'INFO', 'INFO']);
  });

  it('keeps its fields, the time of the flow’s start, and packets and bytes as metrics', () => {
    const r = only(transform(flows[0] as string, 1418530010_000));
    expect(r.timestamp).toBe('2014-12-14T04:06:50.000Z');
    expect(r.attributes).toMatchObject({
      version: '2',
      'account-id': '123456789010',
      'interface-id': 'eni-1235b8ca123456789',
      srcport: '20641',
      dstport: '22',
      protocol: '6',
      'protocol.name': 'tcp',
      action: 'ACCEPT',
      end: '1418530070',
    });
    expect(r.metrics).toEqual({ packets: 20, bytes: 4249 });
    expect(r.schema_errors).toEqual([]);
  });

  it('keeps private addresses and anonymizes public ones per the IP policy', () => {
    const inside = only(transform(flows[0] as string, 1418530010_000));
    expect(inside.attributes.srcaddr).toBe('172.31.16.139');
    expect(inside.attributes.dstaddr).toBe('172.31.16.21');
    const ping = only(transform(flows[4] as string, 1432917027_000));
    expect(ping.attributes.srcaddr).toBe('203.0.113.0');
    expect(ping.attributes.dstaddr).toBe('172.31.16.139');
    const v6 = only(transform(flows[6] as string, 1477913708_000));
    expect(v6.attributes.srcaddr).toBe('2001:db8:1234::');
  });

  it('puts a REJECT in security and an ACCEPT where the rules put it', () => {
    expect(transform(flows[1] as string, 1418530010_000).category).toBe('security');
    expect(transform(flows[5] as string, 1432917094_000).category).toBe('security');
    expect(transform(flows[0] as string, 1418530010_000).category).toBe('runtime');
  });

  it('reads a configured custom format, and without it keeps the line as text', () => {
    const format = readFileSync(join(FIXTURES, 'vpc-flow-custom.format'), 'utf8').trim();
    const custom = lines('vpc-flow-custom.txt');
    const s = settings('logs', { transform: { vpcFlowLogFormats: [format] } });
    const out = transform(custom.join('\n'), 1616729292_000, s);
    expect(out.records).toHaveLength(2);
    expect(out.records[1]?.attributes).toMatchObject({
      'flow-direction': 'egress',
      'traffic-path': '8',
      'pkt-dst-aws-service': 'S3',
      srcaddr: '10.0.0.71',
      dstaddr: '52.95.128.0',
      'vpc-id': 'vpc-abcdefab012345678',
    });
    const unknown = transform(custom[0] as string, 1616729292_000);
    expect(only(unknown).service).not.toBe('aws.vpc-flow-logs');
    expect(only(unknown).message).toContain('vpc-abcdefab012345678');
  });

  it('arrives the same through a CloudWatch Logs subscription', () => {
    const payload = {
      messageType: 'DATA_MESSAGE',
      owner: '123456789010',
      logGroup: 'vpc-flow-logs',
      logStream: 'eni-1235b8ca123456789-all',
      subscriptionFilters: [subscriptionFilterName('loglake')],
      logEvents: flows
        .slice(0, 2)
        .map((message, i) => ({ id: String(i), timestamp: 1418530070_000, message })),
    };
    const out = transform(cwl(payload), 1418530070_000);
    expect(out.records.map((r) => r.attributes.action)).toEqual(['ACCEPT', 'REJECT']);
    expect(out.records[0]?.attributes['aws.log_group']).toBe('vpc-flow-logs');
    expect(out.records[1]?.attributes.srcaddr).toBe('172.31.9.69');
  });

  it('leaves text that merely mentions ACCEPT or REJECT alone', () => {
    const r = only(transform('2 requests REJECT by policy 6 OK', Date.UTC(2026, 0, 2)));
    expect(r.service).not.toBe('aws.vpc-flow-logs');
  });

  it('refuses a custom format it could not tell from other text', () => {
    expect(parseFlowLogFormat(logFormat('version', 'packets'))).toBeUndefined();
    expect(parseFlowLogFormat('version srcaddr action')).toBeUndefined();
    expect(() => settings('logs', { transform: { vpcFlowLogFormats: [logFormat('bytes')] } })).toThrow(
      /vpcFlowLogFormats/,
    );
  });

  it('loses no line: every flow line and every other line is one event (property)', () => {
    const flow = fc
      .record({
        src: fc.ipV4(),
        dst: fc.ipV4(),
        port: fc.integer({ min: 0, max: 65535 }),
        packets: fc.nat(),
        action: fc.constantFrom('ACCEPT', 'REJECT'),
      })
      .map(
        (f) =>
          `2 123456789010 eni-0a1b2c3d ${f.src} ${f.dst} 443 ${f.port} 6 ${f.packets} 99 1764500000 1764500060 ${f.action} OK`,
      );
    const other = fc
      .string({ minLength: 1, maxLength: 40 })
      .map((message) => JSON.stringify({ message, level: 'info' }));
    fc.assert(
      fc.property(fc.array(fc.oneof(flow, other), { minLength: 1, maxLength: 30 }), (ls) => {
        const out = transform(ls.join('\n'), 1764500000_000);
        expect(out.records).toHaveLength(ls.length);
        ls.forEach((l, i) => {
          const flowLine = l.startsWith('2 ');
          expect(out.records[i]?.service === 'aws.vpc-flow-logs').toBe(flowLine);
        });
      }),
      { numRuns: 60 },
    );
  });
});

describe('CloudTrail', () => {
  const events = lines('cloudtrail.ndjson');
  const time = (line: string) => Date.parse((JSON.parse(line) as { eventTime: string }).eventTime);
  /** A trail's delivery to CloudWatch Logs: one CloudTrail event per log event. */
  const viaCloudWatch = (line: string) =>
    cwl({
      messageType: 'DATA_MESSAGE',
      owner: '123456789012',
      logGroup: 'aws-cloudtrail-logs-123456789012',
      logStream: '123456789012_CloudTrail_us-east-2',
      subscriptionFilters: [subscriptionFilterName('loglake')],
      logEvents: [{ id: '1', timestamp: time(line) + 60_000, message: line }],
    });

  it('puts a failed console login in security at WARN, the user identity kept', () => {
    const line = events[0] as string;
    const out = transform(viaCloudWatch(line), time(line));
    const r = only(out);
    expect(out.category).toBe('security');
    expect(r).toMatchObject({
      timestamp: '2018-07-24T18:32:11.000Z',
      level: 'WARN',
      service: 'aws.cloudtrail',
      message: 'signin:ConsoleLogin Failure by IAMUser',
    });
    expect(r.attributes).toMatchObject({
      eventName: 'ConsoleLogin',
      eventSource: 'signin.amazonaws.com',
      'userIdentity.type': 'IAMUser',
      'responseElements.ConsoleLogin': 'Failure',
      'aws.log_group': 'aws-cloudtrail-logs-123456789012',
    });
  });

  it('puts IAM changes and access denied in security, the user ARN kept and the source IP anonymized', () => {
    const created = only(transform(viaCloudWatch(events[2] as string), time(events[2] as string)));
    expect(created.attributes['userIdentity.arn']).toBe('arn:aws:iam::123456789012:user/Alice');
    expect(created.attributes['event.security']).toBe('true');
    const denied = transform(viaCloudWatch(events[5] as string), time(events[5] as string));
    expect(denied.category).toBe('security');
    expect(only(denied)).toMatchObject({ level: 'WARN', error_type: 'AccessDenied' });
    expect(only(denied).attributes.sourceIPAddress).toBe('205.251.233.0');
  });

  it('categorizes the rest by the rules, an API error kept as error_type at INFO', () => {
    const failed = transform(viaCloudWatch(events[3] as string), time(events[3] as string));
    expect(failed.category).toBe('runtime');
    expect(only(failed)).toMatchObject({
      level: 'INFO',
      error_type: 'TrailNotFoundException',
      correlation_id: '5d40662a-49f7-11e6-97e4-d9cb6ff7d6a3',
    });
    const s = settings('logs', {
      transform: { rules: [{ category: 'framework', servicePrefixes: ['aws.cloudtrail'] }] },
    });
    expect(transform(viaCloudWatch(events[4] as string), time(events[4] as string), s).category).toBe(
      'framework',
    );
  });

  it('expands a log file a trail wrote to S3 into one event per record', () => {
    const file = JSON.stringify({ Records: events.map((e) => JSON.parse(e) as unknown) });
    const out = transformRecords(
      [input(file, 'r0', Date.UTC(2026, 0, 2))],
      settings('logs', { transform: { maxPastHours: 24 * 365 * 20 } }),
    ).records[0];
    const records = decodeRecords(out?.data ?? '');
    expect(records.map((r) => r.attributes.eventName)).toEqual([
      'ConsoleLogin',
      'ConsoleLogin',
      'CreateUser',
      'UpdateTrail',
      'StartInstances',
      'ScheduleKeyDeletion',
    ]);
  });
});

describe('a subscription’s category', () => {
  const payload = (filters: string[], message: string) =>
    cwl({
      messageType: 'DATA_MESSAGE',
      owner: '123456789012',
      logGroup: '/aws/lambda/orders',
      logStream: '2026/01/02/[$LATEST]abc',
      subscriptionFilters: filters,
      logEvents: [{ id: '1', timestamp: Date.UTC(2026, 0, 2), message }],
    });

  it('puts every event of a marked filter in that category, unless the event names its own', () => {
    const filter = subscriptionFilterName('loglake', 'framework');
    expect(categoryFromFilterNames([filter])).toBe('framework');
    expect(transform(payload([filter], 'plain text line'), Date.UTC(2026, 0, 2)).category).toBe('framework');
    const own = JSON.stringify({ message: 'x', level: 'info', category: 'debug' });
    expect(transform(payload([filter], own), Date.UTC(2026, 0, 2)).category).toBe('debug');
    expect(
      transform(payload([subscriptionFilterName('loglake')], 'plain text line'), Date.UTC(2026, 0, 2))
        .category,
    ).toBe('runtime');
  });

  it('ignores a marked name with an unknown category', () => {
    expect(categoryFromFilterNames(['loglake-lake.category=nope'])).toBeUndefined();
    expect(categoryFromFilterNames('not a list')).toBeUndefined();
  });
});

describe('EventBridge (GuardDuty and Security Hub findings, any event)', () => {
  const [guardDuty, securityHub, ec2] = lines('eventbridge.ndjson') as [string, string, string];
  const time = (line: string) => Date.parse((JSON.parse(line) as { time: string }).time);

  it('puts a GuardDuty finding in security, its level from its severity band, every field kept', () => {
    const out = transform(guardDuty, time(guardDuty));
    expect(out.category).toBe('security');
    const r = only(out);
    expect(r).toMatchObject({
      timestamp: '2024-03-08T16:19:46.000Z',
      level: 'ERROR',
      service: 'aws.guardduty',
      message:
        'GuardDuty Finding UnauthorizedAccess:EC2/SSHBruteForce: 198.51.100.0 is performing SSH brute force attacks against i-99999999.',
    });
    expect(r.attributes).toMatchObject({
      'detail-type': 'GuardDuty Finding',
      'detail.type': 'UnauthorizedAccess:EC2/SSHBruteForce',
      'detail.resource.instanceDetails.instanceId': 'i-99999999',
      'event.security': 'true',
      account: '111122223333',
    });
    expect(r.metrics['detail.severity']).toBe(5);
    // The attacker's address is anonymized like every address.
    expect(JSON.stringify(r)).not.toContain('198.51.100.23');
  });

  it('reads the severity bands of GuardDuty: low WARN, high and critical CRITICAL', () => {
    const withSeverity = (severity: number) => {
      const o = JSON.parse(guardDuty) as { detail: { severity: number } };
      o.detail.severity = severity;
      return only(transform(JSON.stringify(o), time(guardDuty))).level;
    };
    expect([2, 3.9, 4, 6.9, 7, 8.9, 9].map(withSeverity)).toEqual([
      'WARN',
      'WARN',
      'ERROR',
      'ERROR',
      'CRITICAL',
      'CRITICAL',
      'CRITICAL',
    ]);
  });

  it('gives a Security Hub event the highest level of its findings and names the first', () => {
    const out = transform(securityHub, time(securityHub));
    expect(out.category).toBe('security');
    expect(only(out)).toMatchObject({
      level: 'CRITICAL',
      service: 'aws.securityhub',
      message:
        'Security Hub Findings - Imported: Google Suite Two-Factor Backup Codes uploaded to S3 (+1 more)',
    });
  });

  it('reads any other event at INFO, categorized by the rules, under its source', () => {
    const out = transform(ec2, time(ec2));
    expect(out.category).toBe('runtime');
    const r = only(out);
    expect(r).toMatchObject({
      timestamp: '2015-11-11T21:29:54.000Z',
      level: 'INFO',
      service: 'aws.ec2',
      message: 'EC2 Instance State-change Notification',
    });
    expect(r.attributes).toMatchObject({ 'detail.instance-id': 'i-abcd1111', 'detail.state': 'pending' });
    expect(r.attributes['event.security']).toBeUndefined();
  });

  it('arrives the same through a CloudWatch Logs group the rule targets', () => {
    const viaCloudWatch = cwl({
      messageType: 'DATA_MESSAGE',
      owner: '111122223333',
      logGroup: '/aws/events/guardduty',
      logStream: 'cd2d702e-ab31-411b-9344-793ce56b1bc7',
      subscriptionFilters: [subscriptionFilterName('loglake')],
      logEvents: [{ id: '1', timestamp: time(guardDuty) + 5_000, message: guardDuty }],
    });
    const out = transform(viaCloudWatch, time(guardDuty));
    expect(out.category).toBe('security');
    expect(only(out)).toMatchObject({ level: 'ERROR', service: 'aws.guardduty' });
  });
});
