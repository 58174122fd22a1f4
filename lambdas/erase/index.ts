/**
 * The scheduled erasure executor: on its EventBridge schedule, destroys the subject keys of the due
 * erasure requests (`loglake subject erase --after … --stack`) and records each in the audit category
 * (`src/privacy/aws-erasures.ts`). A `--purge` request first has the unlocked categories rewritten
 * without the person's rows (`src/privacy/aws-purge.ts`); one that does not finish in a run stays
 * pending, key kept, and the next run goes on. Idempotent: a retried or overlapping run finds the
 * requests claimed or done and changes nothing.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { AthenaSqlEngine, S3ObjectStore } from '../../src/compaction/aws';
import { runAwsDueErasures } from '../../src/privacy/aws-erasures';
import { awsPurge } from '../../src/privacy/aws-purge';
import { DynamoDbSubjectRequestStore } from '../../src/privacy/dynamodb-requests';
import { DynamoDbSubjectKeyStore } from '../../src/privacy/dynamodb-store';
import { readEnv } from './env';

const env = readEnv();
const logger = new Logger({ serviceName: 'loglake-erase' });
const dynamodb = new DynamoDBClient({});
const firehose = new FirehoseClient({});
const keys = new DynamoDbSubjectKeyStore(dynamodb, env.keyTable);
const requests = new DynamoDbSubjectRequestStore(dynamodb, env.requestTable);
const store = new S3ObjectStore(new S3Client({}), env.purge.bucket);
const engine = new AthenaSqlEngine(new AthenaClient({}), {
  workGroup: env.purge.workgroup,
  database: env.purge.database,
});

/** What a run carried out: subject references (never raw ids) and whether a key was still there. */
export interface EraseRunReport {
  readonly erased: { readonly subject: string; readonly destroyed: boolean }[];
}

export async function handler(_event: ScheduledEvent, context: Context): Promise<EraseRunReport> {
  const done = await runAwsDueErasures({
    keys,
    requests,
    firehose,
    auditStream: env.auditStream,
    executor: env.principal,
    purge: awsPurge({
      store,
      engine,
      settings: env.purge,
      remainingMs: () => context.getRemainingTimeInMillis(),
    }),
  });
  const erased = done.map((d) => ({ subject: d.request.subject, destroyed: d.destroyed }));
  for (const e of erased) logger.info('erased', e);
  logger.info('run', { erased: erased.length });
  return { erased };
}
