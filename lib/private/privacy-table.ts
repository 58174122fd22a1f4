import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { acknowledge } from './nag';

export interface PrivacyTableProps {
  /** Name of the string partition key (the subject reference). */
  readonly partitionKey: string;
  /** The lake's KMS key; the table is encrypted with it. */
  readonly encryptionKey: kms.IKey;
  /**
   * Why the table has neither point-in-time recovery nor a backup plan: the reason given to cdk-nag for
   * each of the three findings that asks for them.
   */
  readonly noBackupReason: string;
}

/**
 * A table of the privacy machinery (subject keys, erasure requests): on demand, encrypted with the lake
 * key, with deletion protection and retained when the stack goes, since neither can be rebuilt from the
 * logs. No point-in-time recovery and no backup, on purpose: a restore would bring a destroyed key or a
 * pseudonym link back and undo an erasure.
 */
export function privacyTable(scope: Construct, id: string, props: PrivacyTableProps): dynamodb.Table {
  const table = new dynamodb.Table(scope, id, {
    partitionKey: { name: props.partitionKey, type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
    encryptionKey: props.encryptionKey,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: false },
    deletionProtection: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  acknowledge(
    table,
    props.noBackupReason,
    'AwsSolutions-DDB3',
    'NIST.800.53.R5-DynamoDBPITREnabled',
    'NIST.800.53.R5-DynamoDBInBackupPlan',
  );
  return table;
}
