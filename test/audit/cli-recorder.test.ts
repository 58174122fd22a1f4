/**
 * Where the CLI sends its audit events on AWS: to the stack's access recorder when the stack names one
 * (a signed POST, nothing on the audit stream), to the audit stream directly only for a stack without it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliAccessScope, describeCliAccess, recordPrivacyOnAws } from '../../src/cli/access';
import type { PrivacyRequest } from '../../src/privacy/audit';
import { ATHENA_SEARCH_EVENT } from '../helpers/access-events';
import { startScriptedAws } from '../helpers/scripted-aws';

const ATHENA = { engine: 'athena', workGroup: 'wg', database: 'lake' } as const;

const event = ATHENA_SEARCH_EVENT;

const request: PrivacyRequest = {
  time: '2025-01-06T12:04:58.000Z',
  action: 'export',
  principal: 'arn:aws:sts::123456789012:assumed-role/PrivacyOfficer/ann',
  persona: 'privacy-officer',
  subject: 'b'.repeat(64),
  store: 'dynamodb:keys',
  outcome: '3 records exported',
  records: 3,
};

/** A stand-in recorder: keeps each POST's body and authorization, answers 200. */
async function startRecorder() {
  const received: Array<{ body: unknown; authorization: string }> = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    received.push({
      body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      authorization: String(req.headers.authorization ?? ''),
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"recorded":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const saved = { ...process.env };
beforeAll(() => {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    AWS_MAX_ATTEMPTS: '1',
  });
});
afterAll(() => {
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_MAX_ATTEMPTS', 'AWS_ENDPOINT_URL'])
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
});

describe('the CLI’s audit events on AWS', () => {
  it('sends an Athena read’s access event to the recorder, signed, and puts nothing on the stream', async () => {
    // Arrange: a stack naming both its recorder and its audit stream
    const recorder = await startRecorder();
    const firehose = await startScriptedAws(() => ({ body: { RecordId: 'r-1' } }));
    process.env.AWS_ENDPOINT_URL = firehose.url;
    const scope = cliAccessScope('search');
    describeCliAccess(scope, {
      audit: { region: 'eu-west-1', accessRecorderUrl: recorder.url, auditStream: 'lake-audit' },
    });
    try {
      // Act
      await scope.sinkFor(ATHENA).record(event);
      await recordPrivacyOnAws(
        { region: 'eu-west-1', accessRecorderUrl: recorder.url, auditStream: 'lake-audit' },
        request,
      );

      // Assess
      expect(recorder.received.map((r) => r.body)).toEqual([
        { kind: 'access', event },
        { kind: 'privacy', request },
      ]);
      for (const r of recorder.received)
        expect(r.authorization).toMatch(
          /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/lambda\//,
        );
      expect(firehose.calls).toEqual([]);
    } finally {
      await recorder.close();
      await firehose.close();
    }
  });

  it('puts the events on the audit stream of a stack without a recorder', async () => {
    // Arrange
    const firehose = await startScriptedAws((call) =>
      call.operation === 'PutRecordBatch'
        ? { body: { FailedPutCount: 0, RequestResponses: [{ RecordId: 'r-1' }] } }
        : { body: { RecordId: 'r-1' } },
    );
    process.env.AWS_ENDPOINT_URL = firehose.url;
    const scope = cliAccessScope('search');
    describeCliAccess(scope, { audit: { region: 'eu-west-1', auditStream: 'lake-audit' } });
    try {
      // Act
      await scope.sinkFor(ATHENA).record(event);
      await recordPrivacyOnAws({ region: 'eu-west-1', auditStream: 'lake-audit' }, request);

      // Assess
      expect(firehose.calls.map((c) => [c.operation, c.body.DeliveryStreamName])).toEqual([
        ['PutRecord', 'lake-audit'],
        ['PutRecordBatch', 'lake-audit'],
      ]);
    } finally {
      await firehose.close();
    }
  });
});
