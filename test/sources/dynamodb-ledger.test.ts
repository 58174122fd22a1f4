/**
 * The DynamoDB ledger's calls over a mocked client (test/helpers/dynamodb-mock.ts): what it asks of
 * DynamoDB and how it reads DynamoDB's answers. Whether DynamoDB's conditions do what the ledger means is
 * checked against MiniStack's DynamoDB (test/sources/dynamodb-ledger.emulator.test.ts).
 */
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DeliveryError } from '../../src/errors';
import { DynamoDbObjectLedger } from '../../src/sources/dynamodb-ledger';
import { mockedDynamoDb } from '../helpers/dynamodb-mock';

const { client, ddb } = mockedDynamoDb();
const ledger = new DynamoDbObjectLedger(client, 'loglake-ledger');
const DELIVERY = { object: 's3://elb-logs/AWSLogs/1/app.log.gz', delivery: '0055AED6DCD90281E5' };
const T0 = Date.parse('2026-12-01T12:00:00Z');
const refused = (Item?: Record<string, unknown>) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    ...(Item && { Item: Item as never }),
  });

describe('DynamoDbObjectLedger', () => {
  it('claims with one conditional update, keeping the checkpoint and stamping the 30-day expiry', async () => {
    ddb.on(UpdateItemCommand).resolves({ Attributes: { attempt: { N: '2' }, nextLine: { N: '801' } } });

    const claim = await ledger.claim(DELIVERY, 'req-1', T0 + 300_000, T0);

    expect(claim).toEqual({ state: 'claimed', lease: { owner: 'req-1', attempt: 2 }, nextLine: 801 });
    const input = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      TableName: 'loglake-ledger',
      Key: { object: { S: DELIVERY.object }, delivery: { S: DELIVERY.delivery } },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(input?.UpdateExpression).toContain('#nextLine = if_not_exists(#nextLine, :one)');
    expect(input?.ExpressionAttributeValues?.[':ttl']).toEqual({ N: String(T0 / 1000 + 30 * 86_400) });
  });

  it('reads the record itself when DynamoDB returns none with a refused claim', async () => {
    ddb.on(UpdateItemCommand).rejects(refused());
    ddb
      .on(GetItemCommand)
      .resolves({ Item: { state: { S: 'done' }, outcome: { S: 'replaced' }, attempt: { N: '1' } } });

    const claim = await ledger.claim(DELIVERY, 'req-1', T0 + 300_000, T0);

    expect(claim).toEqual({ state: 'done', outcome: 'replaced', attempts: 1 });
    expect(ddb.commandCalls(GetItemCommand)[0]?.args[0].input.ConsistentRead).toBe(true);
  });

  it('claims again when the refusing record’s lease had just ended, and gives up after three refusals', async () => {
    const ended = { state: { S: 'in_progress' }, owner: { S: 'req-0' }, leaseUntil: { N: String(T0 - 1) } };
    ddb.on(UpdateItemCommand).rejects(refused(ended));

    const error = await ledger.claim(DELIVERY, 'req-1', T0 + 300_000, T0).catch((e: unknown) => e);

    expect(ddb.commandCalls(UpdateItemCommand)).toHaveLength(3);
    expect(error).toBeInstanceOf(DeliveryError);
    expect((error as Error).message).toContain('claim refused 3 times');
  });

  it('reports a checkpoint or close refused by the lease condition as lost, not as an error', async () => {
    ddb.on(UpdateItemCommand).rejects(refused());
    const lease = { owner: 'req-1', attempt: 1 };
    expect(await ledger.checkpoint(DELIVERY, lease, 10, T0)).toBe(false);
    expect(await ledger.finish(DELIVERY, lease, { outcome: 'shipped', lines: 9, records: 1 }, T0)).toBe(
      false,
    );
    const condition = ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input.ConditionExpression;
    expect(condition).toBe('#state = :progress AND #owner = :owner AND #attempt = :attempt');
  });

  it('names the table, the object and DynamoDB’s error when a call fails', async () => {
    ddb
      .on(UpdateItemCommand)
      .rejects(new ProvisionedThroughputExceededException({ message: 'Rate exceeded', $metadata: {} }));
    await expect(ledger.checkpoint(DELIVERY, { owner: 'req-1', attempt: 1 }, 10, T0)).rejects.toThrow(
      'cannot checkpoint access-log ledger dynamodb:loglake-ledger, s3://elb-logs/AWSLogs/1/app.log.gz (0055AED6DCD90281E5): ProvisionedThroughputExceededException: Rate exceeded',
    );
  });

  it('refuses a claimed record without a usable checkpoint instead of starting over', async () => {
    ddb.on(UpdateItemCommand).resolves({ Attributes: { attempt: { N: '1' }, nextLine: { S: 'x' } } });
    await expect(ledger.claim(DELIVERY, 'req-1', T0 + 1, T0)).rejects.toThrow(
      /the ledger record's nextLine is \{"S":"x"\}/,
    );
  });
});
