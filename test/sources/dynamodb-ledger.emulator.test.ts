/**
 * The access-log ledger against a real DynamoDB (MiniStack's): the ledger contract the in-memory double
 * keeps too (test/helpers/ledger-contract.ts), here with DynamoDB's own conditions, `if_not_exists`,
 * `ADD` and the record returned with a refused claim, not a double's reading of the expression text.
 */
import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe } from 'vitest';
import { DynamoDbObjectLedger } from '../../src/sources/dynamodb-ledger';
import { acquireEmulator, emulatorClientConfig, releaseEmulator } from '../helpers/emulator';
import { createLedgerTable, ledgerContract } from '../helpers/ledger-contract';

const client = new DynamoDBClient(emulatorClientConfig);
const table = `access-log-ledger-${randomUUID()}`;

beforeAll(async () => {
  acquireEmulator();
  // Shaped like lib/access-logs.ts's ledger table.
  await createLedgerTable(client, table);
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
