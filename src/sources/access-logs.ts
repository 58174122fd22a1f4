/**
 * The core of the access-log function (`lambdas/access-logs`): the lines of one access-log object
 * (ALB, CloudFront standard logs, S3 server access logs) into the lake's `logs` stream.
 *
 * Each line is parsed by the transform's own parser of its format (`src/transform/sources/access-logs.ts`)
 * and sent as a JSON object under the service's field names, so the transform reads it with the same
 * producer shape as a raw line. A line the parser does not take is still sent, as text under `message`
 * with `access_log.unparsed` set: nothing is dropped. CloudFront's `#Fields:` header names the fields of
 * the lines after it; other `#` lines (`#Version:`) are file metadata, not requests, and are skipped.
 *
 * Every event carries `access_log.object` (`s3://bucket/key`) and `access_log.line` (1-based), so the
 * few duplicates a failed attempt may leave (`src/sources/access-log-ledger.ts`) are found by that pair.
 *
 * Lines are packed like the shipper packs them (`src/producer/pack.ts`): up to 1,000 KiB per Firehose
 * record, one record per category and hour (the transform gives a record one partition). Records go out
 * in commits: when about a PutRecordBatch's worth of full records is ready, the partly filled records of
 * every pack key go with them, so once a commit is acknowledged every line read so far is, and none
 * after it: `onCommit` receives that line number (the checkpoint a retry resumes from, `fromLine`). A
 * commit whose records are not all acknowledged after the retries fails the whole attempt
 * (`AccessLogDeliveryError`); the event source retries it from the last checkpoint.
 */
