/**
 * The AWS subject key store: a DynamoDB table (partition key `ref`, the subject reference; `key`, the
 * subject's 32-byte key; `created`, ISO time), encrypted with the lake's KMS key (`lib/subject-keys.ts`).
 * Reads are strongly consistent, so a key another Lambda container just created is seen; creation is a
 * conditional put (`attribute_not_exists(ref)`), so concurrent creators agree on the first key stored.
 */
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { backoffDelay, sleep } from '../backoff';
import { type DynamoDbCalls, dynamoDbCalls } from './dynamodb-calls';
import { KeyStoreUnavailableError, SUBJECT_KEY_ATTRIBUTES, type SubjectKeyStore } from './store';
import { isSubjectKey, newSubjectKey } from './subject';

/** BatchGetItem reads at most 100 keys per call. */
const BATCH_GET_LIMIT = 100;
/** Conditional puts in flight at once for one batch of new subjects. */
const PUT_CONCURRENCY = 16;

export interface DynamoDbSubjectKeyStoreOptions {
  /** Rounds of BatchGetItem for unprocessed keys (throttling) before giving up. @default 5 */
  readonly unprocessedRetries?: number;
  /** Clock for `created`. @default Date.now */
  readonly now?: () => number;
}

export class DynamoDbSubjectKeyStore implements SubjectKeyStore {
  readonly location: string;
  private readonly calls: DynamoDbCalls;
  private readonly retries: number;
  private readonly now: () => number;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
    options: DynamoDbSubjectKeyStoreOptions = {},
  ) {
    this.location = `dynamodb:${table}`;
    this.calls = dynamoDbCalls('subject keys', this.location);
    this.retries = options.unprocessedRetries ?? 5;
    this.now = options.now ?? Date.now;
  }

  async get(refs: readonly string[]): Promise<Map<string, Uint8Array>> {
    const out = new Map<string, Uint8Array>();
    const unique = [...new Set(refs)];
    for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) {
      await this.batchGet(unique.slice(i, i + BATCH_GET_LIMIT), out);
    }
    return out;
  }

  async getOrCreate(refs: readonly string[]): Promise<Map<string, Uint8Array>> {
    const out = await this.get(refs);
    const missing = [...new Set(refs)].filter((r) => !out.has(r));
    for (let i = 0; i < missing.length; i += PUT_CONCURRENCY) {
      const chunk = missing.slice(i, i + PUT_CONCURRENCY);
      const keys = await Promise.all(chunk.map((ref) => this.create(ref)));
      chunk.forEach((ref, j) => {
        out.set(ref, keys[j] as Uint8Array);
      });
    }
    return out;
  }

  async destroy(ref: string): Promise<boolean> {
    const { ref: R } = SUBJECT_KEY_ATTRIBUTES;
    const res = await this.calls.call('destroy', () =>
      this.client.send(
        new DeleteItemCommand({ TableName: this.table, Key: { [R]: { S: ref } }, ReturnValues: 'ALL_OLD' }),
      ),
    );
    return res.Attributes !== undefined;
  }

  private async batchGet(refs: readonly string[], out: Map<string, Uint8Array>): Promise<void> {
    const { ref: R } = SUBJECT_KEY_ATTRIBUTES;
    let pending = refs.map((ref) => ({ [R]: { S: ref } }));
    for (let round = 0; pending.length > 0; round++) {
      if (round > this.retries) {
        throw new KeyStoreUnavailableError(
          `${this.location}: ${pending.length} subject keys still unprocessed after ${this.retries} retries (throttled)`,
        );
      }
      if (round > 0) await sleep(backoffDelay(round, { baseMs: 50, capMs: 1_000 }));
      const res = await this.calls.call('read', () =>
        this.client.send(
          new BatchGetItemCommand({
            RequestItems: { [this.table]: { Keys: pending, ConsistentRead: true } },
          }),
        ),
      );
      for (const item of res.Responses?.[this.table] ?? []) {
        const ref = item[R]?.S;
        if (ref !== undefined) out.set(ref, this.keyOf(item, ref));
      }
      pending = (res.UnprocessedKeys?.[this.table]?.Keys ?? []) as typeof pending;
    }
  }

  private async create(ref: string): Promise<Uint8Array> {
    const { ref: R, key: K, created: C } = SUBJECT_KEY_ATTRIBUTES;
    const key = newSubjectKey();
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: { [R]: { S: ref }, [K]: { B: key }, [C]: { S: new Date(this.now()).toISOString() } },
          ConditionExpression: 'attribute_not_exists(#ref)',
          ExpressionAttributeNames: { '#ref': R },
        }),
      );
      return key;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw this.calls.unavailable('create', error);
    }
    // Another writer created the subject first: its key is the one.
    const res = await this.calls.call('read', () =>
      this.client.send(
        new GetItemCommand({ TableName: this.table, Key: { [R]: { S: ref } }, ConsistentRead: true }),
      ),
    );
    if (!res.Item)
      throw new KeyStoreUnavailableError(`${this.location}: subject key ${ref} vanished while being created`);
    return this.keyOf(res.Item, ref);
  }

  private keyOf(item: Record<string, { B?: Uint8Array }>, ref: string): Uint8Array {
    const key = item[SUBJECT_KEY_ATTRIBUTES.key]?.B;
    // Never guess: a damaged key must not silently become a new subject (that would split a person).
    if (!isSubjectKey(key))
      throw new KeyStoreUnavailableError(`${this.location}: subject key ${ref} is damaged`);
    return key;
  }
}
