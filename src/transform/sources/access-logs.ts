/**
 * Access logs AWS services deliver to S3 as text files, one request per line:
 * - Application Load Balancer (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html):
 *   space-separated, quoted request and user agent, gzip files every 5 minutes;
 * - CloudFront standard logs (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html):
 *   tab-separated under a `#Fields:` header, URL-encoded values, gzip files;
 * - S3 server access logs (https://docs.aws.amazon.com/AmazonS3/latest/userguide/LogFormat.html):
 *   space-separated, bracketed time, quoted request URI, referrer and user agent.
 *
 * A line becomes an object under the service's own field names (`readAccessLogLine`); the producer
 * shapes below read those objects like any JSON event, so the same object parses whether the access-log
 * function sent it (`src/sources/access-logs.ts`) or a raw line arrived (the line shapes, for ALB and S3
 * lines, which name their format by their first fields, and CloudFront lines of the default fields).
 *
 * Client addresses are kept as text, so redaction anonymizes them per `redaction.ipv4PrefixLength` /
 * `ipv6PrefixLength` like every address; CloudFront's `cs(Cookie)` keeps its name and loses its value by
 * the field-name rules. A status of 500 or more is ERROR, 400 to 499 is WARN.
 */
import type { Json, ProducerShape } from '../producers/shape';
import type { LineShape } from './line';

/** The access-log formats the lake reads. */
export const ACCESS_LOG_FORMATS = ['alb', 'cloudfront', 's3'] as const;
export type AccessLogFormat = (typeof ACCESS_LOG_FORMATS)[number];

/** ALB fields in order (newer fields are appended by AWS; more values than names are dropped). */
export const ALB_FIELDS = [
  'type',
  'time',
  'elb',
  'client:port',
  'target:port',
  'request_processing_time',
  'target_processing_time',
  'response_processing_time',
  'elb_status_code',
  'target_status_code',
  'received_bytes',
  'sent_bytes',
  'request',
  'user_agent',
  'ssl_cipher',
  'ssl_protocol',
  'target_group_arn',
  'trace_id',
  'domain_name',
  'chosen_cert_arn',
  'matched_rule_priority',
  'request_creation_time',
  'actions_executed',
  'redirect_url',
  'error_reason',
  'target:port_list',
  'target_status_code_list',
  'classification',
  'classification_reason',
  'conn_trace_id',
  'transformed_host',
  'transformed_uri',
  'request_transform_status',
] as const;

/** CloudFront's default fields (`#Fields:` of a standard log file, version 1.0). */
export const CLOUDFRONT_FIELDS = [
  'date',
  'time',
  'x-edge-location',
  'sc-bytes',
  'c-ip',
  'cs-method',
  'cs(Host)',
  'cs-uri-stem',
  'sc-status',
  'cs(Referer)',
  'cs(User-Agent)',
  'cs-uri-query',
  'cs(Cookie)',
  'x-edge-result-type',
  'x-edge-request-id',
  'x-host-header',
  'cs-protocol',
  'cs-bytes',
  'time-taken',
  'x-forwarded-for',
  'ssl-protocol',
  'ssl-cipher',
  'x-edge-response-result-type',
  'cs-protocol-version',
  'fle-status',
  'fle-encrypted-fields',
  'c-port',
  'time-to-first-byte',
  'x-edge-detailed-result-type',
  'sc-content-type',
  'sc-content-len',
  'sc-range-start',
  'sc-range-end',
] as const;

/** S3 server access log fields in order. */
export const S3_ACCESS_FIELDS = [
  'bucket_owner',
  'bucket',
  'time',
  'remote_ip',
  'requester',
  'request_id',
  'operation',
  'key',
  'request_uri',
  'http_status',
  'error_code',
  'bytes_sent',
  'object_size',
  'total_time',
  'turn_around_time',
  'referer',
  'user_agent',
  'version_id',
  'host_id',
  'sig_version',
  'cipher_suite',
  'authentication_type',
  'host_header',
  'tls_version',
  'access_point_arn',
  'acl_required',
  'source_region',
] as const;

/** Counts and sizes: kept as numbers (`metrics`), so they sum and compare. */
const MEASURES = new Set([
  'received_bytes',
  'sent_bytes',
  'request_processing_time',
  'target_processing_time',
  'response_processing_time',
  'sc-bytes',
  'cs-bytes',
  'time-taken',
  'time-to-first-byte',
  'sc-content-len',
  'bytes_sent',
  'object_size',
  'total_time',
  'turn_around_time',
]);
const NUMBER = /^-?\d+(?:\.\d+)?$/;

