/**
 * Firehose data-transformation handler of both delivery streams. Thin: reads the environment and the
 * pseudonym key once, hands the records to the core (`FirehoseProcessor` in `src/transform`: normalize,
 * redact, categorize, partition, forward locked categories to the audit stream, re-ingest what does not
 * fit the response) with a sink over the real Firehose client, logs what could not be sent, and
 * publishes EMF metrics. Throws only for systemic failure (configuration, the pseudonym secret); a bad
 * record never fails the batch.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { FirehoseTransformationHandler } from 'aws-lambda';
import { configError } from '../../src/errors';
import { TRANSFORM_METRICS } from '../../src/metrics';
import { DynamoDbSubjectKeyStore } from '../../src/privacy/dynamodb-store';
import { SubjectKeyring } from '../../src/privacy/keyring';
import { putRecordsReliably } from '../../src/producer/put-batch';
import {
  FirehoseProcessor,
  type RecordSink,
  type SendFailure,
  settingsFromConfig,
  streamNameFromArn,
  type TransformMetrics,
} from '../../src/transform';
import { TRANSFORM_ENV } from './constants';
import { readEnv } from './env';

const logger = new Logger({ serviceName: 'loglake-transform' });
const metrics = new Metrics({
  namespace: TRANSFORM_METRICS.namespace,
  serviceName: TRANSFORM_METRICS.service,
});
const secrets = new SecretsManagerClient({});
const firehose = new FirehoseClient({});
const dynamodb = new DynamoDBClient({});

/** The core's sink over the real client: reliable PutRecordBatch (limits, retries, backoff). */
export function firehoseSink(client: FirehoseClient): RecordSink {
  return {
    async put(stream, records) {
      const put = await putRecordsReliably(client, stream, records);
      return {
        delivered: put.delivered,
        permanent: put.permanent,
        attempts: put.attempts,
        errorCodes: [...new Set(put.lastErrors.values())],
      };
    },
  };
}

async function pseudonymKey(secretArn: string): Promise<string | Uint8Array> {
  const secret = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
  const key = secret.SecretString ?? secret.SecretBinary;
  if (key === undefined || key.length === 0) {
    throw configError('Invalid transform environment', [
      { path: TRANSFORM_ENV.pseudonymSecretArn, message: 'secret has no value', received: secretArn },
    ]);
  }
  return key;
}

let ready: Promise<FirehoseProcessor> | undefined;

/** Environment, pseudonym key and metric dimensions, once per cold start (a failed load is retried). */
function load(): Promise<FirehoseProcessor> {
  if (!ready) {
    ready = (async () => {
      const env = readEnv();
      const key = await pseudonymKey(env.pseudonymSecretArn);
      metrics.setDefaultDimensions({ [TRANSFORM_METRICS.dimensions.stream]: env.stream });
      // One keyring per container: its cache spares the table a read per record.
      const keyring = new SubjectKeyring(key, new DynamoDbSubjectKeyStore(dynamodb, env.subjectKeyTable));
      return new FirehoseProcessor(settingsFromConfig(env.config, key, env.stream, keyring), {
        sink: firehoseSink(firehose),
        resolveKeys: () => keyring.resolvePending(),
        ...(env.auditStreamName === undefined ? {} : { auditStream: env.auditStreamName }),
      });
    })();
    ready.catch(() => {
      ready = undefined;
    });
  }
  return ready;
}

export const handler: FirehoseTransformationHandler = async (event) => {
  const processor = await load();
  const result = await processor.process(event.records, streamNameFromArn(event.deliveryStreamArn));
  for (const failure of result.failures) logFailure(failure);
  if (result.keyFailure) {
    logger.error('subject key store unavailable; records sent to the error prefix, no raw id stored', {
      records: result.keyFailure.records,
      error: result.keyFailure.error.message,
    });
  }
  publishMetrics(result.metrics);
  return { records: result.records };
};

function logFailure({ purpose, ...details }: SendFailure): void {
  logger.error(`could not ${purpose}; records kept in this stream's output`, { ...details });
}

function publishMetrics(m: TransformMetrics): void {
  const { names, dimensions } = TRANSFORM_METRICS;
  const dimensioned = (name: string, dimension: string, values: Partial<Record<string, number>>) => {
    for (const [value, count] of Object.entries(values)) {
      if (!count) continue;
      metrics.singleMetric().addDimension(dimension, value).addMetric(name, MetricUnit.Count, count);
    }
  };
  dimensioned(names.records, dimensions.result, m.records);
  dimensioned(names.recordsByCategory, dimensions.category, m.recordsByCategory);
  dimensioned(names.events, dimensions.category, m.eventsByCategory);
  dimensioned(names.redactions, dimensions.kind, m.redactions);
  metrics.addMetric(names.eventsWithSchemaErrors, MetricUnit.Count, m.eventsWithSchemaErrors);
  metrics.addMetric(names.unparseableEvents, MetricUnit.Count, m.unparseableEvents);
  metrics.addMetric(names.sampledOutEvents, MetricUnit.Count, m.sampledOutEvents);
  metrics.addMetric(names.oversizedRecords, MetricUnit.Count, m.oversizedRecords);
  metrics.addMetric(names.controlMessages, MetricUnit.Count, m.controlMessages);
  metrics.addMetric(names.forwardedToAudit, MetricUnit.Count, m.forwardedRecords);
  metrics.addMetric(names.auditForwardFailed, MetricUnit.Count, m.auditForwardFailed);
  metrics.addMetric(names.reingested, MetricUnit.Count, m.deferredRecords);
  metrics.addMetric(names.reingestFailed, MetricUnit.Count, m.reingestFailed);
  metrics.addMetric(names.splitRecords, MetricUnit.Count, m.splitRecords);
  metrics.addMetric(names.bytesIn, MetricUnit.Bytes, m.bytesIn);
  metrics.addMetric(names.bytesOut, MetricUnit.Bytes, m.bytesOut);
  metrics.publishStoredMetrics();
}
