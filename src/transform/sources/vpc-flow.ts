/**
 * VPC Flow Logs (https://docs.aws.amazon.com/vpc/latest/userguide/flow-log-records.html): one flow per
 * line, fields separated by spaces, `-` for a value that does not apply. Sent to Firehose or CloudWatch
 * Logs the lines carry no header, so a line is read by the default format or a configured custom one
 * (`transform.vpcFlowLogFormats`) whose field count it has and whose every known field's value it fits.
 *
 * Addresses in private ranges (RFC 1918, CGNAT, link-local, IPv6 unique-local) are kept as they are:
 * they name the lake owner's own interfaces. Public addresses go through redaction like any other text,
 * so they are anonymized per `redaction.ipv4PrefixLength`/`ipv6PrefixLength`.
 */
import { isPrivateIPv4, isPrivateIPv6, parseIPv4, parseIPv6 } from '../../redact/ip';
import type { Columns, Json, ProducerShape, Recognized } from '../producers/shape';
import type { LineOptions, LineShape } from './line';

/** The default format (version 2 fields), always read. */
export const DEFAULT_FLOW_LOG_FORMAT = [
  'version',
  'account-id',
  'interface-id',
  'srcaddr',
  'dstaddr',
  'srcport',
  'dstport',
  'protocol',
  'packets',
  'bytes',
  'start',
  'end',
  'action',
  'log-status',
]
  .map((field) => `\${${field}}`)
  .join(' ');

const NUMBER = /^\d+$/;
const ADDRESS_FIELDS = new Set(['srcaddr', 'dstaddr', 'pkt-srcaddr', 'pkt-dstaddr']);
/** Measurements: summed and compared, so kept as numbers (`metrics`). */
const MEASURES = new Set(['packets', 'bytes']);

/** What a known field's value looks like (`-` fits every field). */
const FIELD_VALUES: Readonly<Record<string, RegExp>> = {
  version: NUMBER,
  'account-id': /^\d{12}$/,
  'interface-id': /^eni-[0-9a-f]+$/,
  'vpc-id': /^vpc-[0-9a-f]+$/,
  'subnet-id': /^subnet-[0-9a-f]+$/,
  'instance-id': /^i-[0-9a-f]+$/,
  srcport: NUMBER,
  dstport: NUMBER,
  protocol: NUMBER,
  packets: NUMBER,
  bytes: NUMBER,
  start: NUMBER,
  end: NUMBER,
  'tcp-flags': NUMBER,
  'traffic-path': NUMBER,
  action: /^(?:ACCEPT|REJECT)$/,
  'log-status': /^(?:OK|NODATA|SKIPDATA)$/,
  type: /^(?:IPv4|IPv6|EFA)$/,
  'flow-direction': /^(?:ingress|egress)$/,
};

/** A parsed `LogFormat`: its field names in order. */
export interface FlowLogFormat {
  readonly fields: readonly string[];
}

/**
 * Parses a `LogFormat` (`${version} ${srcaddr} …`). `undefined` when it is not one, or names neither
 * an address nor `action`/`log-status` (a line of such a format could not be told from other text).
 */
export function parseFlowLogFormat(format: string): FlowLogFormat | undefined {
  const tokens = format.trim().split(/\s+/);
  const fields: string[] = [];
  for (const token of tokens) {
    const m = /^\$\{([a-z0-9-]+)\}$/.exec(token);
    if (!m) return undefined;
    fields.push(m[1] as string);
  }
  const addressed = fields.includes('srcaddr') || fields.includes('dstaddr');
  const outcome = fields.includes('action') || fields.includes('log-status');
  return addressed && outcome ? { fields } : undefined;
}

function isAddress(value: string): boolean {
  return parseIPv4(value) !== undefined || parseIPv6(value) !== undefined;
}

function fits(field: string, value: string): boolean {
  if (value === '-') return true;
  if (ADDRESS_FIELDS.has(field)) return isAddress(value);
  const pattern = FIELD_VALUES[field];
  return pattern === undefined || pattern.test(value);
}

/** The line's values by `format`, or `undefined` when the line does not fit it. */
function flowValues(line: string, format: FlowLogFormat): string[] | undefined {
  const values = line.trim().split(/\s+/);
  if (values.length !== format.fields.length) return undefined;
  let known = 0;
  let outcome = false;
  for (let i = 0; i < values.length; i++) {
    const field = format.fields[i] as string;
    const value = values[i] as string;
    if (!fits(field, value)) return undefined;
    if (value !== '-' && (FIELD_VALUES[field] !== undefined || ADDRESS_FIELDS.has(field))) known++;
    if (field === 'action' || field === 'log-status') outcome = true;
  }
  // A line of dashes fits any format; a flow names at least an outcome and one more known value.
  return known >= 2 && outcome ? values : undefined;
}

/** The line's fields by `format`, or `undefined` when the line does not fit it. */
export function readFlowLine(line: string, format: FlowLogFormat): Json | undefined {
  const values = flowValues(line, format);
  if (values === undefined) return undefined;
  const out: Json = {};
  for (let i = 0; i < values.length; i++) out[format.fields[i] as string] = values[i];
  return out;
}

/**
 * Whether the JSON shape below reads every line of `format` (both addresses, an outcome, each field
 * once): then a line is read straight into what the transform keeps, with no object of field names
 * made and read back in between. Other formats' lines go the long way, as JSON flows do.
 */
function readsDirectly(format: FlowLogFormat): boolean {
  const f = format.fields;
  return (
    f.includes('srcaddr') &&
    f.includes('dstaddr') &&
    (f.includes('action') || f.includes('log-status')) &&
    new Set(f).size === f.length
  );
}

