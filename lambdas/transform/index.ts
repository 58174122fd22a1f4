/**
 * Firehose data-transformation handler: normalizes, redacts, categorizes and partitions every record
 * (core in `src/transform`), forwards locked-category records from the `logs` stream to the `audit`
 * stream, and publishes EMF metrics. Throws only for systemic failure (configuration, the pseudonym
 * secret); a bad record never fails the batch.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type {
  FirehoseTransformationHandler,
  FirehoseTransformationResult,
  FirehoseTransformationResultRecord,
} from 'aws-lambda';
import { configError } from '../../src/errors';
import { TRANSFORM_METRICS } from '../../src/metrics';
import { putRecordsReliably } from '../../src/producer/put-batch';
import {
  DEFAULT_MAX_RESPONSE_BYTES,
  responseBytes,
  settingsFromConfig,
  type TransformInputRecord,
  type TransformMetrics,
  type TransformOutputRecord,
  type TransformSettings,
  transformRecords,
} from '../../src/transform';
import { TRANSFORM_ENV } from './constants';
import { readEnv, type TransformEnv } from './env';

/** Schema error on a locked-category record that stays in the logs bucket (nothing is lost). */
export const FORWARD_FAILED_ERROR = 'locked category could not be forwarded to audit stream';

const logger = new Logger({ serviceName: 'loglake-transform' });
const metrics = new Metrics({
  namespace: TRANSFORM_METRICS.namespace,
  serviceName: TRANSFORM_METRICS.service,
});
const secrets = new SecretsManagerClient({});
const firehose = new FirehoseClient({});

let ready: Promise<{ env: TransformEnv; settings: TransformSettings }> | undefined;
/**
 * Re-ingestion needs `firehose:PutRecordBatch` on this function's own stream. Without it (a permanent
 * error), stop trying for the life of this container and fall back to the compact form at once.
 */
let reingestAllowed = true;

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

/** Environment and pseudonym key, once per cold start (a failed load is retried on the next call). */
function load(): Promise<{ env: TransformEnv; settings: TransformSettings }> {
  if (!ready) {
    ready = (async () => {
      const env = readEnv();
      const key = await pseudonymKey(env.pseudonymSecretArn);
      return { env, settings: settingsFromConfig(env.config, key, env.stream) };
    })();
    ready.catch(() => {
      ready = undefined;
    });
  }
  return ready;
}

/** `arn:aws:firehose:<region>:<account>:deliverystream/<name>` → `<name>`. */
export function streamNameFromArn(arn: string | undefined): string | undefined {
  const m = /:deliverystream\/([A-Za-z0-9_.-]+)$/.exec(arn ?? '');
  return m?.[1];
}

export const handler: FirehoseTransformationHandler = async (event) => {
  const { env, settings } = await load();
  const inputs: TransformInputRecord[] = event.records.map((r) => ({
    recordId: r.recordId,
    data: r.data,
    approximateArrivalTimestamp: r.approximateArrivalTimestamp,
  }));
  const ownStream = streamNameFromArn(event.deliveryStreamArn);
  const first = transformRecords(inputs, settings, {
    forwardLocked: settings.stream === 'logs' && env.auditStreamName !== undefined,
    deferOversized: ownStream !== undefined && reingestAllowed,
  });
  let records = first.records;
  let stats = first.metrics;
  const failures = { forward: 0, reingest: 0 };
  const retry = new Map<string, string>();
  const failedReingest = new Set<string>();
  let refit = false;

  if (first.forward.length > 0 && env.auditStreamName) {
    const failed = await putOriginals(env.auditStreamName, first.forward, 'forward to the audit stream');
    failures.forward = failed.length;
    for (const r of failed) retry.set(r.recordId, FORWARD_FAILED_ERROR);
    refit ||= failed.length > 0;
  }
  if (first.deferred.length > 0 && ownStream) {
    const failed = await putOriginals(ownStream, first.deferred, 're-ingest oversized records', () => {
      reingestAllowed = false;
    });
    failures.reingest = failed.length;
    for (const r of failed) failedReingest.add(r.recordId);
    refit ||= failed.length > 0;
  }

  if (refit) {
    // Records that could not leave this stream are delivered here after all. Everything not sent away
    // is transformed again in one call, so the response limit is shared (largest compacted first).
    const sent = new Set(
      [...first.forward, ...first.deferred]
        .map((r) => r.recordId)
        .filter((id) => !retry.has(id) && !failedReingest.has(id)),
    );
    const stay = records.filter((r) => sent.has(r.recordId));
    const again = transformRecords(
      inputs.filter((r) => !sent.has(r.recordId)),
      settings,
      { recordErrors: retry, maxResponseBytes: DEFAULT_MAX_RESPONSE_BYTES - responseBytes(stay) },
    );
    const replaced = new Map(again.records.map((r) => [r.recordId, r]));
    records = records.map((r) => replaced.get(r.recordId) ?? r);
    const forwarded = first.metrics.forwardedRecords - failures.forward;
    const reingested = first.metrics.deferredRecords - failures.reingest;
    stats = again.metrics;
    stats.forwardedRecords = forwarded;
    stats.deferredRecords = reingested;
    stats.records.Dropped += forwarded + reingested;
  }

  publishMetrics(stats, settings, failures);
  const response: FirehoseTransformationResult = { records: records.map(toFirehose) };
  return response;
};

/** Puts the original bytes of `inputs` into `stream`; returns the inputs that could not be delivered. */
async function putOriginals(
  stream: string,
  inputs: readonly TransformInputRecord[],
  purpose: string,
  onPermanentError?: () => void,
): Promise<TransformInputRecord[]> {
  const put = await putRecordsReliably(
    firehose,
    stream,
    inputs.map((r) => Buffer.from(r.data, 'base64')),
  );
  const failed = inputs.filter((_, i) => !put.delivered[i]);
  if (put.permanent) onPermanentError?.();
  if (failed.length > 0) {
    logger.error(`could not ${purpose}; records kept in this stream's output`, {
      stream,
      records: failed.length,
      attempts: put.attempts,
      errorCodes: [...new Set(put.lastErrors.values())],
      permanent: put.permanent,
    });
  }
  return failed;
}

function toFirehose(r: TransformOutputRecord): FirehoseTransformationResultRecord {
  const { metadata, ...rest } = r;
  return metadata ? { ...rest, metadata: { partitionKeys: { ...metadata.partitionKeys } } } : rest;
}

function publishMetrics(
  m: TransformMetrics,
  settings: TransformSettings,
  failures: { forward: number; reingest: number },
): void {
  const { names, dimensions } = TRANSFORM_METRICS;
  metrics.setDefaultDimensions({ [dimensions.stream]: settings.stream });
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
  metrics.addMetric(names.auditForwardFailed, MetricUnit.Count, failures.forward);
  metrics.addMetric(names.reingested, MetricUnit.Count, m.deferredRecords);
  metrics.addMetric(names.reingestFailed, MetricUnit.Count, failures.reingest);
  metrics.addMetric(names.bytesIn, MetricUnit.Bytes, m.bytesIn);
  metrics.addMetric(names.bytesOut, MetricUnit.Bytes, m.bytesOut);
  metrics.publishStoredMetrics();
}
