/**
 * A Firehose-compatible endpoint on the AWS JSON 1.1 protocol (`X-Amz-Target: Firehose_20150804.<Op>`),
 * enough for `@aws-sdk/client-firehose` with `endpoint` set and any credentials: PutRecord,
 * PutRecordBatch and ListDeliveryStreams on the streams `logs` and `audit`, with AWS's limits and error
 * shapes (`{"__type": …, "message": …}`, HTTP 400; 503 `ServiceUnavailableException` when throttled, or
 * while something the transform needs, such as the subject key store, is unusable: SDKs retry a 503).
 * Signatures are not checked: this is a development endpoint bound to 127.0.0.1.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { userMessage } from '../errors';
import { STREAMS, type StreamName } from '../schema';
import { WAF_STREAM_PREFIX } from '../sources/names';
import { type LocalPipeline, ThrottledError } from './pipeline';
import { base64Bytes, SpoolWriteError } from './spool';

/** Firehose service limits (these cannot be raised on AWS either). */
export const FIREHOSE_LIMITS = {
  /** Records per PutRecordBatch. */
  maxBatchRecords: 500,
  /** Bytes of one record's data, before base64. */
  maxRecordBytes: 1_024_000,
  /** Bytes of all records' data in one PutRecordBatch, before base64. */
  maxBatchBytes: 4 * 1024 * 1024,
} as const;

const TARGET_PREFIX = 'Firehose_20150804.';
// A full batch is 4 MiB of data, ~5.6 MB as base64; anything much larger is not a valid request.
const MAX_BODY_BYTES = 8 * 1024 * 1024;
// An oversized body is read to its end and discarded, so the producer, still sending, gets the 400
// instead of a reset connection; past this much it is cut off.
const MAX_DISCARD_BYTES = 256 * 1024 * 1024;
/**
 * Pending connections the kernel queues for accept() (capped by net.core.somaxconn, 4096 on current
 * Linux). With Node's default of 511, 2.5–3.2% of 10,000 producers connecting at once were reset
 * (`npm run bench -- connections`; about 10% in the run that first found it).
 */
export const DEFAULT_BACKLOG = 65_535;
/** Delivery streams served, in the order ListDeliveryStreams pages them (by name, as Firehose does). */
const STREAM_NAMES = [...STREAMS].sort();

class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export interface EndpointOptions {
  readonly pipeline: LocalPipeline;
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** 0 picks a free port. @default 4573 */
  readonly port?: number;
  /** Account id used in ARNs and error messages. @default '000000000000' */
  readonly accountId?: string;
  /** Listen backlog (pending connections), see {@link DEFAULT_BACKLOG}. @default 65535 */
  readonly backlog?: number;
  /**
   * Asked before records are accepted: why they could not be processed now (e.g. the subject key store
   * is not writable, so user ids could not be pseudonymized), or `undefined`. While it answers a reason,
   * puts are refused with 503 `ServiceUnavailableException`, as Firehose does when it cannot take
   * records, so producers keep them and retry instead of having them acknowledged and then failed.
   * @default no check
   */
  readonly unavailable?: () => string | undefined;
}

/** A running endpoint. */
export interface Endpoint {
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  /** Stop accepting connections and wait for in-flight requests to finish. */
  close(): Promise<void>;
}

