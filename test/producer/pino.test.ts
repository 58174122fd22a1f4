import { once } from 'node:events';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import loglakeTransport from '../../src/producer/pino';
import { type FaultFirehose, startFaultFirehose } from '../helpers/fault-firehose';

let endpoint: FaultFirehose | undefined;
afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

describe('loglakeTransport', () => {
  it('ships every pino line, packed, through throttling, and flushes when the logger ends', async () => {
    // Prepare
    let call = 0;
    endpoint = await startFaultFirehose(() => (call++ % 3 === 0 ? 'throttle' : 'none'));
    const stream = await loglakeTransport({
      streamName: 'logs',
      endpoint: endpoint.url,
      region: 'us-east-1',
      clientConfig: { credentials: { accessKeyId: 'a', secretAccessKey: 'b' } },
      baseDelayMs: 1,
      reportDrops: false,
    });
    const logger = pino({ base: { service: 'checkout' } }, stream);

    // Act
    for (let i = 0; i < 500; i++) logger.info({ correlation_id: `p-${i}` }, `order ${i} placed`);
    stream.end();
    await once(stream, 'close');

    // Assess
    const lines = [...endpoint.received.keys()].map(
      (l) => JSON.parse(l) as { level: number; correlation_id: string; service: string; msg: string },
    );
    expect(lines.map((l) => l.correlation_id).sort()).toEqual(
      Array.from({ length: 500 }, (_, i) => `p-${i}`).sort(),
    );
    expect(lines[0]).toMatchObject({ level: 30, service: 'checkout' });
    expect(stream.counters().linesSent).toBe(500);
    expect(endpoint.recordSizes.length).toBeLessThan(10);
  });
});
