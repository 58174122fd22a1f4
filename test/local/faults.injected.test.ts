/**
 * Disk faults injected at exact points of the spool (`FaultySpoolIo`), driven by the real
 * `@aws-sdk/client-firehose` with its own retries on: every acknowledged record lands exactly once, no
 * rejected one lands at all, both in-process and across a kill -9 and a restart of the real CLI.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/config';
import { dataDirPaths } from '../../src/local/datadir';
import { LocalPipeline } from '../../src/local/pipeline';
import { type Endpoint, startEndpoint } from '../../src/local/server';
import { dataDirTransform } from '../../src/local/transform';
import { exited, type ReadyChild, ROOT, startReady } from '../helpers/child';
import { FaultySpoolIo, type SpoolFault } from '../helpers/faulty-spool';
import { searchLake } from '../helpers/local';
import { taggedBatch } from '../helpers/tagged-batch';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The real SDK client with its default retry policy (3 attempts; 500s and dropped connections retried). */
function sdkClient(url: string): FirehoseClient {
  const client = new FirehoseClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  cleanups.push(() => client.destroy());
  return client;
}

const base = Date.now();
const acknowledged: string[] = [];
const rejected: string[] = [];
/** SDK attempts an acknowledged call took, by tag. */
const attemptsOf = new Map<string, number>();

/** A PutRecordBatch of `n` events tagged `<tag>-<i>`; records the outcome the producer saw. */
async function send(client: FirehoseClient, tag: string, n = 20): Promise<'ok' | string> {
  const ids = Array.from({ length: n }, (_, i) => `${tag}-${i}`);
  try {
    const out = await client.send(taggedBatch('faults', ids, base));
    if (out.FailedPutCount !== 0) throw new Error(`FailedPutCount ${out.FailedPutCount}`);
    acknowledged.push(...ids);
    attemptsOf.set(tag, out.$metadata.attempts ?? 0);
    return 'ok';
  } catch (error) {
    rejected.push(...ids);
    return `${(error as Error).name}: ${(error as Error).message} (attempts ${(error as { $metadata?: { attempts?: number } }).$metadata?.attempts})`;
  }
}

/** How often each correlation id is in the lake, against what the producer was told. */
async function lakeVerdict(dataDir: string) {
  const counts = new Map<string, number>();
  for (const r of await searchLake(dataDir, { services: ['faults'] }))
    counts.set(r.correlation_id ?? '', (counts.get(r.correlation_id ?? '') ?? 0) + 1);
  return {
    missing: acknowledged.filter((id) => !counts.has(id)),
    duplicated: [...counts].filter(([, n]) => n > 1).map(([id]) => id),
    rejectedStored: rejected.filter((id) => counts.has(id)),
    stored: counts.size,
  };
}

afterEach(() => {
  acknowledged.length = 0;
  rejected.length = 0;
  attemptsOf.clear();
});

