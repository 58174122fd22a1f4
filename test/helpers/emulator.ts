/**
 * The MiniStack emulator as test files share it: `acquireEmulator()` starts it unless it answers and
 * holds a lease for this process; `releaseEmulator()` drops the lease, and the last holder stops an
 * emulator that leases started (one started by CI or by hand is left running). See scripts/emulator.sh.
 */
import * as path from 'node:path';
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ROOT } from '../infra/helpers';
import { ensureVenv, run } from '../infra/tools';

/** `scripts/emulator.sh`'s port: 4566 unless `LOGLAKE_EMULATOR_PORT` says otherwise. */
export const EMULATOR_PORT = Number(process.env.LOGLAKE_EMULATOR_PORT || 4566);
export const EMULATOR_ENDPOINT = `http://127.0.0.1:${EMULATOR_PORT}`;
export const EMULATOR_REGION = 'us-east-1';

/** SDK client settings for the emulator (it checks no signature). */
export const emulatorClientConfig = {
  endpoint: EMULATOR_ENDPOINT,
  region: EMULATOR_REGION,
  forcePathStyle: true,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
};

const script = path.join(ROOT, 'scripts/emulator.sh');

export function acquireEmulator(): void {
  ensureVenv();
  const r = run(script, ['acquire', String(process.pid)]);
  if (r.status !== 0) throw new Error(`scripts/emulator.sh acquire failed (${r.status}):\n${r.stderr}`);
}

export function releaseEmulator(): void {
  run(script, ['release', String(process.pid)]);
}

/** A table shaped like the Alerting construct's state table (`pk`, `sk`), on demand. */
export async function createStateTable(client: DynamoDBClient, name: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
    }),
  );
}
