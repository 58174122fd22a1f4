/** The DynamoDB store's failure paths with a mocked client; the conditions themselves are exercised on MiniStack (test/emulator/deploy.test.ts). */
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbSubjectKeyStore } from '../../src/privacy/dynamodb-store';
import { KeyStoreUnavailableError } from '../../src/privacy/store';
import { mockedDynamoDb } from '../helpers/dynamodb-mock';

const { client, ddb } = mockedDynamoDb();

const KEY = new Uint8Array(32).fill(7);
const item = (ref: string, key: Uint8Array = KEY) => ({ ref: { S: ref }, key: { B: key } });
const store = () => new DynamoDbSubjectKeyStore(client, 'keys', { unprocessedRetries: 2 });

describe('DynamoDbSubjectKeyStore', () => {
  it('reads again the keys BatchGetItem left unprocessed', async () => {
    ddb
      .on(BatchGetItemCommand)
      .resolvesOnce({
        Responses: { keys: [item('a')] },
        UnprocessedKeys: { keys: { Keys: [{ ref: { S: 'b' } }] } },
      })
      .resolvesOnce({ Responses: { keys: [item('b')] } });

    const got = await store().get(['a', 'b']);

    expect([...got.keys()].sort()).toEqual(['a', 'b']);
    expect(ddb.commandCalls(BatchGetItemCommand)[1]?.args[0].input.RequestItems?.keys?.Keys).toEqual([
      { ref: { S: 'b' } },
    ]);
    expect(ddb.commandCalls(BatchGetItemCommand)[0]?.args[0].input.RequestItems?.keys?.ConsistentRead).toBe(
      true,
    );
  });

  it('gives up with KeyStoreUnavailableError when keys stay unprocessed', async () => {
    ddb.on(BatchGetItemCommand).resolves({ UnprocessedKeys: { keys: { Keys: [{ ref: { S: 'a' } }] } } });

    await expect(store().get(['a'])).rejects.toThrow(/still unprocessed after 2 retries/);
  });

  it('splits reads into BatchGetItem calls of at most 100 keys', async () => {
    ddb.on(BatchGetItemCommand).resolves({ Responses: { keys: [] } });
    const refs = Array.from({ length: 250 }, (_, i) => `r${i}`);

    await store().get(refs);

    expect(
      ddb.commandCalls(BatchGetItemCommand).map((c) => c.args[0].input.RequestItems?.keys?.Keys?.length),
    ).toEqual([100, 100, 50]);
  });

  it('creates a missing key with a conditional put', async () => {
    ddb.on(BatchGetItemCommand).resolves({ Responses: { keys: [] } });
    ddb.on(PutItemCommand).resolves({});

    const got = await store().getOrCreate(['a']);

    const put = ddb.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(put?.ConditionExpression).toBe('attribute_not_exists(#ref)');
    expect(put?.Item?.key?.B).toEqual(got.get('a'));
    expect(got.get('a')?.length).toBe(32);
  });

  it('takes the key of the writer that created the subject first', async () => {
    ddb.on(BatchGetItemCommand).resolves({ Responses: { keys: [] } });
    ddb.on(PutItemCommand).rejects(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} }));
    ddb.on(GetItemCommand).resolves({ Item: item('a') });

    const got = await store().getOrCreate(['a']);

    expect(got.get('a')).toEqual(KEY);
    expect(ddb.commandCalls(GetItemCommand)[0]?.args[0].input.ConsistentRead).toBe(true);
  });

  it('turns any other error into KeyStoreUnavailableError naming the table', async () => {
    ddb
      .on(BatchGetItemCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    const error = await store()
      .getOrCreate(['a'])
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(KeyStoreUnavailableError);
    expect((error as Error).message).toMatch(/dynamodb:keys: ThrottlingException: Rate exceeded/);
  });

  it('refuses a damaged key rather than treating the subject as new', async () => {
    ddb.on(BatchGetItemCommand).resolves({ Responses: { keys: [item('a', new Uint8Array(3))] } });

    await expect(store().getOrCreate(['a'])).rejects.toThrow(/damaged/);
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
  });

  it('destroy reports whether a key existed', async () => {
    ddb
      .on(DeleteItemCommand)
      .resolvesOnce({ Attributes: item('a') })
      .resolvesOnce({});

    expect([await store().destroy('a'), await store().destroy('a')]).toEqual([true, false]);
  });
});
