/** Output of search, stats and export: a table for people, JSON / NDJSON / CSV for programs. */
import type { AggregateRow, SearchRecord } from '../query/decode';
import { RECORD_COLUMNS } from '../schema';

export const OUTPUT_FORMATS = ['table', 'json', 'csv', 'ndjson'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Columns of a record in CSV, in schema order plus `category`; maps and arrays as JSON text. */
export const RECORD_CSV_COLUMNS: readonly string[] = [...RECORD_COLUMNS.map((c) => c.name), 'category'];

/** One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
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
  /** Terminal width; lines are cut to it. @default no limit */
  readonly width?: number;
}

/** Records as an aligned table: time, level, category, service, correlation id, message. */
export function recordTable(records: readonly SearchRecord[], options: TableOptions = {}): string {
  const rows = records.map((r) => [
    r.timestamp,
    r.level,
    r.category,
    r.service,
    r.correlation_id ?? '-',
    oneLine(r.message) + redactionNote(r),
  ]);
  return table(['TIME', 'LEVEL', 'CATEGORY', 'SERVICE', 'CORRELATION_ID', 'MESSAGE'], rows, options);
}

function redactionNote(r: SearchRecord): string {
  const kinds = Object.entries(r.redactions ?? {});
  return kinds.length === 0
    ? ''
    : `  [redacted: ${kinds.map(([k, n]) => (n > 1 ? `${k}×${n}` : k)).join(', ')}]`;
}

/** Aggregate rows as a table: group columns, bucket, count, errors, error rate, first/last seen. */
export function aggregateTable(
  rows: readonly AggregateRow[],
  groupBy: readonly string[],
  options: TableOptions = {},
): string {
  const withBucket = rows.some((r) => r.bucketStart !== undefined);
  const header = [
    ...groupBy.map((g) => g.toUpperCase()),
    ...(withBucket ? ['BUCKET'] : []),
    'COUNT',
    'ERRORS',
    'ERROR_RATE',
    'FIRST_SEEN',
    'LAST_SEEN',
  ];
  const body = rows.map((r) => [
    ...groupBy.map((g) => String(r.group[g as keyof AggregateRow['group']] ?? '(none)')),
    ...(withBucket ? [r.bucketStart ?? ''] : []),
    String(r.count),
    String(r.errors),
    `${(r.errorRate * 100).toFixed(1)}%`,
    r.firstSeen ?? '',
    r.lastSeen ?? '',
  ]);
  return table(header, body, options);
}

/** Aggregate rows as plain objects for JSON/NDJSON/CSV. */
export function aggregateObjects(rows: readonly AggregateRow[]): Array<Record<string, unknown>> {
  return rows.map((r) => ({
    ...r.group,
    ...(r.bucketStart !== undefined ? { bucket_start: r.bucketStart } : {}),
    count: r.count,
    errors: r.errors,
    error_rate: r.errorRate,
    first_seen: r.firstSeen,
    last_seen: r.lastSeen,
    ...(r.sampleCorrelationIds.length ? { sample_correlation_ids: r.sampleCorrelationIds } : {}),
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

function table(
  header: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
  options: TableOptions,
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const render = (cells: readonly string[]) => {
    const line = cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
    return options.width && line.length > options.width
      ? `${line.slice(0, Math.max(0, options.width - 1))}…`
      : line;
  };
  return `${[render(header), ...rows.map(render)].join('\n')}\n`;
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ⏎ ');
}
