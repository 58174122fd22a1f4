/**
 * The compaction Lambda: on its schedule, rewrites the closed hours of the unlocked categories into one
 * sorted Parquet object each and deletes the small objects Firehose delivered (`src/compaction/objects.ts`).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { AthenaSqlEngine, S3ObjectStore } from '../../src/compaction/aws';
import { compactObjects, type ObjectCompactionReport } from '../../src/compaction/objects';
import { readEnv } from './env';

const env = readEnv();
const logger = new Logger({ serviceName: 'loglake-compact' });
const store = new S3ObjectStore(new S3Client({}), env.bucket);
const engine = new AthenaSqlEngine(new AthenaClient({}), {
  workGroup: env.workgroup,
  database: env.database,
});

export async function handler(_event: ScheduledEvent, context: Context): Promise<ObjectCompactionReport> {
  const report = await compactObjects({
    store,
    engine,
    settings: {
      database: env.database,
      table: env.table,
      categories: env.categories,
      closedAfterMs: env.closedAfterMinutes * 60_000,
      lookbackHours: env.lookbackHours,
      targetFileBytes: env.targetFileMiB * 1024 ** 2,
    },
    // The clock, not the event's time: the lock expires a Lambda timeout after `now`, and an event can
    // wait in the asynchronous queue (up to its maximum age) before it starts a run; a lock counted from
    // the event's time could be taken over while this run still rewrites.
    now: new Date(),
    remainingMs: () => context.getRemainingTimeInMillis(),
  });
  for (const c of report.compacted) logger.info('compacted', { ...c });
  for (const f of report.failed) logger.error('compaction failed', { ...f });
  logger.info('run', {
    locked: report.locked,
    compacted: report.compacted.length,
    failed: report.failed.length,
    recovered: report.recovered,
    deferred: report.deferred,
    scannedBytes: report.scannedBytes,
  });
  // Every other partition was done first; failing now makes the failure visible (the function's Errors
  // metric) and the next scheduled run retries the partition (the schedule target does not retry).
  if (report.failed.length > 0) {
    throw new Error(
      `${report.failed.length} partition(s) failed, e.g. ${report.failed[0]?.partition}: ${report.failed[0]?.error}`,
    );
  }
  return report;
}