import { pipeline, Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import type { CategoryRule } from '../config';
import { FIREHOSE_PUT_LIMITS, RecordPacker } from '../producer/pack';
import type { Category, LogRecord } from '../schema';
import { categoryByRules, isCategory, parseTimestamp } from '../transform';
import type { Json } from '../transform/producers';
import {
  type AccessLogFormat,
  albAccessLog,
  CLOUDFRONT_FIELDS,
  cloudFrontAccessLog,
  cloudFrontFields,
  readAccessLogLine,
  s3AccessLog,
} from '../transform/sources/access-logs';

/** Which format an object holds and where its events go. */
export interface AccessLogSource {
  readonly format: AccessLogFormat;
  /** Every event in this category (else the transform's rules decide). */
  readonly category?: Category;
}

/** The categorization the pack key mirrors (the transform's rules; `DEFAULT_CONFIG.transform` by default). */
export interface AccessLogRules {
  readonly rules: readonly CategoryRule[];
  readonly defaultCategory: Category;
}

/**
 * Puts records (in as many PutRecordBatch calls as Firehose's limits need); resolves with which were
 * acknowledged (after its own retries).
 */
export type PutBatch = (records: readonly Uint8Array[]) => Promise<{ delivered: readonly boolean[] }>;

export interface ShipAccessLogInput {
  /** The object's lines, decompressed, without line ends (a trailing `\r` is removed here). */
  readonly lines: AsyncIterable<string> | Iterable<string>;
  readonly source: AccessLogSource;
  /** `s3://bucket/key`, stamped on every event. */
  readonly object: string;
  readonly rules: AccessLogRules;
  readonly put: PutBatch;
  /**
   * Lines numbered below this (1-based) were acknowledged by an earlier attempt: they are read (a
   * CloudFront `#Fields:` header among them still applies) but not sent again.
   * @default 1 (every line is sent)
   */
  readonly fromLine?: number;
  /**
   * Called after each commit is acknowledged, with the number of the first line not yet sent: every
   * line below it is acknowledged, none at or above it was put. Awaited before reading on; a rejection
   * stops the attempt with it. The last call comes after the last line (the object's line count + 1).
   * @default nothing is recorded
   */
  readonly onCommit?: (nextLine: number) => Promise<void>;
  /** Clock for events without a usable time. @default Date.now */
  readonly now?: () => number;
  /** @default 1,024,000 (Firehose's record limit) */
  readonly maxRecordBytes?: number;
  /** @default Firehose's PutRecordBatch limits (500 records, 4 MiB) */
  readonly maxBatchRecords?: number;
  readonly maxBatchBytes?: number;
}

export interface ShipAccessLogReport {
  /** Lines sent (parsed and unparsed). */
  readonly lines: number;
  /** Lines below `fromLine`, acknowledged by an earlier attempt and not sent again. */
  readonly skipped: number;
  /** Lines the format's parser did not take, sent as text. */
  readonly unparsed: number;
  /** Lines longer than a record, sent cut with `access_log.truncated_bytes`. */
  readonly truncated: number;
  /** Firehose records put. */
  readonly records: number;
}

/** Some records of an object were not acknowledged: the object must be retried whole. */
export class AccessLogDeliveryError extends Error {
  constructor(
    readonly object: string,
    readonly undelivered: number,
  ) {
    super(
      `${object}: ${undelivered} Firehose record(s) not acknowledged after retries; the object is retried from its last checkpoint`,
    );
    this.name = 'AccessLogDeliveryError';
  }
}

const SHAPES = { alb: albAccessLog, cloudfront: cloudFrontAccessLog, s3: s3AccessLog } as const;
const SERVICES: Readonly<Record<AccessLogFormat, string>> = {
  alb: 'aws.alb',
  cloudfront: 'aws.cloudfront',
  s3: 'aws.s3-access',
};
/** Room left in a record for the JSON around a cut line. */
const ENVELOPE_BYTES = 1024;

/** `category|YYYY-MM-DDTHH` of an event as the transform will file it. */
function packKey(parsed: Json | undefined, input: ShipAccessLogInput, now: number): string {
  const { source, rules } = input;
  let category = source.category;
  let time: number | undefined;
  if (parsed !== undefined) {
    const { columns, rest } = SHAPES[source.format].read(parsed);
    const status = Number(columns.http_status);
    const record = {
      level: typeof columns.level === 'string' ? columns.level : 'INFO',
      logger: null,
      service: typeof columns.service === 'string' ? columns.service : '',
      http_method: typeof columns.http_method === 'string' ? columns.http_method : null,
      http_path: typeof columns.http_path === 'string' ? columns.http_path : null,
      http_status: Number.isFinite(status) ? status : null,
      attributes: Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, String(v)])),
    } as unknown as LogRecord;
    category ??= categoryByRules(record, rules.rules, rules.defaultCategory);
    time = columns.timestamp === undefined ? undefined : parseTimestamp(columns.timestamp, now);
  }
  category ??= rules.defaultCategory;
  return `${isCategory(category) ? category : rules.defaultCategory}|${new Date(time ?? now).toISOString().slice(0, 13)}`;
}

/**
 * Sends the object's lines from `fromLine` on, committing as described above; throws
 * {@link AccessLogDeliveryError} when any record of a commit was not acknowledged.
 */
