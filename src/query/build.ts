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
import { LEVELS, type Level, RECORD_COLUMNS } from '../schema';
import { sqlTimestamp, utcDate, utcHour } from '../time';
import { quoteIdent, type ResultColumn, SEARCH_COLUMNS } from './columns';
import {
  type Aggregate,
  aggregateLabel,
  type CompareOp,
  type Condition,
  type FieldRef,
  type FieldType,
  fieldLabel,
  fieldType,
  levelRank,
  PERCENTILES,
  typedCondition,
} from './fields';
import {
  type AggregateQuery,
  CONTEXT_PAD_MS,
  type ContextQuery,
  type Dialect,
  ERROR_LEVELS,
  groupField,
  groupLabel,
  type LogFilter,
  type LogQuery,
  type PatternsQuery,
  type SearchQuery,
  validateQuery,
} from './model';
import { enginePattern } from './regex';

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

/** The partitions a query can match: its time range (`until` exclusive) and optionally its categories. */
export interface PartitionScope {
  readonly since: Date;
  readonly until: Date;
  readonly categories?: readonly string[];
}

/** SQL ready to run: `?` placeholders and their values, in order. */
export interface BuiltQuery {
  readonly dialect: Dialect;
  readonly sql: string;
  /** Values of the `?` placeholders, in order. All are strings (timestamps are cast in SQL). */
  readonly params: readonly string[];
  /** Result columns in order, with how to decode each. */
  readonly columns: readonly ResultColumn[];
  /**
   * The partitions the WHERE clause can match, so the local reader lists only those directories.
   * Absent: every partition.
   */
  readonly scope?: PartitionScope;
  /** The query it was built from: the access audit records its kind and filter. @default none (hand-written SQL) */
  readonly source?: LogQuery;
  /**
   * What a hand-written query reads, for the access audit when there is no {@link source} (the compliance
   * report's own reads: `scan`, and the categories and period its WHERE clause keeps).
   * @default kind `sql`, every category, no filter
   */
  readonly reads?: { readonly kind: string; readonly filter: LogFilter };
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
  /** The value of a map column under the key bound to the one `?`, usable in a WHERE clause; NULL when absent. */
  mapValueWhere(column: string): string;
  /**
   * The same outside WHERE (a SELECT list), for the map key `key`. Athena takes execution parameters
   * only in WHERE clauses ("Syntax like SELECT ? FROM table is not supported"), and Trino rejects the
   * correlated subquery over the map's entries that would move the key into a WHERE; so on Athena the
   * key is a string literal, quoted by {@link sqlString} (a Trino string literal has no escape but the
   * doubled quote). DuckDB binds it.
   */
  mapValueSelect(column: string, key: string): Sql;
  /**
   * The text `expr` as a double, NULL when it is not a plain decimal number ({@link NUMERIC_TEXT}):
   * DuckDB's cast alone also reads `1_000`, `inf` and `nan`, which Athena's does not.
   */
  toDouble(expr: string): string;
  /** `expr` matches the regular expression bound to the one `?`. */
  regexMatch(expr: string): string;
  /** Percentile `fraction` of the numeric `expr`. */
  percentile(expr: string, fraction: number): string;
}

/**
 * A number written as text the way `--where` reads one (fields.ts): decimal, optional sign, fraction and
 * exponent, surrounding spaces allowed. A regular expression both engines read alike.
 */
const NUMERIC_TEXT = String.raw`\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*`;