/** Start the endpoint; resolves once it listens. */
export async function startEndpoint(options: EndpointOptions): Promise<Endpoint> {
  const host = options.host ?? '127.0.0.1';
  const account = options.accountId ?? '000000000000';
  // The request each connection is answering. Node stops enforcing headersTimeout and requestTimeout
  // once the server closes, so close() cuts every other connection itself: one whose headers or body
  // are still arriving was not acknowledged (nothing of it is stored), and left alone, one stalled
  // producer would keep the pipeline from ever stopping and delivering what it buffered.
  const answering = new Map<Socket, { req: IncomingMessage; res: ServerResponse }>();
  const connections = new Set<Socket>();
  const server = createServer((req, res) => {
    answering.set(req.socket, { req, res });
    res.once('close', () => {
      if (answering.get(req.socket)?.req === req) answering.delete(req.socket);
    });
    handle(req, res, options.pipeline, account, options.unavailable).catch((error: unknown) => {
      // handle() answers every request itself; this only guards against a bug leaving one hanging.
      if (!res.headersSent) internalFailure(res, error);
    });
  });
  server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 4573, host, backlog: options.backlog ?? DEFAULT_BACKLOG }, () =>
      resolve(),
    );
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
        for (const socket of connections) {
          const request = answering.get(socket);
          // A request read whole may be in the spool already: it gets its answer, and then the
          // connection closes rather than idling out the keep-alive timeout.
          if (request?.req.complete !== true) socket.destroy();
          else if (!request.res.headersSent) request.res.setHeader('connection', 'close');
        }
      }),
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  pipeline: LocalPipeline,
  account: string,
  unavailable: (() => string | undefined) | undefined,
) {
  try {
    if (req.method !== 'POST')
      throw new ApiError(
        'UnknownOperationException',
        `${req.method} is not supported; POST a Firehose API call`,
        404,
      );
    const target = header(req, 'x-amz-target');
    if (!target?.startsWith(TARGET_PREFIX)) {
      throw new ApiError(
        'UnknownOperationException',
        `missing or unknown X-Amz-Target ${JSON.stringify(target ?? '')}`,
      );
    }
    const body = await readJson(req);
    const op = target.slice(TARGET_PREFIX.length);
    if (op === 'PutRecord' || op === 'PutRecordBatch') {
      const problem = unavailable?.();
      if (problem !== undefined)
        throw new ApiError('ServiceUnavailableException', `Service unavailable: ${problem}`, 503);
    }
    switch (op) {
      case 'PutRecord':
        return send(res, 200, undefined, await putRecord(body, pipeline, account));
      case 'PutRecordBatch':
        return send(res, 200, undefined, await putRecordBatch(body, pipeline, account));
      case 'ListDeliveryStreams':
        return send(res, 200, undefined, listDeliveryStreams(body));
      default:
        throw new ApiError(
          'UnknownOperationException',
          `operation ${op} is not supported by the local endpoint`,
        );
    }
  } catch (error) {
    if (error instanceof ApiError)
      return send(res, error.status, error.type, { __type: error.type, message: error.message });
    if (error instanceof SpoolWriteError && error.indeterminate) {
      // Whether the records are kept is unknown (see SpoolWriteError): answer nothing, as a crash would,
      // so the producer retries instead of being told they were rejected.
      res.destroy();
      return;
    }
    if (error instanceof ThrottledError) {
      return send(res, 503, 'ServiceUnavailableException', {
        __type: 'ServiceUnavailableException',
        message: `Slow down. ${error.message}`,
      });
    }
    return internalFailure(res, error);
  }
}

/** 500 `InternalFailure` (SDKs retry it), saying what failed without the error's class name. */
function internalFailure(res: ServerResponse, error: unknown): void {
  send(res, 500, 'InternalFailure', { __type: 'InternalFailure', message: userMessage(error) });
}

async function putRecord(body: Record<string, unknown>, pipeline: LocalPipeline, account: string) {
  const stream = streamOf(body, account);
  const record = body.Record as { Data?: unknown } | undefined;
  const data = dataOf(record, 'record.data');
  const [id] = await pipeline.put(stream, [data]);
  return { RecordId: id, Encrypted: false };
}

