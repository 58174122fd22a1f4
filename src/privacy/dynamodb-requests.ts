/**
 * The AWS erasure request store: one item per subject in the request table (partition key `subject`,
 * the subject reference; the other attributes are those of {@link EraseRequest}), encrypted with the
 * lake's KMS key (`lib/subject-keys.ts`). Reads are strongly consistent and every step of a request is a
 * conditional write, so a cancel and the scheduled executor (`lambdas/erase`) cannot both win.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  paginateScan,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { type DynamoDbCalls, dynamoDbCalls } from './dynamodb-calls';
import { type EraseRequest, eraseRequestSchema, type SubjectRequestStore } from './requests';
import { KeyStoreUnavailableError, SUBJECT_REQUEST_PARTITION_KEY } from './store';

const K = SUBJECT_REQUEST_PARTITION_KEY;

export class DynamoDbSubjectRequestStore implements SubjectRequestStore {
  readonly location: string;
  private readonly calls: DynamoDbCalls;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.location = `dynamodb:${table}`;
    this.calls = dynamoDbCalls('erasure requests', this.location);
  }

  async get(ref: string): Promise<EraseRequest | undefined> {
    const res = await this.calls.call('read', () =>
      this.client.send(
        new GetItemCommand({ TableName: this.table, Key: { [K]: { S: ref } }, ConsistentRead: true }),
      ),
    );
    return res.Item ? this.parse(res.Item) : undefined;
  }

  async put(request: EraseRequest): Promise<void> {
    await this.calls.call('write', () =>
      this.client.send(new PutItemCommand({ TableName: this.table, Item: this.item(request) })),
    );
  }

  async replace(current: EraseRequest | undefined, next: EraseRequest): Promise<boolean> {
    if (current !== undefined && current.subject !== next.subject)
      throw new TypeError('replace: the two requests are of different subjects');
    let names: Record<string, string> = { '#subject': K };
    const values: Record<string, AttributeValue> = {};
    let condition = 'attribute_not_exists(#subject)';
    if (current !== undefined) {
      names = { '#state': 'state', '#requested': 'requested', '#claimed': 'claimed' };
      values[':state'] = { S: current.state };
      values[':requested'] = { S: current.requested };
      condition = '#state = :state AND #requested = :requested AND ';
      if (current.claimed === undefined) condition += 'attribute_not_exists(#claimed)';
      else {
        values[':claimed'] = { S: current.claimed };
        condition += '#claimed = :claimed';
      }
    }
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: this.item(next),
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw this.calls.unavailable('write', error);
    }
  }

  /** A scan: the table holds one small item per subject ever asked to be erased. */
  async list(state: EraseRequest['state']): Promise<EraseRequest[]> {
    const out: EraseRequest[] = [];
    await this.calls.call('list', async () => {
      for await (const page of paginateScan(
        { client: this.client },
        {
          TableName: this.table,
          ConsistentRead: true,
          FilterExpression: '#state = :state',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':state': { S: state } },
        },
      )) {
        for (const item of page.Items ?? []) out.push(this.parse(item));
      }
    });
    return out;
  }

  private item(request: EraseRequest) {
    return marshall(eraseRequestSchema.parse(request), { removeUndefinedValues: true });
  }

  private parse(item: Record<string, AttributeValue>): EraseRequest {
    const parsed = eraseRequestSchema.safeParse(unmarshall(item));
    // A damaged request must not be guessed at (it could erase or spare the wrong person): say so.
    if (!parsed.success) {
      throw new KeyStoreUnavailableError(
        `${this.location}: erasure request ${String(item[K]?.S).slice(0, 16)} is damaged: ${parsed.error.message}`,
      );
    }
    return parsed.data;
  }
}
