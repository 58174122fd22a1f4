/**
 * The deployed lake as the `--stack` readers' tests see it: each SDK client the compliance report reads
 * mocked with aws-sdk-client-mock (it answers for every instance of the client in the test file), and
 * the stack outputs of a lake deployed in eu-west-1.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';

export const s3 = mockClient(S3Client);
export const kms = mockClient(KMSClient);
export const iam = mockClient(IAMClient);
export const athena = mockClient(AthenaClient);
export const cfn = mockClient(CloudFormationClient);
export const cloudwatch = mockClient(CloudWatchClient);
export const dynamodb = mockClient(DynamoDBClient);

/** The lake's KMS key. */
export const KEY = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

/** The stack's outputs the readers use. */
export const OUTPUTS = {
  LogsBucketName: 'lake-logs',
  AuditBucketName: 'lake-audit',
  QueryResultsBucketName: 'lake-results',
  KeyArn: KEY,
  DatabaseName: 'loglake',
  WorkGroupName: 'loglake',
  SecurityWorkGroupName: 'loglake-security',
  LogsTableName: 'logs',
  AuditTableName: 'audit',
  DeveloperRoleArn: 'arn:aws:iam::111122223333:role/LogLake-DeveloperRole-ABC',
  HighAlertTopicArn: 'arn:aws:sns:eu-west-1:111122223333:LogLake-HighTopic',
  AlertStateTableName: 'lake-alert-state',
} as const satisfies Record<string, string>;
