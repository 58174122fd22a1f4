/**
 * Trino's `CREATE TABLE` for a Glue table as the stack synthesizes it (`lib/catalog.ts`, columns from
 * `RECORD_COLUMNS`; the CloudTrail trail's table of `lib/trail.ts`): the same columns, types, comments,
 * partition keys and partition projection parameters, with the S3 location moved to a `local:///`
 * directory. A Glue table parameter or storage format this translation does not know fails loudly: whoever
 * adds one decides how the Trino tier covers it.
 */

import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { LogLakeStack } from '../../lib/stack';
import { type LogLakeConfigOverride, resolveConfig } from '../../src/config';
import { sqlString } from '../../src/query/build';
import { cdkJsonContext } from '../infra/helpers';

export interface GlueColumn {
  readonly Name: string;
  readonly Type: string;
  readonly Comment?: string;
}

/** The parts of a synthesized `AWS::Glue::Table` the translation reads, S3 locations resolved. */
export interface GlueTable {
  readonly database: string;
  readonly name: string;
  readonly description?: string;
  readonly parameters: Readonly<Record<string, string>>;
  readonly partitionKeys: readonly GlueColumn[];
  readonly columns: readonly GlueColumn[];
  /** `s3://{bucket}/logs/` with the bucket reference left as `{bucket}`. */
  readonly location: string;
  readonly serde: string;
  readonly inputFormat: string;
}

const BUCKET = '{bucket}';

/**
 * The tables of a lake whose two streams share one directory tree (the local pipeline's layout; on AWS
 * the logs and audit buckets are two): the `logs` table projects only the categories the `audit` table
 * does not, as it reads a logs bucket without locked records a failed forward left there, so no row is
 * read by both tables.
 */
export function oneTreeTables(glue: Readonly<Record<string, GlueTable>>): Record<string, GlueTable> {
  const locked = new Set((glue.audit?.parameters['projection.category.values'] ?? '').split(','));
  return Object.fromEntries(
    Object.entries(glue).map(([name, table]) => {
      if (name !== 'logs' || locked.size === 0) return [name, table];
      const categories = (table.parameters['projection.category.values'] ?? '')
        .split(',')
        .filter((c) => !locked.has(c));
      return [
        name,
        { ...table, parameters: { ...table.parameters, 'projection.category.values': categories.join(',') } },
      ];
    }),
  );
}

/** The account and region the synthesized tables' `AWS::AccountId` and `AWS::Region` resolve to. */
export const SYNTH_ACCOUNT = '111122223333';
export const SYNTH_REGION = 'eu-west-1';
const PSEUDO: Record<string, string> = { 'AWS::AccountId': SYNTH_ACCOUNT, 'AWS::Region': SYNTH_REGION };

/**
 * Text of a CloudFormation value: the account and region pseudo parameters resolved, every other `Ref`
 * (a bucket name) replaced by `{bucket}`.
 */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('Ref' in v) return PSEUDO[v.Ref as string] ?? BUCKET;
    const join = v['Fn::Join'] as [string, unknown[]] | undefined;
    if (join) return join[1].map(text).join(join[0]);
  }
  throw new Error(`cannot resolve CloudFormation value ${JSON.stringify(value)}`);
}

/**
 * The Glue tables of the stack synthesized with the default config, or with `override` (bundling
 * skipped), by name.
 */
