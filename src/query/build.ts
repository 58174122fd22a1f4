/**
 * Renders the query model (`model.ts`) to SQL for DuckDB or Athena (Trino).
 *
 * Safety rule: text that came from a user (search text, ids, service names, levels, categories, the time
 * range) is always a bound `?` parameter. The only values written into the SQL text are numbers checked by
 * `validateQuery` (limit, bucket width, sample count, thresholds: Athena accepts `?` only in WHERE) and the
 * builder's own constants; identifiers pass `quoteIdent`.
 *
 * Every query prunes partitions: `dt`/`hour` predicates derived from the time range, plus `category` when
 * categories are given, next to the exact `timestamp` bounds.
 */
import { sqlTimestamp, utcDate, utcHour } from '../time';
import { quoteIdent, type ResultColumn, SEARCH_COLUMNS } from './columns';
import {
  type AggregateQuery,
  type Dialect,
  ERROR_LEVELS,
  type LogFilter,
  type LogQuery,
  type SearchQuery,
  validateQuery,
} from './model';

/** A table to read, optionally qualified by its database (Athena: the Glue database). */
export interface TableRef {
  readonly database?: string;
  readonly table: string;
}

export interface BuildOptions {
  readonly dialect: Dialect;
  /**
   * Tables to read; several are combined with UNION ALL, the filter pushed into each one (Athena: `logs`
   * and `audit`). Locally one view holds both streams.
   */
  readonly tables: readonly TableRef[];
}

/** SQL ready to run: `?` placeholders and their values, in order. */
export interface BuiltQuery {
  readonly dialect: Dialect;
  readonly sql: string;
  /** Values of the `?` placeholders, in order. All are strings (timestamps are cast in SQL). */
  readonly params: readonly string[];
  /** Result columns in order, with how to decode each. */
  readonly columns: readonly ResultColumn[];
  /** The query it was built from: the access audit records its kind and filter. @default none (hand-written SQL) */
  readonly source?: LogQuery;
}

interface SqlDialect {
  /** An ISO-8601 text of a timestamp expression. */
  isoText(expr: string): string;
  /** JSON text of a map or array expression. */
  jsonText(expr: string): string;
  /** Epoch milliseconds of the start of the `bucketMs`-wide bucket holding `expr`. */
  bucketStart(expr: string, bucketMs: number): string;
  /** Array of up to `n` distinct non-null values of `expr` where `condition` holds. */
  sampleList(expr: string, n: number, condition: string): string;
}

const DIALECT_SQL: Record<Dialect, SqlDialect> = {
  duckdb: {
    isoText: (e) => `strftime(${e}, '%Y-%m-%dT%H:%M:%S.%gZ')`,
    jsonText: (e) => `CAST(to_json(${e}) AS VARCHAR)`,
    bucketStart: (e, ms) => `(epoch_ms(${e}) // ${ms}) * ${ms}`,
    sampleList: (e, n, c) => `list_slice(list(DISTINCT ${e}) FILTER (WHERE ${c}), 1, ${n})`,
  },
  athena: {
    isoText: (e) => `to_iso8601(${e})`,
    jsonText: (e) => `json_format(CAST(${e} AS JSON))`,
    bucketStart: (e, ms) => `CAST(floor(to_unixtime(${e}) * 1000 / ${ms}) AS BIGINT) * ${ms}`,
    sampleList: (e, n, c) => `slice(array_agg(DISTINCT ${e}) FILTER (WHERE ${c}), 1, ${n})`,
  },
};

/**
 * Render a query. Validates it first.
 * @throws InputError when the query is invalid (naming the field and the value received).
 */
export function buildQuery(query: LogQuery, options: BuildOptions): BuiltQuery {
  validateQuery(query);
  if (options.tables.length === 0) throw new Error('buildQuery: no table to read');
  const built = query.kind === 'search' ? buildSearch(query, options) : buildAggregate(query, options);
  return { ...built, source: query };
}

function buildSearch(query: SearchQuery, options: BuildOptions): BuiltQuery {
  const d = DIALECT_SQL[options.dialect];
  const select = SEARCH_COLUMNS.map((c) => {
    const col = ident(c.name);
    if (c.kind === 'timestamp') return `${d.isoText(col)} AS ${col}`;
    if (c.kind === 'json') return `${d.jsonText(col)} AS ${col}`;
    return col;
  });
  const from = fromClause(query.filter, options.tables);
  const order = query.order === 'asc' ? 'ASC' : 'DESC';
  const sql = [
    `SELECT ${select.join(', ')}`,
    from.sql,
    `ORDER BY "timestamp" ${order}, "ingest_time" ${order}`,
    query.limit === undefined ? '' : `LIMIT ${query.limit}`,
  ]
    .filter(Boolean)
    .join('\n');
  return { dialect: options.dialect, sql, params: from.params, columns: SEARCH_COLUMNS };
}

