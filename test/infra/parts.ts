/** The lake's parts with the default configuration, for tests of one construct on a bare stack. */
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { LogLakeIngest, type LogLakeIngestProps } from '../../lib/ingest';
import { LogLakeStorage, type LogLakeStorageProps } from '../../lib/storage';
import { DEFAULT_CONFIG } from '../../src/config';

/** Buckets for the default categories, with the audit bucket locked in GOVERNANCE mode for a year. */
export function defaultStorage(
  scope: Construct,
  encryptionKey: kms.IKey,
  props: Partial<LogLakeStorageProps> = {},
): LogLakeStorage {
  return new LogLakeStorage(scope, 'Storage', {
    encryptionKey,
    categories: DEFAULT_CONFIG.categories,
    objectLock: { mode: 'GOVERNANCE', retentionDays: 365 },
    errorOutputExpiryDays: 14,
    resultsExpiryDays: 7,
    ...props,
  });
}

/** Streams `lake-<stream>` with the default transform settings and buffering, into `destinations`. */
export function defaultIngest(
  scope: Construct,
  encryptionKey: kms.IKey,
  destinations: LogLakeIngestProps['destinations'],
): LogLakeIngest {
  return new LogLakeIngest(scope, 'Ingest', {
    name: 'lake',
    encryptionKey,
    destinations,
    transformSettings: {
      categories: DEFAULT_CONFIG.categories,
      transform: DEFAULT_CONFIG.transform,
      redaction: DEFAULT_CONFIG.redaction,
    },
    buffering: DEFAULT_CONFIG.firehose,
    compression: 'SNAPPY',
    logRetentionDays: 30,
  });
}
