import { createHmac } from 'node:crypto';

/** Prefix of pseudonymized user ids, so a reader can tell a pseudonym from a raw id. */
export const PSEUDONYM_PREFIX = 'u_';

/**
 * Keyed pseudonym of a user id: `u_` + the first 32 hex chars (128 bits) of HMAC-SHA256(key, id).
 * Deterministic for one key, so a user's logs can still be found (`loglake search --user`) and erased;
 * not reversible without the key, and not linkable across deployments with different keys.
 * Ids are trimmed first so `" 42"` and `"42"` map to the same pseudonym.
 */
export function pseudonymizeUserId(userId: string, key: string | Uint8Array): string {
  const mac = createHmac('sha256', key).update(userId.trim(), 'utf8').digest('hex');
  return `${PSEUDONYM_PREFIX}${mac.slice(0, 32)}`;
}

/** True for a value already produced by {@link pseudonymizeUserId} (never pseudonymize twice). */
export function isPseudonym(value: string): boolean {
  return /^u_[0-9a-f]{32}$/.test(value);
}

/**
 * Where pseudonyms come from when each subject has its own key (`src/privacy/keyring.ts`): the
 * pseudonym of a raw id, or `undefined` when its key is not at hand yet. The redactor then writes
 * {@link PENDING_PSEUDONYM} and counts the event as pending; the transform fails such records.
 */
export interface Pseudonymizer {
  pseudonym(rawId: string): string | undefined;
}

/** Written in place of a pseudonym whose key is pending; never stored (the record is failed). */
export const PENDING_PSEUDONYM = 'u_pending';
