/**
 * The access-log function: invoked by S3 event notifications (asynchronously) for each new object under
 * the configured prefix of a bucket receiving ALB, CloudFront or S3 server access logs. Thin: reads the
 * environment once, and per object hands the core (`shipObjectOnce`) its ledger record's identity (the
 * object and S3's `sequencer` of the write), this attempt's lease (Lambda's request id, kept across
 * Lambda's retries of the event, until the invocation's deadline), and a way to open the object
 * (`objectLines`, gunzipped when it is gzip) pinned to the write the event names.
 *
 * The core claims the object in the ledger table, so a second notification of a done object sends
 * nothing, and a retry resumes from the last acknowledged commit (`src/sources/access-log-ledger.ts`
 * says which duplicates remain). An attempt that fails throws: Lambda retries the event twice, then
 * sends it to the function's dead-letter queue (`lib/access-logs.ts`), from where it can be sent again.
 */
import type { Readable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { GetObjectCommand, NoSuchKey, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { Context, S3Event, S3EventRecord } from 'aws-lambda';
import { InputError } from '../../src/errors';
import { putRecordsReliably } from '../../src/producer/put-batch';
import {
  type ObjectDelivery,
  type OpenedObject,
  type ShipObjectOnceReport,
  shipObjectOnce,
} from '../../src/sources/access-log-ledger';
import { objectLines } from '../../src/sources/access-logs';
import { DynamoDbObjectLedger } from '../../src/sources/dynamodb-ledger';
import { readEnv } from './env';

const env = readEnv();
const logger = new Logger({ serviceName: 'loglake-access-logs' });
const s3 = new S3Client({});
const firehose = new FirehoseClient({});
const ledger = new DynamoDbObjectLedger(new DynamoDBClient({}), env.ledger);

/** An S3 event's object key: URL-encoded, spaces as `+`. */
export function objectKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

/**
 * The ledger identity of the write a notification names: S3's `sequencer` (the same in every
 * notification of one write, different for each write of the key), else its version or ETag.
 */
export function objectDelivery(record: S3EventRecord): ObjectDelivery {
  const { bucket, object: o } = record.s3;
  const object = `s3://${bucket.name}/${objectKey(o.key)}`;
  const delivery = o.sequencer || o.versionId || o.eTag;
  if (!delivery)
    throw new InputError(`${object}: the S3 event names no sequencer, versionId or eTag of the write`);
  return { object, delivery };
}

export async function handler(event: S3Event, context: Context): Promise<ShipObjectOnceReport[]> {
  const reports: ShipObjectOnceReport[] = [];
  // S3 sends `s3:TestEvent` (no Records) when a notification is configured.
  for (const record of event.Records ?? []) {
    const delivery = objectDelivery(record);
    const report = await shipObjectOnce({
      delivery,
      ledger,
      owner: context.awsRequestId,
      leaseUntil: Date.now() + context.getRemainingTimeInMillis(),
      open: () => open(record),
      ship: {
        source: env.source,
        rules: env.rules,
        put: (records) => putRecordsReliably(firehose, env.stream, records),
      },
    });
    const fields = { ...report, delivery: delivery.delivery };
    if (report.outcome === 'shipped') logger.info('shipped', fields);
    else if (report.outcome === 'already-shipped') logger.info('already shipped: nothing sent', fields);
    else logger.warn(MESSAGES[report.outcome], fields);
    reports.push(report);
  }
  return reports;
}

const MESSAGES = {
  gone: 'object gone before it was read: nothing left to send',
  replaced: 'object written again before it was read: the newer write’s notification ships it',
  'taken-over': 'another attempt took this object over: stopped',
} as const;

/**
 * The object's body as the notification's write left it: that version, or (unversioned) only while its
 * ETag is the event's, so a retry never resumes a checkpoint in other content.
 */
async function open(record: S3EventRecord): Promise<OpenedObject> {
  const { bucket, object } = record.s3;
  const pin = object.versionId
    ? { VersionId: object.versionId }
    : object.eTag
      ? { IfMatch: `"${object.eTag.replace(/^"|"$/g, '')}"` }
      : {};
  try {
    const response = await s3.send(
      new GetObjectCommand({ Bucket: bucket.name, Key: objectKey(object.key), ...pin }),
    );
    return { lines: objectLines(response.Body as Readable) };
  } catch (error) {
    // Deleted before it was read (a lifecycle rule, a cleanup): nothing left, retrying cannot help.
    if (error instanceof NoSuchKey || (error instanceof S3ServiceException && error.name === 'NoSuchVersion'))
      return { missing: 'gone' };
    if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 412)
      return { missing: 'replaced' };
    throw error;
  }
}