const DIALECT_SQL: Record<Dialect, SqlDialect> = {
  duckdb: {
    isoText: (e) => `strftime(${e}, '%Y-%m-%dT%H:%M:%S.%gZ')`,
    jsonText: (e) => `CAST(to_json(${e}) AS VARCHAR)`,
    bucketStart: (e, ms) => `(epoch_ms(${e}) // ${ms}) * ${ms}`,
    sampleList: (e, n, c) => `list_slice(list(DISTINCT ${e}) FILTER (WHERE ${c}), 1, ${n})`,
    mapValueWhere: (c) => `${c}[?]`,
    mapValueSelect: (c, key) => ({ sql: `${c}[?]`, params: [key] }),
    // `expr` once: it may hold a bound `?` (a map key). No match extracts '', which casts to NULL.
    toDouble: (e) => `TRY_CAST(regexp_extract(${e}, '^${NUMERIC_TEXT}$', 0) AS DOUBLE)`,
    regexMatch: (e) => `regexp_matches(${e}, ?)`,
    // Exact, interpolated between the two nearest values, as Athena's approx_percentile (a t-digest)
    // approximates it.
    percentile: (e, f) => `quantile_cont(${e}, ${f})`,
  },
  athena: {
    isoText: (e) => `to_iso8601(${e})`,
    jsonText: (e) => `json_format(CAST(${e} AS JSON))`,
    bucketStart: (e, ms) => `CAST(floor(to_unixtime(${e}) * 1000 / ${ms}) AS BIGINT) * ${ms}`,
    sampleList: (e, n, c) => `slice(array_agg(DISTINCT ${e}) FILTER (WHERE ${c}), 1, ${n})`,
    mapValueWhere: (c) => `element_at(${c}, ?)`,
    mapValueSelect: (c, key) => ({ sql: `element_at(${c}, ${sqlString(key)})`, params: [] }),
    // No match extracts NULL.
    toDouble: (e) => `try_cast(trim(regexp_extract(${e}, '^${NUMERIC_TEXT}$')) AS DOUBLE)`,
    regexMatch: (e) => `regexp_like(${e}, ?)`,
    percentile: (e, f) => `approx_percentile(${e}, ${f})`,
  },
};

/** A piece of SQL and the values of its `?` placeholders, in order. */
interface Sql {
  readonly sql: string;
  readonly params: readonly string[];
}

/**
 * Render a query. Validates it first.
 * @throws InputError when the query is invalid (naming the field and the value received).
 */
export function buildQuery(query: LogQuery, options: BuildOptions): BuiltQuery {
  validateQuery(query);
  if (options.tables.length === 0) throw new Error('buildQuery: no table to read');
  const built = { ...buildByKind(query, options), source: query };
  const { categories } = query.filter;
  // A context query reads its neighbours in the filter's range widened on each side (its hits lie inside).
  const pad = query.kind === 'context' ? CONTEXT_PAD_MS : 0;
  const since = new Date(query.filter.since.getTime() - pad);
  const until = new Date(query.filter.until.getTime() + pad);
  return { ...built, scope: { since, until, ...(categories ? { categories } : {}) } };
}

function buildByKind(query: LogQuery, options: BuildOptions): BuiltQuery {
  switch (query.kind) {
    case 'search':
      return buildSearch(query, options);
    case 'aggregate':
      return buildAggregate(query, options);
    case 'context':
      return buildContext(query, options);
    case 'patterns':
      return buildPatterns(query, options);
  }
}

/** The select list of a search: every record column plus `category`, timestamps and maps as text. */
function searchSelect(d: SqlDialect): string[] {
  return SEARCH_COLUMNS.map((c) => {
    const col = ident(c.name);
    if (c.kind === 'timestamp') return `${d.isoText(col)} AS ${col}`;
    if (c.kind === 'json') return `${d.jsonText(col)} AS ${col}`;
    return col;
  });
}

function buildSearch(query: SearchQuery, options: BuildOptions): BuiltQuery {
  const d = DIALECT_SQL[options.dialect];
  const from = fromClause(query.filter, options);
  const order = query.order === 'asc' ? 'ASC' : 'DESC';
  const sql = [
    `SELECT ${searchSelect(d).join(', ')}`,
    from.sql,
    `ORDER BY "timestamp" ${order}, "ingest_time" ${order}`,
    query.limit === undefined ? '' : `LIMIT ${query.limit}`,
  ]
    .filter(Boolean)
    .join('\n');
  return { dialect: options.dialect, sql, params: from.params, columns: SEARCH_COLUMNS };
}

