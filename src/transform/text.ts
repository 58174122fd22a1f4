/**
 * Plain-text log lines: a leading timestamp and level are parsed when present, the rest is the
 * message. Recognised shapes: the Lambda runtime format (`<ISO>\t<request id>\t<LEVEL>\t<message>`),
 * Lambda platform lines (START/END/REPORT), Python logging (`<asctime> - <name> - <LEVEL> - <msg>` and
 * `LEVEL:name:msg`), syslog (RFC 3164 and 5424), Apache/NGINX access logs, logfmt
 * (`time=… level=… msg=…`), and the generic `[<timestamp>] [<LEVEL>] <message>` family.
 */
import { levelFromName, levelFromNumber } from './level';
import { leadingTimestamp, parseTimestampText, readTimestampText } from './timestamp';

/**
 * Fields recovered from a text line, keyed by the record's column names (timestamp as epoch ms), plus
 * `attributes` for format-specific extras. Absent keys were not in the line.
 */
export interface TextFields {
  timestamp?: number;
  /** The line's timestamp named no zone (its wall time is in `timestamp` as if it were UTC). */
  timestampZoneless?: boolean;
  level?: string;
  /** Whether the format has no level at all (access logs, Lambda platform lines): no schema error. */
  levelless?: boolean;
  logger?: string;
  message: string;
  correlation_id?: string;
  duration_ms?: number;
  http_method?: string;
  http_path?: string;
  http_status?: number;
  /** Extras: numbers go to `metrics`, text to `attributes`. */
  attributes?: Record<string, string | number>;
}

const LEVEL_TOKEN =
  /^[[(<]?(TRACE|DEBUG|DBG|VERBOSE|INFO|INFORMATION|NOTICE|WARN|WARNING|ERROR|ERR|SEVERE|CRIT|CRITICAL|FATAL|PANIC|ALERT|EMERG|EMERGENCY)[\])>]?(?::|\s|$)/i;

const LAMBDA = /^(\S+Z)\t([0-9a-fA-F-]{36}|undefined)\t([A-Za-z]+)\t([\s\S]*)$/;
const LAMBDA_PLATFORM =
  /^(START|END|REPORT|INIT_START|INIT_REPORT|RESTORE_START|RESTORE_REPORT|EXTENSION|TELEMETRY)\b/;
const REQUEST_ID = /RequestId: ([0-9a-fA-F-]{36})/;
const REPORT_DURATION = /\bDuration: ([\d.]+) ms/;
const PYTHON = /^ - ([^\s]+) - ([A-Za-z]+) - ([\s\S]*)$/;
const PYTHON_BASIC = /^(DEBUG|INFO|WARNING|ERROR|CRITICAL):([^:\s]+):([\s\S]*)$/;
const CLF =
  /^(\S+) (\S+) (\S+) \[([^\]]+)\] "([A-Z]{3,10}) (\S+)(?: (HTTP\/[\d.]+))?" (\d{3}) (\d+|-)(?: "([^"]*)" "([^"]*)")?([\s\S]*)$/;
const SYSLOG_PRI = /^<(\d{1,3})>/;
const RFC5424 =
  /^1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|\[(?:[^\]\\]|\\.)*\](?:\[(?:[^\]\\]|\\.)*\])*) ?([\s\S]*)$/;
const RFC3164_TAG = /^(\S+) ([\w./-]+)(?:\[(\d+)\])?: ([\s\S]*)$/;

/** A text line is either a structured logfmt line (an object) or text with recovered fields. */
export type ParsedLine =
  | { readonly kind: 'object'; readonly object: Record<string, string | number> }
  | { readonly kind: 'text'; readonly fields: TextFields };

/** Parses one text line. Never throws; at worst the whole line is the message. */
export function parseTextLine(line: string, referenceMs?: number): ParsedLine {
  const logfmt = parseLogfmt(line);
  if (logfmt) return { kind: 'object', object: logfmt };
  return { kind: 'text', fields: parseText(line, referenceMs) };
}

function parseText(line: string, referenceMs?: number): TextFields {
  const lambda = LAMBDA.exec(line);
  if (lambda) {
    const ts = parseTimestampText(lambda[1] as string, referenceMs);
    if (ts !== undefined && levelFromName(lambda[3] as string)) {
      return {
        timestamp: ts,
        level: lambda[3] as string,
        message: lambda[4] as string,
        ...(lambda[2] !== 'undefined' ? { correlation_id: lambda[2] as string } : {}),
      };
    }
  }
  if (LAMBDA_PLATFORM.test(line)) return lambdaPlatform(line);
  const clf = CLF.exec(line);
  if (clf) {
    const fields = accessLog(clf, referenceMs);
    if (fields) return fields;
  }
  const pri = SYSLOG_PRI.exec(line);
  if (pri) return syslog(line, Number(pri[1]), pri[0].length, referenceMs);
  const basic = PYTHON_BASIC.exec(line);
  if (basic) return { level: basic[1] as string, logger: basic[2] as string, message: basic[3] as string };
  return generic(line, referenceMs);
}

function lambdaPlatform(line: string): TextFields {
  const fields: TextFields = { message: line, level: 'INFO', levelless: true };
  const id = REQUEST_ID.exec(line);
  if (id) fields.correlation_id = id[1] as string;
  const duration = line.startsWith('REPORT') ? REPORT_DURATION.exec(line) : null;
  if (duration) fields.duration_ms = Number(duration[1]);
  return fields;
}