const DEFAULT_FORMAT = parseFlowLogFormat(DEFAULT_FLOW_LOG_FORMAT) as FlowLogFormat;

/** Flow log lines, by the configured formats then the default one. */
export const vpcFlowLine: LineShape = {
  name: 'vpc-flow-logs',
  parse(line, options) {
    const read = flowLine(line, options);
    if (read === undefined) return undefined;
    const out: Json = {};
    for (let i = 0; i < read.values.length; i++) out[read.format.fields[i] as string] = read.values[i];
    return out;
  },
  read(line, options) {
    const read = flowLine(line, options);
    if (read === undefined) return undefined;
    if (!directFormats.get(read.format)) {
      const out: Json = {};
      for (let i = 0; i < read.values.length; i++) out[read.format.fields[i] as string] = read.values[i];
      return { object: out };
    }
    return { recognized: readFlow(read.format.fields, read.values) };
  },
};

/** {@link readsDirectly} of each format met, decided once. */
const directFormats = new WeakMap<FlowLogFormat, boolean>();

function flowLine(
  line: string,
  options: LineOptions,
): { readonly format: FlowLogFormat; readonly values: string[] } | undefined {
  // Every flow line holds an action or a log status; most other text holds neither word.
  if (!holdsOutcomeWord(line)) return undefined;
  for (const format of [...options.vpcFlowLogFormats, DEFAULT_FORMAT]) {
    const values = flowValues(line, format);
    if (values === undefined) continue;
    if (!directFormats.has(format)) directFormats.set(format, readsDirectly(format));
    return { format, values };
  }
  return undefined;
}

/**
 * Whether `line` holds `ACCEPT`, `REJECT` or `DATA` (`NODATA`, `SKIPDATA`): one scan for the `T` the three
 * words share, not one per word, as every text line (each frame of a stack trace) is asked this.
 */
export function holdsOutcomeWord(line: string): boolean {
  for (let t = line.indexOf('T', 2); t >= 0; t = line.indexOf('T', t + 1)) {
    if (line.startsWith('DATA', t - 2)) return true;
    if (t >= 5 && (line.startsWith('ACCEPT', t - 5) || line.startsWith('REJECT', t - 5))) return true;
  }
  return false;
}

/** IANA protocol numbers a reader knows by name. */
const PROTOCOLS: Readonly<Record<string, string>> = { '1': 'icmp', '6': 'tcp', '17': 'udp', '58': 'icmpv6' };

function isPrivateAddress(value: string): boolean {
  const v4 = parseIPv4(value);
  if (v4 !== undefined) return isPrivateIPv4(v4);
  const v6 = parseIPv6(value);
  return v6 !== undefined && isPrivateIPv6(v6);
}

/**
 * What the transform keeps of a flow: `fields[i]` holds `values[i]` (a line's tokens, or a JSON flow's
 * entries in their order). Shared by the line reader and the JSON shape, so both read a flow alike.
 */
function readFlow(fields: readonly string[], values: readonly unknown[]): Recognized {
  const rest: Json = {};
  const verbatim: Record<string, string> = {};
  let action: string | undefined;
  let status: string | undefined;
  let protocol: string | undefined;
  let start: string | undefined;
  let port: string | undefined;
  let iface: string | undefined;
  let packets: string | undefined;
  let bytes: string | undefined;
  for (let i = 0; i < fields.length; i++) {
    const k = fields[i] as string;
    const v = values[i];
    if (v === '-' || v === undefined) continue;
    if (ADDRESS_FIELDS.has(k) && typeof v === 'string' && isPrivateAddress(v)) verbatim[k] = v;
    else if (MEASURES.has(k) && typeof v === 'string' && NUMBER.test(v)) rest[k] = Number(v);
    else rest[k] = v;
    if (typeof v !== 'string' || v === '') continue;
    switch (k) {
      case 'action':
        action = v;
        break;
      case 'log-status':
        status = v;
        break;
      case 'protocol':
        protocol = v;
        break;
      case 'start':
        start = v;
        break;
      case 'dstport':
        port = v;
        break;
      case 'interface-id':
        iface = v;
        break;
      case 'packets':
        packets = v;
        break;
      case 'bytes':
        bytes = v;
        break;
    }
  }
  if (protocol !== undefined && PROTOCOLS[protocol] !== undefined)
    rest['protocol.name'] = PROTOCOLS[protocol];
  if (action === 'REJECT') rest['event.security'] = 'true';
  let message = action ?? status ?? 'flow';
  if (protocol !== undefined)
    message += ` ${PROTOCOLS[protocol] ?? protocol}${port === undefined ? '' : `/${port}`}`;
  if (iface !== undefined) message += ` ${iface}`;
  if (packets !== undefined) message += ` ${packets} packets, ${bytes ?? '0'} bytes`;
  if (status !== undefined && status !== 'OK') message += ` ${status}`;
  const columns: Columns = {
    level: status === 'SKIPDATA' ? 'WARN' : 'INFO',
    service: 'aws.vpc-flow-logs',
    message,
  };
  if (start !== undefined && NUMBER.test(start)) columns.timestamp = Number(start) * 1000;
  return { columns, rest, verbatim };
}

/**
 * A flow record (read from a line, or sent as JSON with the same field names): the time is `start`,
 * REJECT marks the event for the security view (`event.security`), SKIPDATA (flows the service could not
 * capture) is WARN.
 */
export const vpcFlowLog: ProducerShape = {
  name: 'vpc-flow-logs',
  matches: (o) =>
    typeof o.srcaddr === 'string' &&
    typeof o.dstaddr === 'string' &&
    (typeof o.action === 'string' || typeof o['log-status'] === 'string'),
  read(o) {
    return readFlow(Object.keys(o), Object.values(o));
  },
};
