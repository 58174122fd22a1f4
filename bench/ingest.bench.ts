/**
 * Local ingest throughput: producers → the Firehose-compatible endpoint (real SDK, fsync'd spool) →
 * the transform → Parquet, measured until every event is searchable. Baseline: the transform alone,
 * in-process, on the same lines (the floor of what the pipeline costs per event).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { startLocal } from '../src/cli/commands/local';
import { quietSdkNodeVersionWarning } from '../src/cli/env';
import { DEFAULT_CONFIG } from '../src/config';
import { Shipper } from '../src/producer/shipper';
import { settingsFromConfig, transformRecords } from '../src/transform';
import { firehoseClient, searchLake } from '../test/helpers/local';

const EVENTS = Number(process.argv[2] ?? 100_000);
const quiet = { stdout: () => undefined, stderr: () => undefined };

function lines(): string[] {
  const now = Date.now();
  return Array.from({ length: EVENTS }, (_, i) =>
    JSON.stringify({
      timestamp: new Date(now - (i % 600) * 1000).toISOString(),
      level: ['INFO', 'INFO', 'WARN', 'ERROR'][i % 4],
      service: `svc-${i % 8}`,
      logger: 'app.handler',
      message: `request ${i} handled for user mail${i % 100}@example.com in ${i % 300} ms`,
      correlation_id: `ing-${i}`,
      http: { method: 'GET', path: `/api/items/${i % 50}`, status_code: 200 },
    }),
  );
}

async function main(): Promise<void> {
  quietSdkNodeVersionWarning();
  const input = lines();
  const rawBytes = input.reduce((s, l) => s + l.length + 1, 0);
  console.log(`${EVENTS.toLocaleString('en')} events, ${(rawBytes / 2 ** 20).toFixed(1)} MiB`);

  // Baseline: the transform alone, in Lambda-sized batches of 500 records.
  const settings = settingsFromConfig(DEFAULT_CONFIG, 'bench-key', 'logs');
  let t0 = performance.now();
  for (let i = 0; i < input.length; i += 500) {
    transformRecords(
      input.slice(i, i + 500).map((l, j) => ({
        recordId: String(i + j),
        data: Buffer.from(`${l}\n`).toString('base64'),
        approximateArrivalTimestamp: Date.now(),
      })),
      settings,
      { maxResponseBytes: Number.MAX_SAFE_INTEGER },
    );
  }
  const baseline = EVENTS / ((performance.now() - t0) / 1000);
  const fmt = (n: number) => Math.round(n).toLocaleString('en').padStart(9);
  console.log(`baseline: transform only, in-process             ${fmt(baseline)} events/s`);

  for (const mode of ['one event per record (PutRecordBatch of 500)', 'packed by the shipper'] as const) {
    const dataDir = mkdtempSync(join(tmpdir(), 'loglake-bench-ingest-'));
    const local = await startLocal({ dataDir, port: 0, flushSeconds: 60, quiet: true }, quiet);
    let peakRss = 0;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 100);
    try {
      t0 = performance.now();
      if (mode.startsWith('one')) {
        const client = firehoseClient(local.endpoint.url);
        const batches: string[][] = [];
        for (let i = 0; i < input.length; i += 500) batches.push(input.slice(i, i + 500));
        // Four producers at once, as several app instances would.
        await Promise.all(
          [0, 1, 2, 3].map(async (w) => {
            for (let b = w; b < batches.length; b += 4) {
              await client.send(
                new PutRecordBatchCommand({
                  DeliveryStreamName: 'logs',
                  Records: (batches[b] ?? []).map((l) => ({ Data: Buffer.from(`${l}\n`) })),
                }),
              );
            }
          }),
        );
        client.destroy();
      } else {
        const shipper = new Shipper({
          streamName: 'logs',
          clientConfig: {
            endpoint: local.endpoint.url,
            region: 'us-east-1',
            credentials: { accessKeyId: 'b', secretAccessKey: 'b' },
          },
        });
        for (const l of input) await shipper.write(l);
        await shipper.close();
      }
      const accepted = performance.now() - t0;
      await local.pipeline.flush();
      const delivered = performance.now() - t0;
      const events = local.pipeline.stats.events;
      if (events !== EVENTS) throw new Error(`delivered ${events} of ${EVENTS} events`);
      const q0 = performance.now();
      const found = await searchLake(dataDir, { correlationId: `ing-${Math.floor(EVENTS / 2)}` });
      const lookup = performance.now() - q0;
      if (found.length !== 1) throw new Error('event not found');
      console.log(
        `local pipeline, ${mode.padEnd(45)} ${fmt(EVENTS / (delivered / 1000))} events/s ` +
          `(${(EVENTS / (delivered / 1000) / baseline).toFixed(2)}x baseline; acknowledged at ${fmt(EVENTS / (accepted / 1000))}/s; ` +
          `peak RSS ${Math.round(peakRss / 2 ** 20)} MiB; lookup by correlation id ${lookup.toFixed(0)} ms)`,
      );
    } finally {
      clearInterval(sampler);
      await local.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
