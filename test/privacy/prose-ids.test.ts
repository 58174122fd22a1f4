import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config';
import { SubjectKeyring } from '../../src/privacy/keyring';
import { LocalSubjectKeyStore } from '../../src/privacy/local-store';
import { decodeRecords, settingsFromConfig, transformRecords } from '../../src/transform';

const dir = mkdtempSync(join(tmpdir(), 'loglake-prose-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const LAKE_KEY = Buffer.alloc(32, 1);
const settings = settingsFromConfig(
  DEFAULT_CONFIG,
  LAKE_KEY,
  'logs',
  new SubjectKeyring(LAKE_KEY, new LocalSubjectKeyStore(dir)),
);

function transform(events: readonly Record<string, unknown>[]) {
  const out = transformRecords(
    events.map((e, i) => ({
      recordId: String(i),
      data: Buffer.from(
        `${JSON.stringify({ timestamp: '2026-01-02T03:04:05Z', service: 's', ...e })}\n`,
      ).toString('base64'),
      approximateArrivalTimestamp: Date.parse('2026-01-02T03:04:06Z'),
    })),
    settings,
  );
  return out.records.map((r) => decodeRecords(r.data)[0]);
}

describe('user ids in prose', () => {
  it('pseudonymizes "user 1001", "user_id=1001" and "uid: 1001" with the subject key of the field', () => {
    const [field, a, b, c] = transform([
      { message: 'login', user_id: '1001' },
      { message: 'user 1001 logged in' },
      { message: 'checkout failed user_id=1001 cart=3' },
      { message: 'session opened uid: 1001' },
    ]);
    const pseudonym = field?.user_id as string;

    expect(pseudonym).toMatch(/^u_[0-9a-f]{32}$/);
    expect(a?.message).toBe(`user ${pseudonym} logged in`);
    expect(b?.message).toBe(`checkout failed user_id=${pseudonym} cart=3`);
    expect(c?.message).toBe(`session opened uid: ${pseudonym}`);
    // The column is filled from the text too, so an export by user finds these records.
    expect([a, b, c].map((r) => r?.user_id)).toEqual([pseudonym, pseudonym, pseudonym]);
    expect(a?.redactions.user_id).toBeGreaterThan(0);
  });

  it('counts each id once: an id in the text is one redaction, though it also fills the column', () => {
    const [prose, pair, field, both, twice] = transform([
      { message: 'user 1001 logged in' },
      { message: 'checkout failed user_id=1001 cart=3' },
      { message: 'login', user_id: '1001' },
      { message: 'user 1001 logged in', user_id: '1001' },
      { message: 'user 1001 handed over to user 2002' },
    ]);

    expect([prose, pair, field].map((r) => r?.redactions.user_id)).toEqual([1, 1, 1]);
    // The field and the text are two occurrences; two ids in the text are two.
    expect(both?.redactions.user_id).toBe(2);
    expect(twice?.redactions.user_id).toBe(2);
  });

  it('counts as many user-id redactions as ids written (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 100_000, max: 999_999_999 }), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (ids, withField) => {
          const message = ids.map((id) => `user ${id} acted`).join('; ');
          const [r] = transform([{ message, ...(withField ? { user_id: String(ids[0]) } : {}) }]);
          expect(r?.redactions.user_id).toBe(ids.length + (withField ? 1 : 0));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('leaves words, addresses and versions after "user" to their own detectors', () => {
    const records = transform([
      { message: 'user alice logged in' },
      { message: 'user 3.2 release notes' },
      { message: 'user 10.1.2.3 blocked' },
    ]);

    expect(records.map((r) => r?.message)).toEqual([
      'user alice logged in',
      'user 3.2 release notes',
      'user 10.1.2.0 blocked',
    ]);
    expect(records.map((r) => r?.user_id)).toEqual([null, null, null]);
  });

  it('never lets a numeric id written after "user" or "uid" reach the output', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('user', 'User', 'uid', 'UID', 'user id', 'userId'),
        fc.constantFrom(' ', ': ', '=', ' #'),
        fc.integer({ min: 100_000, max: 999_999_999 }),
        fc.constantFrom('', ' logged in', '.', ', retrying'),
        (word, sep, id, tail) => {
          const [r] = transform([{ message: `${word}${sep}${id}${tail}` }]);
          expect(JSON.stringify(r)).not.toContain(String(id));
          expect(r?.user_id).toMatch(/^u_[0-9a-f]{32}$/);
        },
      ),
      { numRuns: 60 },
    );
  });
});
