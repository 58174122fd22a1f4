/**
 * Secrets and personal data sent the way real producers send them, end to end through
 * `transformRecords`: none may reach the stored row.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyClassifier } from '../../src/redact/keys';
import { ARRIVAL, json, normalizeOne } from './helpers';

const event = (fields: Record<string, unknown>) =>
  json({ time: ARRIVAL, service: 's', level: 'info', msg: 'm', ...fields });

/** Everything a row stores, as one text to search for a secret. */
const stored = (fields: Record<string, unknown>) => JSON.stringify(normalizeOne(event(fields)));

describe('a sensitive name split by a dot', () => {
  it.each([
    ['a dotted key', { 'api.key': 'hunter2-value' }],
    ['a nested object', { api: { key: 'hunter2-value' } }],
    ['a tag list', { tags: [{ key: 'api.key', value: 'hunter2-value' }] }],
    ['JSON in the message', { msg: '{"api": {"key": "hunter2-value"}}' }],
    ['KEY=VALUE text', { msg: 'config api.key=hunter2-value loaded' }],
    ['a card number', { payment: { card: { number: 'hunter2-value' } } }],
  ])('redacts the value in %s', (_, fields) => {
    expect(stored(fields)).not.toContain('hunter2-value');
  });

  it('holds for every two-word sensitive name, whatever the case of its words (property)', () => {
    const keys = new KeyClassifier();
    const pairs = ['api key', 'access key', 'secret key', 'private key', 'card number', 'connection string'];
    const cased = (w: string) => fc.constantFrom(w, w.toUpperCase(), w[0]?.toUpperCase() + w.slice(1));
    fc.assert(
      fc.property(
        fc.constantFrom(...pairs).chain((p) => {
          const [a = '', b = ''] = p.split(' ');
          return fc.tuple(cased(a), cased(b));
        }),
        fc.constantFrom('', 'config.', 'headers.'),
        ([a, b], prefix) => {
          expect(keys.classify(`${prefix}${a}.${b}`)?.kind).toBe('sensitive');
        },
      ),
    );
  });

  it('still keeps a name that only describes the secret (`api.key_id`)', () => {
    expect(normalizeOne(event({ api: { key_id: 'k-123' } })).attributes['api.key_id']).toBe('k-123');
  });
});
