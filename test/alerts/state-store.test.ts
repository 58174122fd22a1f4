/**
 * The alarm Lambda's DynamoDB adapters against a real DynamoDB (MiniStack's): optimistic versioning of
 * rule state, the error-object arrival log and the log of alarm events already sent; and the rule state
 * read back as the compliance report and the explorer read it. The conditions are DynamoDB's own, not a
 * double's reading of the expression text.
 */
import { randomUUID } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  DeleteTableCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoAlarmLog, DynamoArrivalLog, DynamoStateStore } from '../../lambdas/alarm/aws';
import type { Alert } from '../../src/alerts/alert';
import { readRuleStates } from '../../src/alerts/dynamodb-state';
import { EMPTY_RULE_STATE } from '../../src/alerts/engine';
import {
  acquireEmulator,
  createStateTable,
  emulatorClientConfig,
  releaseEmulator,
} from '../helpers/emulator';

const raw = new DynamoDBClient(emulatorClientConfig);
const db = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
let table: string;
const tables: string[] = [];

beforeAll(async () => {
  acquireEmulator();
  table = await freshTable();
});

afterAll(async () => {
  for (const name of tables) await raw.send(new DeleteTableCommand({ TableName: name }));
  raw.destroy();
  releaseEmulator();
});

/** A table shaped like the Alerting construct's state table, fresh for each test. */
async function freshTable(): Promise<string> {
  const name = `alert-state-${randomUUID()}`;
  await createStateTable(raw, name);
  tables.push(name);
  return name;
}

const alert = (id: string) => ({ id }) as Alert;

describe('DynamoStateStore on DynamoDB', () => {
  it('creates the state of a new rule once: a second writer expecting no state loses', async () => {
    const store = new DynamoStateStore(db, table);

    const first = await store.put('new-rule', { state: EMPTY_RULE_STATE, outbox: [] }, 0);
    const second = await store.put('new-rule', { state: EMPTY_RULE_STATE, outbox: [alert('x')] }, 0);

    expect([first, second]).toEqual([true, false]);
    expect(await store.get('new-rule')).toMatchObject({ version: 1, outbox: [] });
  });

  it('updates only from the version it read: a stale writer loses and changes nothing', async () => {
    // Prepare
    const store = new DynamoStateStore(db, table);
    await store.put('busy-rule', { state: EMPTY_RULE_STATE, lastSlot: 's1', outbox: [] }, 0);

    // Act
    const winner = await store.put('busy-rule', { state: EMPTY_RULE_STATE, lastSlot: 's2', outbox: [] }, 1);
    const stale = await store.put(
      'busy-rule',
      { state: EMPTY_RULE_STATE, lastSlot: 's2-stale', outbox: [] },
      1,
    );

    // Assess
    expect([winner, stale]).toEqual([true, false]);
    expect(await store.get('busy-rule')).toMatchObject({ version: 2, lastSlot: 's2' });
  });

  it('keeps an undelivered outbox with the state', async () => {
    const store = new DynamoStateStore(db, table);

    await store.put('outbox-rule', { state: EMPTY_RULE_STATE, outbox: [alert('a-1'), alert('a-2')] }, 0);

    expect((await store.get('outbox-rule'))?.outbox.map((a) => a.id)).toEqual(['a-1', 'a-2']);
  });

  it('reads a rule it never saw as no state', async () => {
    expect(await new DynamoStateStore(db, table).get('never-seen')).toBeUndefined();
  });
});

