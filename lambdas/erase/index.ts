/**
 * The scheduled erasure executor: on its EventBridge schedule, destroys the subject keys of the due
 * erasure requests (`loglake subject erase --after … --stack`) and records each in the audit category
 * (`src/privacy/aws-erasures.ts`). Idempotent: a retried or overlapping run finds the requests claimed
 * or done and changes nothing.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import type { ScheduledEvent } from 'aws-lambda';
import { runAwsDueErasures } from '../../src/privacy/aws-erasures';
import { DynamoDbSubjectRequestStore } from '../../src/privacy/dynamodb-requests';
import { DynamoDbSubjectKeyStore } from '../../src/privacy/dynamodb-store';
import { readEnv } from './env';

const env = readEnv();
const logger = new Logger({ serviceName: 'loglake-erase' });
const dynamodb = new DynamoDBClient({});
const firehose = new FirehoseClient({});
const keys = new DynamoDbSubjectKeyStore(dynamodb, env.keyTable);
const requests = new DynamoDbSubjectRequestStore(dynamodb, env.requestTable);

/** What a run carried out: subject references (never raw ids) and whether a key was still there. */
export interface EraseRunReport {
  readonly erased: { readonly subject: string; readonly destroyed: boolean }[];
}

export async function handler(_event: ScheduledEvent): Promise<EraseRunReport> {
  const done = await runAwsDueErasures({
    keys,
    requests,
    firehose,
    auditStream: env.auditStream,
    executor: env.principal,
  });
  const erased = done.map((d) => ({ subject: d.request.subject, destroyed: d.destroyed }));
  for (const e of erased) logger.info('erased', e);
  logger.info('run', { erased: erased.length });
  return { erased };
}
