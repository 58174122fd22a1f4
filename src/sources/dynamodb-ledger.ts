/**
 * The access-log ledger in DynamoDB (`lib/access-logs.ts` makes the table: partition key `object`, sort
 * key `delivery`, TTL on `expiresAt`). Every write is one conditional UpdateItem, so two attempts never
 * both hold a lease and a stale attempt's checkpoint never lands: the claim is taken only on a new
 * delivery, on one whose lease ended, or by the lease's own owner; a checkpoint or close only by the
 * holder of the current lease (owner and attempt number). A refused claim reads the record DynamoDB
 * returns with the refusal (`ReturnValuesOnConditionCheckFailure`), so it needs no second read.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DeliveryError } from '../errors';
import {
  ACCESS_LOG_LEDGER_ATTRIBUTES as A,
  type Claim,
  type DoneOutcome,
  type DoneSummary,
  LEDGER_RETENTION_DAYS,
  type Lease,
  type ObjectDelivery,
  type ObjectLedger,
} from './access-log-ledger';

const IN_PROGRESS = 'in_progress';
const DONE = 'done';
const DONE_OUTCOMES: readonly string[] = ['shipped', 'gone', 'replaced'] satisfies DoneOutcome[];
/** A refused claim whose record changed before it was read (its lease just ended) is tried again. */
const CLAIM_ROUNDS = 3;

