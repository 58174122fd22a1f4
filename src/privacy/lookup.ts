/**
 * Raw user ids → the pseudonyms their records carry now, read-only, for search, export and the UI. A
 * subject without a key (never seen, or erased) has no pseudonym: such an id matches nothing.
 */
import { lookupPseudonyms } from './keyring';
import type { SubjectKeyStore } from './store';

/** A `user_id` no record carries (the transform writes only `u_` + 32 hex): what an unknown id searches for. */
export const NO_SUBJECT_PSEUDONYM = 'u_no_subject';

/** The pseudonyms of `ids` that have a key; `[NO_SUBJECT_PSEUDONYM]` when none has, so a filter stays a filter. */
export async function searchPseudonyms(
  lakeKey: string | Uint8Array,
  store: SubjectKeyStore,
  ids: readonly string[],
): Promise<string[]> {
  const found = [...(await lookupPseudonyms(lakeKey, store, ids)).values()].filter(
    (p): p is string => p !== undefined,
  );
  return found.length > 0 ? found : [NO_SUBJECT_PSEUDONYM];
}
