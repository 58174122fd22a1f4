import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { SUBJECT_KEY_ATTRIBUTES } from '../src/privacy/store';
import { grantKeyVia } from './private/grants';
import { privacyTable } from './private/privacy-table';

export interface LogLakeSubjectKeysProps {
  /** The lake's KMS key; the table is encrypted with it. */
  readonly encryptionKey: kms.IKey;
}

/**
 * The per-subject pseudonym keys (crypto-shredding): one item per person, found by the lake-keyed HMAC
 * of the raw id, holding the random key the person's pseudonyms are derived with. Deleting the item
 * erases the person from every record, locked ones included (docs/design.md, "Privacy").
 *
 * No point-in-time recovery and no backup plan, on purpose: a restore would bring destroyed keys back
 * and undo erasures. Deletion protection and a retained table guard against losing every key at once.
 */
export class LogLakeSubjectKeys extends Construct {
  readonly table: dynamodb.Table;
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: LogLakeSubjectKeysProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    // Losing the table would orphan every pseudonym (no search, export or erasure by user).
    this.table = privacyTable(this, 'Table', {
      partitionKey: SUBJECT_KEY_ATTRIBUTES.ref,
      encryptionKey: props.encryptionKey,
      noBackupReason:
        'Erasure destroys subject keys; a point-in-time restore or a backup would bring them back and undo erasures (README, "Privacy").',
    });
  }

  /** Read subject keys and create missing ones (the transform Lambda). */
  grantResolve(grantee: iam.IGrantable): iam.Grant {
    return this.table
      .grant(grantee, 'dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem')
      .combine(
        this.grantKey(grantee, ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']),
      );
  }

  /** Read subject keys only (search and export by user id). */
  grantLookup(grantee: iam.IGrantable): iam.Grant {
    return this.table
      .grant(grantee, 'dynamodb:BatchGetItem', 'dynamodb:GetItem')
      .combine(this.grantKey(grantee, ['kms:Decrypt', 'kms:DescribeKey']));
  }

  /** Destroy subject keys (erasure). */
  grantErase(grantee: iam.IGrantable): iam.Grant {
    return this.table
      .grant(grantee, 'dynamodb:DeleteItem')
      .combine(this.grantKey(grantee, ['kms:Decrypt', 'kms:DescribeKey']));
  }

  /** The table is encrypted with the lake key: its users need it, through DynamoDB only. */
  private grantKey(grantee: iam.IGrantable, actions: readonly string[]): iam.Grant {
    return grantKeyVia(grantee, this.encryptionKey, 'dynamodb', actions);
  }
}