export function synthesizedGlueTables(override: LogLakeConfigOverride = {}): Record<string, GlueTable> {
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
  const stack = new LogLakeStack(app, 'LogLake', { config: resolveConfig(override) });
  const resources = Template.fromStack(stack).findResources('AWS::Glue::Table') as Record<
    string,
    { Properties: { DatabaseName: unknown; TableInput: Record<string, unknown> } }
  >;
  const tables: Record<string, GlueTable> = {};
  for (const { Properties: p } of Object.values(resources)) {
    const input = p.TableInput as {
      Name: string;
      Description?: string;
      Parameters: Record<string, unknown>;
      PartitionKeys: GlueColumn[];
      StorageDescriptor: {
        Location: unknown;
        Columns: GlueColumn[];
        InputFormat: string;
        SerdeInfo: { SerializationLibrary: string };
      };
    };
    tables[input.Name] = {
      database: text(p.DatabaseName),
      name: input.Name,
      ...(input.Description ? { description: input.Description } : {}),
      parameters: Object.fromEntries(Object.entries(input.Parameters).map(([k, v]) => [k, text(v)])),
      partitionKeys: input.PartitionKeys,
      columns: input.StorageDescriptor.Columns,
      location: text(input.StorageDescriptor.Location),
      serde: input.StorageDescriptor.SerdeInfo.SerializationLibrary,
      inputFormat: input.StorageDescriptor.InputFormat,
    };
  }
  return tables;
}

/** Trino's name of a Glue/Hive column type. */
export function trinoType(hiveType: string): string {
  const t = hiveType.replace(/\s+/g, '').toLowerCase();
  const primitive: Record<string, string> = {
    string: 'varchar',
    // Athena reads Hive timestamps at millisecond precision, as the Hive connector does by default.
    timestamp: 'timestamp(3)',
    double: 'double',
    float: 'real',
    int: 'integer',
    bigint: 'bigint',
    boolean: 'boolean',
    date: 'date',
  };
  const p = primitive[t];
  if (p) return p;
  const array = /^array<(.+)>$/.exec(t);
  if (array?.[1]) return `array(${trinoType(array[1])})`;
  const map = /^map<([a-z]+),(.+)>$/.exec(t);
  if (map?.[1] && map[2]) return `map(${trinoType(map[1])}, ${trinoType(map[2])})`;
  const struct = /^struct<(.+)>$/.exec(t);
  if (struct?.[1]) {
    const fields = topLevelParts(struct[1]).map((field) => {
      const colon = field.indexOf(':');
      if (colon <= 0)
        throw new Error(`no field name in ${JSON.stringify(field)} of ${JSON.stringify(hiveType)}`);
      return `${ident(field.slice(0, colon))} ${trinoType(field.slice(colon + 1))}`;
    });
    return `row(${fields.join(', ')})`;
  }
  throw new Error(`no Trino type for Hive type ${JSON.stringify(hiveType)}`);
}

/** `a:string,b:struct<c:int,d:int>` split at its top-level commas. */
function topLevelParts(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === '<') depth++;
    else if (c === '>') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(list.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(list.slice(start));
  return parts;
}

/** The storage formats the translation knows: Glue SerDe and input format → Trino's `format`. */
const FORMATS = [
  {
    serde: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
    format: 'PARQUET',
    classification: 'parquet',
  },
  {
    serde: 'org.openx.data.jsonserde.JsonSerDe',
    inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
    format: 'OPENX_JSON',
    classification: 'cloudtrail',
  },
] as const;

/** Glue `projection.<column>.<suffix>` → Trino column property, with the value's SQL form. */
const COLUMN_PROJECTION: Record<string, { property: string; sql: (v: string) => string }> = {
  type: { property: 'partition_projection_type', sql: sqlString },
  values: { property: 'partition_projection_values', sql: list },
  range: { property: 'partition_projection_range', sql: list },
  format: { property: 'partition_projection_format', sql: sqlString },
  interval: { property: 'partition_projection_interval', sql: integer },
  'interval.unit': { property: 'partition_projection_interval_unit', sql: sqlString },
  digits: { property: 'partition_projection_digits', sql: integer },
};

function list(v: string): string {
  return `ARRAY[${v
    .split(',')
    .map((s) => sqlString(s.trim()))
    .join(', ')}]`;
}

function integer(v: string): string {
  if (!/^\d+$/.test(v)) throw new Error(`expected a whole number, received ${JSON.stringify(v)}`);
  return v;
}

/** `s3://{bucket}/…` of a Glue location, moved to `local:///<dir>/…` (dir relative to `local.location`). */
export function localLocation(s3Location: string, dir: string): string {
  const prefix = `s3://${BUCKET}/`;
  if (!s3Location.startsWith(prefix)) throw new Error(`not a location in the table's bucket: ${s3Location}`);
  return `local:///${dir.replace(/^\/+|\/+$/g, '')}/${s3Location.slice(prefix.length)}`;
}