function resultKind(type: FieldType): ResultColumn['kind'] {
  return type === 'number' ? 'number' : type === 'timestamp' ? 'timestamp' : 'string';
}

function buildAggregate(query: AggregateQuery, options: BuildOptions): BuiltQuery {
  const d = DIALECT_SQL[options.dialect];
  const groups = (query.groupBy ?? []).map((key) => ({ label: groupLabel(key), field: groupField(key) }));
  const aggregates = query.aggregates ?? [];
  // Fields read from maps are computed once each in an inner projection, so the groups, aggregates
  // and their filters refer to them by alias.
  const derived = new Map<string, { alias: string; sql: string; params: readonly string[] }>();
  const fieldSql = (field: FieldRef): string => {
    if (field.key === undefined) return ident(field.column);
    const label = fieldLabel(field);
    let entry = derived.get(label);
    if (entry === undefined) {
      entry = { alias: `f${derived.size}`, ...d.mapValueSelect(ident(field.column), field.key) };
      derived.set(label, entry);
    }
    return ident(entry.alias);
  };
  const select: string[] = [];
  const columns: ResultColumn[] = [];
  groups.forEach((g, i) => {
    const type = fieldType(g.field);
    const expr = fieldSql(g.field);
    // Classic group columns keep their names as result columns; others get a positional alias.
    const alias = g.field.key === undefined ? g.field.column : `g${i}`;
    select.push(`${type === 'timestamp' ? d.isoText(expr) : expr} AS ${ident(alias)}`);
    columns.push({ name: alias, kind: resultKind(type), label: g.label });
  });
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
  aggregates.forEach((a, i) => {
    const rendered = aggregateSql(a, d, fieldSql);
    select.push(`${rendered.sql} AS ${ident(`a${i}`)}`);
    columns.push({ name: `a${i}`, kind: rendered.kind, label: aggregateLabel(a), aggregate: true });
  });
  const from = fromClause(query.filter, options);
  const source: Sql =
    derived.size === 0
      ? from
      : {
          sql: `FROM (\n  SELECT *, ${[...derived.values()].map((e) => `${e.sql} AS ${ident(e.alias)}`).join(', ')}\n  ${from.sql.replaceAll('\n', '\n  ')}\n) AS "r"`,
          params: [...[...derived.values()].flatMap((e) => e.params), ...from.params],
        };
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
    source.sql,
    keyCount ? `GROUP BY ${positions.join(', ')}` : '',
    having.length ? `HAVING ${having.join(' AND ')}` : '',
    `ORDER BY ${order.join(', ')}`,
    query.limit === undefined ? '' : `LIMIT ${query.limit}`,
  ]
    .filter(Boolean)
    .join('\n');
  return { dialect: options.dialect, sql, params: source.params, columns };
}

/** One `--agg` as SQL, with how its result decodes. */
function aggregateSql(
  a: Aggregate,
  d: SqlDialect,
  fieldSql: (f: FieldRef) => string,
): { sql: string; kind: ResultColumn['kind'] } {
  if (a.field === undefined) return { sql: 'count(*)', kind: 'number' };
  const type = fieldType(a.field);
  const expr = fieldSql(a.field);
  // Text fields (attributes.tokens) are read as numbers where a number is needed; others are left out.
  const numeric = type === 'number' ? `CAST(${expr} AS DOUBLE)` : d.toDouble(expr);
  const fraction = PERCENTILES[a.fn];
  if (fraction !== undefined) return { sql: d.percentile(numeric, fraction), kind: 'number' };
  switch (a.fn) {
    case 'count':
      return { sql: `count(${expr})`, kind: 'number' };
    case 'distinct':
      return { sql: `count(DISTINCT ${expr})`, kind: 'number' };
    case 'sum':
      return { sql: `sum(${numeric})`, kind: 'number' };
    case 'avg':
      return { sql: `avg(${numeric})`, kind: 'number' };
    default: {
      const fn = a.fn === 'min' ? 'min' : 'max';
      if (type === 'timestamp') return { sql: d.isoText(`${fn}(${expr})`), kind: 'timestamp' };
      return { sql: `${fn}(${expr})`, kind: resultKind(type) };
    }
  }
}

