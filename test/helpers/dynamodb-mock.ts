/**
 * A DynamoDB client answered by `aws-sdk-client-mock`, for the unit tests of the DynamoDB stores (their
 * conditions run against the emulator's DynamoDB in test/emulator/deploy.test.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { afterEach } from 'vitest';

/**
 * A client with offline credentials (a call that escaped the mock fails instead of reaching AWS) and its
 * mock, reset after each test of the file that calls this at its top level.
 */
export function mockedDynamoDb(): { client: DynamoDBClient; ddb: AwsClientStub<DynamoDBClient> } {
  const client = new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  const ddb = mockClient(client);
  afterEach(() => ddb.reset());
  return { client, ddb };
}