export async function shipAccessLog(input: ShipAccessLogInput): Promise<ShipAccessLogReport> {
  const { source, object } = input;
  const now = input.now ?? Date.now;
  const fromLine = input.fromLine ?? 1;
  const packer = new RecordPacker(input.maxRecordBytes ?? FIREHOSE_PUT_LIMITS.maxRecordBytes);
  const maxBatchRecords = input.maxBatchRecords ?? FIREHOSE_PUT_LIMITS.maxBatchRecords;
  const maxBatchBytes = input.maxBatchBytes ?? FIREHOSE_PUT_LIMITS.maxBatchBytes;
  // Full records waiting for the next commit.
  let ready: Buffer[] = [];
  let readyBytes = 0;
  let records = 0;

  /** Puts what is ready and every partly filled record: all lines up to `lastLine` acknowledged. */
  const commit = async (lastLine: number) => {
    const sending = [...ready, ...packer.drain().map((r) => r.data)];
    ready = [];
    readyBytes = 0;
    if (sending.length > 0) {
      const { delivered } = await input.put(sending);
      const failed = sending.length - delivered.filter((d, i) => d && i < sending.length).length;
      if (failed > 0) throw new AccessLogDeliveryError(object, failed);
      records += sending.length;
    }
    await input.onCommit?.(lastLine + 1);
  };

  let fields: readonly string[] = CLOUDFRONT_FIELDS;
  let lineNo = 0;
  let sent = 0;
  let skipped = 0;
  let unparsed = 0;
  let truncated = 0;
  for await (const raw of input.lines) {
    lineNo++;
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') continue;
    if (source.format === 'cloudfront' && line.startsWith('#')) {
      fields = cloudFrontFields(line) ?? fields;
      continue;
    }
    if (lineNo < fromLine) {
      skipped++;
      continue;
    }
    const parsedFields = readAccessLogLine(source.format, line, fields);
    const stamp = { 'access_log.object': object, 'access_log.line': String(lineNo) };
    const category = source.category === undefined ? {} : { category: source.category };
    let event: Json =
      parsedFields === undefined
        ? {
            message: line,
            service: SERVICES[source.format],
            'access_log.unparsed': source.format,
            ...stamp,
            ...category,
          }
        : { ...parsedFields, ...stamp, ...category };
    if (parsedFields === undefined) unparsed++;
    let data = Buffer.from(JSON.stringify(event));
    if (!packer.fits(data.length)) {
      // Longer than a Firehose record: kept cut, flagged, with the size it had (never dropped).
      truncated++;
      let room = packer.maxRecordBytes - ENVELOPE_BYTES;
      do {
        event = {
          message: Buffer.from(line).subarray(0, room).toString('utf8'),
          service: SERVICES[source.format],
          'access_log.truncated_bytes': String(Buffer.byteLength(line)),
          ...stamp,
          ...category,
        };
        data = Buffer.from(JSON.stringify(event));
        // JSON escapes grow a cut line (quotes, control characters): cut more until it fits.
        room = Math.floor(room / 2);
      } while (!packer.fits(data.length));
    }
    const key = packKey(parsedFields, input, now());
    const full = packer.add(key, data);
    sent++;
    if (!full) continue;
    ready.push(full.data);
    readyBytes += full.data.length;
    // Room left for one more record and the partly filled ones is what a call can still take: commit
    // now, with this line (in the packer) included.
    if (ready.length >= maxBatchRecords || readyBytes + packer.maxRecordBytes > maxBatchBytes)
      await commit(lineNo);
  }
  await commit(lineNo);
  return { lines: sent, skipped, unparsed, truncated, records };
}

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/**
 * The lines of an object's body, gunzipped when it starts with gzip's magic bytes (ALB and CloudFront
 * write `.gz`; S3 server access logs are plain), decoded as UTF-8 across chunk boundaries. A corrupt or
 * cut gzip stream rejects (the object is then retried, never shipped in part without an error).
 */
export async function* objectLines(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const iterator = body[Symbol.asyncIterator]();
  // Enough bytes to see the magic number, however the body is chunked.
  let head = Buffer.alloc(0);
  let done = false;
  while (head.length < GZIP_MAGIC.length && !done) {
    const next = await iterator.next();
    if (next.done) done = true;
    else head = Buffer.concat([head, Buffer.from(next.value)]);
  }
  if (head.length === 0) return;
  async function* rest(): AsyncGenerator<Buffer> {
    yield head;
    if (done) return;
    for (let next = await iterator.next(); !next.done; next = await iterator.next())
      yield Buffer.from(next.value);
  }
  const gzipped = head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  const chunks: AsyncIterable<Buffer> = gzipped ? gunzip(rest()) : rest();
  const decoder = new StringDecoder('utf8');
  let pending = '';
  for await (const chunk of chunks) {
    pending += decoder.write(chunk);
    let at = pending.indexOf('\n');
    while (at >= 0) {
      yield pending.slice(0, at);
      pending = pending.slice(at + 1);
      at = pending.indexOf('\n');
    }
  }
  pending += decoder.end();
  if (pending !== '') yield pending;
}

/** `chunks` gunzipped; a gzip error (or a source error) rejects the iteration. */
function gunzip(chunks: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  // pipeline destroys every stream with the first error, so iterating the last one rejects with it.
  return pipeline(Readable.from(chunks), createGunzip(), () => {});
}
