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
  ].join('\n');
}

/** Rows written and rows in the listed sources, in one query: `written`, `source`. */
export function compactionCountSql(t: CompactionSqlTarget): string {
  return [
    `SELECT (SELECT count(*) FROM ${table(t.database, t.tempTable)}) AS "written",`,
    `  (SELECT count(*) FROM ${table(t.database, t.table)} WHERE ${sourcePredicate(t)}) AS "source"`,
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