describe('readRuleStates on DynamoDB', () => {
  it('reads back what the Lambda writes, one rule never written as none', async () => {
    // Prepare: as the alarm Lambda stores a firing group
    const store = new DynamoStateStore(db, table);
    const group = {
      status: 'firing' as const,
      consecutive: 2,
      since: '2026-11-30T11:45:00.000Z',
      lastEvaluatedAt: '2026-11-30T11:50:00.000Z',
      lastValue: 0.12,
    };
    await store.put(
      'read-rule',
      { state: { groups: { 'service=shop': group } }, lastSlot: '2026-11-30T11:50:00.000Z', outbox: [] },
      0,
    );

    // Act: as the compliance report and the explorer read it, through the low-level client
    const reads = await readRuleStates(raw, table, ['read-rule', 'never-written']);

    // Assess
    expect(reads).toEqual([
      {
        rule: 'read-rule',
        stored: {
          state: { groups: { 'service=shop': group } },
          lastSlot: '2026-11-30T11:50:00.000Z',
          outbox: [],
          version: 1,
        },
      },
      { rule: 'never-written', stored: undefined },
    ]);
  });
});

describe('DynamoArrivalLog on DynamoDB', () => {
  it('lists the arrivals of a window, start included and end excluded', async () => {
    // Prepare
    const log = new DynamoArrivalLog(db, await freshTable());
    const arrival = (at: string, object: string) => ({
      at,
      type: 'processing-failed',
      stream: 'logs',
      object,
    });
    for (const a of [
      arrival('2025-01-06T11:59:59.999Z', 'b/errors/before'),
      arrival('2025-01-06T12:00:00.000Z', 'b/errors/start'),
      arrival('2025-01-06T12:04:59.999Z', 'b/errors/inside'),
      arrival('2025-01-06T12:05:00.000Z', 'b/errors/end'),
    ]) {
      await log.record(a);
    }

    // Act
    const listed = await log.list('2025-01-06T12:00:00.000Z', '2025-01-06T12:05:00.000Z');

    // Assess
    expect(listed.map((a) => a.object)).toEqual(['b/errors/start', 'b/errors/inside']);
  });

  it('keeps one arrival when S3 delivers the same event twice', async () => {
    const log = new DynamoArrivalLog(db, await freshTable());
    const a = {
      at: '2025-01-06T12:01:12.000Z',
      type: 'processing-failed',
      stream: 'logs',
      object: 'b/errors/x',
    };

    await log.record(a);
    await log.record(a);

    expect(await log.list('2025-01-06T12:00:00.000Z', '2025-01-06T12:05:00.000Z')).toEqual([a]);
  });
});

describe('DynamoAlarmLog on DynamoDB', () => {
  it('remembers the alarm events already sent', async () => {
    const log = new DynamoAlarmLog(db, await freshTable());

    const before = await log.wasSent('alarm-1');
    await log.markSent('alarm-1');

    expect([before, await log.wasSent('alarm-1'), await log.wasSent('alarm-2')]).toEqual([
      false,
      true,
      false,
    ]);
  });
});

describe('DynamoStateStore (unit)', () => {
  it('rethrows a failure that is not a lost condition', async () => {
    // Prepare: a throttled write must fail the evaluation (EventBridge retries it), not pass as "lost".
    const mock = mockClient(DynamoDBDocumentClient);
    mock
      .on(PutCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' }));
    const store = new DynamoStateStore(
      DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
      't',
    );

    // Act
    const act = store.put('r', { state: EMPTY_RULE_STATE, outbox: [] }, 3);

    // Assess
    await expect(act).rejects.toThrow('slow down');
    expect(mock.commandCalls(PutCommand)[0]?.args[0].input).toMatchObject({
      ConditionExpression: '#v = :v',
      ExpressionAttributeValues: { ':v': 3 },
      Item: { pk: 'rule#r', sk: 'state', version: 4 },
    });
    mock.restore();
  });

  it('reports a lost condition as false', async () => {
    const mock = mockClient(DynamoDBDocumentClient);
    mock.on(PutCommand).rejects(new ConditionalCheckFailedException({ message: 'lost', $metadata: {} }));
    const store = new DynamoStateStore(
      DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' })),
      't',
    );

    await expect(store.put('r', { state: EMPTY_RULE_STATE, outbox: [] }, 0)).resolves.toBe(false);
    mock.restore();
  });
});
