/**
 * Plain-text log lines: a leading timestamp and level are parsed when present, the rest is the
 * message. Recognised shapes, tried in the order of {@link TEXT_FORMATS}: the Lambda runtime formats
 * (Node `<ISO>\t<request id>\t<LEVEL>\t<message>`, Python `[LEVEL]\t<ISO>\t<request id>\t<message>`),
 * Lambda platform lines (START/END/REPORT, with the REPORT's duration and memory as numbers), Apache/
 * NGINX access logs, syslog (RFC 3164 and 5424), Python logging (`LEVEL:name:msg`) — after logfmt
 * (`time=… level=… msg=…`) and before the generic `[<timestamp>] [<LEVEL>] <message>` family (which also
 * reads `<asctime> - <name> - <LEVEL> - <msg>`). A new text format is one more entry in the table.
 */
import { aliasOf, type Target } from './fields';
import { levelFromName, levelFromNumber } from './level';
import { LAMBDA_METRICS } from './producers/lambda';
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
  /** A `service=…` token in the text (the envelope's service applies when absent). */
  service?: string;
  message: string;
  correlation_id?: string;
  trace_id?: string;
  span_id?: string;
  duration_ms?: number;
  http_method?: string;
  http_path?: string;
  http_status?: number;
  /** Extras: numbers go to `metrics`, text to `attributes`. */
  attributes?: Record<string, string | number>;
  /** A Lambda platform line: which one, and its request. */
  platform?: { readonly kind: string; readonly requestId: string };
}

/** One text format: its fields, or `undefined` when the line is not in it. */
export interface TextFormat {
  readonly name: string;
  parse(line: string, referenceMs: number | undefined): TextFields | undefined;
}

// A bracketed level may be padded to a width inside its brackets (structlog's `[info     ]`).
const LEVEL_TOKEN =
  /^[[(<]?(TRACE|DEBUG|DBG|VERBOSE|INFO|INFORMATION|NOTICE|WARN|WARNING|ERROR|ERR|SEVERE|CRIT|CRITICAL|FATAL|PANIC|ALERT|EMERG|EMERGENCY)(?: *[\])>])?(?::|\s|$)/i;

const LAMBDA = /^(\S+Z)\t([0-9a-fA-F-]{36}|undefined)\t([A-Za-z]+)\t([\s\S]*)$/;
const LAMBDA_PYTHON = /^\[([A-Za-z]+)\]\t(\S+Z)\t([0-9a-fA-F-]{36}|undefined)\t([\s\S]*)$/;
const LAMBDA_PLATFORM =
  /^(START|END|REPORT|INIT_START|INIT_REPORT|RESTORE_START|RESTORE_REPORT|EXTENSION|TELEMETRY|XRAY)\b/;
const REQUEST_ID = /RequestId: ([0-9a-fA-F-]{36})/;
const REPORT_DURATION = /(?:^|\t)Duration: ([\d.]+) ms/;
/** `Billed Duration: 103 ms`, `Max Memory Used: 70 MB` … in a REPORT line. */
const REPORT_FIELD = /(?:^|\t)([A-Z][A-Za-z ]*?): ([\d.]+) (ms|MB)\b/g;
const XRAY = /XRAY TraceId: ([\w-]+)/;
const XRAY_SEGMENT = /\tSegmentId: ([0-9a-fA-F]+)/;
const XRAY_SAMPLED = /\tSampled: (true|false)/;
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

const lambdaRuntime: TextFormat = {
  name: 'lambda-runtime',
  parse(line, referenceMs) {
    const node = LAMBDA.exec(line);
    if (node) return lambdaFields(node[1], node[3], node[2], node[4], referenceMs);
    const python = line.charCodeAt(0) === 91 ? LAMBDA_PYTHON.exec(line) : null;
    if (python) return lambdaFields(python[2], python[1], python[3], python[4], referenceMs);
    return undefined;
  },
};

function lambdaFields(
  time: string | undefined,
  level: string | undefined,
  requestId: string | undefined,
  message: string | undefined,
  referenceMs: number | undefined,
): TextFields | undefined {
  const ts = parseTimestampText(time ?? '', referenceMs);
  if (ts === undefined || !levelFromName(level ?? '')) return undefined;
  return {
    timestamp: ts,
    level: level as string,
    message: message ?? '',
    ...(requestId !== undefined && requestId !== 'undefined' ? { correlation_id: requestId } : {}),
  };
}