/**
 * Splits a space-separated line whose values may be `"quoted"` (backslash escapes inside) or
 * `[bracketed]`. `undefined` when a quote or bracket is not closed (a truncated line).
 */
export function splitQuoted(line: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (line[i] === ' ') i++;
    if (i >= n) break;
    const c = line[i];
    if (c === '"') {
      let value = '';
      let j = i + 1;
      for (; j < n && line[j] !== '"'; j++) {
        if (line[j] === '\\' && j + 1 < n) j++;
        value += line[j];
      }
      if (j >= n) return undefined;
      out.push(value);
      i = j + 1;
    } else if (c === '[') {
      const end = line.indexOf(']', i);
      if (end < 0) return undefined;
      out.push(line.slice(i + 1, end));
      i = end + 1;
    } else {
      let j = line.indexOf(' ', i);
      if (j < 0) j = n;
      out.push(line.slice(i, j));
      i = j;
    }
  }
  return out;
}

function named(names: readonly string[], values: readonly string[]): Json {
  const out: Json = {};
  const count = Math.min(names.length, values.length);
  for (let i = 0; i < count; i++) out[names[i] as string] = values[i];
  return out;
}

const ALB_TYPE = /^(?:http|https|h2|grpcs|ws|wss)$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;
const S3_TIME = /^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}$/;
const CANONICAL_ID = /^(?:[0-9a-f]{64}|-)$/;
const CLOUDFRONT_DATE = /^\d{4}-\d{2}-\d{2}$/;
const CLOUDFRONT_TIME = /^\d{2}:\d{2}:\d{2}$/;

/** An ALB access log line's fields, or `undefined` when the line is not one. */
export function readAlbLine(line: string): Json | undefined {
  const space = line.indexOf(' ');
  if (space < 0 || !ALB_TYPE.test(line.slice(0, space))) return undefined;
  const values = splitQuoted(line);
  // Up to `request` and `user_agent` at least: a shorter line is not an access log line.
  if (values === undefined || values.length < 14 || !ISO_TIME.test(values[1] as string)) return undefined;
  return named(ALB_FIELDS, values);
}

/** An S3 server access log line's fields, or `undefined` when the line is not one. */
export function readS3AccessLine(line: string): Json | undefined {
  if (!CANONICAL_ID.test(line.slice(0, line.indexOf(' ')))) return undefined;
  const values = splitQuoted(line);
  if (values === undefined || values.length < 17 || !S3_TIME.test(values[2] as string)) return undefined;
  return named(S3_ACCESS_FIELDS, values);
}

/** A CloudFront `#Fields:` header's field names, or `undefined` when the line is not one. */
export function cloudFrontFields(line: string): string[] | undefined {
  const m = /^#Fields:\s*(.+)$/.exec(line.trim());
  return m ? (m[1] as string).trim().split(/\s+/) : undefined;
}

/**
 * A CloudFront standard log line's fields under `fields` (the file's `#Fields:` header), or
 * `undefined` when the line does not have them (a comment, a line of another format).
 */
export function readCloudFrontLine(
  line: string,
  fields: readonly string[] = CLOUDFRONT_FIELDS,
): Json | undefined {
  if (line.startsWith('#')) return undefined;
  const values = line.split('\t');
  if (values.length !== fields.length) return undefined;
  const o = named(fields, values);
  if (typeof o.date === 'string' && !CLOUDFRONT_DATE.test(o.date)) return undefined;
  if (typeof o.time === 'string' && !CLOUDFRONT_TIME.test(o.time)) return undefined;
  if (typeof o['x-edge-request-id'] !== 'string') return undefined;
  return o;
}

/** One line of `format`, or `undefined` when it is not one (the caller keeps it as text). */
export function readAccessLogLine(
  format: AccessLogFormat,
  line: string,
  cloudFront?: readonly string[],
): Json | undefined {
  switch (format) {
    case 'alb':
      return readAlbLine(line);
    case 's3':
      return readS3AccessLine(line);
    case 'cloudfront':
      return readCloudFrontLine(line, cloudFront);
  }
}

