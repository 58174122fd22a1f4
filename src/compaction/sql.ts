/**
 * The Athena (Trino) statements of the S3 compaction. Every value written into them comes from the
 * compaction's own listing (partition values, object URIs, run ids), never from a user, and is checked
 * against a strict pattern before it is quoted as a literal.
 */
import { quoteIdent } from '../query/columns';
import { RECORD_COLUMNS } from '../schema';

/** One category-hour of a table. */
export interface SqlPartition {
  readonly category: string;
  readonly dt: string;
  readonly hour: string;
}

export interface CompactionSqlTarget {
  /** Glue database. */
  readonly database: string;
  /** The lake table the sources belong to (`logs`). */
  readonly table: string;
  /** The temporary table the rewrite creates (`compaction_<run>`). */
  readonly tempTable: string;
  readonly partition: SqlPartition;
  /** `"$path"` of every source object, exactly as the engine reports it (`s3://bucket/key`). */
  readonly sources: readonly string[];
  /**
   * A purge (`subject erase --purge`): the rewrite leaves out every row carrying this stored pseudonym
   * ({@link subjectRowSql}), and the count query also counts those rows.
   */
  readonly without?: string;
}

const PARTITION = {
  category: /^[a-z][a-z0-9_]{0,62}$/,
  dt: /^\d{4}-\d{2}-\d{2}$/,
  hour: /^(?:[01]\d|2[0-3])$/,
};
/** URIs of objects the compaction listed: a scheme, then key characters S3 and Firehose use. */
const URI = /^[a-z0-9]+:\/\/[A-Za-z0-9!._*'()/=+:-]+$/;

/** A SQL string literal of a value matching `pattern`. */
function literal(value: string, pattern: RegExp, what: string): string {
  if (!pattern.test(value)) throw new Error(`compaction SQL: refusing ${what} ${JSON.stringify(value)}`);
  return `'${value.replaceAll("'", "''")}'`;
}

function table(database: string, name: string): string {
  return `${quoteIdent(database)}.${quoteIdent(name)}`;
}

/** `category = … AND dt = … AND hour = … AND "$path" IN (…)`: exactly the listed objects. */
function sourcePredicate(t: CompactionSqlTarget): string {
  if (t.sources.length === 0) throw new Error('compaction SQL: no source objects');
  const p = t.partition;
  return [
    `"category" = ${literal(p.category, PARTITION.category, 'category')}`,
    `"dt" = ${literal(p.dt, PARTITION.dt, 'dt')}`,
    `"hour" = ${literal(p.hour, PARTITION.hour, 'hour')}`,
    `"$path" IN (${t.sources.map((s) => literal(s, URI, 'object URI')).join(', ')})`,
  ].join('\n  AND ');
}

/** A stored pseudonym (`u_` + 32 hex): the only text a purge predicate is built from. */
const PSEUDONYM = /^u_[0-9a-f]{32}$/;

/**
 * The Athena (Trino) predicate of the rows carrying `pseudonym` anywhere: the `user_id` column, any text
 * column (prose the transform pseudonymized: "user 1001 logged in"), any key or value of the maps and
 * any item of the arrays, as the local purge looks through the whole row. A pseudonym is 128 bits of
 * HMAC, so no one else's row holds it by chance. Every term is coalesced to false, so the predicate is
 * never NULL and its negation keeps every other row (a NULL would silently drop a row from the rewrite).
 */
export function subjectRowSql(pseudonym: string): string {
  const p = literal(pseudonym, PSEUDONYM, 'pseudonym');
  const terms = RECORD_COLUMNS.flatMap((c): string[] => {
    const col = `"${c.name}"`;
    if (c.type === 'string') return [c.name === 'user_id' ? `${col} = ${p}` : `strpos(${col}, ${p}) > 0`];
    const has = (list: string) => `any_match(${list}, v -> strpos(v, ${p}) > 0)`;
    if (c.type === 'map<string,string>') return [has(`map_keys(${col})`), has(`map_values(${col})`)];
    if (c.type.startsWith('map<string,')) return [has(`map_keys(${col})`)];
    if (c.type === 'array<string>') return [has(col)];
    return [];
  });
  return `(${terms.map((t) => `coalesce(${t}, false)`).join('\n    OR ')})`;
}

/**
 * CREATE TABLE AS SELECT writing the sources' rows as Parquet into `location`. One bucket makes one file
 * whatever the engine's parallelism; the partition columns stay in the path, as Firehose writes them. No
 * ORDER BY: Athena ignores it in a CTAS (and Trino drops it), so unlike the local compaction the object is
 * not sorted; what it buys is one object per hour instead of dozens. Compression is left to Athena's CTAS
 * default for Parquet (the property is named differently on Trino, so naming it would split the SQL).
 */
export function compactionCtas(t: CompactionSqlTarget, location: string): string {
  const columns = RECORD_COLUMNS.map((c) => `"${c.name}"`).join(', ');
  return [
    `CREATE TABLE ${table(t.database, t.tempTable)}`,
    `WITH (format = 'PARQUET', external_location = ${literal(location, URI, 'location')}, bucketed_by = ARRAY['service'], bucket_count = 1)`,
    `AS SELECT ${columns}`,
    `FROM ${table(t.database, t.table)}`,
    `WHERE ${sourcePredicate(t)}`,
    ...(t.without !== undefined ? [`  AND NOT ${subjectRowSql(t.without)}`] : []),
  ].join('\n');
}

/**
 * Rows written and rows in the listed sources, in one query: `written`, `source`; for a purge also the
 * person's rows in the sources (`removed`) and in what was written (`left`, which must be 0).
 */
export function compactionCountSql(t: CompactionSqlTarget): string {
  const lines = [
    `SELECT (SELECT count(*) FROM ${table(t.database, t.tempTable)}) AS "written",`,
    `  (SELECT count(*) FROM ${table(t.database, t.table)} WHERE ${sourcePredicate(t)}) AS "source"`,
  ];
  if (t.without !== undefined) {
    const person = subjectRowSql(t.without);
    lines[1] += ',';
    lines.push(
      `  (SELECT count(*) FROM ${table(t.database, t.table)} WHERE ${sourcePredicate(t)} AND ${person}) AS "removed",`,
      `  (SELECT count(*) FROM ${table(t.database, t.tempTable)} WHERE ${person}) AS "left"`,
    );
  }
  return lines.join('\n');
}

export interface PurgeFindTarget {
  readonly database: string;
  readonly table: string;
  /** The categories to look in (the unlocked ones). */
  readonly categories: readonly string[];
  /** The earliest `dt` to look at: the partitions before it are expired (a bound on the scan). */
  readonly since: string;
  readonly pseudonym: string;
  /** At most this many objects (the rest are found by the next run). */
  readonly limit: number;
}

/**
 * The objects holding the person's rows, with their partition and the person's row count there:
 * `path`, `category`, `dt`, `hour`, `rows`. Partition-pruned to the categories and days given.
 */
export function purgeFindSql(t: PurgeFindTarget): string {
  if (t.categories.length === 0) throw new Error('purge SQL: no category');
  if (!Number.isInteger(t.limit) || t.limit < 1) throw new Error(`purge SQL: limit ${t.limit}`);
  return [
    `SELECT "$path" AS "path", "category", "dt", "hour", count(*) AS "rows"`,
    `FROM ${table(t.database, t.table)}`,
    `WHERE "category" IN (${t.categories.map((c) => literal(c, PARTITION.category, 'category')).join(', ')})`,
    `  AND "dt" >= ${literal(t.since, PARTITION.dt, 'dt')}`,
    `  AND ${subjectRowSql(t.pseudonym)}`,
    'GROUP BY "$path", "category", "dt", "hour"',
    'ORDER BY "category", "dt", "hour", "$path"',
    `LIMIT ${t.limit}`,
  ].join('\n');
}

/**
 * Drop the temporary table (its data stays: external table; the compaction deletes it). Athena runs DDL
 * as Hive DDL, where identifiers are quoted with backticks and Trino's double quotes are an error, so
 * the names are checked to need no quotes at all.
 */
export function dropTableSql(database: string, tempTable: string): string {
  for (const name of [database, tempTable]) {
    if (!/^[a-z_][a-z0-9_]{0,254}$/.test(name))
      throw new Error(`compaction SQL: refusing table name ${name}`);
  }
  return `DROP TABLE IF EXISTS ${database}.${tempTable}`;
}
