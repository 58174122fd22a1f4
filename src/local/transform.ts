/**
 * The transform the local pipeline runs: exactly the Lambda's core (`src/transform`), one settings object
 * per stream, built once.
 */
import type { LogLakeConfig } from '../config';
import type { SubjectKeyring } from '../privacy/keyring';
import { localKeyring } from '../privacy/local-store';
import { STREAMS, type StreamName } from '../schema';
import {
  settingsFromConfig,
  type TransformInputRecord,
  type TransformOptions,
  type TransformOutputRecord,
  type TransformSettings,
  transformRecords,
} from '../transform';
import { pseudonymKey } from './datadir';
import type { TransformFn } from './pipeline';

/**
 * @param keyring - per-subject pseudonyms over the local key store (`localKeyring`); a record whose key
 * cannot be read or created is `ProcessingFailed` (raw, under errors/), never stored with a raw id.
 */
export function localTransform(
  config: LogLakeConfig,
  pseudonymKey: Uint8Array,
  keyring: SubjectKeyring,
): TransformFn {
  const settings = Object.fromEntries(
    STREAMS.map((s) => [s, settingsFromConfig(config, pseudonymKey, s, keyring)]),
  ) as Record<StreamName, TransformSettings>;
  // Both streams deliver into one local tree, so locked events arriving on `logs` stay where they are
  // (on AWS the Lambda forwards them to the audit stream); their category is what the transform decides.
  // No response budget: the 6 MB limit is Lambda's, and normalized output runs 2.4-3x the input for
  // typical logs (60x for tiny lines), so a full 3 MiB buffer would push records to the error output.
  // Records mixing partitions (a CloudWatch Logs payload) are split as on AWS; their parts are
  // transformed at once, in place of the record, as `<recordId>.<n>`.
  const options: TransformOptions = { maxResponseBytes: Number.MAX_SAFE_INTEGER, splitPacked: true };
  const run = (records: readonly TransformInputRecord[], stream: StreamName) => {
    const first = transformRecords(records, settings[stream], options);
    const split = [...first.split];
    let pending = first.pendingKeys;
    if (pending.length === 0) return { records: first.records, split };
    // New subjects: their keys are created in one batch (one fsync), then their records run again. A
    // second round only when the keyring's cache filled up and dropped keys of this very batch.
    const redone = new Map<string, TransformOutputRecord>();
    for (let round = 0; round < 3 && pending.length > 0; round++) {
      if (!keyring.resolvePendingSync()) break;
      const again = transformRecords(pending, settings[stream], options);
      for (const r of again.records) redone.set(r.recordId, r);
      split.push(...again.split);
      pending = again.pendingKeys;
    }
    // Whatever is still missing stays failed (raw, under errors/), and waits for no later batch.
    keyring.resolvePendingSync();
    return { records: first.records.map((r) => redone.get(r.recordId) ?? r), split };
  };
  return (records, stream) => {
    const first = run(records, stream);
    if (first.split.length === 0) return first.records;
    const parts: TransformInputRecord[] = first.split.flatMap(({ input, parts }) =>
      parts.map((part, k) => ({
        recordId: `${input.recordId}.${k + 1}`,
        data: part.data.toString('base64'),
        approximateArrivalTimestamp: input.approximateArrivalTimestamp,
      })),
    );
    // Parts are marked: they are never split again, so this ends here.
    const byRecord = new Map<string, TransformOutputRecord[]>();
    for (const r of run(parts, stream).records) {
      const id = r.recordId.slice(0, r.recordId.lastIndexOf('.'));
      const list = byRecord.get(id);
      if (list === undefined) byRecord.set(id, [r]);
      else list.push(r);
    }
    return first.records.flatMap((r) => byRecord.get(r.recordId) ?? [r]);
  };
}

/**
 * The transform of a data directory's pipeline: its lake key (`pseudonymKey`) and its subject key store
 * (`<data-dir>/.loglake/subjects`).
 */
export function dataDirTransform(config: LogLakeConfig, dataDir: string, keyFile?: string): TransformFn {
  const key = pseudonymKey(dataDir, keyFile);
  return localTransform(config, key, localKeyring(dataDir, key, { batchSync: true }));
}
