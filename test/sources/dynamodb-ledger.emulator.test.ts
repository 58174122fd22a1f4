/**
 * The access-log ledger against a real DynamoDB (MiniStack's): the ledger contract the in-memory double
 * keeps too (test/helpers/ledger-contract.ts), here with DynamoDB's own conditions, `if_not_exists`,
 * `ADD` and the record returned with a refused claim, not a double's reading of the expression text.
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe } from 'vitest';
import { ACCESS_LOG_LEDGER_ATTRIBUTES as A } from '../../src/sources/access-log-ledger';
import { DynamoDbObjectLedger } from '../../src/sources/dynamodb-ledger';
import { acquireEmulator, emulatorClientConfig, releaseEmulator } from '../helpers/emulator';
import { ledgerContract } from '../helpers/ledger-contract';

const client = new DynamoDBClient(emulatorClientConfig);
const table = `access-log-ledger-${randomUUID()}`;

beforeAll(async () => {
  acquireEmulator();
  // Shaped like lib/access-logs.ts's ledger table.
  await client.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: A.object, KeyType: 'HASH' },
        { AttributeName: A.delivery, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: A.object, AttributeType: 'S' },
        { AttributeName: A.delivery, AttributeType: 'S' },
      ],
    }),
  );
});

afterAll(async () => {
  await client.send(new DeleteTableCommand({ TableName: table }));
  client.destroy();
  releaseEmulator();
});

describe('DynamoDbObjectLedger on DynamoDB keeps the ledger contract', () => {
  const ledger = new DynamoDbObjectLedger(client, table);
  ledgerContract(() => ledger);
});
