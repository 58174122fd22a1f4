/**
 * What every access-log ledger does (`ObjectLedger`, src/sources/access-log-ledger.ts), as test cases run
 * on the in-memory ledger the core's tests use (test/sources/access-log-ledger.test.ts) and on the
 * DynamoDB ledger against MiniStack's DynamoDB (test/sources/dynamodb-ledger.emulator.test.ts): the
 * double and the real conditions are held to the same cases.
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { expect, it } from 'vitest';
import type { ObjectDelivery, ObjectLedger } from '../../src/sources/access-log-ledger';
import { ACCESS_LOG_LEDGER_ATTRIBUTES as A } from '../../src/sources/access-log-ledger';

const T0 = Date.parse('2026-12-01T12:00:00Z');
const MINUTE = 60_000;

/** A delivery no other case uses (the DynamoDB cases share one table). */
const fresh = (): ObjectDelivery => ({
  object: `s3://elb-logs/AWSLogs/${randomUUID()}.log.gz`,
  delivery: '0055AED6DCD90281E5',
});

export function ledgerContract(ledger: () => ObjectLedger): void {
  it('claims a new delivery from line 1 as attempt 1', async () => {
    const claim = await ledger().claim(fresh(), 'req-a', T0 + 5 * MINUTE, T0);
    expect(claim).toEqual({ state: 'claimed', lease: { owner: 'req-a', attempt: 1 }, nextLine: 1 });
  });

  it('answers busy to another owner while the lease runs, naming the holder and its end', async () => {
    const d = fresh();
    await ledger().claim(d, 'req-a', T0 + 5 * MINUTE, T0);
    const claim = await ledger().claim(d, 'req-b', T0 + 6 * MINUTE, T0 + MINUTE);
    expect(claim).toEqual({ state: 'busy', owner: 'req-a', leaseUntil: T0 + 5 * MINUTE });
  });

  it('lets the lease’s owner claim again at once (Lambda’s retry of the event), from its checkpoint', async () => {
    const d = fresh();
    const first = await ledger().claim(d, 'req-a', T0 + 5 * MINUTE, T0);
    if (first.state !== 'claimed') throw new Error('not claimed');
    await ledger().checkpoint(d, first.lease, 120, T0);
    const again = await ledger().claim(d, 'req-a', T0 + 7 * MINUTE, T0 + MINUTE);
    expect(again).toEqual({ state: 'claimed', lease: { owner: 'req-a', attempt: 2 }, nextLine: 120 });
  });

  it('hands an ended lease to another owner with the checkpoint; the old holder can no longer write', async () => {
    const d = fresh();
    const first = await ledger().claim(d, 'req-a', T0 + 5 * MINUTE, T0);
    if (first.state !== 'claimed') throw new Error('not claimed');
    expect(await ledger().checkpoint(d, first.lease, 40, T0 + MINUTE)).toBe(true);

    const second = await ledger().claim(d, 'req-b', T0 + 11 * MINUTE, T0 + 6 * MINUTE);

    expect(second).toEqual({ state: 'claimed', lease: { owner: 'req-b', attempt: 2 }, nextLine: 40 });
    expect(await ledger().checkpoint(d, first.lease, 90, T0 + 7 * MINUTE)).toBe(false);
    expect(await ledger().finish(d, first.lease, { outcome: 'shipped', lines: 1, records: 1 }, T0)).toBe(
      false,
    );
    const third = await ledger().claim(d, 'req-b', T0 + 12 * MINUTE, T0 + 7 * MINUTE);
    expect(third).toMatchObject({ state: 'claimed', nextLine: 40 });
  });

  it('refuses a stale attempt of the same owner once a newer one claimed', async () => {
    const d = fresh();
    const first = await ledger().claim(d, 'req-a', T0 + 5 * MINUTE, T0);
    const second = await ledger().claim(d, 'req-a', T0 + 5 * MINUTE, T0 + 1);
    if (first.state !== 'claimed' || second.state !== 'claimed') throw new Error('not claimed');
    expect(await ledger().checkpoint(d, first.lease, 10, T0 + 2)).toBe(false);
    expect(await ledger().checkpoint(d, second.lease, 10, T0 + 2)).toBe(true);
  });

  it('answers done, with how it ended, to every claim after the close, whoever asks', async () => {
    const d = fresh();
    const first = await ledger().claim(d, 'req-a', T0 + 5 * MINUTE, T0);
    if (first.state !== 'claimed') throw new Error('not claimed');
    expect(await ledger().finish(d, first.lease, { outcome: 'gone', lines: 0, records: 0 }, T0)).toBe(true);

    expect(await ledger().claim(d, 'req-a', T0 + 5 * MINUTE, T0 + 1)).toEqual({
      state: 'done',
      outcome: 'gone',
      attempts: 1,
    });
    expect(await ledger().claim(d, 'req-b', T0 + 99 * MINUTE, T0 + 98 * MINUTE)).toMatchObject({
      state: 'done',
    });
    expect(await ledger().checkpoint(d, first.lease, 5, T0 + 2)).toBe(false);
  });

  it('keeps each write of a key apart: a new sequencer is a new delivery', async () => {
    const d = fresh();
    const first = await ledger().claim(d, 'req-a', T0 + 5 * MINUTE, T0);
    if (first.state !== 'claimed') throw new Error('not claimed');
    await ledger().finish(d, first.lease, { outcome: 'shipped', lines: 3, records: 1 }, T0);

    const rewritten = await ledger().claim(
      { ...d, delivery: '0055AED6DCD90281F1' },
      'req-b',
      T0 + 5 * MINUTE,
      T0,
    );

    expect(rewritten).toMatchObject({ state: 'claimed', nextLine: 1, lease: { attempt: 1 } });
  });
}

/** A ledger table shaped like lib/access-logs.ts's (object hash key, delivery range key, on demand). */
export async function createLedgerTable(client: DynamoDBClient, name: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: A.object, KeyType: 'HASH' },
        { AttributeName: A.delivery, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: A.object, AttributeType: 'S' },
        { AttributeName: A.delivery, AttributeType: 'S' },
      ],
    }),
  );
}
