/**
 * The disk-full scenario of `test/local/faults.disk.test.ts`, run inside a private mount namespace on a
 * small tmpfs (the test starts it through `unshare`, so a crashed run never leaves a mount behind):
 *
 * 1. `loglake local` (a real child process) on a filesystem with a few hundred KiB left;
 * 2. PutRecordBatch traffic from the real `@aws-sdk/client-firehose` (its own retries on 500 included)
 *    until the disk is full and requests fail: some are acknowledged after a retry, some rejected;
 * 3. space freed, more traffic (all acknowledged);
 * 4. kill -9, restart, more traffic, SIGTERM (the restart recovers the spool, shutdown delivers it).
 *
 * It prints one JSON line: which ids were acknowledged, which rejected, and how often each id is in the
 * lake. The test makes the assertions.
 *
 * Usage: `disk-full-scenario.ts <mount point of an empty small tmpfs>`
 */
import { mkdirSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { exited, type ReadyChild, startReady } from './child';
import { searchLake } from './local';
import { taggedBatch } from './tagged-batch';

const mount = process.argv[2] ?? '';
if (mount === '') throw new Error('usage: disk-full-scenario.ts <mount point>');
const dataDir = join(mount, 'data');
mkdirSync(dataDir);

function startLocal(): Promise<ReadyChild> {
  // A long flush interval: everything stays in the spool until the kill, so recovery has to read it.
  return startReady(['local', '--port', '0', '--data-dir', dataDir, '--flush-seconds', '900', '--quiet']);
}

const acknowledged: string[] = [];
const rejected: string[] = [];
const errors = new Map<string, number>();
let batchNo = 0;
const base = Date.now();

/** One PutRecordBatch of 40 ~1.2 KB events with unique correlation ids; the SDK retries 500s (3 attempts). */
async function sendBatch(client: FirehoseClient, phase: string): Promise<boolean> {
  const b = batchNo++;
  const ids = Array.from({ length: 40 }, (_, i) => `${phase}-${b}-${i}`);
  try {
    const out = await client.send(taggedBatch('diskfull', ids, base, 1_100));
    if (out.FailedPutCount !== 0) throw new Error(`FailedPutCount ${out.FailedPutCount}`);
    acknowledged.push(...ids);
    return true;
  } catch (error) {
    rejected.push(...ids);
    const key = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    errors.set(key, (errors.get(key) ?? 0) + 1);
    return false;
  }
}

async function main(): Promise<void> {
  const first = await startLocal();
  const client = new FirehoseClient({
    endpoint: first.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

  // 2. Leave ~300 KiB free, then send from two producers at once (group commits) until several fail.
  const fs = statfsSync(mount);
  const filler = join(mount, 'filler');
  writeFileSync(filler, Buffer.alloc(Math.max(0, fs.bavail * fs.bsize - 300 * 1024)));
  let failures = 0;
  const fill = async () => {
    for (let i = 0; i < 30 && failures < 6; i++) if (!(await sendBatch(client, 'full'))) failures++;
  };
  await Promise.all([fill(), fill()]);

  // 3. Space freed: traffic is acknowledged again, appended to the same segment after the failed writes.
  unlinkSync(filler);
  let freedOk = 0;
  for (let i = 0; i < 10; i++) if (await sendBatch(client, 'freed')) freedOk++;

  // 4. kill -9 with everything still in the spool, restart, more traffic, clean shutdown.
  first.child.kill('SIGKILL');
  await exited(first.child);
  client.destroy();
  const second = await startLocal();
  const client2 = new FirehoseClient({
    endpoint: second.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  let afterOk = 0;
  for (let i = 0; i < 5; i++) if (await sendBatch(client2, 'after')) afterOk++;
  client2.destroy();
  second.child.kill('SIGTERM');
  const code = await exited(second.child);

  const found = await searchLake(dataDir, { services: ['diskfull'] });
  const counts: Record<string, number> = {};
  for (const r of found) counts[r.correlation_id ?? ''] = (counts[r.correlation_id ?? ''] ?? 0) + 1;
  process.stdout.write(
    `${JSON.stringify({
      acknowledged,
      rejected,
      errors: Object.fromEntries(errors),
      freedOk,
      afterOk,
      restartExitCode: code,
      firstStderr: first.stderr(),
      secondStderr: second.stderr(),
      counts,
    })}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
