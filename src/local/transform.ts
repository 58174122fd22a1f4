/**
 * The transform the local pipeline runs: exactly the Lambda's core (`src/transform`), one settings object
 * per stream, built once.
 */
import type { LogLakeConfig } from '../config';
import type { SubjectKeyring } from '../privacy/keyring';
import { localKeyring } from '../privacy/local-store';
import { STREAMS, type StreamName } from '../schema';
import { settingsFromConfig, type TransformSettings, transformRecords } from '../transform';
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
  const options = { maxResponseBytes: Number.MAX_SAFE_INTEGER };
  return (records, stream) => {
    const first = transformRecords(records, settings[stream], options);
    let pending = first.pendingKeys;
    if (pending.length === 0) return first.records;
    // New subjects: their keys are created in one batch (one fsync), then their records run again. A
    // second round only when the keyring's cache filled up and dropped keys of this very batch.
    const redone = new Map<string, (typeof first.records)[number]>();
    for (let round = 0; round < 3 && pending.length > 0; round++) {
      if (!keyring.resolvePendingSync()) break;
      const again = transformRecords(pending, settings[stream], options);
      for (const r of again.records) redone.set(r.recordId, r);
      pending = again.pendingKeys;
    }
    // Whatever is still missing stays failed (raw, under errors/), and waits for no later batch.
    keyring.resolvePendingSync();
    return first.records.map((r) => redone.get(r.recordId) ?? r);
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