function buildAggregate(query: AggregateQuery, options: BuildOptions): BuiltQuery {
  const d = DIALECT_SQL[options.dialect];
  const groups = query.groupBy ?? [];
  const select: string[] = [];
  const columns: ResultColumn[] = [];
  for (const g of groups) {
    select.push(ident(g));
    columns.push({ name: g, kind: g === 'http_status' ? 'number' : 'string' });
  }
  if (query.bucketMs !== undefined) {
    select.push(`${d.bucketStart('"timestamp"', query.bucketMs)} AS "bucket_start"`);
    columns.push({ name: 'bucket_start', kind: 'timestamp' });
  }
  const keyCount = select.length;
  const isError = `"level" IN (${ERROR_LEVELS.map((l) => `'${l}'`).join(', ')})`;
  const count = 'count(*)';
  const errors = `count_if(${isError})`;
  const errorRate = `CAST(${errors} AS DOUBLE) / ${count}`;
  select.push(
    `${count} AS "count"`,
    `${errors} AS "errors"`,
    `${errorRate} AS "error_rate"`,
    `${d.isoText('min("timestamp")')} AS "first_seen"`,
    `${d.isoText('max("timestamp")')} AS "last_seen"`,
  );
  columns.push(
    { name: 'count', kind: 'number' },
    { name: 'errors', kind: 'number' },
    { name: 'error_rate', kind: 'number' },
    { name: 'first_seen', kind: 'timestamp' },
    { name: 'last_seen', kind: 'timestamp' },
  );
  if (query.samples) {
    const levels = query.sampleLevels;
    const condition = [
      '"correlation_id" IS NOT NULL',
      ...(levels?.length ? [`"level" IN (${levels.map((l) => `'${l}'`).join(', ')})`] : []),
    ].join(' AND ');
    select.push(
      `${d.jsonText(d.sampleList('"correlation_id"', query.samples, condition))} AS "sample_correlation_ids"`,
    );
    columns.push({ name: 'sample_correlation_ids', kind: 'json' });
  }
  const from = fromClause(query.filter, options.tables);
  const having = [
    ...(query.minCount !== undefined ? [`${count} >= ${query.minCount}`] : []),
    ...(query.minErrorRate !== undefined ? [`${errorRate} >= ${query.minErrorRate}`] : []),
  ];
  const positions = Array.from({ length: keyCount }, (_, i) => String(i + 1));
  const orderBy = query.orderBy ?? (query.bucketMs !== undefined ? 'bucket' : 'count');
  const order: string[] = {
    count: ['"count" DESC', ...positions],
    errors: ['"errors" DESC', '"count" DESC', ...positions],
    error_rate: ['"error_rate" DESC', '"count" DESC', ...positions],
    bucket: ['"bucket_start"', ...positions.filter((p) => Number(p) <= groups.length)],
    group: positions.length ? positions : ['"count" DESC'],
  }[orderBy];
  const sql = [
    `SELECT ${select.join(', ')}`,
    from.sql,
    keyCount ? `GROUP BY ${positions.join(', ')}` : '',
    having.length ? `HAVING ${having.join(' AND ')}` : '',
    `ORDER BY ${order.join(', ')}`,
    query.limit === undefined ? '' : `LIMIT ${query.limit}`,
  ]
    .filter(Boolean)
    .join('\n');
  return { dialect: options.dialect, sql, params: from.params, columns };
}

/** `FROM t WHERE …` for one table; a UNION ALL of filtered tables for several. */
function fromClause(filter: LogFilter, tables: readonly TableRef[]): { sql: string; params: string[] } {
  const where = whereClause(filter);
  const [only] = tables;
  if (tables.length === 1 && only) {
    return { sql: `FROM ${tableName(only)}\nWHERE ${where.sql}`, params: where.params };
  }
  const branches = tables.map((t) => `SELECT * FROM ${tableName(t)} WHERE ${where.sql}`);
  return {
    sql: `FROM (\n  ${branches.join('\n  UNION ALL\n  ')}\n) AS "t"`,
    params: tables.flatMap(() => where.params),
  };
}

function tableName(t: TableRef): string {
  return t.database === undefined ? quoteIdent(t.table) : `${quoteIdent(t.database)}.${quoteIdent(t.table)}`;
}

/** The filter as a conjunction of predicates with `?` placeholders. */
export function whereClause(filter: LogFilter): { sql: string; params: string[] } {
  const parts: string[] = [];
  const params: string[] = [];
  const add = (sql: string, ...values: string[]) => {
    parts.push(sql);
    params.push(...values);
  };
  const since = filter.since;
  // The last millisecond inside the range decides the last partition.
  const last = new Date(filter.until.getTime() - 1);
  const [d0, h0, d1, h1] = [utcDate(since), utcHour(since), utcDate(last), utcHour(last)];
  add('"dt" BETWEEN ? AND ?', d0, d1);
  add('("dt" > ? OR "hour" >= ?)', d0, h0);
  add('("dt" < ? OR "hour" <= ?)', d1, h1);
  add('"timestamp" >= CAST(? AS TIMESTAMP)', sqlTimestamp(since));
  add('"timestamp" < CAST(? AS TIMESTAMP)', sqlTimestamp(filter.until));
  if (filter.categories) add(`"category" IN (${marks(filter.categories)})`, ...filter.categories);
  if (filter.levels) add(`"level" IN (${marks(filter.levels)})`, ...filter.levels);
  if (filter.services) add(`"service" IN (${marks(filter.services)})`, ...filter.services);
  if (filter.userIds) add(`"user_id" IN (${marks(filter.userIds)})`, ...filter.userIds);
  if (filter.correlationId !== undefined) add('"correlation_id" = ?', filter.correlationId);
  if (filter.traceId !== undefined) add('"trace_id" = ?', filter.traceId);
  // strpos instead of LIKE: the text is matched literally, so `%` and `_` need no escaping.
  if (filter.text !== undefined && filter.text !== '')
    add('strpos(lower("message"), lower(?)) > 0', filter.text);
  return { sql: parts.join(' AND '), params };
}

function marks(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}

function ident(name: string): string {
  return `"${name}"`;
}

/**
 * Athena execution parameters are SQL literals, not raw values: a string must arrive quoted, with its
 * quotes doubled. This is the one place that does it.
 */
export function athenaExecutionParameters(params: readonly string[]): string[] {
  return params.map((p) => `'${p.replaceAll("'", "''")}'`);
}