function accessLog(m: RegExpExecArray, referenceMs?: number): TextFields | undefined {
  const ts = parseTimestampText(m[4] as string, referenceMs);
  if (ts === undefined) return undefined;
  const attributes: Record<string, string | number> = { client_ip: m[1] as string };
  if (m[3] !== '-') attributes.remote_user = m[3] as string;
  if (m[7]) attributes.http_version = m[7];
  if (m[9] !== '-') attributes.response_bytes = Number(m[9]);
  if (m[10] !== undefined && m[10] !== '-') attributes.referer = m[10];
  if (m[11] !== undefined && m[11] !== '-') attributes.user_agent = m[11];
  return {
    timestamp: ts,
    level: 'INFO',
    levelless: true,
    message: m[0],
    http_method: m[5] as string,
    http_path: m[6] as string,
    http_status: Number(m[8]),
    attributes,
  };
}

function syslog(line: string, pri: number, offset: number, referenceMs?: number): TextFields {
  const severity = levelFromNumber(pri % 8, 'syslog');
  const rest = line.slice(offset);
  const attributes: Record<string, string> = { 'syslog.facility': String(Math.floor(pri / 8)) };
  const r5424 = RFC5424.exec(rest);
  if (r5424) {
    const [, ts, host, app, procid, msgid, sd, msg] = r5424;
    if (host && host !== '-') attributes['syslog.hostname'] = host;
    if (procid && procid !== '-') attributes['syslog.procid'] = procid;
    if (msgid && msgid !== '-') attributes['syslog.msgid'] = msgid;
    if (sd && sd !== '-') attributes['syslog.structured_data'] = sd;
    const time = ts && ts !== '-' ? readTimestampText(ts, referenceMs) : undefined;
    return {
      ...(time !== undefined ? { timestamp: time.ms } : {}),
      ...(time?.zoneless ? { timestampZoneless: true } : {}),
      ...(severity ? { level: severity } : {}),
      ...(app && app !== '-' ? { logger: app } : {}),
      message: (msg ?? '').replace(/^\uFEFF/, ''),
      attributes,
    };
  }
  const lead = leadingTimestamp(rest, referenceMs);
  const afterTs = lead ? rest.slice(lead.length).replace(/^ /, '') : rest;
  const tagged = RFC3164_TAG.exec(afterTs);
  if (tagged) {
    attributes['syslog.hostname'] = tagged[1] as string;
    if (tagged[3]) attributes['syslog.procid'] = tagged[3];
  }
  return {
    ...(lead ? { timestamp: lead.ms } : {}),
    ...(lead?.zoneless ? { timestampZoneless: true } : {}),
    ...(severity ? { level: severity } : {}),
    ...(tagged ? { logger: tagged[2] as string } : {}),
    message: tagged ? (tagged[4] as string) : afterTs,
    attributes,
  };
}

function generic(line: string, referenceMs?: number): TextFields {
  let rest = line;
  const fields: TextFields = { message: line };
  let level = LEVEL_TOKEN.exec(rest);
  if (level) {
    // `INFO 2024-01-02T… message`
    fields.level = level[1] as string;
    rest = rest.slice(level[0].length).trimStart();
  }
  const lead = leadingTimestamp(rest, referenceMs);
  if (lead) {
    fields.timestamp = lead.ms;
    if (lead.zoneless) fields.timestampZoneless = true;
    rest = rest.slice(lead.length);
    const python = PYTHON.exec(rest);
    if (python && levelFromName(python[2] as string)) {
      fields.logger = python[1] as string;
      fields.level = python[2] as string;
      fields.message = python[3] as string;
      return fields;
    }
    rest = rest.replace(/^\s*[-|:]?\s*/, '');
    if (!fields.level) {
      level = LEVEL_TOKEN.exec(rest);
      if (level) {
        fields.level = level[1] as string;
        rest = rest.slice(level[0].length).replace(/^\s*[-|:]?\s*/, '');
      }
    }
  }
  if (fields.level !== undefined || lead) fields.message = rest;
  return fields;
}

const LOGFMT_PAIR = /([\w.@/-]+)=("(?:[^"\\]|\\.)*"|[^\s"]*)(?:\s+|$)/y;

/** An unquoted logfmt number: no leading zeros (ids such as `0042` stay text), at most 15 digits. */
const LOGFMT_NUMBER = /^-?(?:0|[1-9]\d{0,14})(?:\.\d{1,15})?(?:[eE][+-]?\d{1,3})?$/;

/**
 * logfmt (`key=value key="quoted value"`), accepted only when the whole line is pairs and there are at
 * least two, so prose containing one `a=b` stays text. Unquoted numbers (`tokens=100 cost=0.002`)
 * are numbers; quoted values are always text.
 */
export function parseLogfmt(line: string): Record<string, string | number> | undefined {
  if (!/^[\w.@/-]+=/.test(line)) return undefined;
  const pairs: Array<[string, string | number]> = [];
  LOGFMT_PAIR.lastIndex = 0;
  let pos = 0;
  while (pos < line.length) {
    LOGFMT_PAIR.lastIndex = pos;
    const m = LOGFMT_PAIR.exec(line);
    if (!m || m[0].length === 0) return undefined;
    const raw = m[2] as string;
    const value = raw.startsWith('"') ? unquote(raw) : LOGFMT_NUMBER.test(raw) ? Number(raw) : raw;
    pairs.push([m[1] as string, value]);
    pos = LOGFMT_PAIR.lastIndex;
  }
  if (pairs.length < 2) return undefined;
  return Object.fromEntries(pairs);
}

function unquote(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return quoted.slice(1, -1);
  }
}
