/**
 * Column types of the lake, derived from `RECORD_COLUMNS` / `PARTITION_COLUMNS` in `src/schema.ts` so the
 * DuckDB schema, the Glue table and the query results cannot drift apart.
 */
import { InputError } from '../errors';
import { PARTITION_COLUMNS, RECORD_COLUMNS } from '../schema';

/** Translate a Glue/Hive column type (`string`, `map<string,int>`, `array<string>`, …) to DuckDB's. */
export function duckdbType(hiveType: string): string {
  const t = hiveType.replace(/\s+/g, '').toLowerCase();
  const primitive: Record<string, string> = {
    string: 'VARCHAR',
    timestamp: 'TIMESTAMP',
    double: 'DOUBLE',
    float: 'FLOAT',
    int: 'INTEGER',
    bigint: 'BIGINT',
    boolean: 'BOOLEAN',
    date: 'DATE',
  };
  const p = primitive[t];
  if (p) return p;
  const array = /^array<(.+)>$/.exec(t);
  if (array?.[1]) return `${duckdbType(array[1])}[]`;
  const map = /^map<([a-z]+),(.+)>$/.exec(t);
  if (map?.[1] && map[2]) return `MAP(${duckdbType(map[1])}, ${duckdbType(map[2])})`;
  throw new InputError(`no DuckDB type for Hive type ${JSON.stringify(hiveType)}`);
}

/** `"name" TYPE, …` for every record column, in schema order. */
export function duckdbRecordColumns(): Array<{ name: string; type: string }> {
  return RECORD_COLUMNS.map((c) => ({ name: c.name, type: duckdbType(c.type) }));
}

/** DuckDB `hive_types` struct literal: partition values stay strings (`hour=05` is not the number 5). */
export function duckdbHiveTypes(): string {
  return `{${PARTITION_COLUMNS.map((c) => `'${c.name}': '${duckdbType(c.type)}'`).join(', ')}}`;
}

/** How a result column is decoded into a JS value, whatever the engine returned (native value or text). */
export type ColumnKind = 'string' | 'number' | 'timestamp' | 'json' | 'boolean';

export interface ResultColumn {
  /** The column's name in the SQL result (an alias the builder chose, never text a user typed). */
  readonly name: string;
  readonly kind: ColumnKind;
  /** What the column is called in output (`attributes.model`, `p95(duration_ms)`). @default name */
  readonly label?: string;
  /** An aggregate's value (`--agg`), as opposed to a group key or a fixed measure. @default false */
  readonly aggregate?: boolean;
}

/** Result columns of a search: every record column plus `category`. */
export const SEARCH_COLUMNS: readonly ResultColumn[] = [
  ...RECORD_COLUMNS.map((c) => ({ name: c.name, kind: kindOf(c.type) })),
  { name: 'category', kind: 'string' as const },
];

function kindOf(hiveType: string): ColumnKind {
  if (hiveType === 'timestamp') return 'timestamp';
  if (hiveType === 'double' || hiveType === 'int' || hiveType === 'bigint') return 'number';
  if (hiveType.startsWith('map<') || hiveType.startsWith('array<')) return 'json';
  return 'string';
}

/** Double-quoted SQL identifier. Only names matching `[A-Za-z0-9_-]+` are accepted: they cannot break out. */
export function quoteIdent(name: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_-]{0,254}$/.test(name)) {
    throw new InputError(
      `not a valid table or database name: ${JSON.stringify(name)} (letters, digits, _ and - only)`,
    );
  }
  return `"${name}"`;
}
