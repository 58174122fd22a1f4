/**
 * The access-log function: invoked by S3 event notifications (asynchronously) for each new object under
 * the configured prefix of a bucket receiving ALB, CloudFront or S3 server access logs. Thin: reads the
 * environment once, streams each object (`objectLines`, gunzipped when it is gzip), and hands its lines
 * to the core (`shipAccessLog`), which parses, packs and puts them on the `logs` stream with the
 * shipper's retries.
 *
 * An object not delivered whole throws: Lambda retries the event twice, then sends it to the function's
 * dead-letter queue (`lib/access-logs.ts`), from where it can be sent again. Each attempt may deliver
 * lines an earlier one already delivered; the events carry `access_log.object` and `access_log.line` so
 * such duplicates (at most one per attempt) are found by them.
 */
import type { Readable } from 'node:stream';
import { Logger } from '@aws-lambda-powertools/logger';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { GetObjectCommand, NoSuchKey, S3Client } from '@aws-sdk/client-s3';
import type { S3Event } from 'aws-lambda';
import { putRecordsReliably } from '../../src/producer/put-batch';
import { objectLines, type ShipAccessLogReport, shipAccessLog } from '../../src/sources/access-logs';
import { readEnv } from './env';

const env = readEnv();
const logger = new Logger({ serviceName: 'loglake-access-logs' });
const s3 = new S3Client({});
const firehose = new FirehoseClient({});

/** An S3 event's object key: URL-encoded, spaces as `+`. */
export function objectKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

export async function handler(event: S3Event): Promise<ShipAccessLogReport[]> {
  const reports: ShipAccessLogReport[] = [];
  // S3 sends `s3:TestEvent` (no Records) when a notification is configured.
  for (const record of event.Records ?? []) {
    const bucket = record.s3.bucket.name;
    const key = objectKey(record.s3.object.key);
    const object = `s3://${bucket}/${key}`;
    let body: Readable;
    try {
      const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      body = response.Body as Readable;
    } catch (error) {
      // Deleted before it was read (a lifecycle rule, a cleanup): nothing left to ship, retrying cannot help.
      if (error instanceof NoSuchKey) {
        logger.warn('object gone before it was read', { object });
        continue;
      }
      throw error;
    }
    const report = await shipAccessLog({
      lines: objectLines(body),
      source: env.source,
      object,
      rules: env.rules,
      put: (records) => putRecordsReliably(firehose, env.stream, records),
    });
    logger.info('shipped', { object, ...report });
    reports.push(report);
  }
  return reports;
}
