import { Aws, Stack } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  type Category,
  DATA_PREFIX,
  PARTITION_COLUMNS,
  RECORD_COLUMNS,
  type StreamName,
} from '../src/schema';

/** What one Glue table covers: the bucket it reads and the categories stored there. */
export interface LakeTableSpec {
  readonly bucket: s3.IBucket;
  /** Partition values of `category` (the projection enum). Must not be empty. */
  readonly categories: readonly Category[];
  /** Longest expiry among these categories: the projected `dt` range reaches back this far. */
  readonly retentionDays: number;
}

export interface LogLakeCatalogProps {
  /** Glue database name (lowercase, `_` instead of `-`: Athena's identifier rules). */
  readonly databaseName: string;
  /** One table per delivery stream; the table is named after the stream (`logs`, `audit`). */
  readonly tables: Partial<Record<StreamName, LakeTableSpec>> & { logs: LakeTableSpec };
}

/**
 * Glue database and one external Parquet table per stream, with partition projection so Athena
 * computes partitions from the query instead of a crawler or MSCK REPAIR: category (enum), dt (date),
 * hour (two-digit integer).
 */
export class LogLakeCatalog extends Construct {
  readonly database: glue.CfnDatabase;
  readonly databaseName: string;
  /** Table per stream; Firehose's Parquet conversion reads its schema from here. */
  readonly tables: Partial<Record<StreamName, glue.CfnTable>> & { logs: glue.CfnTable };

  constructor(scope: Construct, id: string, props: LogLakeCatalogProps) {
    super(scope, id);
    if (!/^[a-z0-9_]{1,255}$/.test(props.databaseName)) {
      throw new Error(
        `LogLakeCatalog: databaseName must be lowercase letters, digits and underscores (received ${props.databaseName})`,
      );
    }
    this.databaseName = props.databaseName;
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: {
        name: props.databaseName,
        description: 'loglake: normalized, redacted log records (Parquet, partition projection)',
      },
    });
    const logs = this.table('logs', props.tables.logs);
    this.tables = { logs };
    if (props.tables.audit) this.tables.audit = this.table('audit', props.tables.audit);
  }

  /**
   * Read the database and the tables of `streams` (schema and partitions), as Athena needs to query them.
   * @default streams every table
   */
  grantReadTables(grantee: iam.IGrantable, streams?: readonly StreamName[]): iam.Grant {
    const names = (streams ?? (Object.keys(this.tables) as StreamName[])).filter((s) => this.tables[s]);
    if (names.length === 0) return iam.Grant.drop(grantee, 'read no table');
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'glue:GetDatabase',
        'glue:GetTable',
        'glue:GetTables',
        'glue:GetPartition',
        'glue:GetPartitions',
      ],
      resourceArns: [this.catalogArn, this.databaseArn, ...[...new Set(names)].map((s) => this.tableArn(s))],
    });
  }

  /** ARN of a table, for IAM. */
  tableArn(stream: StreamName): string {
    return Stack.of(this).formatArn({
      service: 'glue',
      resource: 'table',
      resourceName: `${this.databaseName}/${stream}`,
    });
  }

  /** ARN of the database, for IAM. */
  get databaseArn(): string {
    return Stack.of(this).formatArn({
      service: 'glue',
      resource: 'database',
      resourceName: this.databaseName,
    });
  }

  /** ARN of the account's Data Catalog, which every Glue read action also needs. */
  get catalogArn(): string {
    return Stack.of(this).formatArn({ service: 'glue', resource: 'catalog' });
  }

  private table(name: StreamName, spec: LakeTableSpec): glue.CfnTable {
    if (spec.categories.length === 0) {
      throw new Error(`LogLakeCatalog: table ${name} needs at least one category`);
    }
    const location = `s3://${spec.bucket.bucketName}/${DATA_PREFIX}/`;
    const table = new glue.CfnTable(this, name === 'logs' ? 'LogsTable' : 'AuditTable', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name,
        description: `loglake ${name} stream: categories ${spec.categories.join(', ')}`,
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          classification: 'parquet',
          EXTERNAL: 'TRUE',
          ...projectionParameters(spec, location),
        },
        partitionKeys: PARTITION_COLUMNS.map((c) => ({ name: c.name, type: c.type, comment: c.comment })),
        storageDescriptor: {
          location,
          columns: RECORD_COLUMNS.map((c) => ({ name: c.name, type: c.type, comment: c.comment })),
          inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
          serdeInfo: {
            serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
            parameters: { 'serialization.format': '1' },
          },
          compressed: false,
          storedAsSubDirectories: false,
        },
      },
    });
    table.node.addDependency(this.database);
    return table;
  }
}

/**
 * Partition projection parameters. `dt` reaches back as far as the table's longest-lived category
 * (older partitions are expired anyway) and one day ahead for events slightly in the future near
 * midnight UTC; a query without a `dt` predicate therefore enumerates retention × 24 × categories
 * partitions at most.
 */
function projectionParameters(spec: LakeTableSpec, location: string): Record<string, string> {
  return {
    'projection.enabled': 'true',
    'projection.category.type': 'enum',
    'projection.category.values': spec.categories.join(','),
    'projection.dt.type': 'date',
    'projection.dt.format': 'yyyy-MM-dd',
    'projection.dt.range': `NOW-${spec.retentionDays}DAYS,NOW+1DAYS`,
    'projection.dt.interval': '1',
    'projection.dt.interval.unit': 'DAYS',
    'projection.hour.type': 'integer',
    'projection.hour.range': '0,23',
    'projection.hour.digits': '2',
    'storage.location.template': `${location}category=\${category}/dt=\${dt}/hour=\${hour}/`,
  };
}
