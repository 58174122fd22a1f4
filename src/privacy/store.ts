/**
 * The subject key store port: the local store (files in the data directory) and the AWS store (a
 * DynamoDB table) implement it; the keyring, the transform and the privacy commands use only this.
 */
import { LogLakeError } from '../errors';

/**
 * Attribute names of the AWS key table: the construct defines its partition key with the same name. Here,
 * not beside the DynamoDB client, so the construct loads no AWS SDK.
 */
export const SUBJECT_KEY_ATTRIBUTES = { ref: 'ref', key: 'key', created: 'created' } as const;

/** Partition key of the AWS erasure request table (the subject reference; `requests.ts` has the shape). */
export const SUBJECT_REQUEST_PARTITION_KEY = 'subject';

/** Where subject keys live. Keys are addressed by subject reference (`subjectRef`), never by raw id. */
export interface SubjectKeyStore {
  /** Where the keys are, for messages and the audit trail (`local:<dir>`, `dynamodb:<table>`). */
  readonly location: string;
  /** The existing keys among `refs` (absent refs are missing from the map). */
  get(refs: readonly string[]): Promise<Map<string, Uint8Array>>;
  /**
   * The keys of all `refs`, creating the absent ones. Race-free: when two writers create the same
   * subject at once, both end up with the one key that was stored first.
   */
  getOrCreate(refs: readonly string[]): Promise<Map<string, Uint8Array>>;
  /** Destroys the key of `ref`. True when a key existed (false: already erased or never seen). */
  destroy(ref: string): Promise<boolean>;
}

/** A store that can also answer synchronously (the local one: the local transform is synchronous). */
export interface SyncSubjectKeyStore extends SubjectKeyStore {
  getOrCreateSync(refs: readonly string[]): Map<string, Uint8Array>;
}

/** The key store could not be read or written; nothing was stored for the records that needed it. */
export class KeyStoreUnavailableError extends LogLakeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KeyStoreUnavailableError';
  }
}

export function isSyncStore(store: SubjectKeyStore): store is SyncSubjectKeyStore {
  return typeof (store as Partial<SyncSubjectKeyStore>).getOrCreateSync === 'function';
}
