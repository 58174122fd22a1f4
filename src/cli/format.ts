/** Output of search, stats, export and alerts: tables for people, JSON / NDJSON / CSV for programs. */
import { type Alert, alertSubject, formatValue } from '../alerts/alert';
import type { AggregateRow, SearchRecord } from '../query/decode';
import { RECORD_COLUMNS } from '../schema';
import {
  alignCells,
  columnBands,
  columnWidths,
  expandedRows,
  GAP,
  lineWidth,
  plainTable,
  visible,
  wrapHanging,
  wrapShellCommand,
  wrapWords,
} from './table';

export const OUTPUT_FORMATS = ['table', 'json', 'csv', 'ndjson'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Columns of a record in CSV, in schema order plus `category`; maps and arrays as JSON text. */
export const RECORD_CSV_COLUMNS: readonly string[] = [...RECORD_COLUMNS.map((c) => c.name), 'category'];

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF. Text a spreadsheet would take
 * for a formula (starting with `=`, `+`, `-`, `@`, tab or CR) gets a leading `'`, as OWASP advises: log
 * content is anyone's, and `=HYPERLINK(…)` in a message must not run when the export is opened.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const raw = typeof value === 'object' ? JSON.stringify(value) : String(value);
  const text = typeof value === 'string' && /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(values: readonly unknown[]): string {
  return `${values.map(csvField).join(',')}\n`;
}

/**
 * Writes records in one format, chunk by chunk, so an export never holds all rows. `json` is one array
 * (opened on the first write, closed by `end`).
 */
export class RecordWriter {
  private count = 0;

  constructor(
    private readonly format: Exclude<OutputFormat, 'table'>,
    private readonly out: (text: string) => void | Promise<void>,
  ) {}

  get written(): number {
    return this.count;
  }

  async write(records: readonly SearchRecord[]): Promise<void> {
    let text = '';
    for (const r of records) {
      if (this.format === 'csv') {
        if (this.count === 0) text += csvLine(RECORD_CSV_COLUMNS);
        text += csvLine(RECORD_CSV_COLUMNS.map((c) => r[c as keyof SearchRecord]));
      } else if (this.format === 'ndjson') {
        text += `${JSON.stringify(r)}\n`;
      } else {
        text += `${this.count === 0 ? '[\n  ' : ',\n  '}${JSON.stringify(r)}`;
      }
      this.count++;
    }
    if (text) await this.out(text);
  }

  async end(): Promise<void> {
    if (this.format === 'json') await this.out(this.count === 0 ? '[]\n' : '\n]\n');
    if (this.format === 'csv' && this.count === 0) await this.out(csvLine(RECORD_CSV_COLUMNS));
  }
}

export interface TableOptions {
  /**
   * Terminal width to fit: ids and times stay whole, the message wraps at words in the rest.
   * @default no fitting (one line per record, as long as it is)
   */
  readonly width?: number;
}

/** Narrower than this, a message column is too thin to read: each record's message goes on its own lines. */
const MIN_MESSAGE_COLUMN = 40;
const MESSAGE_INDENT = '  ';

/**
 * Records as an aligned table: time, level, category, service, correlation id, message. Fitted to a
 * width: the message column takes what the other columns leave and wraps at words; when that is too
 * thin, each record becomes its fields on one line and its message wrapped below, indented. The
 * correlation id is never cut, so it can be copied into the next search.
 */
export function recordTable(records: readonly SearchRecord[], options: TableOptions = {}): string {
  const header = ['TIME', 'LEVEL', 'CATEGORY', 'SERVICE', 'CORRELATION_ID'];
  const fieldsWith = (time: TimeFormat) =>
    records.map((r) =>
      [time(r.timestamp), r.level, r.category, r.service, r.correlation_id ?? '-'].map(visible),
    );
  const messages = records.map((r) => visible(oneLine(r.message) + redactionNote(r)));
  const { width } = options;
  const full = fieldsWith(isoTime);
  if (width === undefined) {
    return plainTable(
      [...header, 'MESSAGE'],
      full.map((f, i) => [...f, messages[i] ?? '']),
    );
  }
  const fullWidths = columnWidths(header, full);
  const messageWidth = width - lineWidth(fullWidths) - GAP.length;
  if (messageWidth >= MIN_MESSAGE_COLUMN) {
    const pad = ' '.repeat(lineWidth(fullWidths) + GAP.length);
    const lines = [alignCells([...header, 'MESSAGE'], [...fullWidths, 0])];
    full.forEach((f, i) => {
      const [first = '', ...rest] = wrapWords(messages[i] ?? '', messageWidth);
      lines.push(alignCells([...f, first], [...fullWidths, 0]), ...rest.map((l) => pad + l));
    });
    return `${lines.join('\n')}\n`;
  }
  // Narrow: the fields on one line (shorter times if that is what it takes) or, failing that, in as few
  // lines as fit, each field whole; the message below, indented, with the whole width.
  const fields = fitTimes(header, fieldsWith, width) ?? full;
  const widths = columnWidths(header, fields);
  const bands = columnBands(widths, width, MESSAGE_INDENT.length);
  const fieldLines = (cells: readonly string[]) =>
    bands.map(
      (band, b) =>
        (b === 0 ? '' : MESSAGE_INDENT) +
        alignCells(
          band.map((i) => cells[i] ?? ''),
          band.map((i) => widths[i] ?? 0),
        ),
    );
  const lines = [...fieldLines(header), `${MESSAGE_INDENT}MESSAGE`];
  fields.forEach((f, i) => {
    lines.push(...fieldLines(f));
    for (const l of wrapWords(messages[i] ?? '', width - MESSAGE_INDENT.length))
      lines.push(MESSAGE_INDENT + l);
  });
  return `${lines.join('\n')}\n`;
}

type TimeFormat = (iso: string) => string;

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const isoTime: TimeFormat = (iso) => iso;
/** `2026-11-22T10:00:00.000Z` → `2026-11-22 10:00:00`: still UTC, still sortable. */
const secondsTime: TimeFormat = (iso) =>
  ISO_UTC.test(iso) ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : iso;
/** `2026-11-22T10:00:00.000Z` → `11-22 10:00:00`, as journalctl leaves out the year. */
const shortTime: TimeFormat = (iso) => (ISO_UTC.test(iso) ? `${iso.slice(5, 10)} ${iso.slice(11, 19)}` : iso);

/** The rows with the longest time format that lets them fit `width` on one line each; none if none does. */
function fitTimes(
  header: readonly string[],
  rowsWith: (time: TimeFormat) => string[][],
  width: number,
): string[][] | undefined {
  for (const time of [isoTime, secondsTime, shortTime]) {
    const rows = rowsWith(time);
    if (lineWidth(columnWidths(header, rows)) <= width) return rows;
  }
  return undefined;
}

function redactionNote(r: SearchRecord): string {
  const kinds = Object.entries(r.redactions ?? {});
  return kinds.length === 0
    ? ''
    : `  [redacted: ${kinds.map(([k, n]) => (n > 1 ? `${k}×${n}` : k)).join(', ')}]`;
}

/**
 * Aggregate rows as a table: group columns, bucket, count, errors, error rate, first/last seen. Fitted to
 * a width: times drop their milliseconds (then their year) when that makes the table fit, and a table
 * that still does not fit is shown one row per block (`COLUMN  value` lines): no value is ever cut or
 * broken mid-word.
 */
export function aggregateTable(
  rows: readonly AggregateRow[],
  groupBy: readonly string[],
  options: TableOptions & {
    /** `--agg` labels: shown after COUNT instead of the error columns. @default none */
    readonly aggregates?: readonly string[];
  } = {},
): string {
  const withBucket = rows.some((r) => r.bucketStart !== undefined);
  const aggregates = options.aggregates?.filter((a) => a !== 'count');
  if (options.aggregates !== undefined && aggregates !== undefined) {
    const header = [...groupBy, ...(withBucket ? ['BUCKET'] : []), 'COUNT', ...aggregates];
    const body = (time: TimeFormat) =>
      rows.map((r) => [
        ...groupBy.map((g) => visible(String(r.group[g] ?? '(none)'))),
        ...(withBucket ? [time(r.bucketStart ?? '')] : []),
        String(r.count),
        ...aggregates.map((a) => visible(formatAggregate(r.values[a]))),
      ]);
    if (options.width === undefined) return plainTable(header, body(isoTime));
    const fitting = fitTimes(header, body, options.width);
    return fitting ? plainTable(header, fitting) : expandedRows(header, body(isoTime), options.width);
  }
  const header = [
    ...groupBy.map((g) => g.toUpperCase()),
    ...(withBucket ? ['BUCKET'] : []),
    'COUNT',
    'ERRORS',
    'ERROR_RATE',
    'FIRST_SEEN',
    'LAST_SEEN',
  ];
  const body = (time: TimeFormat) =>
    rows.map((r) => [
      ...groupBy.map((g) => visible(String(r.group[g as keyof AggregateRow['group']] ?? '(none)'))),
      ...(withBucket ? [time(r.bucketStart ?? '')] : []),
      String(r.count),
      String(r.errors),
      `${(r.errorRate * 100).toFixed(1)}%`,
      time(r.firstSeen ?? ''),
      time(r.lastSeen ?? ''),
    ]);
  const { width } = options;
  if (width === undefined) return plainTable(header, body(isoTime));
  const fitting = fitTimes(header, body, width);
  return fitting ? plainTable(header, fitting) : expandedRows(header, body(isoTime), width);
}

/**
 * Alerts, one block each: the subject line, the description, the figures and window, sample correlation
 * ids and the `loglake search` command that lists the events. Fitted to a width: text wraps at words
 * with a hanging indent, ids stay whole, and the command wraps with ` \` so it still pastes as one.
 */
export function alertsTable(alerts: readonly Alert[], options: TableOptions = {}): string {
  if (alerts.length === 0) return 'no alerts firing\n';
  const { width } = options;
  const wrap = (line: string) =>
    width === undefined ? [visible(line)] : wrapHanging(visible(line), width, '    ');
  return `${alerts
    .map((a) =>
      [
        ...wrap(alertSubject(a)),
        ...wrap(`  ${a.description}`),
        ...wrap(
          `  value ${formatValue(a.value, a.unit)} > threshold ${formatValue(a.threshold, a.unit)}, window ${a.window.start} to ${a.window.end}`,
        ),
        ...(a.samples.length > 0 ? wrap(`  samples: ${a.samples.join(' ')}`) : []),
        ...(a.search
          ? width === undefined
            ? [`  ${visible(a.search)}`]
            : wrapShellCommand(visible(a.search), width - 2, '    ').map((l) => `  ${l}`)
          : []),
      ].join('\n'),
    )
    .join('\n\n')}\n`;
}

/** An aggregate's value in a table: up to 6 significant digits, `-` for none. */
function formatAggregate(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value;
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
}

/**
 * Aggregate rows as plain objects for JSON/NDJSON/CSV: the group keys (and `bucket_start` with an
 * interval), `count`, and one key per aggregate named `FN(FIELD)` (the `--agg` labels). Without
 * `aggregates`, `count` alone: the table shows errors and first/last seen for a person, while a script
 * asks for what it needs (`--agg`, `--where level>=ERROR`) and gets one stable shape.
 */
export function aggregateObjects(
  rows: readonly AggregateRow[],
  aggregates: readonly string[] = [],
): Array<Record<string, unknown>> {
  const extra = aggregates.filter((a) => a !== 'count');
  return rows.map((r) => ({
    ...r.group,
    ...(r.bucketStart !== undefined ? { bucket_start: r.bucketStart } : {}),
    count: r.count,
    ...Object.fromEntries(extra.map((a) => [a, r.values[a] ?? null])),
  }));
}

/** Plain objects in JSON, NDJSON or CSV (columns from the first object). */
export function formatObjects(
  objects: ReadonlyArray<Record<string, unknown>>,
  format: Exclude<OutputFormat, 'table'>,
): string {
  if (format === 'json') return `${JSON.stringify(objects, null, 2)}\n`;
  if (format === 'ndjson') return objects.map((o) => `${JSON.stringify(o)}\n`).join('');
  const columns = [...new Set(objects.flatMap((o) => Object.keys(o)))];
  return csvLine(columns) + objects.map((o) => csvLine(columns.map((c) => o[c]))).join('');
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ⏎ ');
}

/** `1536` → `1.5 KiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}