async function putRecordBatch(body: Record<string, unknown>, pipeline: LocalPipeline, account: string) {
  const stream = streamOf(body, account);
  const records = body.Records;
  if (!Array.isArray(records))
    throw validation("Value null at 'records' failed to satisfy constraint: Member must not be null");
  if (records.length < 1 || records.length > FIREHOSE_LIMITS.maxBatchRecords) {
    throw validation(
      `Value '[...]' at 'records' failed to satisfy constraint: Member must have length ${records.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${FIREHOSE_LIMITS.maxBatchRecords}`}`,
    );
  }
  const items = records.map((r, i) => dataOf(r as { Data?: unknown }, `records.${i + 1}.member.data`));
  const total = items.reduce((sum, r) => sum + r.bytes, 0);
  if (total > FIREHOSE_LIMITS.maxBatchBytes) {
    throw new ApiError(
      'InvalidArgumentException',
      `Records size exceeds 4 MB limit (received ${total} bytes)`,
    );
  }
  const ids = await pipeline.put(stream, items);
  return { FailedPutCount: 0, Encrypted: false, RequestResponses: ids.map((RecordId) => ({ RecordId })) };
}

/** ListDeliveryStreams: names in order, `Limit` (1–10,000, default 10) per page, after the exclusive start. */
function listDeliveryStreams(body: Record<string, unknown>) {
  const { Limit: limit = 10, ExclusiveStartDeliveryStreamName: start, DeliveryStreamType: type } = body;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 10_000) {
    throw validation(
      `Value '${String(limit)}' at 'limit' failed to satisfy constraint: Member must have value ${
        typeof limit === 'number' && limit > 10_000
          ? 'less than or equal to 10000'
          : 'greater than or equal to 1'
      }`,
    );
  }
  if (start !== undefined && typeof start !== 'string')
    throw new ApiError('SerializationException', "'ExclusiveStartDeliveryStreamName' must be a string");
  const types = ['DirectPut', 'KinesisStreamAsSource', 'MSKAsSource', 'DatabaseAsSource'];
  if (type !== undefined && !types.includes(String(type))) {
    throw validation(
      `Value '${String(type)}' at 'deliveryStreamType' failed to satisfy enum value set: [${types.join(', ')}]`,
    );
  }
  // Both local streams take direct puts.
  const names = type === undefined || type === 'DirectPut' ? STREAM_NAMES : [];
  const after = start === undefined ? names : names.filter((n) => n > start);
  return {
    DeliveryStreamNames: after.slice(0, limit),
    HasMoreDeliveryStreams: after.length > limit,
  };
}

function streamOf(body: Record<string, unknown>, account: string): StreamName {
  const name = body.DeliveryStreamName;
  if (typeof name !== 'string' || name === '') {
    throw validation(
      "Value null at 'deliveryStreamName' failed to satisfy constraint: Member must not be null",
    );
  }
  // The WAF stream (`aws-waf-logs-<name>` on AWS) delivers through the logs stream's transform and table.
  if (name.startsWith(WAF_STREAM_PREFIX) && name.length > WAF_STREAM_PREFIX.length) return 'logs';
  if (!(STREAMS as readonly string[]).includes(name)) {
    throw new ApiError(
      'ResourceNotFoundException',
      `Firehose ${name} under account ${account} not found. The local endpoint serves: ${STREAMS.join(', ')} (and ${WAF_STREAM_PREFIX}<name> into logs).`,
    );
  }
  return name as StreamName;
}

function dataOf(record: { Data?: unknown } | undefined, path: string): { data: string; bytes: number } {
  const data = record?.Data;
  if (typeof data !== 'string')
    throw validation(`Value null at '${path}' failed to satisfy constraint: Member must not be null`);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data) || data.length % 4 !== 0) {
    throw new ApiError('SerializationException', `'${path}' is not valid base64`);
  }
  const bytes = base64Bytes(data);
  if (bytes > FIREHOSE_LIMITS.maxRecordBytes) {
    throw validation(
      `Value 'java.nio.HeapByteBuffer[pos=0 lim=${bytes} cap=${bytes}]' at '${path}' failed to satisfy constraint: Member must have length less than or equal to ${FIREHOSE_LIMITS.maxRecordBytes}`,
    );
  }
  return { data, bytes };
}

function validation(detail: string): ApiError {
  return new ApiError('ValidationException', `1 validation error detected: ${detail}`);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req);
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8') || '{}');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    return parsed as Record<string, unknown>;
  } catch {
    throw new ApiError('SerializationException', 'request body is not a JSON object');
  }
}

/**
 * The request body, up to {@link MAX_BODY_BYTES}. A larger one is still read to its end (and discarded)
 * before the 400 goes out: answering while the client is still sending, then closing, would reach it as
 * a connection reset rather than an error it can read.
 */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_DISCARD_BYTES) {
        req.destroy();
        return;
      }
      if (size > MAX_BODY_BYTES) chunks.length = 0;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (size <= MAX_BODY_BYTES) return resolve(Buffer.concat(chunks));
      reject(
        new ApiError(
          'InvalidArgumentException',
          `request body of more than ${MAX_BODY_BYTES} bytes (received ${size}); a PutRecordBatch holds at most ` +
            `${FIREHOSE_LIMITS.maxBatchRecords} records and ${FIREHOSE_LIMITS.maxBatchBytes} bytes of data`,
        ),
      );
    });
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, errorType: string | undefined, body: unknown): void {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  };
  if (errorType) headers['x-amzn-errortype'] = errorType;
  res.writeHead(status, headers);
  res.end(text);
}