/** Result columns a context query adds to the search columns. */
export const CONTEXT_COLUMNS: readonly ResultColumn[] = [
  { name: 'context_key', kind: 'string' },
  { name: 'context_rank', kind: 'number' },
  { name: 'context_hit', kind: 'boolean' },
];

function buildContext(query: ContextQuery, options: BuildOptions): BuiltQuery {
  const d = DIALECT_SQL[options.dialect];
  const key = ident(query.by ?? 'service');
  const limit = query.limit ?? 100;
  const hits = fromClause(query.filter, options);
  // Neighbours: the same categories (a persona's scope), a wider time range, any level, text or field.
  const around = fromClause(
    {
      since: new Date(query.filter.since.getTime() - CONTEXT_PAD_MS),
      until: new Date(query.filter.until.getTime() + CONTEXT_PAD_MS),
      ...(query.filter.categories ? { categories: query.filter.categories } : {}),
    },
    options,
  );
  // Athena (Trino) inlines every reference to a WITH query, and bills each read: so each is referenced
  // once, and the lake is read twice, the hits' range and the widened one. The hits' own rows are found
  // in the widened range by value (the filter's values stay bound in WHERE clauses, as Athena requires);
  // window functions then give each row its place in its key's timeline and mark the rows near a hit
  // (one within `after` rows before it or `before` rows after it).
  const hitColumns = [
    'timestamp',
    'ingest_time',
    'message',
    'category',
    'correlation_id',
    'service',
    'level',
  ];
  const same = (column: string) => `r.${ident(column)} IS NOT DISTINCT FROM h.${ident(column)}`;
  const sql = [
    'WITH "hits" AS (',
    `  SELECT DISTINCT ${hitColumns.map(ident).join(', ')} FROM (`,
    `    SELECT * ${hits.sql.replaceAll('\n', '\n    ')}`,
    `    ORDER BY "timestamp" DESC, "ingest_time" DESC`,
    `    LIMIT ${limit}`,
    '  ) AS "newest"',
    '), "ranked" AS (',
    `  SELECT *, row_number() OVER (PARTITION BY ${key} ORDER BY "timestamp", "ingest_time", "message") AS "context_rank"`,
    `  ${around.sql.replaceAll('\n', '\n  ')}`,
    '), "marked" AS (',
    '  SELECT r.*, h."timestamp" IS NOT NULL AS "context_hit"',
    `  FROM "ranked" AS r LEFT JOIN "hits" AS h ON ${hitColumns.map(same).join(' AND ')}`,
    '), "near" AS (',
    `  SELECT *, max(CASE WHEN "context_hit" THEN 1 ELSE 0 END) OVER (PARTITION BY ${key} ORDER BY "context_rank" ROWS BETWEEN ${query.after} PRECEDING AND ${query.before} FOLLOWING) AS "context_near"`,
    '  FROM "marked"',
    ')',
    // A hit without a key value has no neighbours to share it with: it stands alone.
    `SELECT ${searchSelect(d).join(', ')}, ${key} AS "context_key", CASE WHEN ${key} IS NULL THEN NULL ELSE "context_rank" END AS "context_rank", "context_hit"`,
    'FROM "near"',
    `WHERE CASE WHEN ${key} IS NULL THEN "context_hit" ELSE "context_near" = 1 END`,
    'ORDER BY "context_key", "context_rank", "timestamp"',
  ].join('\n');
  return {
    dialect: options.dialect,
    sql,
    params: [...hits.params, ...around.params],
    columns: [...SEARCH_COLUMNS, ...CONTEXT_COLUMNS],
  };
}

/** Result columns of a patterns query. */
export const PATTERN_COLUMNS: readonly ResultColumn[] = [
  { name: 'template', kind: 'string' },
  { name: 'message', kind: 'string' },
  { name: 'count', kind: 'number' },
  { name: 'first_seen', kind: 'timestamp' },
  { name: 'last_seen', kind: 'timestamp' },
  { name: 'example', kind: 'string' },
];