const lambdaPlatform: TextFormat = {
  name: 'lambda-platform',
  parse(line) {
    const kind = LAMBDA_PLATFORM.exec(line)?.[1];
    if (kind === undefined) return undefined;
    // The runtime ends REPORT and XRAY lines with a tab: framing, not text.
    const fields: TextFields = { message: line.trimEnd(), level: 'INFO', levelless: true };
    const id = REQUEST_ID.exec(line)?.[1];
    if (id !== undefined) {
      fields.correlation_id = id;
      fields.platform = { kind, requestId: id };
    }
    const attributes: Record<string, string | number> = {};
    if (kind === 'REPORT') {
      const duration = REPORT_DURATION.exec(line);
      if (duration) fields.duration_ms = Number(duration[1]);
      REPORT_FIELD.lastIndex = 0;
      for (let m = REPORT_FIELD.exec(line); m !== null; m = REPORT_FIELD.exec(line)) {
        const name = LAMBDA_METRICS[m[1] as string];
        if (name !== undefined) attributes[name] = Number(m[2]);
      }
      const xray = XRAY.exec(line);
      if (xray) fields.trace_id = xray[1] as string;
    } else if (kind === 'XRAY') {
      const xray = XRAY.exec(line);
      if (xray) fields.trace_id = xray[1] as string;
      const segment = XRAY_SEGMENT.exec(line);
      if (segment) fields.span_id = segment[1] as string;
      const sampled = XRAY_SAMPLED.exec(line);
      if (sampled) attributes.sampled = sampled[1] as string;
    }
    if (Object.keys(attributes).length > 0) fields.attributes = attributes;
    return fields;
  },
};

const accessLogFormat: TextFormat = {
  name: 'access-log',
  parse(line, referenceMs) {
    const m = CLF.exec(line);
    return m ? accessLog(m, referenceMs) : undefined;
  },
};

const syslogFormat: TextFormat = {
  name: 'syslog',
  parse(line, referenceMs) {
    const pri = SYSLOG_PRI.exec(line);
    return pri ? syslog(line, Number(pri[1]), pri[0].length, referenceMs) : undefined;
  },
};

const pythonBasic: TextFormat = {
  name: 'python-basic',
  parse(line) {
    const m = PYTHON_BASIC.exec(line);
    return m ? { level: m[1] as string, logger: m[2] as string, message: m[3] as string } : undefined;
  },
};

/**
 * Fields found in the further lines of a multi-line text event (a REPORT's `XRAY TraceId` line comes on
 * the line after it).
 */
export function continuedFields(fields: TextFields, lines: readonly string[]): TextFields {
  if (fields.platform?.kind !== 'REPORT' || fields.trace_id !== undefined) return fields;
  for (const line of lines) {
    const xray = XRAY.exec(line);
    if (xray) return { ...fields, trace_id: xray[1] as string };
  }
  return fields;
}

/** Text formats in the order they are tried; logfmt, then the generic reading, come after them. */
export const TEXT_FORMATS: readonly TextFormat[] = [
  lambdaRuntime,
  lambdaPlatform,
  accessLogFormat,
  syslogFormat,
  pythonBasic,
];

/** Parses one text line. Never throws; at worst the whole line is the message. */
export function parseTextLine(line: string, referenceMs?: number): ParsedLine {
  const logfmt = parseLogfmt(line);
  if (logfmt) return { kind: 'object', object: logfmt };
  const console = structlogConsole(line, referenceMs);
  if (console) return { kind: 'object', object: console };
  for (const format of TEXT_FORMATS) {
    const fields = format.parse(line, referenceMs);
    if (fields) return { kind: 'text', fields: keyValueColumns(fields) };
  }
  return { kind: 'text', fields: keyValueColumns(generic(line, referenceMs)) };
}

/** `key=value`, `key="quoted"`, `key='quoted'` inside text; a value ends at space or closing punctuation. */
const KEY_VALUE =
  /(?<![\w.@/-])([A-Za-z_][\w.-]{0,63})=(?:"((?:[^"\\\n]|\\.){1,256})"|'([^'\n]{1,256})'|([^\s"',;)\]}>]{1,256}))/g;

/**
 * Columns a `key=value` token in a text line's message fills (when the line's format did not): the
 * ids and names a logging format string or a request-id middleware writes (`correlation_id=…`,
 * `request_id=…`, `trace_id=…`, `service=…`, `level=…`). Numbers and other names are no columns here:
 * prose has too many `a=b` that mean nothing to the schema.
 */
const TEXT_KEY_TARGETS: ReadonlySet<Target> = new Set([
  'correlation_id',
  'trace_id',
  'span_id',
  'service',
  'level',
]);
/** Logger names only under these keys: `name=` in text is more often anything else. */
const TEXT_LOGGER_KEYS: ReadonlySet<string> = new Set(['logger', 'logger_name', 'loggerName', 'log.logger']);