describe('spool faults with the real SDK, in-process', () => {
  it('delivers a request retried after a failed write once, and a request that failed every attempt never', async () => {
    // Prepare
    const dataDir = mkdtempSync(join(tmpdir(), 'loglake-faults-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const io = new FaultySpoolIo();
    const warnings: string[] = [];
    const pipeline = await LocalPipeline.open({
      dataDir,
      transform: dataDirTransform(DEFAULT_CONFIG, dataDir),
      flushIntervalMs: 900_000,
      spoolIo: io,
      onWarning: (m) => warnings.push(m),
    });
    let endpoint: Endpoint | undefined;
    cleanups.push(async () => {
      await endpoint?.close();
      await pipeline.close();
    });
    endpoint = await startEndpoint({ pipeline, port: 0 });
    const client = sdkClient(endpoint.url);

    // Act
    const first = await send(client, 'before');
    io.fail({ op: 'append', prefix: 150 });
    const tornThenRetried = await send(client, 'torn');
    io.fail({ op: 'append', prefix: 0 }, { op: 'append', prefix: 90 }, { op: 'append', prefix: 500 });
    const rejectedThrice = await send(client, 'rejected');
    io.fail({ op: 'datasync' });
    const syncFailedThenRetried = await send(client, 'unsynced');
    // Nothing can undo the write: no answer at all (as a crash), the SDK retries into a new segment.
    io.fail({ op: 'datasync' }, { op: 'truncate' }, { op: 'rename' });
    const unanswered = await send(client, 'unanswered');
    io.fail({ op: 'datasync' }, { op: 'truncate' }, { op: 'rename' });
    const raw = await fetch(endpoint.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'Firehose_20150804.PutRecord' },
      body: JSON.stringify({
        DeliveryStreamName: 'logs',
        Record: { Data: Buffer.from('{}').toString('base64') },
      }),
    }).then(
      (r) => `HTTP ${r.status}`,
      () => 'no answer',
    );
    // Concurrent producers while writes keep failing: whichever group commit a fault hits, its
    // requests get a 500 and are retried by the SDK.
    io.fail({ op: 'append', prefix: 40, skip: 1 }, { op: 'datasync', skip: 2 });
    const concurrent = await Promise.all(Array.from({ length: 6 }, (_, i) => send(client, `burst${i}`)));
    const after = await send(client, 'after');
    await pipeline.flush();
    const verdict = await lakeVerdict(dataDir);

    // Assess
    expect([first, tornThenRetried, syncFailedThenRetried, unanswered, after]).toEqual([
      'ok',
      'ok',
      'ok',
      'ok',
      'ok',
    ]);
    expect([attemptsOf.get('torn'), attemptsOf.get('unanswered')]).toEqual([2, 2]);
    expect(raw).toBe('no answer');
    expect(warnings.join('\n')).toMatch(/could be neither truncated nor marked .* no answer/);
    expect(rejectedThrice).toMatch(
      /^InternalFailure: spool write failed, nothing of this request was kept: ENOSPC.*\(attempts 3\)/,
    );
    expect(concurrent.filter((c) => c !== 'ok')).toEqual([]);
    expect(verdict).toEqual({ missing: [], duplicated: [], rejectedStored: [], stored: acknowledged.length });
    expect(rejected).toHaveLength(20);
    expect(pipeline.stats.spoolWriteFailures).toBeGreaterThanOrEqual(7);
    expect(pipeline.stats.recordsRejected).toBeGreaterThanOrEqual(7 * 20);
    expect(pipeline.stats.events).toBe(acknowledged.length);
    expect(warnings.join('\n')).toMatch(/answered with an error because the spool write failed \(ENOSPC/);
  });
});

async function startChild(args: string[], script?: string): Promise<ReadyChild> {
  const started = await startReady(args, script);
  cleanups.push(() => {
    if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill('SIGKILL');
  });
  return started;
}

async function queueFaults(child: ChildProcess, faults: SpoolFault[]): Promise<void> {
  const queued = new Promise<void>((resolve) => {
    const onData = (d: Buffer) => {
      if (d.toString().includes('faults queued')) {
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
  });
  child.stdin?.write(`${JSON.stringify(faults)}\n`);
  await queued;
}

describe('spool faults with the real SDK, then kill -9 and a restart of the real CLI', () => {
  it('never replays the frames of a failed write, even when they reached the disk whole and truncation failed', async () => {
    // Prepare
    const dataDir = mkdtempSync(join(tmpdir(), 'loglake-faults-kill-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const faulty = await startChild([dataDir], join(ROOT, 'test', 'helpers', 'faulty-local.ts'));
    const client = sdkClient(faulty.url);
    // Deliveries fail until the restart (staging cannot be created), so the kill finds every segment,
    // including the one sealed after the failed truncation, still in the spool.
    const staging = dataDirPaths(dataDir).staging;
    rmSync(staging, { recursive: true, force: true });
    writeFileSync(staging, '');

    // Act
    const outcomes = [await send(client, 'a')];
    await queueFaults(faulty.child, [{ op: 'append', prefix: 333 }]);
    outcomes.push(await send(client, 'torn'));
    // Written whole, then fdatasync and truncation fail: the segment is renamed to its valid length.
    await queueFaults(faulty.child, [{ op: 'datasync' }, { op: 'truncate' }]);
    outcomes.push(await send(client, 'untruncated'));
    outcomes.push(await send(client, 'b'));
    await queueFaults(faulty.child, [
      { op: 'append', prefix: 10 },
      { op: 'append', prefix: 700 },
      { op: 'append', prefix: 2_000 },
    ]);
    const refused = await send(client, 'refused');
    outcomes.push(await send(client, 'c'));
    const spooled = readdirSync(dataDirPaths(dataDir).spool('logs'));
    faulty.child.kill('SIGKILL');
    await exited(faulty.child);
    const restarted = await startChild(['local', '--port', '0', '--data-dir', dataDir, '--quiet']);
    restarted.child.kill('SIGTERM');
    const code = await exited(restarted.child);
    const verdict = await lakeVerdict(dataDir);

    // Assess
    expect(outcomes).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(refused).toMatch(/spool write failed.*\(attempts 3\)/);
    expect(spooled.some((name) => /@\d+\.seg$/.test(name))).toBe(true);
    expect(code).toBe(0);
    expect(verdict).toEqual({ missing: [], duplicated: [], rejectedStored: [], stored: acknowledged.length });
    expect(faulty.stderr()).toMatch(/spool write failed/);
  }, 120_000);
});