function buildPatterns(query: PatternsQuery, options: BuildOptions): BuiltQuery {
  const d = DIALECT_SQL[options.dialect];
  const from = fromClause(query.filter, options);
  const examples = query.examples ?? true;
  const sql = [
    'SELECT "message_template" AS "template",',
    // Events written before the template column existed: grouped by message, masked by the caller.
    '  CASE WHEN "message_template" IS NULL THEN "message" END AS "message",',
    `  count(*) AS "count", ${d.isoText('min("timestamp")')} AS "first_seen", ${d.isoText('max("timestamp")')} AS "last_seen",`,
    `  ${examples ? 'min("message")' : 'CAST(NULL AS VARCHAR)'} AS "example"`,
    from.sql,
    'GROUP BY 1, 2',
    'ORDER BY "count" DESC, 1, 2',
    `LIMIT ${query.limit ?? 10_000}`,
  ].join('\n');
  return { dialect: options.dialect, sql, params: from.params, columns: PATTERN_COLUMNS };
}

/**
 * `FROM t WHERE …` for one table; a UNION ALL of filtered tables for several. `extra` is one more
 * predicate without parameters (the builder's own SQL).
 */
function fromClause(filter: LogFilter, options: BuildOptions, extra?: string): Sql {
  const where = whereClause(filter, options.dialect);
  const predicate = extra === undefined ? where.sql : `${where.sql} AND ${extra}`;
  const tables = options.tables;
  const [only] = tables;
  if (tables.length === 1 && only) {
    return { sql: `FROM ${tableName(only)}\nWHERE ${predicate}`, params: where.params };
  }
  const branches = tables.map((t) => `SELECT * FROM ${tableName(t)} WHERE ${predicate}`);
  return {
    sql: `FROM (\n  ${branches.join('\n  UNION ALL\n  ')}\n) AS "t"`,
    params: tables.flatMap(() => where.params),
  };
}

function tableName(t: TableRef): string {
  return t.database === undefined ? quoteIdent(t.table) : `${quoteIdent(t.database)}.${quoteIdent(t.table)}`;
}

/** Columns free text and `--regex` look in. */
export const TEXT_COLUMNS = ['message', 'stack_trace'] as const;

/** The filter as a conjunction of predicates with `?` placeholders. */
export function whereClause(filter: LogFilter, dialect: Dialect): { sql: string; params: string[] } {
  const d = DIALECT_SQL[dialect];
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
  if (filter.userIds) {
    if (filter.userIdsAnywhere) {
      const anywhere = filter.userIds.map((id) => pseudonymAnywhere(d, id));
      add(`(${anywhere.map((a) => a.sql).join(' OR ')})`, ...anywhere.flatMap((a) => a.params));
    } else {
      add(`"user_id" IN (${marks(filter.userIds)})`, ...filter.userIds);
    }
  }
  if (filter.correlationId !== undefined) add('"correlation_id" = ?', filter.correlationId);
  if (filter.traceId !== undefined) add('"trace_id" = ?', filter.traceId);
  const caseSensitive = filter.caseSensitive === true;
  if (filter.text !== undefined && filter.text !== '') {
    const text = filter.text;
    add(
      `(${TEXT_COLUMNS.map((c) => contains(ident(c), caseSensitive)).join(' OR ')})`,
      ...TEXT_COLUMNS.map(() => text),
    );
  }
  if (filter.regex !== undefined) {
    const pattern = enginePattern(filter.regex, caseSensitive, dialect);
    add(
      `(${TEXT_COLUMNS.map((c) => d.regexMatch(ident(c))).join(' OR ')})`,
      ...TEXT_COLUMNS.map(() => pattern),
    );
  }
  for (const c of filter.where ?? []) {
    const rendered = conditionSql(typedCondition(c), d, caseSensitive);
    add(rendered.sql, ...rendered.params);
  }
  if (filter.anyOf?.length) {
    const groups = filter.anyOf.map((g) => g.map((c) => conditionSql(typedCondition(c), d, caseSensitive)));
    add(
      `(${groups.map((g) => `(${g.map((c) => c.sql).join(' AND ')})`).join(' OR ')})`,
      ...groups.flatMap((g) => g.flatMap((c) => c.params)),
    );
  }
  return { sql: parts.join(' AND '), params };
}

