/**
 * S3-delivered access logs (ALB, CloudFront standard logs, S3 server access logs) through the real
 * transform, from the sample lines AWS documents (test/fixtures/aws-sources/README.md): raw lines (the
 * line shapes) and the JSON objects the access-log function sends give the same records.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LogRecord } from '../../src/schema';
import { decodeRecords, type TransformSettings, transformRecords } from '../../src/transform';
import {
  accessLogLine,
  cloudFrontFields,
  readAccessLogLine,
  readAlbLine,
  s3AccessTime,
  splitQuoted,
} from '../../src/transform/sources/access-logs';
import { NO_LINE_OPTIONS } from '../../src/transform/sources/line';
import { input, settings } from './helpers';

const FIXTURES = join(__dirname, '..', 'fixtures', 'aws-sources');
const lines = (file: string) =>
  readFileSync(join(FIXTURES, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');

/** One Firehose record arriving one hour after `eventMs`, so events keep their own time. */
function transform(data: string, eventMs: number, s: TransformSettings = settings()) {
  const [out] = transformRecords([input(data, 'r0', eventMs + 3_600_000)], s).records;
  if (!out) throw new Error('no output');
  expect(out.result).toBe('Ok');
  return { category: out.metadata?.partitionKeys.category, records: decodeRecords(out.data) };
}

function one(data: string, eventMs: number, s?: TransformSettings): LogRecord {
  const { records } = transform(data, eventMs, s);
  expect(records).toHaveLength(1);
  return records[0] as LogRecord;
}

describe('ALB access logs', () => {
  const [http, https, failed] = lines('alb.log') as [string, string, string];
  const at = Date.parse('2018-07-02T22:23:00.186Z');

  it('reads an HTTP entry: time, method, path, status, latency; its own fields kept', () => {
    const r = one(http, at);
    expect(r).toMatchObject({
      timestamp: '2018-07-02T22:23:00.186Z',
      level: 'INFO',
      service: 'aws.alb',
      message: 'GET / 200',
      http_method: 'GET',
      http_path: '/',
      http_status: 200,
      duration_ms: 1,
      correlation_id: 'Root=1-58337262-36d228ad5d99923122bbe354',
    });
    expect(r.attributes).toMatchObject({
      type: 'http',
      elb: 'app/my-loadbalancer/50dc6c495c0c9188',
      target_status_code: '200',
      'request.url': 'http://www.example.com:80/',
      user_agent: 'curl/7.46.0',
      conn_trace_id: 'TID_1234abcd5678ef90',
    });
    expect(r.metrics).toMatchObject({ received_bytes: 34, sent_bytes: 366 });
  });

  it('keeps the TLS fields of an HTTPS entry and sums the three processing times', () => {
    const r = one(https, at);
    expect(r.duration_ms).toBeCloseTo(171, 6);
    expect(r.attributes).toMatchObject({
      ssl_cipher: 'ECDHE-RSA-AES128-GCM-SHA256',
      ssl_protocol: 'TLSv1.2',
      chosen_cert_arn: 'arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012',
      actions_executed: 'authenticate,forward',
    });
  });

  it('makes a 502 an ERROR with its reason, no duration when no target answered, the client anonymized and the query token redacted', () => {
    const r = one(failed, at);
    expect(r).toMatchObject({
      level: 'ERROR',
      http_status: 502,
      message: 'GET /login 502 LambdaInvalidResponse',
    });
    expect(r.duration_ms).toBeNull();
    expect(r.attributes.client_ip).toBe('203.0.113.0');
    expect(r.attributes.error_reason).toBe('LambdaInvalidResponse');
    expect(r.attributes['request.url']).not.toContain('abc123');
    expect(JSON.stringify(r)).not.toContain('203.0.113.39');
  });

  it('anonymizes per the configured prefix length', () => {
    const wider = one(failed, at, settings('logs', { redaction: { ipv4PrefixLength: 16 } }));
    expect(wider.attributes.client_ip).toBe('203.0.0.0');
  });

  it('reads the same record from the JSON object the access-log function sends', () => {
    const object = readAlbLine(https);
    const fromObject = one(JSON.stringify(object), at);
    const fromLine = one(https, at);
    expect({ ...fromObject, ingest_time: '' }).toEqual({ ...fromLine, ingest_time: '' });
  });
});

