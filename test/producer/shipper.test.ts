import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { isRetryable, Shipper } from '../../src/producer/shipper';
import { type Fault, type FaultFirehose, startFaultFirehose } from '../helpers/fault-firehose';

const clientConfig = (url: string) => ({
  endpoint: url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

/** A deterministic fault sequence from a seed (mulberry32). */
function seeded(seed: number, faults: Fault[], weights: number[]): (call: number) => Fault {
  let a = seed >>> 0;
  const total = weights.reduce((s, w) => s + w, 0);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    let r = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * total;
    for (let i = 0; i < faults.length; i++) {
      r -= weights[i] ?? 0;
      if (r < 0) return faults[i] as Fault;
    }
    return 'none';
  };
}

function line(i: number, size = 480): string {
  const head = JSON.stringify({ level: 'INFO', service: 'svc', message: `event ${i}`, pad: '' });
  return head.replace('"pad":""', `"pad":"${'x'.repeat(Math.max(0, size - head.length))}"`);
}

/** The lines of what `onDrop` hands back (newline-terminated lines, a record's or one each). */
function linesOf(data: readonly Buffer[]): string[] {
  return data.flatMap((chunk) => {
    const text = chunk.toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    return text.slice(0, -1).split('\n');
  });
}

let endpoint: FaultFirehose | undefined;
afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

describe('Shipper', () => {
  it('delivers every line at least once through partial failures, throttling, 5xx, drops and slow calls', async () => {
    // Prepare
    endpoint = await startFaultFirehose(
      seeded(7, ['none', 'partial', 'throttle', 'error500', 'drop', 'slow'], [40, 20, 15, 10, 10, 5]),
      800,
    );
    const shipper = new Shipper({
      streamName: 'logs',
      clientConfig: clientConfig(endpoint.url),
      maxRecordBytes: 20_000,
      maxBatchRecords: 25,
      flushIntervalMs: 50,
      baseDelayMs: 5,
      maxDelayMs: 50,
      requestTimeoutMs: 300,
      maxQueueBytes: 256 * 1024,
      concurrency: 3,
    });
    const lines = Array.from({ length: 3_000 }, (_, i) => line(i));

    // Act
    for (const l of lines) await shipper.write(l);
    const counters = await shipper.close(60_000);

    // Assess
    const missing = lines.filter((l) => !endpoint?.received.has(l));
    expect(missing).toEqual([]);
    expect(Object.values(counters.dropped).reduce((s, n) => s + n, 0)).toBe(0);
    expect(counters.linesSent).toBe(lines.length);
    expect(counters.retried).toBeGreaterThan(0);
    for (const fault of ['partial', 'throttle', 'error500', 'drop', 'slow'] as const) {
      expect(endpoint.faults[fault]).toBeGreaterThan(0);
    }
    expect(counters.peakQueuedBytes).toBeLessThanOrEqual(256 * 1024);
    expect(counters.queuedBytes).toBe(0);
  }, 90_000);

  it('never holds more than maxQueueBytes while the endpoint is down, and drops with a count on overflow', async () => {
    // Prepare
    endpoint = await startFaultFirehose(() => 'error500');
    const drops: Array<[number, string]> = [];
    const handedBack: string[] = [];
    const shipper = new Shipper({
      streamName: 'logs',
      clientConfig: clientConfig(endpoint.url),
      maxRecordBytes: 10_000,
      maxQueueBytes: 100_000,
      flushIntervalMs: 20,
      baseDelayMs: 5,
      maxDelayMs: 20,
      onDrop: (n, reason, _error, data) => {
        drops.push([n, reason]);
        handedBack.push(...linesOf(data));
      },
    });

    // Act
    let accepted = 0;
    for (let i = 0; i < 2_000; i++) if (shipper.push(line(i))) accepted++;
    await new Promise((r) => setTimeout(r, 200));
    const counters = await shipper.close(100);

    // Assess
    expect(counters.peakQueuedBytes).toBeLessThanOrEqual(100_000);
    expect(accepted).toBeLessThan(2_000);
    expect(counters.dropped.overflow).toBe(2_000 - accepted);
    expect(counters.dropped.shutdown).toBe(accepted);
    expect(drops.filter(([, r]) => r === 'overflow').reduce((s, [n]) => s + n, 0)).toBe(2_000 - accepted);
    // Nothing was delivered: every line comes back through onDrop, once, as it was written.
    expect(handedBack.sort()).toEqual(Array.from({ length: 2_000 }, (_, i) => line(i)).sort());
  });

  it('hands every line it does not deliver back to onDrop, whole, with the count it reports', async () => {
    // Prepare: the first call is accepted, the second in part, every later one fails (throttled, 5xx,
    // the connection dropped, or stalled past the request timeout) until the close deadline gives up
    const later: Fault[] = ['throttle', 'error500', 'drop', 'slow'];
    endpoint = await startFaultFirehose(
      (call) => (call === 0 ? 'none' : call === 1 ? 'partial' : (later[call % later.length] as Fault)),
      400,
    );
    const handedBack: string[] = [];
    let reported = 0;
    const shipper = new Shipper({
      streamName: 'logs',
      clientConfig: clientConfig(endpoint.url),
      maxRecordBytes: 5_000,
      maxBatchRecords: 10,
      flushIntervalMs: 20,
      baseDelayMs: 50,
      maxDelayMs: 200,
      requestTimeoutMs: 200,
      onDrop: (n, _reason, _error, data) => {
        reported += n;
        handedBack.push(...linesOf(data));
      },
    });
    const lines = Array.from({ length: 1_500 }, (_, i) => line(i, 200));

    // Act
    for (const l of lines) await shipper.write(l);
    const counters = await shipper.close(1_000);

    // Assess: something of each outcome, every line delivered or handed back, nothing torn or invented
    const dropped = Object.values(counters.dropped).reduce((s, n) => s + n, 0);
    expect(dropped).toBeGreaterThan(0);
    expect(counters.linesSent).toBeGreaterThan(0);
    expect(handedBack).toHaveLength(dropped);
    expect(reported).toBe(dropped);
    const written = new Set(lines);
    expect(handedBack.filter((l) => !written.has(l))).toEqual([]);
    const back = new Set(handedBack);
    expect(lines.filter((l) => !endpoint?.received.has(l) && !back.has(l))).toEqual([]);
  }, 60_000);

  it('packs lines into few records: billed bytes stay within 5% of the raw bytes', async () => {
    // Prepare
    endpoint = await startFaultFirehose(() => 'none');
    const shipper = new Shipper({
      streamName: 'logs',
      clientConfig: clientConfig(endpoint.url),
      flushIntervalMs: 60_000,
    });

    // Act
    for (let i = 0; i < 20_000; i++) shipper.push(line(i));
    const counters = await shipper.close();

    // Assess
    expect(counters.linesSent).toBe(20_000);
    expect(counters.billedBytes / counters.bytesSent).toBeLessThanOrEqual(1.05);
    expect(Math.max(...endpoint.recordSizes)).toBeLessThanOrEqual(1_024_000);
    expect(endpoint.maxCall.records).toBeLessThanOrEqual(500);
    expect(endpoint.maxCall.bytes).toBeLessThanOrEqual(4 * 1024 * 1024);
  });

  it('keeps lines with different pack keys in different records', async () => {
    // Prepare
    endpoint = await startFaultFirehose(() => 'none');
    const shipper = new Shipper({
      streamName: 'logs',
      clientConfig: clientConfig(endpoint.url),
      packKey: (l) => (JSON.parse(l) as { category: string }).category,
    });
    const lines = Array.from({ length: 300 }, (_, i) =>
      JSON.stringify({ category: ['a', 'b', 'c'][i % 3], i }),
    );

    // Act
    for (const l of lines) shipper.push(l);
    await shipper.close();

    // Assess
    expect(endpoint.recordSizes).toHaveLength(3);
    expect(endpoint.received.size).toBe(300);
  });

  it('drops a line larger than a record, counted as oversize', async () => {
    // Prepare
    endpoint = await startFaultFirehose(() => 'none');
    const shipper = new Shipper({
      streamName: 'logs',
      clientConfig: clientConfig(endpoint.url),
      maxRecordBytes: 1_000,
    });

    // Act
    const kept = shipper.push('x'.repeat(1_000));
    const counters = await shipper.close();

    // Assess
    expect(kept).toBe(false);
    expect(counters.dropped.oversize).toBe(1);
    expect(endpoint.received.size).toBe(0);
  });

  it('drops a batch the service rejects for good (unknown stream), counted as rejected', async () => {
    // Prepare
    const { startEndpointForRejection } = await import('../helpers/reject-firehose');
    const rejecting = await startEndpointForRejection();
    const shipper = new Shipper({
      streamName: 'nope',
      clientConfig: clientConfig(rejecting.url),
      baseDelayMs: 1,
    });

    // Act
    shipper.push(line(1));
    const counters = await shipper.close(5_000);
    await rejecting.close();

    // Assess
    expect(counters.dropped.rejected).toBe(1);
    expect(counters.failedCalls).toBe(1);
  });

  it('tells onRetry about every failure it will retry, as it happens, with the error', async () => {
    // Prepare: two throttled calls, then the endpoint recovers.
    endpoint = await startFaultFirehose((call) => (call < 2 ? 'throttle' : 'none'));
    const retries: Array<{ lines: number; error: string }> = [];
    const shipper = new Shipper({
      streamName: 'logs',
      clientConfig: clientConfig(endpoint.url),
      baseDelayMs: 1,
      onRetry: (r) => retries.push({ lines: r.lines, error: (r.error as Error).name }),
    });

    // Act
    shipper.push(`${line(1)}\n${line(2)}`);
    const counters = await shipper.close(10_000);

    // Assess
    expect(retries).toEqual([
      { lines: 2, error: 'ServiceUnavailableException' },
      { lines: 2, error: 'ServiceUnavailableException' },
    ]);
    expect(counters.linesSent).toBe(2);
    expect(counters.retried).toBe(2);
  });
});

describe('Shipper failure reporting', () => {
  it('reports a failed send when it is scheduled again, not only when it is dropped', async () => {
    // Prepare: the first call fails with a 500, the next one succeeds
    endpoint = await startFaultFirehose((call) => (call === 0 ? 'error500' : 'none'));
    const retries: Array<{ records: number; lines: number; attempt: number; status?: number }> = [];
    const shipper = new Shipper({
      streamName: 'logs',
      clientConfig: clientConfig(endpoint.url),
      baseDelayMs: 1,
      onRetry: (r) =>
        retries.push({
          records: r.records,
          lines: r.lines,
          attempt: r.attempt,
          status: (r.error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode,
        }),
    });

    // Act
    shipper.push(`${line(1)}\n${line(2)}`);
    const counters = await shipper.close(5_000);

    // Assess
    expect(retries).toEqual([{ records: 1, lines: 2, attempt: 1, status: 500 }]);
    expect(counters.linesSent).toBe(2);
  });

  it('gives up at once when the close signal aborts, dropping what is undelivered as shutdown', async () => {
    // Prepare: nothing listens on port 1
    const shipper = new Shipper({ streamName: 'logs', clientConfig: clientConfig('http://127.0.0.1:1') });
    shipper.push(line(1));
    const abandon = new AbortController();

    // Act
    const t0 = Date.now();
    setTimeout(() => abandon.abort(), 200);
    const counters = await shipper.close(60_000, abandon.signal);

    // Assess
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(counters.dropped.shutdown).toBe(1);
    expect(counters.linesSent).toBe(0);
  });
});

describe('Shipper.close deadline', () => {
  it('waits without a deadline when given Infinity (setTimeout would fire at once)', async () => {
    // Prepare: the first two calls fail, so delivery takes a few backoff rounds
    endpoint = await startFaultFirehose((call) => (call < 2 ? 'error500' : 'none'));
    const shipper = new Shipper({
      streamName: 'logs',
      clientConfig: clientConfig(endpoint.url),
      baseDelayMs: 50,
    });
    shipper.push(line(1));

    // Act
    const counters = await shipper.close(Number.POSITIVE_INFINITY);

    // Assess
    expect(counters.linesSent).toBe(1);
    expect(counters.dropped.shutdown).toBe(0);
  });
});

describe('isRetryable', () => {
  it('retries throttling, 5xx, timeouts and dropped connections but not client errors', () => {
    fc.assert(
      fc.property(fc.integer({ min: 500, max: 599 }), (status) => {
        expect(isRetryable({ name: 'X', $metadata: { httpStatusCode: status } })).toBe(true);
      }),
    );
    expect(isRetryable({ name: 'ServiceUnavailableException', $metadata: { httpStatusCode: 400 } })).toBe(
      true,
    );
    expect(isRetryable({ name: 'TimeoutError' })).toBe(true);
    expect(isRetryable({ code: 'ECONNRESET' })).toBe(true);
    expect(isRetryable(new Error('socket hang up'))).toBe(true);
    expect(isRetryable({ name: 'CredentialsProviderError' })).toBe(true);
    expect(isRetryable({ name: 'ExpiredTokenException', $metadata: { httpStatusCode: 400 } })).toBe(true);
    expect(isRetryable({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } })).toBe(
      false,
    );
    expect(isRetryable({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } })).toBe(false);
  });
});