/**
 * A row holding `pseudonym` in any column the transform may write one to: the `user_id` column, any
 * text column, any key or value of the maps or item of the arrays (in their JSON text, where a pseudonym,
 * `u_` and hex, appears as it is).
 */
function pseudonymAnywhere(d: SqlDialect, pseudonym: string): Sql {
  const terms = RECORD_COLUMNS.flatMap((c): string[] => {
    const col = ident(c.name);
    if (c.type === 'string') return [c.name === 'user_id' ? `${col} = ?` : `strpos(${col}, ?) > 0`];
    if (c.type.startsWith('map<') || c.type.startsWith('array<'))
      return [`strpos(${d.jsonText(col)}, ?) > 0`];
    return [];
  });
  return { sql: `(${terms.join(' OR ')})`, params: terms.map(() => pseudonym) };
}

// strpos instead of LIKE: the text is matched literally, so `%` and `_` need no escaping.
function contains(expr: string, caseSensitive: boolean): string {
  return caseSensitive ? `strpos(${expr}, ?) > 0` : `strpos(lower(${expr}), lower(?)) > 0`;
}

const SQL_OPS: Record<Exclude<CompareOp, '~'>, string> = {
  '=': '=',
  '!=': 'IS DISTINCT FROM',
  '>': '>',
  '>=': '>=',
  '<': '<',
  '<=': '<=',
};

/**
 * One typed condition as a predicate. `!=` is IS DISTINCT FROM, so an event without the field matches
 * it (`--where error_type!=Timeout` keeps events with no error type); ordering operators never match a
 * missing field.
 */
function conditionSql(c: Condition, d: SqlDialect, caseSensitive: boolean): Sql {
  const type = fieldType(c.field);
  const field =
    c.field.key === undefined
      ? { sql: ident(c.field.column), params: [] as string[] }
      : { sql: d.mapValueWhere(ident(c.field.column)), params: [c.field.key] };
  if (c.op === '~') {
    return { sql: contains(field.sql, caseSensitive), params: [...field.params, String(c.value)] };
  }
  const op = SQL_OPS[c.op];
  if (c.field.column === 'level' && c.field.key === undefined && c.op !== '=' && c.op !== '!=') {
    // Levels order by severity, not alphabetically: the ordering becomes the set of levels it admits.
    const rank = levelRank(c.value as Level);
    const admitted = LEVELS.filter((l) => {
      const r = levelRank(l);
      return c.op === '>' ? r > rank : c.op === '>=' ? r >= rank : c.op === '<' ? r < rank : r <= rank;
    });
    if (admitted.length === 0) return { sql: 'false', params: [] };
    return { sql: `"level" IN (${marks(admitted)})`, params: admitted };
  }
  if (c.value instanceof Date) {
    return {
      sql: `${field.sql} ${op} CAST(? AS TIMESTAMP)`,
      params: [...field.params, sqlTimestamp(c.value)],
    };
  }
  if (typeof c.value === 'number') {
    const lhs = type === 'number' ? field.sql : d.toDouble(field.sql);
    return { sql: `${lhs} ${op} CAST(? AS DOUBLE)`, params: [...field.params, String(c.value)] };
  }
  return { sql: `${field.sql} ${op} ?`, params: [...field.params, c.value] };
}

function marks(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}

function ident(name: string): string {
  return `"${name}"`;
}

/**
 * A Trino/Athena string literal of `value`: quoted, its quotes doubled (the only escape such a literal
 * has). This is the one place that quotes text into Athena SQL.
 */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** Athena execution parameters are SQL literals, not raw values: each string arrives quoted. */
export function athenaExecutionParameters(params: readonly string[]): string[] {
  return params.map(sqlString);
}
