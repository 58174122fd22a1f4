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
 */
import build from 'pino-abstract-transport';
import type { DropReason, ShipperCounters, ShipperOptions } from './shipper';
import { Shipper } from './shipper';

export interface PinoTransportOptions extends Omit<ShipperOptions, 'client' | 'onDrop'> {
  /** Firehose endpoint (e.g. the local pipeline `http://127.0.0.1:4573`). @default the AWS endpoint */
  readonly endpoint?: string;
  /** AWS region. @default the SDK's region resolution */
  readonly region?: string;
  /** Milliseconds to deliver what is queued when the logger closes. @default 10,000 */
  readonly closeTimeoutMs?: number;
  /** Report drops on stderr (a transport has no logger of its own). @default true */
  readonly reportDrops?: boolean;
}

/** Build the transport stream. Exported as default for pino's `transport.target`. */
export default async function loglakeTransport(options: PinoTransportOptions) {
  const { endpoint, region, closeTimeoutMs, reportDrops, clientConfig, ...shipperOptions } = options;
  const shipper = new Shipper({
    ...shipperOptions,
    clientConfig: { ...clientConfig, ...(endpoint ? { endpoint } : {}), ...(region ? { region } : {}) },
    onDrop:
      reportDrops === false
        ? undefined
        : (lines: number, reason: DropReason, error?: unknown) =>
            process.stderr.write(
              `loglake/pino: dropped ${lines} line(s): ${reason}${error ? ` (${error instanceof Error ? error.message : String(error)})` : ''}\n`,
            ),
  });
  const stream = build(
    async (source) => {
      for await (const line of source as AsyncIterable<string>) await shipper.write(line);
    },
    {
      parse: 'lines',
      close: async () => {
        await shipper.close(closeTimeoutMs ?? 10_000);
      },
    },
  );
  return Object.assign(stream, { counters: (): ShipperCounters => shipper.counters });
}
