/**
 * AWS adapters of the alarm Lambda's ports: DynamoDB for state (rule state with its outbox, error-object
 * arrivals, handled alarm events), SNS for notifications. Clients are passed in (module singletons live
 * in index.ts) so tests can drive them against an emulator.
 */

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type Alert, chatbotNotification, snsPublication } from '../../src/alerts/alert';
import type { Severity } from '../../src/alerts/config';
import type { ErrorArrival } from '../../src/alerts/pipeline';
import type { Notifier, StateStore, StoredRuleState } from '../../src/alerts/run';
import { RULE_STATE_SORT_KEY, ruleStateKey, storedRuleState } from '../../src/alerts/state-table';
import { DeliveryError } from '../../src/errors';

/** Arrivals and handled alarm events are kept this long (an error_output window is at most a day). */
const EVENT_TTL_SECONDS = 3 * 24 * 3600;

const ttl = (from: number = Date.now()) => Math.floor(from / 1000) + EVENT_TTL_SECONDS;

/** Rule state items (`src/alerts/state-table.ts`), written with an optimistic version check. */
export class DynamoStateStore implements StateStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async get(rule: string): Promise<StoredRuleState | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: ruleStateKey(rule), sk: RULE_STATE_SORT_KEY },
        ConsistentRead: true,
      }),
    );
    return Item ? storedRuleState(Item) : undefined;
  }

  async put(
    rule: string,
    value: Omit<StoredRuleState, 'version'>,
    expectedVersion: number,
  ): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            pk: ruleStateKey(rule),
            sk: RULE_STATE_SORT_KEY,
            ...value,
            version: expectedVersion + 1,
          },
          ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(pk)' : '#v = :v',
          ...(expectedVersion === 0
            ? {}
            : {
                ExpressionAttributeNames: { '#v': 'version' },
                ExpressionAttributeValues: { ':v': expectedVersion },
              }),
        }),
      );
      return true;
    } catch (e) {
      if (
        e instanceof ConditionalCheckFailedException ||
        (e as Error).name === 'ConditionalCheckFailedException'
      ) {
        return false;
      }
      throw e;
    }
  }
}

/** Error-object arrivals: `pk = errors`, `sk = <time>#<bucket>/<key>`; a retried event rewrites the same item. */
export class DynamoArrivalLog {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async record(arrival: ErrorArrival): Promise<void> {
    await this.db.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: 'errors',
          sk: `${arrival.at}#${arrival.object}`,
          ...arrival,
          expiresAt: ttl(Date.parse(arrival.at)),
        },
      }),
    );
  }

  /** Arrivals with `start <= at < end`. */
  async list(start: string, end: string): Promise<ErrorArrival[]> {
    const out: ErrorArrival[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :s AND :e',
          ExpressionAttributeValues: { ':pk': 'errors', ':s': start, ':e': end },
          ConsistentRead: true,
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        if (typeof item.at === 'string' && item.at < end) {
          out.push({
            at: item.at,
            type: String(item.type),
            stream: String(item.stream),
            object: String(item.object),
          });
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return out;
  }
}

/** Alarm state changes already sent: `pk = alarm#<alert id>`; EventBridge may deliver an event twice. */
export class DynamoAlarmLog {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async wasSent(id: string): Promise<boolean> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.table, Key: { pk: `alarm#${id}`, sk: 'sent' }, ConsistentRead: true }),
    );
    return Item !== undefined;
  }

  async markSent(id: string): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.table, Item: { pk: `alarm#${id}`, sk: 'sent', expiresAt: ttl() } }),
    );
  }
}

/** Where a rule channel's alerts are published, and in which shape. */
export interface ChannelRoute {
  readonly topicArn: string;
  /** `sns`: the per-protocol message of {@link snsPublication}; `chatbot`: an AWS Chatbot custom notification. */
  readonly format: 'sns' | 'chatbot';
}

/**
 * Publishes each alert to its severity's topic (the escalation severity once escalated) and to each of
 * its rule's channels; the SDK retries throttling and 5xx, then this throws. A failure re-sends the
 * whole batch later (the run loop's outbox): subscribers deduplicate by `Alert.id`.
 */
export class SnsNotifier implements Notifier {
  constructor(
    private readonly sns: SNSClient,
    private readonly topics: Readonly<Record<Severity, string>>,
    private readonly channels: Readonly<Record<string, ChannelRoute>> = {},
  ) {}

  async send(alerts: readonly Alert[]): Promise<void> {
    const failures: string[] = [];
    const publish = async (alert: Alert, input: ConstructorParameters<typeof PublishCommand>[0]) => {
      try {
        await this.sns.send(new PublishCommand(input));
      } catch (e) {
        failures.push(`${alert.id} to ${input.TopicArn}: ${(e as Error).message}`);
      }
    };
    for (const alert of alerts) {
      await publish(alert, { TopicArn: this.topics[alert.severity], ...snsPublication(alert) });
      for (const name of alert.channels ?? []) {
        const route = this.channels[name];
        if (!route) {
          // The config schema refuses a rule naming an unknown channel; settings from elsewhere may not.
          failures.push(`${alert.id}: no topic for channel ${name}`);
          continue;
        }
        await publish(
          alert,
          route.format === 'chatbot'
            ? { TopicArn: route.topicArn, Message: JSON.stringify(chatbotNotification(alert)) }
            : { TopicArn: route.topicArn, ...snsPublication(alert) },
        );
      }
    }
    if (failures.length > 0) {
      throw new DeliveryError(`SNS publish failed for ${failures.length} message(s): ${failures.join('; ')}`);
    }
  }
}
