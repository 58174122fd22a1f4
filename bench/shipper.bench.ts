/**
 * What the shipper saves: Firehose bills each record rounded up to 5 KB. 480-byte log lines shipped one
 * per record (the baseline, as most log forwarders do) against packed by the shipper. Also the
 * shipper's throughput against an endpoint that accepts everything.
 */
import { quietSdkNodeVersionWarning } from '../src/cli/env';
import { Shipper, type ShipperCounters } from '../src/producer/shipper';
import { startFaultFirehose } from '../test/helpers/fault-firehose';

const LINES = Number(process.argv[2] ?? 100_000);
const LINE_BYTES = 480;

function line(i: number): string {
  const head = JSON.stringify({
    timestamp: new Date().toISOString(),
    level: 'INFO',
    service: 'checkout',
    logger: 'app.orders',
    message: `order ${i} placed`,
    correlation_id: `c-${i}`,
    pad: '',
  });
  return head.replace('"pad":""', `"pad":"${'x'.repeat(Math.max(0, LINE_BYTES - head.length))}"`);
}

async function ship(url: string, maxRecordBytes?: number): Promise<{ c: ShipperCounters; ms: number }> {
  const shipper = new Shipper({
    streamName: 'logs',
    clientConfig: {
      endpoint: url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'b', secretAccessKey: 'b' },
    },
    ...(maxRecordBytes ? { maxRecordBytes } : {}),
  });
  const t0 = performance.now();
  for (let i = 0; i < LINES; i++) {
    await shipper.write(line(i));
  }
  // No shutdown deadline: on a busy machine the unpacked baseline needs more than close()'s default 30 s.
  const c = await shipper.close(Number.POSITIVE_INFINITY);
  return { c, ms: performance.now() - t0 };
}

async function main(): Promise<void> {
  quietSdkNodeVersionWarning();
  const endpoint = await startFaultFirehose(() => 'none');
  try {
    const onePerRecord = await ship(endpoint.url, LINE_BYTES + 1);
    const packed = await ship(endpoint.url);
    const row = (name: string, r: { c: ShipperCounters; ms: number }) =>
      console.log(
        `${name.padEnd(22)} ${String(r.c.recordsSent).padStart(7)} records  ${String(r.c.calls).padStart(5)} calls  ` +
          `billed/raw ${(r.c.billedBytes / r.c.bytesSent).toFixed(3).padStart(7)}  ` +
          `${Math.round(LINES / (r.ms / 1000))
            .toLocaleString('en')
            .padStart(9)} lines/s  peak queue ${(r.c.peakQueuedBytes / 2 ** 20).toFixed(1)} MiB`,
      );
    console.log(`${LINES.toLocaleString('en')} lines of ${LINE_BYTES} bytes:`);
    row('baseline: one per record', onePerRecord);
    row('shipper: packed', packed);
    console.log(
      `packed is billed ${(onePerRecord.c.billedBytes / packed.c.billedBytes || 0).toFixed(1)}x less than one line per record ` +
        `(target: billed/raw ≤ 1.05 packed; got ${(packed.c.billedBytes / packed.c.bytesSent).toFixed(3)})`,
    );
    if (onePerRecord.c.linesSent !== LINES || packed.c.linesSent !== LINES)
      throw new Error('lines were lost');
  } finally {
    await endpoint.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
