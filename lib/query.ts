import { Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { pascalCase } from '../src/outputs';
import type { Category, Persona } from '../src/schema';
import { combineGrants, grantKeyVia, grantListPrefixes } from './private/grants';

/** A saved Athena query, created in every workgroup whose users can read the table it needs. */
export interface NamedQuerySpec {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  /**
   * The query text.
   * @param categories - the only categories it reads (a persona's): without them it reads every category
   * of the `logs` table
   */
  readonly sql: (database: string, categories?: readonly Category[]) => string;
}

const ERROR_LEVELS = "('ERROR', 'CRITICAL')";

/**
 * `AND category IN (…)` for a persona's saved queries, or nothing. The `logs` table projects every
 * category, and Athena lists the S3 prefix of every partition a query may read: without this, a
 * persona's role, allowed only its categories' prefixes, fails the query with AccessDenied. Category
 * names are the config's enum values, never user input.
 */
function categoryClause(categories: readonly Category[] | undefined): string[] {
  return categories ? [`  AND category IN (${categories.map((c) => `'${c}'`).join(', ')})`] : [];
}

/** What a query runner does in its workgroup: run, follow and read queries, and use the saved ones. */
const QUERY_ACTIONS = [
  'athena:StartQueryExecution',
  'athena:StopQueryExecution',
  'athena:GetQueryExecution',
  'athena:GetQueryResults',
  'athena:GetQueryResultsStream',
  'athena:GetQueryRuntimeStatistics',
  'athena:ListQueryExecutions',
  'athena:BatchGetQueryExecution',
  'athena:GetWorkGroup',
  'athena:ListNamedQueries',
  'athena:GetNamedQuery',
  'athena:BatchGetNamedQuery',
];

/**
 * The saved queries of the `logs` table. `?` are Athena execution parameters (bind them with
 * `ExecutionParameters`, never splice values into the text). Every query bounds `dt` so Athena prunes
 * partitions instead of projecting the whole retention window.
 */
export const NAMED_QUERIES: readonly NamedQuerySpec[] = [
  {
    id: 'SearchByCorrelationId',
    name: 'search-by-correlation-id',
    description: 'Every event of one request. Parameters: correlation id, first day, last day (YYYY-MM-DD).',
    sql: (db, categories) =>
      [
        'SELECT "timestamp", level, service, category, logger, message, correlation_id, trace_id, span_id,',
        '       error_type, http_method, http_path, http_status, duration_ms',
        `FROM "${db}"."logs"`,
        'WHERE correlation_id = ? AND dt BETWEEN ? AND ?',
        ...categoryClause(categories),
        'ORDER BY "timestamp"',
        'LIMIT 1000',
      ].join('\n'),
  },
  {
    id: 'ErrorsLastHour',
    name: 'errors-last-hour',
    description: 'ERROR and CRITICAL events of the last hour, newest first.',
    sql: (db, categories) =>
      [
        'SELECT "timestamp", level, service, category, message, error_type, correlation_id',
        `FROM "${db}"."logs"`,
        `WHERE level IN ${ERROR_LEVELS}`,
        "  AND dt >= date_format(current_timestamp - INTERVAL '1' HOUR, '%Y-%m-%d')",
        '  AND "timestamp" >= current_timestamp - INTERVAL \'1\' HOUR',
        ...categoryClause(categories),
        'ORDER BY "timestamp" DESC',
        'LIMIT 500',
      ].join('\n'),
  },
  {
    id: 'ErrorRateByService',
    name: 'error-rate-by-service',
    description: 'Events, errors and error rate (%) per service over the last 24 hours, worst first.',
    sql: (db, categories) =>
      [
        'SELECT service,',
        '       count(*) AS events,',
        `       count_if(level IN ${ERROR_LEVELS}) AS errors,`,
        // In double: 100.0 is a decimal(4,1), and Trino divides decimals at the larger scale (one digit).
        `       round(100 * CAST(count_if(level IN ${ERROR_LEVELS}) AS DOUBLE) / count(*), 2) AS error_rate_pct`,
        `FROM "${db}"."logs"`,
        "WHERE dt >= date_format(current_timestamp - INTERVAL '1' DAY, '%Y-%m-%d')",
        '  AND "timestamp" >= current_timestamp - INTERVAL \'1\' DAY',
        ...categoryClause(categories),
        'GROUP BY service',
        'ORDER BY error_rate_pct DESC, events DESC',
      ].join('\n'),
  },
];

export interface LogLakeQueryProps {
  /** Name of the main workgroup; persona workgroups are `<name>-<persona>`. */
  readonly name: string;
  readonly resultsBucket: s3.IBucket;
  readonly encryptionKey: kms.IKey;
  /** Per-query cutoff in bytes scanned (Athena minimum 10 MB). */
  readonly bytesScannedCutoffPerQuery: number;
  readonly databaseName: string;
  /**
   * Personas that get a workgroup of their own, whether each can read the `logs` table, and the
   * categories it reads: its saved queries read only these (default: every category).
   */
  readonly personas: ReadonlyArray<{
    readonly persona: Persona;
    readonly readsLogsTable: boolean;
    readonly categories?: readonly Category[];
  }>;
  /**
   * Create the saved queries ({@link NAMED_QUERIES}).
   * @default true (the emulator target turns this off: it cannot create AWS::Athena::NamedQuery)
   */
  readonly namedQueries?: boolean;
}

/**
 * Athena workgroups with enforced settings (engine v3, KMS-encrypted results, a scan cutoff). The
 * main workgroup serves operators and scheduled jobs; each persona has its own workgroup writing to
 * its own results prefix, so one persona's query results (which may hold another category's data) are
 * never readable by another persona.
 */
export class LogLakeQuery extends Construct {
  readonly workGroup: athena.CfnWorkGroup;
  readonly personaWorkGroups: Partial<Record<Persona, athena.CfnWorkGroup>> = {};
  private readonly resultsBucket: s3.IBucket;
  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: LogLakeQueryProps) {
    super(scope, id);
    this.resultsBucket = props.resultsBucket;
    this.encryptionKey = props.encryptionKey;
    this.workGroup = this.createWorkGroup('WorkGroup', props.name, resultsPrefix(), props);
    for (const { persona, readsLogsTable, categories } of props.personas) {
      const wg = this.createWorkGroup(
        `${pascalCase(persona)}WorkGroup`,
        `${props.name}-${persona}`,
        resultsPrefix(persona),
        props,
      );
      this.personaWorkGroups[persona] = wg;
      if (readsLogsTable) this.addNamedQueries(wg, pascalCase(persona), props, categories);
    }
    this.addNamedQueries(this.workGroup, '', props);
  }

  /**
   * Run queries in a workgroup and read their results: the persona's own workgroup and results prefix,
   * or without a persona the main workgroup (operators, scheduled jobs). Reading the tables and the
   * objects they cover is a separate grant (`LogLake.grantQuery` gives both).
   * @throws Error when the persona has no workgroup here.
   */
  grantQuery(grantee: iam.IGrantable, persona?: Persona): iam.Grant {
    const wg = persona ? this.personaWorkGroups[persona] : this.workGroup;
    if (!wg) throw new Error(`LogLakeQuery: persona ${persona} has no workgroup`);
    const prefix = resultsPrefix(persona);
    return combineGrants(grantee, 'query', [
      iam.Grant.addToPrincipal({ grantee, actions: QUERY_ACTIONS, resourceArns: [this.workGroupArn(wg)] }),
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
        resourceArns: [this.resultsBucket.arnForObjects(`${prefix}*`)],
      }),
      grantListPrefixes(
        grantee,
        this.resultsBucket,
        [prefix],
        ['s3:ListBucket', 's3:ListBucketMultipartUploads'],
      ),
      // Athena writes results SSE-KMS with the lake key; S3 uses it on the caller's behalf.
      grantKeyVia(grantee, this.encryptionKey, 's3', ['kms:Decrypt', 'kms:GenerateDataKey']),
    ]);
  }

  /** ARN of a workgroup, for IAM. */
  workGroupArn(wg: athena.CfnWorkGroup): string {
    return Stack.of(this).formatArn({ service: 'athena', resource: 'workgroup', resourceName: wg.name });
  }

  private createWorkGroup(
    id: string,
    name: string,
    prefix: string,
    props: LogLakeQueryProps,
  ): athena.CfnWorkGroup {
    return new athena.CfnWorkGroup(this, id, {
      name,
      description: `loglake queries (results in s3://…/${prefix})`,
      state: 'ENABLED',
      // Lets `cdk destroy` remove a workgroup that has saved queries and history.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: props.bytesScannedCutoffPerQuery,
        requesterPaysEnabled: false,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${props.resultsBucket.bucketName}/${prefix}`,
          encryptionConfiguration: { encryptionOption: 'SSE_KMS', kmsKey: props.encryptionKey.keyArn },
          expectedBucketOwner: Stack.of(this).account,
          aclConfiguration: { s3AclOption: 'BUCKET_OWNER_FULL_CONTROL' },
        },
      },
    });
  }

  private addNamedQueries(
    wg: athena.CfnWorkGroup,
    idPrefix: string,
    props: LogLakeQueryProps,
    categories?: readonly Category[],
  ): void {
    if (props.namedQueries === false) return;
    for (const q of NAMED_QUERIES) {
      const named = new athena.CfnNamedQuery(this, `${idPrefix}${q.id}`, {
        name: q.name,
        description: q.description,
        database: props.databaseName,
        workGroup: wg.name,
        queryString: q.sql(props.databaseName, categories),
      });
      named.node.addDependency(wg);
    }
  }
}

/** Results prefix of the main workgroup (no persona) or of a persona's workgroup. */
function resultsPrefix(persona?: Persona): string {
  return persona ? `personas/${persona}/` : 'main/';
}