describe('CloudFront standard logs', () => {
  const all = lines('cloudfront.log');
  const fields = cloudFrontFields(all[1] as string);
  const [hit, error502, forbidden] = all.slice(2) as [string, string, string];

  it('reads the #Fields header', () => {
    expect(fields).toHaveLength(33);
    expect(fields?.[12]).toBe('cs(Cookie)');
  });

  it('reads a Hit: time from date and time, the URL-encoded user agent decoded, the request id as correlation', () => {
    const r = one(
      JSON.stringify(readAccessLogLine('cloudfront', hit, fields)),
      Date.parse('2019-12-04T21:02:31Z'),
    );
    expect(r).toMatchObject({
      timestamp: '2019-12-04T21:02:31.000Z',
      level: 'INFO',
      service: 'aws.cloudfront',
      http_method: 'GET',
      http_path: '/index.html',
      http_status: 200,
      duration_ms: 1,
      correlation_id: 'SOX4xwn4XV6Q4rgb7XiVGOHms_BGlTAC4KyHmureZmBNrjGdRLiNIQ==',
    });
    expect(r.attributes['cs-user-agent']).toMatch(/^Mozilla\/5\.0 \(Windows NT 10\.0;/);
    expect(r.attributes).toMatchObject({
      'x-edge-location': 'LAX1',
      'ssl-protocol': 'TLSv1.2',
      'c-ip': '192.0.2.0',
    });
    expect(r.metrics).toMatchObject({ 'sc-bytes': 392, 'sc-content-len': 78 });
  });

  it('makes a 502 an ERROR and a 403 a WARN, and redacts the cookie', () => {
    const at = Date.parse('2019-12-13T22:36:27Z');
    expect(one(error502, at)).toMatchObject({
      level: 'ERROR',
      http_status: 502,
      message: 'GET /favicon.ico 502 OriginDnsError',
    });
    const r = one(forbidden, at);
    expect(r).toMatchObject({ level: 'WARN', http_status: 403 });
    expect(r.attributes['cs-cookie']).toMatch(/^\[REDACTED/);
    expect(JSON.stringify(r)).not.toContain('4f3c2a1b9d');
  });
});

describe('S3 server access logs', () => {
  const [versioning, logging, denied] = lines('s3-access.log') as [string, string, string];
  const at = Date.parse('2019-02-06T00:00:38Z');

  it('reads the bracketed time, operation, request and its own fields', () => {
    expect(s3AccessTime('06/Feb/2019:00:00:38 +0000')).toBe('2019-02-06T00:00:38+00:00');
    const r = one(versioning, at);
    expect(r).toMatchObject({
      timestamp: '2019-02-06T00:00:38.000Z',
      level: 'INFO',
      service: 'aws.s3-access',
      message: 'REST.GET.VERSIONING 200',
      http_method: 'GET',
      http_path: '/amzn-s3-demo-bucket1',
      http_status: 200,
      duration_ms: 7,
      correlation_id: '3E57427F3EXAMPLE',
    });
    expect(r.attributes).toMatchObject({
      bucket: 'amzn-s3-demo-bucket1',
      operation: 'REST.GET.VERSIONING',
      sig_version: 'SigV4',
      tls_version: 'TLSV1.2',
      access_point_arn: 'arn:aws:s3:us-west-1:123456789012:accesspoint/example-AP',
      remote_ip: '192.0.2.0',
    });
    expect(one(logging, at).attributes.operation).toBe('REST.GET.LOGGING_STATUS');
  });

  it('puts an AccessDenied in security at WARN with its error code', () => {
    const out = transform(denied, at);
    expect(out.category).toBe('security');
    expect(out.records[0]).toMatchObject({ level: 'WARN', http_status: 403, error_type: 'AccessDenied' });
  });
});

describe('the line reader', () => {
  it('takes no indented line (a stack frame) for an access-log line, whatever follows the indentation', () => {
    // Prepare
    const s3 = lines('s3-access.log')[0] as string;
    const cloudFront = lines('cloudfront.log').find((l) => !l.startsWith('#')) as string;
    const alb = lines('alb.log')[0] as string;
    // Act / Assess
    for (const line of [s3, cloudFront, alb]) {
      expect(accessLogLine.parse(line, NO_LINE_OPTIONS)).toBeDefined();
      for (const indent of [' ', '\t', '  ']) {
        expect(accessLogLine.parse(`${indent}${line}`, NO_LINE_OPTIONS)).toBeUndefined();
      }
    }
    expect(accessLogLine.parse('\tat com.example.Api.handle(Api.java:10)', NO_LINE_OPTIONS)).toBeUndefined();
  });

  it('splits quoted values with escapes and bracketed values, and refuses an unclosed quote', () => {
    expect(splitQuoted('a "b \\"c\\" d" [e f] g')).toEqual(['a', 'b "c" d', 'e f', 'g']);
    expect(splitQuoted('a "b c')).toBeUndefined();
  });

  it('loses no line: every access-log line and every other line is one event (property)', () => {
    const albLine = fc
      .record({ ip: fc.ipV4(), status: fc.integer({ min: 100, max: 599 }), path: fc.webPath() })
      .map(
        (f) =>
          `https 2018-07-02T22:23:00.186641Z app/lb/50dc6c495c0c9188 ${f.ip}:2817 10.0.0.1:80 0.001 0.002 0.003 ${f.status} 200 1 2 "GET https://example.com:443${f.path || '/'} HTTP/1.1" "curl/8" - -`,
      );
    // Other lines as JSON: a bare indented text line continues the previous event (multiline.ts).
    const other = fc
      .string({ minLength: 1, maxLength: 40 })
      .map((message) => JSON.stringify({ message, level: 'info' }));
    fc.assert(
      fc.property(fc.array(fc.oneof(albLine, other), { minLength: 1, maxLength: 30 }), (ls) => {
        const out = transform(ls.join('\n'), Date.parse('2018-07-02T22:23:00Z'));
        expect(out.records).toHaveLength(ls.length);
        ls.forEach((l, i) => {
          expect(out.records[i]?.service === 'aws.alb').toBe(l.startsWith('https 2018'));
        });
      }),
      { numRuns: 60 },
    );
  });
});
