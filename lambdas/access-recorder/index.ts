/**
 * The access recorder: behind a Lambda function URL with `AWS_IAM` auth, it puts the CLI's access and
 * privacy events on the audit delivery stream with its own role, the principal set to the caller the URL
 * verified (`src/audit/recorder.ts`). Thin: reads the environment once, maps the event, and hands the
 * core a put that retries what Firehose refuses (`putAuditEvent`). The answer is 2xx only once Firehose
 * accepted the event.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import type { LambdaFunctionURLEventWithIAMAuthorizer, LambdaFunctionURLResult } from 'aws-lambda';
import { handleRecorderRequest, recorderRequestOf } from '../../src/audit/recorder';
import { putAuditEvent } from '../../src/privacy/aws-erasures';
import { readEnv } from './env';

const env = readEnv();
const logger = new Logger({ serviceName: 'loglake-access-recorder' });
const firehose = new FirehoseClient({});

export async function handler(
  event: LambdaFunctionURLEventWithIAMAuthorizer,
): Promise<LambdaFunctionURLResult> {
  const request = recorderRequestOf(event);
  const { response, failure } = await handleRecorderRequest(request, (logEvent) =>
    putAuditEvent(firehose, env.auditStream, logEvent),
  );
  // Who and how it ended, never the event itself: it is in the audit trail, or the caller retries it.
  const fields = { status: response.statusCode, caller: request.caller?.userArn ?? 'none' };
  if (failure !== undefined)
    logger.error('access event not recorded', { ...fields, error: failure as Error });
  else if (response.statusCode >= 400)
    logger.warn('access event refused', { ...fields, reason: response.body });
  return { statusCode: response.statusCode, headers: { ...response.headers }, body: response.body };
}