/** Fills the unset columns of `fields` from `key=value` tokens of its message; the message keeps them. */
export function keyValueColumns(fields: TextFields): TextFields {
  const text = fields.message;
  if (text.indexOf('=') < 0) return fields;
  const best = new Map<Target, { rank: number; value: string }>();
  KEY_VALUE.lastIndex = 0;
  for (let m = KEY_VALUE.exec(text); m !== null; m = KEY_VALUE.exec(text)) {
    const key = m[1] as string;
    const alias = aliasOf(key);
    if (alias === undefined) continue;
    const target = alias.target;
    if (!TEXT_KEY_TARGETS.has(target) && !(target === 'logger' && TEXT_LOGGER_KEYS.has(key))) continue;
    const value = (m[2] ?? m[3] ?? m[4] ?? '').trim();
    if (value === '' || (target === 'level' && levelFromName(value) === undefined)) continue;
    const seen = best.get(target);
    if (seen === undefined || alias.rank < seen.rank) best.set(target, { rank: alias.rank, value });
  }
  if (best.size === 0) return fields;
  const out: TextFields = { ...fields };
  for (const [target, { value }] of best) {
    switch (target) {
      case 'correlation_id':
      case 'trace_id':
      case 'span_id':
      case 'level':
      case 'logger':
        out[target] ??= value;
        break;
      case 'service':
        out.service ??= value;
        break;
    }
  }
  return out;
}

/** structlog's ConsoleRenderer head: a timestamp, then the level padded inside brackets. */
const STRUCTLOG_LEVEL = /^ \[([a-z]+) *\] /;
const STRUCTLOG_PAIR = /^([A-Za-z_][\w.-]{0,63})=(\S*)$/;
const STRUCTLOG_LOGGER = /^\[([^\]\s]+)\]$/;

/**
 * A structlog ConsoleRenderer line (colours off, as a container prints it):
 * `<time> [<level>   ] <event, padded> [<logger>] key=value …`. Read as the structured event it
 * renders: `event`, `level`, `timestamp`, `logger` and each trailing pair (unquoted numbers as numbers),
 * so its ids, durations and figures land where a JSON rendering's would. Values that hold spaces cannot
 * be told from the next word: only the unbroken run of pairs at the end of the line counts.
 */
export function structlogConsole(
  line: string,
  referenceMs: number | undefined,
): Record<string, string | number> | undefined {
  const c = line.charCodeAt(0);
  if (c < 48 || c > 57) return undefined;
  // The level first (cheap), the time only then: `<time> [main] …` is no structlog line.
  const bracket = line.indexOf(' [');
  if (bracket < 0 || bracket > 40) return undefined;
  const head = STRUCTLOG_LEVEL.exec(line.slice(bracket, bracket + 24));
  if (head === null || levelFromName(head[1] as string) === undefined) return undefined;
  const lead = leadingTimestamp(line, referenceMs);
  if (lead === undefined || lead.length !== bracket) return undefined;
  const words = line.slice(lead.length + head[0].length).split(' ');
  const pairs: Record<string, string | number> = {};
  let end = words.length;
  while (end > 0) {
    const pair = STRUCTLOG_PAIR.exec(words[end - 1] as string);
    if (pair === null) break;
    const raw = pair[2] as string;
    pairs[pair[1] as string] = LOGFMT_NUMBER.test(raw) ? Number(raw) : raw;
    end--;
  }
  let logger: string | undefined;
  const last = end > 0 ? STRUCTLOG_LOGGER.exec(words[end - 1] as string) : null;
  if (last) {
    logger = last[1] as string;
    end--;
  }
  const event = words.slice(0, end).join(' ').trimEnd();
  return {
    ...pairs,
    ...(logger !== undefined ? { logger } : {}),
    event,
    level: head[1] as string,
    timestamp: line.slice(0, lead.length),
  };
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

/** The Go runtime's `panic: <value>` line: its words are the message as printed. */
const GO_PANIC = /^panic: \S/;

function generic(line: string, referenceMs?: number): TextFields {
  if (GO_PANIC.test(line)) return { message: line, level: 'PANIC' };
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
  // Built in place (not `Object.fromEntries` of pairs): one object per line on the hot path.
  const out: Record<string, string | number> = {};
  let pairs = 0;
  let pos = 0;
  while (pos < line.length) {
    LOGFMT_PAIR.lastIndex = pos;
    const m = LOGFMT_PAIR.exec(line);
    if (!m || m[0].length === 0) return undefined;
    const raw = m[2] as string;
    const value = raw.startsWith('"') ? unquote(raw) : LOGFMT_NUMBER.test(raw) ? Number(raw) : raw;
    const key = m[1] as string;
    // An own property, as `Object.fromEntries` makes it, never the prototype.
    if (key === '__proto__')
      Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    else out[key] = value;
    pairs++;
    pos = LOGFMT_PAIR.lastIndex;
  }
  return pairs < 2 ? undefined : out;
}

function unquote(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return quoted.slice(1, -1);
  }
}
