import { BatchGetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbSubjectKeyStore } from '../../src/privacy/dynamodb-store';
import { SubjectKeyring } from '../../src/privacy/keyring';
import { KeyStoreUnavailableError } from '../../src/privacy/store';
import { subjectPseudonym, subjectRef } from '../../src/privacy/subject';
import { mockedDynamoDb } from '../helpers/dynamodb-mock';

const { client, ddb } = mockedDynamoDb();

const KEY = new Uint8Array(32).fill(9);
const fast = { attempts: 3, backoff: { baseMs: 1, capMs: 2 } };

describe('SubjectKeyring', () => {
  it('answers undefined for an unknown subject, then its pseudonym once resolved in one batch', async () => {
    const ref = subjectRef('lake', '1001');
    ddb.on(BatchGetItemCommand).resolves({ Responses: { t: [{ ref: { S: ref }, key: { B: KEY } }] } });
    const ring = new SubjectKeyring('lake', new DynamoDbSubjectKeyStore(client, 't'), fast);

    const before = ring.pseudonym('1001');
    ring.pseudonym(' 1001 ');
    await ring.resolvePending();
    const after = ring.pseudonym('1001');

    expect(before).toBeUndefined();
    expect(after).toBe(subjectPseudonym(KEY, '1001'));
    expect(ddb.commandCalls(BatchGetItemCommand)).toHaveLength(1);
    expect(ring.hasPending).toBe(false);
  });

  it('retries an unreachable store, then throws KeyStoreUnavailableError and keeps nothing pending', async () => {
    ddb.on(BatchGetItemCommand).rejects(Object.assign(new Error('connect ECONNREFUSED'), { name: 'Error' }));
    const ring = new SubjectKeyring('lake', new DynamoDbSubjectKeyStore(client, 't'), fast);
    ring.pseudonym('1001');

    const error = await ring.resolvePending().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KeyStoreUnavailableError);
    expect((error as Error).message).toMatch(/after 3 attempts/);
    expect(ddb.commandCalls(BatchGetItemCommand)).toHaveLength(3);
    expect(ring.hasPending).toBe(false);
    expect(ring.pseudonym('1001')).toBeUndefined();
  });

  it('asks the store again once the cached pseudonym expires', async () => {
    let now = 0;
    ddb.on(BatchGetItemCommand).resolves({ Responses: { t: [] } });
    ddb.on(PutItemCommand).resolves({});
    const ring = new SubjectKeyring('lake', new DynamoDbSubjectKeyStore(client, 't'), {
      ...fast,
      cacheTtlMs: 1000,
      now: () => now,
    });
    ring.pseudonym('a');
    await ring.resolvePending();

    now = 999;
    const cached = ring.pseudonym('a');
    now = 1000;
    const expired = ring.pseudonym('a');

    expect(cached).toMatch(/^u_[0-9a-f]{32}$/);
    expect(expired).toBeUndefined();
  });
});
