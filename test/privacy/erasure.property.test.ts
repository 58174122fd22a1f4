/**
 * Crypto-shredding, as properties over arbitrary ids through the real transform and the local store:
 * while a subject's key exists its id always gives the same pseudonym (in fields and in text, from any
 * keyring over the store); after the key is destroyed nothing computable from the stored records, the
 * remaining store, the lake key and the raw id finds the person, and everyone else is still found.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config';
import { lookupPseudonyms, SubjectKeyring } from '../../src/privacy/keyring';
import { LocalSubjectKeyStore } from '../../src/privacy/local-store';
import { subjectPseudonym, subjectRef } from '../../src/privacy/subject';
import { pseudonymizeUserId } from '../../src/redact/pseudonym';
import { decodeRecords, settingsFromConfig, transformRecords } from '../../src/transform';

const LAKE_KEY = Buffer.from('0f'.repeat(32), 'hex');
const root = mkdtempSync(join(tmpdir(), 'loglake-erasure-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

/** A fresh store and a transform over it (one "container"). */
function lake() {
  const dir = join(root, String(n++));
  const store = new LocalSubjectKeyStore(dir);
  return { dir, store, transform: () => transformWith(new SubjectKeyring(LAKE_KEY, store)) };
}

function transformWith(keyring: SubjectKeyring) {
  const settings = settingsFromConfig(DEFAULT_CONFIG, LAKE_KEY, 'logs', keyring);
  return (ids: readonly string[]) => {
    const input = ids.map((id, i) => ({
      recordId: String(i),
      data: Buffer.from(
        `${JSON.stringify({ timestamp: '2026-01-02T03:04:05Z', level: 'INFO', service: 's', message: 'login', user_id: id })}\n`,
      ).toString('base64'),
      approximateArrivalTimestamp: Date.parse('2026-01-02T03:04:06Z'),
    }));
    const out = transformRecords(input, settings, { maxResponseBytes: Number.MAX_SAFE_INTEGER });
    return out.records.map((r) => {
      expect(r.result).toBe('Ok');
      return decodeRecords(r.data)[0]?.user_id as string;
    });
  };
}

// Ids as users have them: digits, names, e-mail-like; trimmed non-empty, not already pseudonyms.
const userId = fc
  .oneof(fc.integer({ min: 1, max: 10_000_000 }).map(String), fc.stringMatching(/^[a-z][a-z0-9._-]{2,20}$/))
  .filter((s) => !s.startsWith('u_'));

describe('crypto-shredding', () => {
  it('gives an id the same pseudonym while its key exists, from any keyring over the store', () => {
    fc.assert(
      fc.property(fc.uniqueArray(userId, { minLength: 1, maxLength: 8 }), (ids) => {
        const { transform } = lake();
        const first = transform()([...ids, ...ids]);
        const again = transform()(ids);

        expect(first.slice(0, ids.length)).toEqual(first.slice(ids.length));
        expect(again).toEqual(first.slice(0, ids.length));
        expect(new Set(again).size).toBe(ids.length);
        for (const p of again) expect(p).toMatch(/^u_[0-9a-f]{32}$/);
      }),
      { numRuns: 25 },
    );
  });

  it('after erasure, nothing computable from the store, the lake key and the raw id finds the person', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(userId, { minLength: 2, maxLength: 6 }), async (ids) => {
        const { store, transform } = lake();
        const stored = transform()(ids);
        const [erased, ...others] = ids as [string, ...string[]];

        const destroyed = await store.destroy(subjectRef(LAKE_KEY, erased));

        expect(destroyed).toBe(true);
        const found = await lookupPseudonyms(LAKE_KEY, store, ids);
        expect(found.get(erased)).toBeUndefined();
        // Everyone else is still found, by the same pseudonym as stored.
        expect(others.map((id) => found.get(id))).toEqual(stored.slice(1));
        // Nothing left recomputes the stored value: the lake key alone, any remaining key, a new key.
        const remaining = await store.get(others.map((id) => subjectRef(LAKE_KEY, id)));
        const candidates = [
          pseudonymizeUserId(erased, LAKE_KEY),
          ...[...remaining.values()].map((k) => subjectPseudonym(k, erased)),
          transform()([erased])[0],
        ];
        expect(candidates).not.toContain(stored[0]);
      }),
      { numRuns: 25 },
    );
  });
});
