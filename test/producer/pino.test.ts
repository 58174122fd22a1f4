import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import loglakeTransport from '../../src/producer/pino';
import { type FaultFirehose, startFaultFirehose } from '../helpers/fault-firehose';
import { type Ran, run } from '../helpers/run';

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

describe('loglakeTransport with lines that are not JSON', () => {
  it('ships every line written to it, JSON or not, as written', async () => {
    // Prepare: a destination shared with something other than pino (or a pino formatter gone wrong)
    endpoint = await startFaultFirehose(() => 'none');
    const stream = await loglakeTransport({
      streamName: 'logs',
      endpoint: endpoint.url,
      reportDrops: false,
    });
    const lines = ['{"level":30,"msg":"json"}', 'plain text line', 'null', '{"level":30,"msg":"torn'];

    // Act
    for (const l of lines) stream.write(`${l}\n`);
    stream.end();
    await once(stream, 'close');

    // Assess
    expect([...endpoint.received.keys()].sort()).toEqual([...lines].sort());
    expect(stream.counters().linesAccepted).toBe(lines.length);
  });
});

describe('loglakeTransport ended while its queue is full', () => {
  it('closes within closeTimeoutMs, handing every line it could not deliver to droppedFile', async () => {
    // Prepare: the endpoint is down and the lines written are more than the queue holds
    endpoint = await startFaultFirehose(() => 'error500');
    const dir = mkdtempSync(join(tmpdir(), 'loglake-pino-full-'));
    const kept = join(dir, 'dropped.ndjson');
    const stream = await loglakeTransport({
      streamName: 'logs',
      endpoint: endpoint.url,
      maxRecordBytes: 1_000,
      maxQueueBytes: 2_000,
      flushIntervalMs: 20,
      baseDelayMs: 5,
      maxDelayMs: 20,
      closeTimeoutMs: 500,
      reportDrops: false,
      droppedFile: kept,
    });
    const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ i, pad: 'x'.repeat(500) }));
    for (const l of lines) stream.write(`${l}\n`);
    await new Promise((r) => setTimeout(r, 200));

    // Act
    stream.end();
    const closed = await Promise.race([
      once(stream, 'close').then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('pending'), 5_000)),
    ]);

    // Assess
    try {
      expect(closed).toBe('closed');
      expect(readFileSync(kept, 'utf8').trimEnd().split('\n').sort()).toEqual([...lines].sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * Run an ES module in a child Node (TypeScript sources through tsx, as CommonJS: their exports are
 * the default import), with no AWS settings in reach.
 */
function runChild(code: string): Promise<Ran> {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  Object.assign(env, {
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  });
  return run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { env });
}

const PINO_SOURCE = pathToFileURL(join(__dirname, '..', '..', 'src', 'producer', 'pino.ts')).href;

describe('loglakeTransport in a process of its own', () => {
  it('ships to a loopback endpoint with no AWS region or credentials anywhere, delivering at a natural exit', async () => {
    // Prepare
    endpoint = await startFaultFirehose(() => 'none');
    const code = `
      import pino from 'pino';
      import source from '${PINO_SOURCE}';
      const { loglakeTransport } = source;
      const logger = pino(await loglakeTransport({ streamName: 'logs', endpoint: '${endpoint.url}' }));
      for (let i = 0; i < 20; i++) logger.info({ correlation_id: 'natural-' + i }, 'hello');
    `;

    // Act: the script ends without closing anything; the shipper's timer does not hold the process.
    const child = await runChild(code);

    // Assess
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const ids = [...endpoint.received.keys()].map(
      (l) => (JSON.parse(l) as { correlation_id: string }).correlation_id,
    );
    expect(ids.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `natural-${i}`).sort());
  }, 60_000);

  it('names a failing delivery on stderr as it happens, then each drop and a summary at close', async () => {
    // Prepare: nothing listens on port 1.
    const code = `
      import { once } from 'node:events';
      import pino from 'pino';
      import source from '${PINO_SOURCE}';
      const { loglakeTransport } = source;
      const transport = await loglakeTransport({
        streamName: 'logs', endpoint: 'http://127.0.0.1:1', closeTimeoutMs: 1500, baseDelayMs: 10,
      });
      const logger = pino(transport);
      for (let i = 0; i < 3; i++) logger.info('lost');
      await new Promise((r) => setTimeout(r, 1500));
      process.stderr.write('-- closing\\n');
      transport.end();
      await once(transport, 'close');
    `;

    // Act
    const child = await runChild(code);

    // Assess: the failure is told before close, not only after.
    const [before, after] = child.stderr.split('-- closing\n');
    expect(before).toMatch(
      /^loglake\/pino: delivery to http:\/\/127\.0\.0\.1:1 failed, retrying: .*ECONNREFUSED/m,
    );
    expect(before?.match(/failed, retrying/g)).toHaveLength(1);
    expect(after).toContain('loglake/pino: dropped 3 line(s): shutdown');
    expect(after).toMatch(
      /loglake\/pino: 0 line\(s\) sent, \d+ failed call\(s\), \d+ record\(s\) retried, 3 line\(s\) dropped \(3 shutdown\)/,
    );
    expect(child.status).toBe(0);
  }, 60_000);

  it('keeps the lines it drops in droppedFile, as pino wrote them', async () => {
    // Prepare: nothing listens on port 1.
    const dir = mkdtempSync(join(tmpdir(), 'loglake-pino-dropped-'));
    const kept = join(dir, 'dropped.ndjson');
    const code = `
      import { once } from 'node:events';
      import pino from 'pino';
      import source from '${PINO_SOURCE}';
      const { loglakeTransport } = source;
      const transport = await loglakeTransport({
        streamName: 'logs', endpoint: 'http://127.0.0.1:1', closeTimeoutMs: 500, baseDelayMs: 10,
        droppedFile: ${JSON.stringify(kept)},
      });
      const logger = pino(transport);
      for (let i = 0; i < 3; i++) logger.info({ correlation_id: 'kept-' + i }, 'not delivered');
      transport.end();
      await once(transport, 'close');
    `;

    // Act
    const child = await runChild(code);

    // Assess
    try {
      const lines = readFileSync(kept, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l));
      expect(lines.map((l) => [l.correlation_id, l.msg, l.level])).toEqual(
        [0, 1, 2].map((i) => [`kept-${i}`, 'not delivered', 30]),
      );
      expect(child.stderr).toContain(`loglake/pino: dropped 3 line(s): shutdown; kept in ${kept}`);
      expect(child.stderr).toMatch(/3 line\(s\) dropped \(3 shutdown\), 3 kept in /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