/** What `promise` settled to within `ms`, or 'pending' when it had not. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), ms);
  });
  try {
    return await Promise.race([promise, pending]);
  } finally {
    clearTimeout(timer);
  }
}

describe('Shipper.write waiting for room', () => {
  it('drops an oversize line at once instead of waiting for room it can never use', async () => {
    // Prepare: the endpoint is down and the queue is full, so no room will come
    endpoint = await startFaultFirehose(() => 'error500');
    const shipper = new Shipper({
      streamName: 'logs',
      clientConfig: clientConfig(endpoint.url),
      maxRecordBytes: 1_000,
      maxQueueBytes: 2_000,
      flushIntervalMs: 20,
      baseDelayMs: 5,
      maxDelayMs: 20,
    });
    await shipper.write('a'.repeat(990));
    await shipper.write('b'.repeat(990));

    // Act: one line longer than a record, one longer than the whole queue
    const between = await within(
      shipper.write('c'.repeat(1_500)).then(() => 'written'),
      2_000,
    );
    const beyond = await within(
      shipper.write('d'.repeat(5_000)).then(() => 'written'),
      2_000,
    );
    const counters = await shipper.close(100);

    // Assess
    expect([between, beyond]).toEqual(['written', 'written']);
    expect(counters.dropped.oversize).toBe(2);
    expect(counters.dropped.shutdown).toBe(2);
  });

  it('sends the open records it waits on, rather than waiting for the flush interval', async () => {
    // Prepare: three pack keys, each record open and below the limit, together over the queue's bound
    endpoint = await startFaultFirehose(() => 'none');
    const shipper = new Shipper({
      streamName: 'logs',
      clientConfig: clientConfig(endpoint.url),
      packKey: (l) => l.slice(0, 1),
      maxRecordBytes: 1_000,
      maxQueueBytes: 2_000,
      flushIntervalMs: 60_000,
    });
    await shipper.write('a'.repeat(800));
    await shipper.write('b'.repeat(800));

    // Act
    const third = await within(
      shipper.write('c'.repeat(800)).then(() => 'written'),
      2_000,
    );
    const counters = await shipper.close(5_000);

    // Assess
    expect(third).toBe('written');
    expect(counters.linesSent).toBe(3);
  });
});

describe('Shipper.close called twice', () => {
  it('resolves every call only once what was queued is delivered or dropped', async () => {
    // Prepare: each call takes 500 ms to answer
    endpoint = await startFaultFirehose(() => 'slow', 500);
    const shipper = new Shipper({ streamName: 'logs', clientConfig: clientConfig(endpoint.url) });
    shipper.push(line(1));

    // Act: as a signal handler and the main path both would
    const first = shipper.close();
    const second = await shipper.close();

    // Assess
    expect(second.linesSent).toBe(1);
    expect(second.queuedBytes).toBe(0);
    await first;
  });
});

describe('Shipper limits', () => {
  it('refuses limits under which a record could never be sent, instead of holding every line until close', () => {
    const options = { streamName: 'logs', clientConfig: clientConfig('http://127.0.0.1:1') };
    expect(() => new Shipper({ ...options, maxRecordBytes: 2_000, maxBatchBytes: 1_000 })).toThrow(
      /maxBatchBytes \(1000\) must hold at least one record \(2000\)/,
    );
    expect(() => new Shipper({ ...options, maxBatchRecords: 0 })).toThrow(/maxBatchRecords/);
  });
});

describe('Shipper retries while every call slot is busy', () => {
  it('waits for a slot to free instead of re-arming a timer that fires at once', async () => {
    // Prepare: the first record fails in a partial failure, so its retry is due while the second one's call stalls
    // in the only slot for 400 ms.
    endpoint = await startFaultFirehose(
      (call) => (call === 0 ? 'partial' : call === 1 ? 'slow' : 'none'),
      400,
    );
    const shipper = new Shipper({
      streamName: 'logs',
      clientConfig: clientConfig(endpoint.url),
      maxRecordBytes: 600,
      maxBatchRecords: 1,
      concurrency: 1,
      baseDelayMs: 100,
      maxDelayMs: 100,
    });
    // The retry's jitter at half its ceiling: due 50 ms after the failure, inside the stalled call.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const realSetTimeout = globalThis.setTimeout;
    let immediate = 0;
    const counting = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      if (!ms) immediate++;
      return realSetTimeout(callback, ms, ...args);
    }) as typeof setTimeout;
    globalThis.setTimeout = counting;

    // Act
    let counters: Awaited<ReturnType<Shipper['close']>>;
    try {
      shipper.push(`${line(1)}\n${line(2)}`);
      counters = await shipper.close(10_000);
    } finally {
      globalThis.setTimeout = realSetTimeout;
      random.mockRestore();
    }

    // Assess: the retry went out once the slot was free, and no timer spun meanwhile.
    expect(counters.linesSent).toBe(2);
    expect(endpoint.faults.slow).toBe(1);
    expect(immediate).toBeLessThan(50);
  });
});
