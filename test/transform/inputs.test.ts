import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ARRIVAL, cwl, json, transformOne } from './helpers';

const lambdaPayload = {
  owner: '123456789012',
  logGroup: '/aws/lambda/orders',
  logStream: '2026/01/02/[$LATEST]3e4f',
  subscriptionFilters: ['loglake'],
  messageType: 'DATA_MESSAGE',
  logEvents: [
    {
      id: '379173133456802984719365638234464573906580892335419965440',
      timestamp: ARRIVAL - 2000,
      message: 'START RequestId: 4990ed56-0826-4ffe-af98-6f0b04c59e5f Version: $LATEST\n',
    },
    {
      id: '379173133456802984719365638234464573906580892335419965441',
      timestamp: ARRIVAL - 1900,
      message:
        '2026-01-02T03:04:03.100Z\t4990ed56-0826-4ffe-af98-6f0b04c59e5f\tINFO\tcreated for jane@example.com\n',
    },
    {
      id: '379173133456802984719365638234464573906580892335419965442',
      timestamp: ARRIVAL - 1800,
      message: json({
        level: 'ERROR',
        message: 'db error',
        errorType: 'ConnectionError',
        stackTrace: ['ConnectionError: refused', '    at connect (db.js:3:9)'],
      }),
    },
  ],
};