function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/**
 * Where a table's data lives: a directory under Trino's `local.location`, or a bucket of the emulator's S3
 * (`scripts/trino.sh` points the catalog's `s3://` at it), where the Glue location keeps its `s3://` form.
 */
export type TableHome = string | { readonly bucket: string };

function relocate(s3Location: string, home: TableHome): string {
  if (typeof home === 'string') return localLocation(s3Location, home);
  const prefix = `s3://${BUCKET}/`;
  if (!s3Location.startsWith(prefix)) throw new Error(`not a location in the table's bucket: ${s3Location}`);
  return `s3://${home.bucket}/${s3Location.slice(prefix.length)}`;
}

/**
 * `CREATE TABLE hive.<schema>.<table>` for a Glue table, its data under `local:///<dir>/` or in an
 * emulator bucket; `name` renames the table (several tables of one Glue definition in a schema).
 * @throws Error for a Glue table setting the Trino tier cannot reproduce.
 */
export function trinoCreateTable(
  table: GlueTable,
  schema: string,
  home: TableHome,
  name = table.name,
): string {
  const storage = FORMATS.find((f) => f.serde === table.serde && f.inputFormat === table.inputFormat);
  if (!storage) {
    throw new Error(
      `table ${table.name}: no Trino format for SerDe ${table.serde} with input format ${table.inputFormat} in test/helpers/trino-ddl.ts`,
    );
  }
  const plainParameters: Record<string, string> = {
    classification: storage.classification,
    EXTERNAL: 'TRUE',
  };
  const columnProperties = new Map<string, string[]>();
  const tableProperties = [
    `external_location = ${sqlString(relocate(table.location, home))}`,
    `format = ${sqlString(storage.format)}`,
    `partitioned_by = ARRAY[${table.partitionKeys.map((k) => sqlString(k.Name)).join(', ')}]`,
  ];
  const partitionNames = new Set(table.partitionKeys.map((k) => k.Name));
  for (const [key, value] of Object.entries(table.parameters)) {
    if (key in plainParameters) {
      if (plainParameters[key] !== value)
        throw new Error(`table ${table.name}: ${key}=${value} is not supported`);
    } else if (key === 'projection.enabled') {
      tableProperties.push(`partition_projection_enabled = ${value === 'true'}`);
    } else if (key === 'storage.location.template') {
      tableProperties.push(`partition_projection_location_template = ${sqlString(relocate(value, home))}`);
    } else {
      const m = /^projection\.([^.]+)\.(.+)$/.exec(key);
      const column = m?.[1];
      const mapping = m?.[2] ? COLUMN_PROJECTION[m[2]] : undefined;
      if (!column || !mapping || !partitionNames.has(column)) {
        throw new Error(
          `table ${table.name}: Glue table parameter ${key} has no Trino equivalent in test/helpers/trino-ddl.ts; cover it there or by a template assertion`,
        );
      }
      const props = columnProperties.get(column) ?? [];
      props.push(`${mapping.property} = ${mapping.sql(value)}`);
      columnProperties.set(column, props);
    }
  }
  const column = (c: GlueColumn) => {
    const props = columnProperties.get(c.Name);
    return [
      `  ${ident(c.Name)} ${trinoType(c.Type)}`,
      c.Comment ? ` COMMENT ${sqlString(c.Comment)}` : '',
      props ? ` WITH (${props.join(', ')})` : '',
    ].join('');
  };
  return [
    `CREATE TABLE hive.${ident(schema)}.${ident(name)} (`,
    [...table.columns, ...table.partitionKeys].map(column).join(',\n'),
    ')',
    table.description ? `COMMENT ${sqlString(table.description)}` : '',
    `WITH (\n  ${tableProperties.join(',\n  ')}\n)`,
  ]
    .filter(Boolean)
    .join('\n');
}