export class DynamoDbObjectLedger implements ObjectLedger {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  async claim(delivery: ObjectDelivery, owner: string, leaseUntil: number, now: number): Promise<Claim> {
    for (let round = 1; ; round++) {
      let old: Record<string, AttributeValue> | undefined;
      try {
        const res = await this.client.send(
          new UpdateItemCommand({
            TableName: this.table,
            Key: this.key(delivery),
            UpdateExpression:
              'SET #state = :progress, #owner = :owner, #leaseUntil = :lease, #expiresAt = :ttl, ' +
              '#nextLine = if_not_exists(#nextLine, :one) ADD #attempt :one',
            ConditionExpression:
              'attribute_not_exists(#object) OR (#state = :progress AND (#leaseUntil <= :now OR #owner = :owner))',
            ExpressionAttributeNames: this.names(
              'state',
              'owner',
              'leaseUntil',
              'expiresAt',
              'nextLine',
              'attempt',
              'object',
            ),
            ExpressionAttributeValues: {
              ':progress': { S: IN_PROGRESS },
              ':owner': { S: owner },
              ':lease': { N: String(leaseUntil) },
              ':ttl': { N: String(expiresAt(now)) },
              ':one': { N: '1' },
              ':now': { N: String(now) },
            },
            ReturnValues: 'ALL_NEW',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        const item = res.Attributes ?? {};
        return {
          state: 'claimed',
          lease: { owner, attempt: this.number(item, A.attempt, delivery) },
          nextLine: this.number(item, A.nextLine, delivery),
        };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw this.failed('claim', delivery, error);
        old = error.Item ?? (await this.read(delivery));
      }
      if (old?.[A.state]?.S === DONE) {
        const outcome = old[A.outcome]?.S ?? '';
        return {
          state: 'done',
          outcome: (DONE_OUTCOMES.includes(outcome) ? outcome : 'shipped') as DoneOutcome,
          attempts: Number(old[A.attempt]?.N ?? 0),
        };
      }
      const leaseEnd = Number(old?.[A.leaseUntil]?.N ?? 0);
      if (old !== undefined && leaseEnd > now) {
        return { state: 'busy', owner: old[A.owner]?.S ?? '', leaseUntil: leaseEnd };
      }
      if (round >= CLAIM_ROUNDS) {
        throw new DeliveryError(
          `${this.where(delivery)}: claim refused ${CLAIM_ROUNDS} times although the record (${describe(old)}) allows it`,
        );
      }
    }
  }

  async checkpoint(delivery: ObjectDelivery, lease: Lease, nextLine: number, now: number): Promise<boolean> {
    return this.update('checkpoint', delivery, lease, {
      expression: 'SET #nextLine = :next, #expiresAt = :ttl',
      names: ['nextLine', 'expiresAt'],
      values: { ':next': { N: String(nextLine) }, ':ttl': { N: String(expiresAt(now)) } },
    });
  }

  async finish(delivery: ObjectDelivery, lease: Lease, summary: DoneSummary, now: number): Promise<boolean> {
    return this.update('finish', delivery, lease, {
      expression:
        'SET #state = :done, #outcome = :outcome, #lines = :lines, #records = :records, ' +
        '#finishedAt = :at, #expiresAt = :ttl REMOVE #leaseUntil',
      names: ['state', 'outcome', 'lines', 'records', 'finishedAt', 'expiresAt', 'leaseUntil'],
      values: {
        ':done': { S: DONE },
        ':outcome': { S: summary.outcome },
        ':lines': { N: String(summary.lines) },
        ':records': { N: String(summary.records) },
        ':at': { S: new Date(now).toISOString() },
        ':ttl': { N: String(expiresAt(now)) },
      },
    });
  }

  /** An update by the lease's holder; false when the lease is no longer theirs. */
  private async update(
    what: string,
    delivery: ObjectDelivery,
    lease: Lease,
    update: { expression: string; names: (keyof typeof A)[]; values: Record<string, AttributeValue> },
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: this.key(delivery),
          UpdateExpression: update.expression,
          ConditionExpression: '#state = :progress AND #owner = :owner AND #attempt = :attempt',
          ExpressionAttributeNames: this.names(...update.names, 'state', 'owner', 'attempt'),
          ExpressionAttributeValues: {
            ...update.values,
            ':progress': { S: IN_PROGRESS },
            ':owner': { S: lease.owner },
            ':attempt': { N: String(lease.attempt) },
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw this.failed(what, delivery, error);
    }
  }

  private async read(delivery: ObjectDelivery): Promise<Record<string, AttributeValue> | undefined> {
    try {
      const res = await this.client.send(
        new GetItemCommand({ TableName: this.table, Key: this.key(delivery), ConsistentRead: true }),
      );
      return res.Item;
    } catch (error) {
      throw this.failed('read', delivery, error);
    }
  }

  private key(delivery: ObjectDelivery): Record<string, AttributeValue> {
    return { [A.object]: { S: delivery.object }, [A.delivery]: { S: delivery.delivery } };
  }

  private names(...keys: (keyof typeof A)[]): Record<string, string> {
    // The expressions name each attribute `#<key of ACCESS_LOG_LEDGER_ATTRIBUTES>`.
    return Object.fromEntries(keys.map((k) => [`#${k}`, A[k]]));
  }

  private number(item: Record<string, AttributeValue>, name: string, delivery: ObjectDelivery): number {
    const n = Number(item[name]?.N);
    if (!Number.isSafeInteger(n) || n < 1)
      throw new DeliveryError(
        `${this.where(delivery)}: the ledger record's ${name} is ${describe(item[name])}`,
      );
    return n;
  }

  private where(delivery: ObjectDelivery): string {
    return `access-log ledger dynamodb:${this.table}, ${delivery.object} (${delivery.delivery})`;
  }

  private failed(what: string, delivery: ObjectDelivery, error: unknown): DeliveryError {
    const e = error as Error;
    return new DeliveryError(`cannot ${what} ${this.where(delivery)}: ${e.name}: ${e.message}`, {
      cause: error,
    });
  }
}

/** Epoch seconds a record written at `now` expires (DynamoDB's TTL unit). */
function expiresAt(now: number): number {
  return Math.floor(now / 1000) + LEDGER_RETENTION_DAYS * 86_400;
}

function describe(value: unknown): string {
  return value === undefined ? 'missing' : JSON.stringify(value);
}
