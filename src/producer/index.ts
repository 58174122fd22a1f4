/**
 * `loglake/producer`: ship logs to Firehose cheaply and safely.
 *
 * ```ts
 * import { Shipper } from 'loglake/producer';
 * const shipper = new Shipper({ streamName: 'logs' });
 * shipper.push(JSON.stringify({ level: 'info', message: 'hello' }));
 * await shipper.close();
 * ```
 */

export {
  type EndpointOptions,
  firehoseClientConfig,
  isLoopbackEndpoint,
  LOOPBACK_CREDENTIALS,
  LOOPBACK_REGION,
} from './client-config';
export { DroppedLinesFile } from './dropped-file';
export {
  BILLING_INCREMENT_BYTES,
  billedBytes,
  FIREHOSE_PUT_LIMITS,
  type PackedRecord,
  RecordPacker,
} from './pack';
export { type LoglakeTransportStream, loglakeTransport, type PinoTransportOptions } from './pino';
export { describeCallError } from './put-batch';
export {
  type DropReason,
  isRetryable,
  type RetryEvent,
  Shipper,
  type ShipperCounters,
  type ShipperOptions,
} from './shipper';
