/** The DynamoDB request store's conditions and failure paths with a mocked client; the deployed table is exercised on MiniStack (test/emulator/deploy.test.ts). */
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoDbSubjectRequestStore } from '../../src/privacy/dynamodb-requests';
import type { EraseRequest } from '../../src/privacy/requests';
import { KeyStoreUnavailableError } from '../../src/privacy/store';
import { mockedDynamoDb } from '../helpers/dynamodb-mock';

const { client, ddb } = mockedDynamoDb();

const REF = 'a'.repeat(64);
const pending: EraseRequest = {
  subject: REF,
  state: 'pending',
  requested: '2026-01-01T00:00:00.000Z',
  due: '2026-01-08T00:00:00.000Z',
  reason: 'ticket 1',
  principal: 'arn:aws:iam::1:role/privacy',
  persona: 'privacy-officer',
  purge: false,
};
const store = () => new DynamoDbSubjectRequestStore(client, 'requests');

describe('DynamoDbSubjectRequestStore', () => {
  it('writes each step only over the step it was given: none, unclaimed, or this claim', async () => {
    ddb.on(PutItemCommand).resolves({});
    const claimed = { ...pending, claimed: '2026-01-09T00:00:00.000Z' };

    expect(await store().replace(undefined, pending)).toBe(true);
    expect(await store().replace(pending, claimed)).toBe(true);
    expect(await store().replace(claimed, { ...pending, state: 'done' })).toBe(true);

    const inputs = ddb.commandCalls(PutItemCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => i.ConditionExpression)).toEqual([
      'attribute_not_exists(#subject)',
      '#state = :state AND #requested = :requested AND attribute_not_exists(#claimed)',
      '#state = :state AND #requested = :requested AND #claimed = :claimed',
    ]);
    expect(inputs[2]?.ExpressionAttributeValues).toEqual({
      ':state': { S: 'pending' },
      ':requested': { S: pending.requested },
      ':claimed': { S: claimed.claimed },
    });
    expect(inputs[1]?.Item).toEqual(marshall(claimed));
  });

  it('says false when the condition fails, and KeyStoreUnavailableError when the table cannot be written', async () => {
    ddb
      .on(PutItemCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }))
      .rejectsOnce(Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' }));

    expect(await store().replace(pending, { ...pending, state: 'cancelled' })).toBe(false);
    await expect(store().replace(pending, { ...pending, state: 'cancelled' })).rejects.toThrow(
      KeyStoreUnavailableError,
    );
  });

  it('lists the requests of a state over every page, with strongly consistent reads', async () => {
    ddb
      .on(ScanCommand)
      .resolvesOnce({ Items: [marshall(pending)], LastEvaluatedKey: { subject: { S: REF } } })
      .resolvesOnce({ Items: [marshall({ ...pending, subject: 'b'.repeat(64) })] });

    const listed = await store().list('pending');

    expect(listed.map((r) => r.subject)).toEqual([REF, 'b'.repeat(64)]);
    const first = ddb.commandCalls(ScanCommand)[0]?.args[0].input;
    expect(first).toMatchObject({
      ConsistentRead: true,
      ExpressionAttributeValues: { ':state': { S: 'pending' } },
    });
  });

  it('refuses a damaged request rather than guessing who to erase', async () => {
    ddb.on(GetItemCommand).resolves({ Item: { subject: { S: REF }, state: { S: 'maybe' } } });

    await expect(store().get(REF)).rejects.toThrow(/erasure request a{16} is damaged/);
  });
});
