/**
 * Crypto-shredding primitives. A subject (a person behind a user id) is found by a reference, the HMAC
 * of the raw id under the lake's key; the pseudonym stored in records is the HMAC of the raw id under
 * the subject's own random key. Destroying that key leaves every stored pseudonym of the person
 * unlinkable: the lake key and the raw id give the reference, but nothing recomputes the pseudonym.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { PSEUDONYM_PREFIX } from '../redact/pseudonym';

/** Bytes of a subject key (HMAC-SHA256 key, as long as its output). */
export const SUBJECT_KEY_BYTES = 32;

/** Ids are trimmed first, so `" 42"` and `"42"` are the same subject (as the lake-key pseudonyms were). */
export function normalizeSubjectId(rawId: string): string {
  return rawId.trim();
}

/**
 * The subject's reference in the key store and the audit trail: hex HMAC-SHA256 of the trimmed raw id
 * under the lake key. Never a pseudonym found in records, so the audit trail links no record to a person.
 */
export function subjectRef(lakeKey: string | Uint8Array, rawId: string): string {
  return createHmac('sha256', lakeKey)
    .update(`subject:${normalizeSubjectId(rawId)}`, 'utf8')
    .digest('hex');
}

/** A new random subject key. */
export function newSubjectKey(): Uint8Array {
  return new Uint8Array(randomBytes(SUBJECT_KEY_BYTES));
}

/** The stored pseudonym: `u_` + the first 32 hex chars (128 bits) of HMAC-SHA256(subject key, id). */
export function subjectPseudonym(subjectKey: Uint8Array, rawId: string): string {
  const mac = createHmac('sha256', subjectKey).update(normalizeSubjectId(rawId), 'utf8').digest('hex');
  return `${PSEUDONYM_PREFIX}${mac.slice(0, 32)}`;
}

/** True for a well-formed subject key (what a store returns must be one). */
export function isSubjectKey(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length === SUBJECT_KEY_BYTES;
}
