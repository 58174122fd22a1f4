/**
 * A pino transport shipping log lines to Firehose through the {@link Shipper}.
 *
 * In a worker thread (pino's default for transports):
 *   `pino({ transport: { target: 'loglake/pino', options: { streamName: 'logs' } } })`
 * or in-process, without a worker:
 *   `pino(await loglakeTransport({ streamName: 'logs' }))`
 *
 * Lines are shipped as pino wrote them (the transform maps pino's numeric levels). The transport waits
 * for room when the shipper's queue is full (pino buffers meanwhile), and on close sends what is left.
 * Failures are reported on stderr as they happen (a transport has no logger of its own) and counted.
 */
import { writeSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import build from 'pino-abstract-transport';
import { firehoseClientConfig } from './client-config';
import { DroppedLinesFile, keepDropped } from './dropped-file';
import { quietSdkNodeVersionWarning } from './env';
import type { DropReason, ShipperCounters, ShipperOptions } from './shipper';
import { Shipper } from './shipper';

export interface PinoTransportOptions extends Omit<ShipperOptions, 'client' | 'onDrop'> {
  /**
   * Firehose endpoint, e.g. the local pipeline `http://127.0.0.1:4573`. A loopback endpoint gets
   * placeholder credentials and a region, like `loglake send`.
   * @default the AWS endpoint of the region
   */
  readonly endpoint?: string;
  /** AWS region. @default the SDK's region resolution; `us-east-1` for a loopback endpoint */
  readonly region?: string;
  /**
   * Milliseconds to deliver what is queued when the logger closes; what is left then is dropped and
   * reported. Below pino's own 10 s limit for a worker to finish at exit.
   * @default 8,000
   */
  readonly closeTimeoutMs?: number;
  /** Report drops, failing deliveries and a closing summary after failures on stderr. @default true */
  readonly reportDrops?: boolean;
  /**
   * A file to append every dropped line to (created private, 0600), as pino wrote it, to send again
   * later (`loglake send --stream logs < file`). @default none: dropped lines are only counted
   */
  readonly droppedFile?: string;
}

/** While delivery keeps failing, the transport says so at most this often. */
const RETRY_REPORT_INTERVAL_MS = 10_000;

/** The transport stream, with the shipper's counters. */
export type LoglakeTransportStream = Awaited<ReturnType<typeof build>> & {
  /** The shipper's running totals (lines sent, retried, dropped by reason, …). */
  counters(): ShipperCounters;
};

/**
 * Build the transport stream. The package entry `loglake/pino` exports this function itself (what
 * pino's `transport.target` loads, and what `import`/`require` of `loglake/pino` give).
 */
export async function loglakeTransport(options: PinoTransportOptions): Promise<LoglakeTransportStream> {
  // pino's worker thread is ours (its environment is a copy); the user's own thread is left alone.
  if (!isMainThread) quietSdkNodeVersionWarning();
  const { endpoint, region, closeTimeoutMs, reportDrops, clientConfig, droppedFile, ...shipperOptions } =
    options;
  const keep = droppedFile === undefined ? undefined : new DroppedLinesFile(droppedFile);
  const report = (text: string) => {
    if (reportDrops === false) return;
    try {
      // Synchronous: from pino's worker thread, process.stderr goes through the main thread, which is
      // blocked while pino waits for the worker at exit, so a closing report would never be seen.
      writeSync(2, `loglake/pino: ${text}\n`);
    } catch {
      // stderr is closed or full: there is nowhere left to tell, and the counters still hold it.
    }
  };
  let lastRetryReport = Number.NEGATIVE_INFINITY;
  const shipper = new Shipper({
    ...shipperOptions,
    clientConfig: { ...firehoseClientConfig({ endpoint, region }), ...clientConfig },
    onDrop: (lines: number, reason: DropReason, error: unknown, data: readonly Buffer[]) => {
      const kept = keepDropped(keep, lines, data);
      report(`dropped ${lines} line(s): ${reason}${error ? ` (${errorText(error)})` : ''}${kept}`);
    },
    onRetry: ({ error }) => {
      // Named as it happens, at most every 10 s while it goes on: retries run until close.
      if (Date.now() - lastRetryReport < RETRY_REPORT_INTERVAL_MS) return;
      lastRetryReport = Date.now();
      report(`delivery to ${endpoint ?? 'Firehose'} failed, retrying: ${errorText(error)}`);
    },
  });
  const timeoutMs = closeTimeoutMs ?? 8_000;
  let closing: Promise<void> | undefined;
  const finish = (ms = timeoutMs) => {
    closing ??= shipper.close(ms).then((c) => {
      if (keep !== undefined && !keep.close()) report(`could not sync ${keep.path}: ${keep.error?.message}`);
      const dropped = Object.values(c.dropped).reduce((s, n) => s + n, 0);
      if (dropped === 0 && c.failedCalls === 0) return;
      const reasons = Object.entries(c.dropped)
        .filter(([, n]) => n > 0)
        .map(([reason, n]) => `${n} ${reason}`);
      report(
        `${c.linesSent} line(s) sent, ${c.failedCalls} failed call(s), ${c.retried} record(s) retried, ` +
          `${dropped} line(s) dropped${reasons.length > 0 ? ` (${reasons.join(', ')})` : ''}` +
          (keep !== undefined && keep.kept > 0 ? `, ${keep.kept} kept in ${keep.path}` : ''),
      );
    });
    return closing;
  };
  // In-process, nothing else would deliver what is queued once the application's work is done: the
  // shipper's flush timer does not keep the process alive. `beforeExit` is that moment (not
  // `process.exit()` or a signal, which allow no I/O: end the stream and await 'close' first there).
  // In the worker thread pino ends the stream itself when the process exits.
  const onBeforeExit = () => void finish();
  if (isMainThread) process.once('beforeExit', onBeforeExit);
  let deadline: NodeJS.Timeout | undefined;
  const stream = build(
    async (source) => {
      for await (const line of source as AsyncIterable<string>) await shipper.write(line);
    },
    {
      parse: 'lines',
      // The default parser, JSON.parse, drops a line it cannot parse (and `null`) without a word; the
      // lines go out as written, so none is parsed.
      parseLine: (line: string) => line,
      close: async () => {
        process.off('beforeExit', onBeforeExit);
        await finish();
        clearTimeout(deadline);
      },
    },
  );
  // `close` comes only once every line written has been read, and reading waits for room in the queue
  // while the endpoint is down: so the close deadline runs from `end()`, and at its expiry giving up
  // lets reading finish (its lines dropped as shutdown, and kept in droppedFile).
  const end = stream.end;
  stream.end = ((...args: unknown[]) => {
    deadline ??= setTimeout(() => void finish(0), timeoutMs);
    return Reflect.apply(end, stream, args);
  }) as typeof stream.end;
  return Object.assign(stream, { counters: (): ShipperCounters => shipper.counters });
}

function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
}

export default loglakeTransport;
