/**
 * The access recorder's handler with a real function URL event: the event it puts on the audit stream
 * (through the real Firehose client, against a scripted endpoint) names the verified caller, and it
 * answers 503 when Firehose keeps refusing the record.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LambdaFunctionURLEventWithIAMAuthorizer, LambdaFunctionURLResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_RECORDER_ENV } from '../../lambdas/access-recorder/constants';
import { type ScriptedCall, startScriptedAws } from '../helpers/scripted-aws';

const fixture = (): LambdaFunctionURLEventWithIAMAuthorizer =>
  JSON.parse(
    readFileSync(join(__dirname, '..', 'fixtures', 'events', 'function-url', 'iam-post.json'), 'utf8'),
  ) as LambdaFunctionURLEventWithIAMAuthorizer;

let refuse = false;
let aws: Awaited<ReturnType<typeof startScriptedAws>>;
let handler: (event: LambdaFunctionURLEventWithIAMAuthorizer) => Promise<LambdaFunctionURLResult>;
const saved = { ...process.env };

beforeAll(async () => {
  aws = await startScriptedAws(() => ({
    body: refuse
      ? {
          FailedPutCount: 1,
          RequestResponses: [{ ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'slow down' }],
        }
      : { FailedPutCount: 0, RequestResponses: [{ RecordId: 'r-1' }] },
  }));
  Object.assign(process.env, {
    [ACCESS_RECORDER_ENV.auditStream]: 'loglake-audit',
    AWS_ENDPOINT_URL: aws.url,
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  ({ handler } = await import('../../lambdas/access-recorder/index'));
});
afterAll(async () => {
  await aws.close();
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

const putData = (call: ScriptedCall | undefined) =>
  JSON.parse(
    Buffer.from(
      String((call?.body.Records as Array<{ Data: string }> | undefined)?.[0]?.Data),
      'base64',
    ).toString(),
  ) as Record<string, unknown> & { access: Record<string, string> };

describe('access recorder handler', () => {
  it('puts the event on the audit stream as the verified caller and answers 200', async () => {
    // Arrange
    refuse = false;
    const before = aws.calls.length;

    // Act
    const result = (await handler(fixture())) as { statusCode: number; body: string };

    // Assess
    expect(result.statusCode).toBe(200);
    const puts = aws.calls.slice(before);
    expect(puts.map((c) => [c.operation, c.body.DeliveryStreamName])).toEqual([
      ['PutRecordBatch', 'loglake-audit'],
    ]);
    const put = putData(puts[0]);
    expect(put.access.principal).toBe(
      'arn:aws:sts::123456789012:assumed-role/LogLakeStack-AccessDeveloperRole-1A2B3C4D5E6F/jane',
    );
    expect(put.claimed_principal).toBe(
      'arn:aws:sts::123456789012:assumed-role/LogLakeStack-AccessSecurityRole-9Z8Y7X6W5V4U/someone-else',
    );
    expect(put.recorded_by).toBe('access-recorder');
  });

  it('answers 503 when the audit stream keeps refusing the record', async () => {
    // Arrange
    refuse = true;
    const before = aws.calls.length;

    // Act
    const result = (await handler(fixture())) as { statusCode: number; body: string };

    // Assess
    expect(result.statusCode).toBe(503);
    expect(JSON.parse(result.body)).toEqual({
      error: 'not recorded: the audit stream did not accept the event; retry',
    });
    expect(aws.calls.length - before).toBeGreaterThan(1);
  });
});