describe('transformRecords input detection', () => {
  it('reads one JSON object', () => {
    const { output, records } = transformOne(json({ level: 'info', msg: 'one', service: 's' }));
    expect(output.result).toBe('Ok');
    expect(records.map((r) => r.message)).toEqual(['one']);
  });

  it('reads several NDJSON lines packed in one record (with CRLF and blank lines)', () => {
    const data = `${json({ level: 'info', msg: 'a' })}\r\n\n${json({ level: 'info', msg: 'b' })}\n${json({ level: 'info', msg: 'c' })}\n`;
    expect(transformOne(data).records.map((r) => r.message)).toEqual(['a', 'b', 'c']);
  });

  it('reads a JSON array of events', () => {
    expect(transformOne(json([{ msg: 'a' }, { msg: 'b' }])).records.map((r) => r.message)).toEqual([
      'a',
      'b',
    ]);
  });

  it('reads one pretty-printed JSON object spanning lines', () => {
    const data = JSON.stringify({ level: 'info', msg: 'pretty', nested: { items: [{ a: 1 }] } }, null, 2);
    const { records } = transformOne(data);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ message: 'pretty', metrics: { 'nested.items.0.a': 1 } });
  });

  it('reads CloudWatch Logs DATA_MESSAGE payloads, keeping the log group and stream', () => {
    const { output, records } = transformOne(cwl(lambdaPayload));
    expect(output.result).toBe('Ok');
    expect(records).toHaveLength(3);
    expect(records[0]).toMatchObject({
      service: 'orders',
      correlation_id: '4990ed56-0826-4ffe-af98-6f0b04c59e5f',
      timestamp: new Date(ARRIVAL - 2000).toISOString(),
      schema_errors: [],
      attributes: {
        'aws.log_group': '/aws/lambda/orders',
        'aws.log_stream': '2026/01/02/[$LATEST]3e4f',
        'aws.account_id': '123456789012',
        'aws.log_event_id': '379173133456802984719365638234464573906580892335419965440',
      },
    });
    expect(records[1]).toMatchObject({
      level: 'INFO',
      message: 'created for [REDACTED:email]',
      timestamp: '2026-01-02T03:04:03.100Z',
    });
    expect(records[2]).toMatchObject({
      level: 'ERROR',
      error_type: 'ConnectionError',
      stack_trace: 'ConnectionError: refused\n    at connect (db.js:3:9)',
    });
  });

  it('reads a CloudWatch Logs payload that Firehose already decompressed, compact or pretty-printed', () => {
    expect(transformOne(json(lambdaPayload)).records).toHaveLength(3);
    expect(transformOne(JSON.stringify(lambdaPayload, null, 2)).records).toHaveLength(3);
  });

  it('drops a CloudWatch Logs CONTROL_MESSAGE', () => {
    const control = {
      messageType: 'CONTROL_MESSAGE',
      owner: 'CloudwatchLogs',
      logGroup: '',
      logStream: '',
      subscriptionFilters: [],
      logEvents: [
        {
          id: '',
          timestamp: ARRIVAL,
          message: 'CWL CONTROL MESSAGE: Checking health of destination Firehose.',
        },
      ],
    };
    expect(transformOne(cwl(control)).output).toEqual({ recordId: 'r0', result: 'Dropped', data: '' });
  });

  it('keeps a CloudWatch Logs log event that is not an object as a flagged record', () => {
    const payload = {
      ...lambdaPayload,
      logEvents: ['card 4111 1111 1111 1111', 42, null, lambdaPayload.logEvents[0]],
    };
    const { output, records } = transformOne(cwl(payload));
    expect(output.result).toBe('Ok');
    expect(records.map((r) => [r.message, r.service, r.schema_errors])).toEqual([
      ['"card [REDACTED:card]"', 'orders', ['unparseable: CloudWatch Logs log event is not an object']],
      ['42', 'orders', ['unparseable: CloudWatch Logs log event is not an object']],
      ['null', 'orders', ['unparseable: CloudWatch Logs log event is not an object']],
      ['START RequestId: 4990ed56-0826-4ffe-af98-6f0b04c59e5f Version: $LATEST', 'orders', []],
    ]);
    expect(records[0]?.attributes['aws.log_group']).toBe('/aws/lambda/orders');
  });

  it('reads gzip-compressed NDJSON that is not a CloudWatch payload', () => {
    const data = gzipSync(`${json({ msg: 'a' })}\n${json({ msg: 'b' })}\n`);
    expect(transformOne(data).records.map((r) => r.message)).toEqual(['a', 'b']);
  });

  it('reads plain text lines, keeping stack-trace lines with their event', () => {
    const data =
      '2026-01-02T03:04:05Z ERROR boom\n    at f (a.js:1:1)\nCaused by: x\n2026-01-02T03:04:05Z INFO next';
    expect(transformOne(data).records.map((r) => [r.level, r.message, r.stack_trace])).toEqual([
      ['ERROR', 'boom', '    at f (a.js:1:1)\nCaused by: x'],
      ['INFO', 'next', null],
    ]);
  });

  it('reads logfmt lines as structured events', () => {
    const { records } = transformOne(
      'time=2026-01-02T03:04:05Z level=warn msg="disk low" service=node disk=sda1',
    );
    expect(records[0]).toMatchObject({
      level: 'WARN',
      message: 'disk low',
      service: 'node',
      attributes: { disk: 'sda1' },
    });
  });

  it('keeps an unparseable JSON line as a flagged, redacted record', () => {
    const { output, records } = transformOne('{"level":"INFO","message":"cut short, password=hunter2');
    expect(output.result).toBe('Ok');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      message: '{"level":"INFO","message":"cut short, password=[REDACTED:password]',
      schema_errors: ['unparseable: invalid JSON'],
      redactions: { password: 1 },
    });
  });

  it('keeps bytes that are not UTF-8 as a flagged record with replacement characters', () => {
    const { records } = transformOne(
      Buffer.from([0x68, 0x69, 0xff, 0xfe, 0x20, 0x61, 0x40, 0x62, 0x2e, 0x63, 0x6f]),
    );
    expect(records).toHaveLength(1);
    expect(records[0]?.message).toBe('hi\uFFFD\uFFFD [REDACTED:email]');
    expect(records[0]?.schema_errors).toContain('invalid UTF-8 bytes replaced with U+FFFD');
  });

  it('keeps corrupt gzip data as a flagged record', () => {
    const corrupt = Buffer.concat([gzipSync('hello world').subarray(0, 12), Buffer.from('garbage')]);
    const { records } = transformOne(corrupt);
    expect(records[0]?.schema_errors).toEqual(['unparseable: invalid or oversized gzip data']);
  });

  it('drops an empty record', () => {
    expect(transformOne(' \n\n ').output.result).toBe('Dropped');
  });
});