/** ALB and S3 lines name their format by their first fields; CloudFront lines of the default fields. */
export const accessLogLine: LineShape = {
  name: 'aws-access-logs',
  parse(line) {
    const first = line.charCodeAt(0);
    // An indented line (a stack frame) is none of them: its first field would be empty.
    if (first === 32 || first === 9) return undefined;
    // ALB types start with a lowercase letter; S3 lines with a hex canonical id or `-`.
    if (first >= 0x61 && first <= 0x7a) {
      const alb = readAlbLine(line);
      if (alb !== undefined) return alb;
    }
    // The default fields start with \`date\`: a tab-separated line starting otherwise (a Java frame's
    // \`\tat …\`) is no CloudFront line, and is not split to find that out.
    if (line.includes('\t')) return first >= 0x30 && first <= 0x39 ? readCloudFrontLine(line) : undefined;
    return readS3AccessLine(line);
  },
};

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '-' && v !== '' ? v : undefined;
}

function decoded(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

function levelOf(status: number | undefined): 'ERROR' | 'WARN' | 'INFO' {
  if (status === undefined) return 'INFO';
  if (status >= 500) return 'ERROR';
  return status >= 400 ? 'WARN' : 'INFO';
}

function statusOf(v: unknown): number | undefined {
  const s = text(v);
  return s !== undefined && /^\d{3}$/.test(s) ? Number(s) : undefined;
}

/** The fields without `-` values, measures as numbers. */
function kept(o: Json, drop: readonly string[] = []): Json {
  const rest: Json = {};
  for (const [k, v] of Object.entries(o)) {
    if (drop.includes(k) || v === '-' || v === '' || v === undefined) continue;
    rest[k] = MEASURES.has(k) && typeof v === 'string' && NUMBER.test(v) ? Number(v) : v;
  }
  return rest;
}

/** `"GET https://host:443/path?q HTTP/1.1"` → method, URL, protocol. */
function requestLine(v: unknown): { method?: string; url?: string; protocol?: string } {
  const s = text(v);
  if (s === undefined) return {};
  const [method, url, protocol] = s.split(' ');
  return {
    ...(method !== undefined && method !== '-' ? { method } : {}),
    ...(url !== undefined && url !== '-' ? { url } : {}),
    ...(protocol !== undefined && protocol !== '-' ? { protocol } : {}),
  };
}

/** The path of a URL or request target, without its query. */
function pathOf(url: string): string {
  const at = url.indexOf('://');
  const start = at < 0 ? 0 : url.indexOf('/', at + 3);
  if (start < 0) return '/';
  const end = url.search(/[?#]/);
  return end < 0 || end < start ? url.slice(start) : url.slice(start, end);
}

function messageOf(parts: readonly (string | number | undefined)[]): string {
  return parts.filter((p) => p !== undefined && p !== '').join(' ');
}

/** `ip:port` (or `[ipv6]:port`) as its two parts. */
function hostPort(v: unknown): [string, string] | undefined {
  const s = text(v);
  if (s === undefined) return undefined;
  const at = s.lastIndexOf(':');
  if (at < 0) return undefined;
  return [s.slice(0, at).replace(/^\[|\]$/g, ''), s.slice(at + 1)];
}

const ALB_TIMES = ['request_processing_time', 'target_processing_time', 'response_processing_time'];

export const albAccessLog: ProducerShape = {
  name: 'aws-alb',
  matches: (o) => typeof o.elb === 'string' && 'elb_status_code' in o && typeof o.request === 'string',
  read(o) {
    const request = requestLine(o.request);
    const status = statusOf(o.elb_status_code);
    const rest = kept(o, ['time', 'request', 'client:port', 'target:port']);
    const client = hostPort(o['client:port']);
    if (client) [rest.client_ip, rest.client_port] = client;
    const target = hostPort(o['target:port']);
    if (target) [rest.target_ip, rest.target_port] = target;
    if (request.url !== undefined) rest['request.url'] = request.url;
    if (request.protocol !== undefined) rest['request.protocol'] = request.protocol;
    // -1 when the load balancer could not dispatch the request (no target, timeout): no duration then.
    const times = ALB_TIMES.map((k) => Number(o[k]));
    const duration = times.every((t) => Number.isFinite(t) && t >= 0)
      ? times.reduce((a, b) => a + b, 0) * 1000
      : undefined;
    const path = request.url === undefined ? undefined : pathOf(request.url);
    const trace = text(o.trace_id);
    return {
      columns: {
        timestamp: o.time,
        level: levelOf(status),
        service: 'aws.alb',
        message: messageOf([request.method, path, status, text(o.error_reason)]),
        ...(trace !== undefined ? { correlation_id: trace } : {}),
        ...(duration !== undefined ? { duration_ms: duration } : {}),
        http_method: request.method,
        http_path: path,
        ...(status !== undefined ? { http_status: status } : {}),
      },
      rest,
    };
  },
};

/** CloudFront's `cs(User-Agent)` and the like: `cs-user-agent`, a name redaction's word rules read. */
function cloudFrontKey(field: string): string {
  const m = /^(cs|sc)\((.+)\)$/.exec(field);
  return m ? `${m[1]}-${(m[2] as string).toLowerCase()}` : field;
}

export const cloudFrontAccessLog: ProducerShape = {
  name: 'aws-cloudfront',
  matches: (o) => typeof o['x-edge-request-id'] === 'string' && typeof o.date === 'string',
  read(o) {
    const rest: Json = {};
    for (const [k, v] of Object.entries(kept(o, ['date', 'time']))) {
      rest[cloudFrontKey(k)] = typeof v === 'string' && /%[0-9A-Fa-f]{2}/.test(v) ? decoded(v) : v;
    }
    const status = statusOf(o['sc-status']);
    const method = text(o['cs-method']);
    const path = text(o['cs-uri-stem']);
    const taken = Number(o['time-taken']);
    const time = text(o.time);
    return {
      columns: {
        ...(time !== undefined ? { timestamp: `${String(o.date)}T${time}Z` } : {}),
        level: levelOf(status),
        service: 'aws.cloudfront',
        message: messageOf([method, path, status, text(o['x-edge-detailed-result-type'])]),
        correlation_id: o['x-edge-request-id'],
        ...(Number.isFinite(taken) && taken >= 0 ? { duration_ms: taken * 1000 } : {}),
        http_method: method,
        http_path: path,
        ...(status !== undefined ? { http_status: status } : {}),
      },
      rest,
    };
  },
};

const MONTHS: Readonly<Record<string, string>> = {
  Jan: '01',
  Feb: '02',
  Mar: '03',
  Apr: '04',
  May: '05',
  Jun: '06',
  Jul: '07',
  Aug: '08',
  Sep: '09',
  Oct: '10',
  Nov: '11',
  Dec: '12',
};

/** `06/Feb/2019:00:00:38 +0000` as ISO-8601. */
export function s3AccessTime(v: string): string | undefined {
  const m = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}:\d{2}:\d{2}) ([+-])(\d{2})(\d{2})$/.exec(v);
  const month = m ? MONTHS[m[2] as string] : undefined;
  if (!m || month === undefined) return undefined;
  return `${m[3]}-${month}-${m[1]}T${m[4]}${m[5]}${m[6]}:${m[7]}`;
}

export const s3AccessLog: ProducerShape = {
  name: 'aws-s3-access',
  matches: (o) => typeof o.bucket_owner === 'string' && typeof o.operation === 'string' && 'request_uri' in o,
  read(o) {
    const request = requestLine(o.request_uri);
    const status = statusOf(o.http_status);
    const rest = kept(o, ['time', 'request_uri', 'http_status']);
    if (request.url !== undefined) rest['request.url'] = request.url;
    if (request.protocol !== undefined) rest['request.protocol'] = request.protocol;
    const errorCode = text(o.error_code);
    if (errorCode !== undefined && /AccessDenied/.test(errorCode)) rest['event.security'] = 'true';
    const total = text(o.total_time);
    const path = request.url === undefined ? undefined : pathOf(request.url);
    return {
      columns: {
        ...(typeof o.time === 'string' ? { timestamp: s3AccessTime(o.time) } : {}),
        level: levelOf(status),
        service: 'aws.s3-access',
        message: messageOf([String(o.operation), text(o.key), status, errorCode]),
        ...(typeof o.request_id === 'string' ? { correlation_id: o.request_id } : {}),
        ...(total !== undefined && NUMBER.test(total) ? { duration_ms: Number(total) } : {}),
        ...(errorCode !== undefined ? { error_type: errorCode } : {}),
        http_method: request.method,
        http_path: path,
        ...(status !== undefined ? { http_status: status } : {}),
      },
      rest,
    };
  },
};
