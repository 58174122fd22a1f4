/**
 * `loglake compliance-report --stack`: the evidence of issue 14 read back from a deployed stack with the
 * AWS SDK, not from the configuration that built it: lifecycle rules and Object Lock of the buckets,
 * default encryption, the key's rotation, the TLS-only bucket policies, the persona roles' policies,
 * alarm state and history, the rules' state in the alarm table, S3 versions and checksums, and the
 * stored records themselves through Athena (as the security persona, so the report's own reads are
 * recorded as access events like any query).
 *
 * Each reader takes its SDK client and returns one evidence item; `stackComplianceReport` assembles them
 * with the same schema as the local report (`loglake.compliance-report/v1`).
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import {
  type CloudFormationClient,
  paginateListStackResources,
  type StackResourceSummary,
} from '@aws-sdk/client-cloudformation';
import {
  type CloudWatchClient,
  DescribeAlarmHistoryCommand,
  DescribeAlarmsCommand,
  type MetricAlarm,
} from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRolePolicyCommand,
  type IAMClient,
  paginateListAttachedRolePolicies,
  paginateListRolePolicies,
} from '@aws-sdk/client-iam';
import { GetKeyRotationStatusCommand, type KMSClient } from '@aws-sdk/client-kms';
import {
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketPolicyCommand,
  GetObjectLockConfigurationCommand,
  HeadObjectCommand,
  type LifecycleRule,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  type ObjectLockConfiguration,
  type S3Client,
} from '@aws-sdk/client-s3';
import { readRuleStates } from '../alerts/dynamodb-state';
import { DEFAULT_CONFIG, type LogLakeConfig, lockedCategories } from '../config';
import { InputError } from '../errors';
import {
  alertStateTableOf,
  bucketOutput,
  personaRoleOutput,
  personaWorkGroupOutput,
  STACK_OUTPUTS,
  tableOutput,
} from '../outputs';
import { PRIVACY_SERVICE } from '../privacy/audit';
import { athenaRows } from '../query/athena';
import { type BuiltQuery, buildQuery, whereClause } from '../query/build';
import type { LogFilter } from '../query/model';
import { Redactor } from '../redact';
import { DETECTOR_SET_LABEL } from '../redact/version';
import {
  CATEGORIES,
  type Category,
  categoryPrefix,
  PERSONAS,
  type Persona,
  type StreamName,
} from '../schema';
import { alertCoverageItem, type CoverageState, ruleCoverageRows } from './alert-coverage';
import {
  ACCESS_COLUMNS,
  accessReads,
  assembleReport,
  type Cell,
  type ComplianceReport,
  type ItemBody,
  REQUEST_FIELDS,
  REQUESTS_SOURCE,
  type ReportOptions,
  requestsItem,
  SCANNED,
  statusOf,
  unfinishedLine,
  unredactedKinds,
  volumeItem,
} from './report';

const DAY = 86_400_000;

/** The deployed lake as its stack outputs name it. */
export interface DeployedLake {
  readonly stack: string;
  readonly region: string | undefined;
  /** The data bucket of each stream: `logs`, and `audit` when the stack has the Object Lock bucket. */
  readonly buckets: { readonly logs: string; readonly audit?: string };
  readonly queryResultsBucket: string | undefined;
  readonly keyArn: string;
  readonly roles: Partial<Record<Persona, string>>;
  /** The alarm Lambda's state table (see {@link alertStateTableOf}): `null` without alerting, absent when the stack predates the output. */
  readonly alertStateTable?: string | null;
  /** Where the report queries: the security persona's workgroup (it reads every category). */
  readonly athena: {
    readonly workGroup: string;
    readonly database: string;
    readonly tables: Readonly<Record<StreamName, string>>;
    /** The CloudTrail trail's table, when the stack has the trail (`accessAudit.trail`). */
    readonly trailTable?: string;
  };
}

/**
 * The lake of a stack's outputs.
 * @throws InputError naming the outputs the stack lacks.
 */
export function deployedLake(
  stack: string,
  region: string | undefined,
  outputs: Readonly<Record<string, string>>,
): DeployedLake {
  const need = [bucketOutput('logs'), STACK_OUTPUTS.key, STACK_OUTPUTS.database, STACK_OUTPUTS.workGroup];
  const missing = need.filter((k) => !outputs[k]);
  if (missing.length > 0) {
    throw new InputError(
      `--stack ${stack}: the stack has no ${missing.join(', ')} output(s); is it a loglake stack (LogLakeStack)?`,
    );
  }
  const audit = outputs[bucketOutput('audit')];
  return {
    stack,
    region,
    buckets: { logs: outputs[bucketOutput('logs')] as string, ...(audit ? { audit } : {}) },
    queryResultsBucket: outputs[STACK_OUTPUTS.queryResultsBucket],
    keyArn: outputs[STACK_OUTPUTS.key] as string,
    roles: Object.fromEntries(
      PERSONAS.flatMap((p) => (outputs[personaRoleOutput(p)] ? [[p, outputs[personaRoleOutput(p)]]] : [])),
    ),
    alertStateTable: alertStateTableOf(outputs),
    athena: {
      workGroup: (outputs[personaWorkGroupOutput('security')] ?? outputs[STACK_OUTPUTS.workGroup]) as string,
      database: outputs[STACK_OUTPUTS.database] as string,
      tables: {
        logs: outputs[tableOutput('logs')] ?? 'logs',
        audit: outputs[tableOutput('audit')] ?? 'audit',
      },
      ...(outputs[STACK_OUTPUTS.trailTable] ? { trailTable: outputs[STACK_OUTPUTS.trailTable] } : {}),
    },
  };
}

/** The bucket a category is delivered to: the Object Lock bucket for a locked one, when it exists. */
export function bucketOf(lake: DeployedLake, config: LogLakeConfig, category: Category): string {
  return config.categories[category].locked && lake.buckets.audit ? lake.buckets.audit : lake.buckets.logs;
}

/** The SDK clients the readers use, all for the stack's region. */
export interface StackClients {
  readonly s3: S3Client;
  readonly kms: KMSClient;
  readonly iam: IAMClient;
  readonly cloudwatch: CloudWatchClient;
  readonly cloudformation: CloudFormationClient;
  readonly dynamodb: DynamoDBClient;
  readonly athena: AthenaClient;
}

export interface StackReportOptions extends Omit<ReportOptions, 'dataDir'> {
  readonly lake: DeployedLake;
  readonly clients: StackClients;
  /** Records rescanned for secrets at most; a larger period is rescanned as a stated random sample. @default 200_000 */
  readonly maxRescanRows?: number;
}

export async function stackComplianceReport(options: StackReportOptions): Promise<ComplianceReport> {
  const now = options.now ?? new Date();
  const policy = options.policy ?? DEFAULT_CONFIG;
  const { clients, lake, config } = options;
  const window = { since: options.since, until: options.until };
  return assembleReport(
    {
      retention: await readRetention(clients.s3, lake, config, policy, options.until),
      encryption: await readEncryption(clients.s3, clients.kms, lake),
      accessControl: await readAccessMatrix(clients.iam, lake, config),
      accessLog: await readAccessLog(clients.athena, lake, config, window),
      redaction: await readRedaction(clients.athena, lake, config, window, options.maxRescanRows),
      integrity: await readIntegrity(clients.s3, lake, config, { ...window, now }),
      alertCoverage: await readAlertCoverage(clients, lake, config, options.since),
      requests: await readRequests(clients.athena, lake, window),
      volume: await readVolume(clients.athena, lake, window),
    },
    { engine: 'athena', stack: lake.stack, region: lake.region ?? null },
    { ...options, now },
  );
}

// ---------------------------------------------------------------------------------------------------
// Retention: lifecycle rules and Object Lock against the policy, and the oldest partition present.

/** A bucket's lifecycle rules; none when the bucket has no lifecycle configuration. */
export async function lifecycleRules(s3: S3Client, bucket: string): Promise<LifecycleRule[]> {
  try {
    return (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
  } catch (error) {
    if (errorName(error) === 'NoSuchLifecycleConfiguration') return [];
    throw error;
  }
}

/** A bucket's Object Lock configuration; undefined when Object Lock is not enabled. */
export async function objectLockOf(
  s3: S3Client,
  bucket: string,
): Promise<ObjectLockConfiguration | undefined> {
  try {
    return (await s3.send(new GetObjectLockConfigurationCommand({ Bucket: bucket }))).ObjectLockConfiguration;
  } catch (error) {
    if (errorName(error) === 'ObjectLockConfigurationNotFoundError') return undefined;
    throw error;
  }
}

/**
 * Days after which a category's objects expire: undefined when no enabled rule expires its whole prefix,
 * else the shortest expiration of every enabled rule reaching any of its objects (a broader prefix, a
 * day's, a tag's), as S3 applies the shortest of the rules matching an object.
 */
function expiryDays(rules: readonly LifecycleRule[], category: Category): number | undefined {
  const prefix = categoryPrefix(category);
  const expiring = rules.flatMap((r) => {
    const days = r.Expiration?.Days;
    if (r.Status !== 'Enabled' || days === undefined) return [];
    return [{ days, prefix: r.Filter?.Prefix ?? r.Filter?.And?.Prefix ?? r.Prefix ?? '' }];
  });
  if (!expiring.some((r) => prefix.startsWith(r.prefix))) return undefined;
  const reaching = expiring.filter((r) => prefix.startsWith(r.prefix) || r.prefix.startsWith(prefix));
  return Math.min(...reaching.map((r) => r.days));
}

/** The first `dt=` partition under a category's prefix (keys list in order, so the first is the oldest). */
async function oldestPartition(s3: S3Client, bucket: string, category: Category): Promise<string | null> {
  const listed = await s3.send(
    new ListObjectsV2Command({
      Bucket: bucket,
      Prefix: categoryPrefix(category),
      Delimiter: '/',
      MaxKeys: 1,
    }),
  );
  const dt = /dt=(\d{4}-\d{2}-\d{2})\/$/.exec(listed.CommonPrefixes?.[0]?.Prefix ?? '')?.[1];
  return dt ? `${dt}T00:00:00.000Z` : null;
}

export async function readRetention(
  s3: S3Client,
  lake: DeployedLake,
  config: LogLakeConfig,
  policy: LogLakeConfig,
  until: Date,
): Promise<ItemBody> {
  const buckets = [lake.buckets.logs, ...(lake.buckets.audit ? [lake.buckets.audit] : [])];
  const rules = new Map(
    await Promise.all(buckets.map(async (b) => [b, await lifecycleRules(s3, b)] as const)),
  );
  const lock = lake.buckets.audit ? await objectLockOf(s3, lake.buckets.audit) : undefined;
  const lockDays = lock?.Rule?.DefaultRetention?.Days ?? lockYears(lock);
  const summary: string[] = [];
  const rows: Cell[][] = [];
  for (const c of CATEGORIES) {
    const bucket = bucketOf(lake, config, c);
    const required = policy.categories[c].expiryDays;
    const inForce = expiryDays(rules.get(bucket) ?? [], c);
    const oldest = await oldestPartition(s3, bucket, c);
    const lockedHere = bucket === lake.buckets.audit && lock?.ObjectLockEnabled === 'Enabled';
    if (inForce === undefined) {
      summary.push(`notice: no enabled lifecycle rule expires ${c} in ${bucket}: it is kept forever`);
    } else if (inForce < required) {
      summary.push(
        `FINDING: ${c} expires after ${inForce} days in ${bucket}, shorter than the policy's ${required}`,
      );
    }
    if (policy.categories[c].locked && !lockedHere) {
      summary.push(`FINDING: the policy locks ${c}, but ${bucket} has no Object Lock`);
    }
    if (
      inForce !== undefined &&
      oldest !== null &&
      Date.parse(oldest) + (inForce + 2) * DAY < until.getTime()
    ) {
      // Lifecycle expires at the next midnight after the age is reached; a day more is S3's own slack.
      summary.push(`notice: ${c} holds data from ${oldest.slice(0, 10)}, older than its ${inForce} days`);
    }
    rows.push([
      c,
      required,
      inForce ?? null,
      lockedHere ? `${lock?.Rule?.DefaultRetention?.Mode ?? 'no default'} ${lockDays ?? '?'} days` : false,
      oldest,
      bucket,
    ]);
    if (bucket !== lake.buckets.logs)
      summary.push(...(await keptInLogs(s3, lake.buckets.logs, rules, c, required)));
  }
  const locked = lockedCategories(policy);
  if (lake.buckets.audit && locked.length > 0 && lock?.ObjectLockEnabled === 'Enabled') {
    // Measured against the shortest locked category's expiry, not `objectLock.retentionDays`: a shorter
    // lock, configured or not, lets that category's records be deleted before they expire. The default
    // retention is bucket-wide and may not exceed that expiry, so longer-lived categories (audit) are
    // locked this long too (the report's `locked` column shows it per category).
    const shortest = locked.reduce((a, c) =>
      policy.categories[c].expiryDays < policy.categories[a].expiryDays ? c : a,
    );
    const want = policy.categories[shortest].expiryDays;
    if (lockDays === undefined || lockDays < want) {
      summary.push(
        `FINDING: ${lake.buckets.audit} keeps objects locked ${lockDays ?? 'no'} days by default, shorter than ${shortest}'s ${want}-day retention: its records can be deleted before they expire`,
      );
    }
  }
  if (summary.length === 0)
    summary.push('every category expires no sooner than the policy asks, and locked ones are locked');
  return {
    title: 'Retention per category',
    source: `S3 lifecycle rules (GetBucketLifecycleConfiguration) and Object Lock (GetObjectLockConfiguration) of ${buckets.join(', ')}; the oldest dt= partition listed`,
    status: statusOf(summary),
    summary,
    columns: ['category', 'policy days', 'in force days', 'locked', 'oldest data', 'bucket'],
    rows,
  };
}

/**
 * A locked category's records the transform could not forward to the audit stream stay in the logs
 * bucket under the category's prefix: searchable (the `logs` table projects every category), but not
 * under Object Lock, and kept as long as the logs bucket's rule for the category says.
 */
async function keptInLogs(
  s3: S3Client,
  logs: string,
  rules: ReadonlyMap<string, readonly LifecycleRule[]>,
  category: Category,
  required: number,
): Promise<string[]> {
  const lines: string[] = [];
  const kept = await oldestPartition(s3, logs, category);
  if (kept !== null) {
    lines.push(
      `notice: ${category} has records from ${kept.slice(0, 10)} in ${logs} that the transform could not forward to the audit stream: searchable there, not under Object Lock`,
    );
  }
  const inForce = expiryDays(rules.get(logs) ?? [], category);
  if (inForce !== undefined && inForce < required) {
    lines.push(
      `FINDING: ${category} expires after ${inForce} days in ${logs}, shorter than the policy's ${required}`,
    );
  }
  return lines;
}

function lockYears(lock: ObjectLockConfiguration | undefined): number | undefined {
  const years = lock?.Rule?.DefaultRetention?.Years;
  return years === undefined ? undefined : years * 365;
}

// ---------------------------------------------------------------------------------------------------
// Encryption: default bucket encryption, key rotation, TLS-only bucket policies.

interface PolicyStatement {
  readonly Effect?: string;
  readonly Principal?: unknown;
  readonly Action?: string | string[];
  readonly Resource?: string | string[];
  readonly Condition?: Record<string, Record<string, unknown>>;
}

function statementsOf(document: string | undefined): PolicyStatement[] {
  if (!document) return [];
  const parsed = JSON.parse(document) as { Statement?: PolicyStatement | PolicyStatement[] };
  return Array.isArray(parsed.Statement) ? parsed.Statement : parsed.Statement ? [parsed.Statement] : [];
}

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/** A bucket policy statement denying every request made without TLS. */
function deniesPlainHttp(s: PolicyStatement): boolean {
  const secure = s.Condition?.Bool?.['aws:SecureTransport'];
  return (
    s.Effect === 'Deny' &&
    String(secure).toLowerCase() === 'false' &&
    list(s.Action).some((a) => a === 's3:*' || a === '*')
  );
}

/** The lowest TLS version a bucket policy lets through, from its `s3:TlsVersion` deny. */
function minimumTls(statements: readonly PolicyStatement[]): string | null {
  for (const s of statements) {
    const v = s.Effect === 'Deny' ? s.Condition?.NumericLessThan?.['s3:TlsVersion'] : undefined;
    if (v !== undefined) return String(v);
  }
  return null;
}

export async function readEncryption(s3: S3Client, kms: KMSClient, lake: DeployedLake): Promise<ItemBody> {
  const summary: string[] = [];
  const rows: Cell[][] = [];
  const buckets = [
    lake.buckets.logs,
    ...(lake.buckets.audit ? [lake.buckets.audit] : []),
    ...(lake.queryResultsBucket ? [lake.queryResultsBucket] : []),
  ];
  for (const bucket of buckets) {
    let rule: { algorithm?: string; key?: string; bucketKey?: boolean } | undefined;
    try {
      const r = (await s3.send(new GetBucketEncryptionCommand({ Bucket: bucket })))
        .ServerSideEncryptionConfiguration?.Rules?.[0];
      rule = {
        algorithm: r?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm,
        key: r?.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID,
        bucketKey: r?.BucketKeyEnabled,
      };
    } catch (error) {
      if (errorName(error) !== 'ServerSideEncryptionConfigurationNotFoundError') throw error;
    }
    const kmsEncrypted = rule?.algorithm === 'aws:kms' || rule?.algorithm === 'aws:kms:dsse';
    if (!kmsEncrypted) {
      summary.push(
        `FINDING: ${bucket} has ${rule?.algorithm ? `${rule.algorithm} default encryption, not KMS` : 'no default encryption'}`,
      );
    }
    rows.push([
      'default encryption',
      bucket,
      rule?.algorithm
        ? `${rule.algorithm}${rule.key ? ` ${rule.key}` : ''}${rule.bucketKey ? ', bucket key' : ''}`
        : 'none',
      kmsEncrypted,
    ]);
    let statements: PolicyStatement[] = [];
    try {
      statements = statementsOf((await s3.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy);
    } catch (error) {
      if (errorName(error) !== 'NoSuchBucketPolicy') throw error;
    }
    const tlsOnly = statements.some(deniesPlainHttp);
    if (!tlsOnly) summary.push(`FINDING: the policy of ${bucket} does not deny requests without TLS`);
    const tls = minimumTls(statements);
    rows.push([
      'TLS-only bucket policy',
      bucket,
      tlsOnly ? `TLS only${tls ? `, TLS ${tls}+` : ''}` : 'plain HTTP allowed',
      tlsOnly,
    ]);
  }
  const rotation = await kms.send(new GetKeyRotationStatusCommand({ KeyId: lake.keyArn }));
  const rotated = rotation.KeyRotationEnabled === true;
  if (!rotated) summary.push(`FINDING: automatic rotation of ${lake.keyArn} is off`);
  rows.push([
    'KMS key rotation',
    lake.keyArn,
    rotated ? `every ${rotation.RotationPeriodInDays ?? 365} days` : 'off',
    rotated,
  ]);
  const violation = summary.length > 0;
  if (!violation) {
    summary.push(
      `${buckets.length} bucket(s) KMS-encrypted by default and TLS-only; the lake key rotates automatically`,
    );
  }
  return {
    title: 'Encryption',
    source:
      'GetBucketEncryption and GetBucketPolicy of the data and query-result buckets; KMS GetKeyRotationStatus of the lake key',
    status: violation ? 'violation' : 'ok',
    summary,
    columns: ['what', 'resource', 'in force', 'ok'],
    rows,
  };
}

// ---------------------------------------------------------------------------------------------------
// Access-control matrix: what each persona role's policies allow on each category's objects.

/** IAM's wildcard match: `*` any run of characters, `?` one; actions compare case-insensitively. */
function wildcard(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

/**
 * Whether the statements allow `action` on `resource`: an Allow matches and no Deny does. Conditions are
 * not evaluated (an Allow with a condition counts as allowed, the conservative reading for a matrix of
 * who could read what).
 */
export function allows(statements: readonly PolicyStatement[], action: string, resource: string): boolean {
  const matches = (s: PolicyStatement) =>
    list(s.Action).some((a) => wildcard(a, action, true)) &&
    list(s.Resource).some((r) => wildcard(r, resource, false));
  return (
    statements.some((s) => s.Effect === 'Allow' && matches(s)) &&
    !statements.some((s) => s.Effect === 'Deny' && matches(s))
  );
}

/** Every statement of a role's inline and attached managed policies. */
export async function rolePolicyStatements(iam: IAMClient, roleName: string): Promise<PolicyStatement[]> {
  const statements: PolicyStatement[] = [];
  for await (const page of paginateListRolePolicies({ client: iam }, { RoleName: roleName })) {
    for (const name of page.PolicyNames ?? []) {
      const { PolicyDocument } = await iam.send(
        new GetRolePolicyCommand({ RoleName: roleName, PolicyName: name }),
      );
      statements.push(...statementsOf(PolicyDocument && decodeURIComponent(PolicyDocument)));
    }
  }
  for await (const page of paginateListAttachedRolePolicies({ client: iam }, { RoleName: roleName })) {
    for (const attached of page.AttachedPolicies ?? []) {
      const { Policy } = await iam.send(new GetPolicyCommand({ PolicyArn: attached.PolicyArn }));
      const { PolicyVersion } = await iam.send(
        new GetPolicyVersionCommand({ PolicyArn: attached.PolicyArn, VersionId: Policy?.DefaultVersionId }),
      );
      statements.push(...statementsOf(PolicyVersion?.Document && decodeURIComponent(PolicyVersion.Document)));
    }
  }
  return statements;
}

export async function readAccessMatrix(
  iam: IAMClient,
  lake: DeployedLake,
  config: LogLakeConfig,
): Promise<ItemBody> {
  const rows: Cell[][] = [];
  const summary: string[] = [];
  for (const persona of PERSONAS) {
    const arn = lake.roles[persona];
    if (!arn) {
      summary.push(`notice: the stack has no role for ${persona}`);
      continue;
    }
    const partition = arn.split(':')[1] ?? 'aws';
    const statements = await rolePolicyStatements(iam, arn.slice(arn.lastIndexOf('/') + 1));
    const reads: string[] = [];
    const writes: string[] = [];
    for (const category of CATEGORIES) {
      // A key inside the category's prefix, in the bucket it is delivered to and in the logs bucket: a
      // locked category's events stay there when forwarding to the audit stream fails, so a read of
      // either is a read of the category. Writes are only ever granted on the logs bucket.
      const key = `${categoryPrefix(category)}dt=2026-01-01/hour=00/object.parquet`;
      const read = [...new Set([bucketOf(lake, config, category), lake.buckets.logs])].some((b) =>
        allows(statements, 's3:GetObject', `arn:${partition}:s3:::${b}/${key}`),
      );
      const write = allows(statements, 's3:PutObject', `arn:${partition}:s3:::${lake.buckets.logs}/${key}`);
      const grant = config.personas[persona];
      if (read) reads.push(category);
      if (write) writes.push(category);
      if (read && !grant.read.includes(category)) {
        summary.push(`FINDING: ${persona} can read ${category}; the configuration does not grant it`);
      }
      if (write && !grant.write.includes(category)) {
        summary.push(`FINDING: ${persona} can write ${category}; the configuration does not grant it`);
      }
      if (!read && grant.read.includes(category)) {
        summary.push(`notice: ${persona} is configured to read ${category}, but its role cannot`);
      }
      rows.push([
        persona,
        category,
        read,
        write,
        grant.read.includes(category),
        grant.write.includes(category),
      ]);
    }
    summary.push(
      `${persona} (${arn}): reads ${reads.join(', ') || 'nothing'}; writes ${writes.join(', ') || 'nothing'}`,
    );
  }
  return {
    title: 'Access-control matrix (persona × category)',
    source:
      "the deployed persona roles' inline and managed policies (IAM GetRolePolicy, GetPolicyVersion), evaluated for s3:GetObject/s3:PutObject on each category's prefix",
    status: statusOf(summary),
    summary,
    columns: ['persona', 'category', 'read', 'write', 'configured read', 'configured write'],
    rows,
  };
}

// ---------------------------------------------------------------------------------------------------
// The stored records, through Athena: access events, redaction rescan, requests, volume.

interface Window {
  readonly since: Date;
  readonly until: Date;
}

/** A report's own read: its access event says `scan`, with the period and categories it reads. */
function athenaQuery(sql: string, params: readonly string[], reads: LogFilter): BuiltQuery {
  return { dialect: 'athena', sql, params, columns: [], reads: { kind: 'scan', filter: reads } };
}

async function athenaSelect(
  athena: AthenaClient,
  lake: DeployedLake,
  sql: string,
  params: readonly string[],
  reads: LogFilter,
): Promise<Array<Record<string, string | null>>> {
  return (await athenaRows(athena, athenaQuery(sql, params, reads), {
    workGroup: lake.athena.workGroup,
    database: lake.athena.database,
  })) as Array<Record<string, string | null>>;
}

const table = (lake: DeployedLake, stream: StreamName) =>
  `"${lake.athena.database.replaceAll('"', '""')}"."${lake.athena.tables[stream].replaceAll('"', '""')}"`;

/** `yyyy/MM/dd` (UTC): the trail table's partition of a delivery day. */
const trailDay = (d: Date) => d.toISOString().slice(0, 10).replaceAll('-', '/');

/**
 * What the CloudTrail trail recorded on the lake's objects in the period: object operations per
 * principal, the most frequent first — reads and deletions that bypass loglake included. The table
 * (lib/trail.ts) has one row per delivered file, its events in `records`; an event made at the end of
 * the period may be delivered the day after, so the days read run one past its end. Run on Trino by
 * test/trino/cloudtrail.test.ts.
 */
/** (principal, operation) pairs of the trail listed in the report, the most frequent first. */
const TRAIL_PAIRS_SHOWN = 20;

async function trailSummary(
  athena: AthenaClient,
  lake: DeployedLake,
  trailTable: string,
  window: Window,
): Promise<string[]> {
  const name = `"${lake.athena.database.replaceAll('"', '""')}"."${trailTable.replaceAll('"', '""')}"`;
  // `UNNEST(records) AS r` without a column list: Trino (Athena engine v3) expands an array of rows
  // into one column per field, named as the fields.
  const rows = await athenaSelect(
    athena,
    lake,
    `WITH pairs AS (
       SELECT coalesce(r.useridentity.arn, r.useridentity.invokedby, r.useridentity.type) AS principal,
         r.eventname AS operation, count(*) AS n
       FROM ${name} CROSS JOIN UNNEST(records) AS r
       WHERE day >= ? AND day <= ? AND r.eventsource = 's3.amazonaws.com'
         AND from_iso8601_timestamp(r.eventtime) >= from_iso8601_timestamp(?)
         AND from_iso8601_timestamp(r.eventtime) < from_iso8601_timestamp(?)
       GROUP BY 1, 2)
     SELECT principal, operation, n, sum(n) OVER () AS total, count(*) OVER () AS pairs,
       (SELECT count(DISTINCT principal) FROM pairs) AS principals
     FROM pairs ORDER BY n DESC, 1, 2 LIMIT ${TRAIL_PAIRS_SHOWN}`,
    [
      trailDay(window.since),
      trailDay(new Date(window.until.getTime() + DAY)),
      window.since.toISOString(),
      window.until.toISOString(),
    ],
    window,
  );
  // Totals over every (principal, operation) pair of the period, not only the pairs listed.
  const first = rows[0];
  const pairs = Number(first?.pairs ?? 0);
  return [
    `CloudTrail (table ${trailTable}): ${Number(first?.total ?? 0)} operation(s) on the lake's objects by ${Number(first?.principals ?? 0)} principal(s), reads outside loglake included${pairs > rows.length ? `; the ${rows.length} most frequent of ${pairs} principal and operation pairs:` : ''}`,
    ...rows.map((r) => `  ${r.principal ?? '?'} ${r.operation ?? '?'} ×${r.n ?? 0}`),
  ];
}

/** The audit category's table: `audit` when the stack has the Object Lock stream, else `logs`. */
const auditTable = (lake: DeployedLake) => table(lake, lake.buckets.audit ? 'audit' : 'logs');

export async function readAccessLog(
  athena: AthenaClient,
  lake: DeployedLake,
  config: LogLakeConfig,
  window: Window,
): Promise<ItemBody> {
  const reads: LogFilter = { ...window, categories: ['audit'], services: ['loglake-access'] };
  const where = whereClause(reads, 'athena');
  const events = await athenaSelect(
    athena,
    lake,
    `SELECT to_iso8601("timestamp") AS "time", element_at(attributes, 'access.principal') AS principal,
       element_at(attributes, 'access.persona') AS persona, element_at(attributes, 'access.command') AS command,
       element_at(attributes, 'access.categories') AS categories, element_at(attributes, 'access.rows') AS n,
       element_at(attributes, 'access.flags') AS flags, element_at(attributes, 'access.outcome') AS outcome,
       array_join(array_sort(transform(
         filter(map_entries(attributes), e -> starts_with(e[1], 'access.filter.')),
         e -> substr(e[1], 15) || '=' || e[2])), ' ') AS filters,
       element_at(attributes, 'access.bytes_scanned') AS bytes, element_at(attributes, 'access.id') AS id
     FROM ${auditTable(lake)} WHERE ${where.sql} ORDER BY "timestamp"`,
    where.params,
    reads,
  );
  const { reads: rows, unfinished } = accessReads(events);
  const flagged = rows.filter((r) => r.flags);
  const summary = [
    `${rows.length} read(s) of the lake by ${new Set(rows.map((r) => r.principal)).size} principal(s) in the period`,
    `${flagged.length} flagged (bulk read or a persona reading a locked category)`,
    ...unfinishedLine(unfinished),
    ...(lake.athena.trailTable
      ? await trailSummary(athena, lake, lake.athena.trailTable, window)
      : [
          'reads outside loglake (S3 GetObject on the buckets, the Athena console) are not in this list: the stack has no CloudTrail trail (accessAudit.trail.enabled: true adds one; an organisation trail with S3 data events covers them too)',
        ]),
  ];
  if (!config.accessAudit.enabled) {
    summary.push('FINDING: access auditing is turned off in the configuration (accessAudit.enabled: false)');
  }
  return {
    title: 'Who accessed what',
    source: `Athena (workgroup ${lake.athena.workGroup}): the audit category, service loglake-access (the CLI and the alarm Lambda append an access event to the audit stream for every query)${lake.athena.trailTable ? `; the CloudTrail trail's table ${lake.athena.trailTable} (S3 data events on the lake's buckets)` : ''}`,
    status: config.accessAudit.enabled
      ? flagged.length > 0 || unfinished > 0
        ? 'notice'
        : 'ok'
      : 'violation',
    summary,
    columns: ACCESS_COLUMNS,
    rows: rows.map((r) => [
      r.time ?? '',
      r.principal ?? '',
      r.persona ?? '',
      r.command ?? '',
      r.categories ?? '',
      Number(r.n ?? 0),
      r.flags ?? '',
      r.outcome ?? '',
      r.filters ?? '',
      r.bytes ?? '',
    ]),
  };
}

export async function readRedaction(
  athena: AthenaClient,
  lake: DeployedLake,
  config: LogLakeConfig,
  window: Window,
  maxRows = 200_000,
): Promise<ItemBody> {
  const streams: StreamName[] = lake.buckets.audit ? ['logs', 'audit'] : ['logs'];
  const where = whereClause(window, 'athena');
  const union = (select: string) =>
    streams.map((s) => `SELECT ${select} FROM ${table(lake, s)} WHERE ${where.sql}`).join(' UNION ALL ');
  const params = streams.flatMap(() => where.params);
  const [countRow] = await athenaSelect(
    athena,
    lake,
    `SELECT count(*) AS n FROM (${union('1 AS one')})`,
    params,
    window,
  );
  const total = Number(countRow?.n ?? 0);
  // Above the limit, a Bernoulli sample spread over the whole period, not its first rows.
  const percent = total > maxRows ? (maxRows / total) * 100 : 100;
  const sample = percent < 100 ? ` TABLESAMPLE BERNOULLI (${percent.toFixed(6)})` : '';
  const rows = await athenaSelect(
    athena,
    lake,
    streams
      .map(
        (s) =>
          `SELECT "$path" AS object, to_iso8601("timestamp") AS "time", ${SCANNED.map((c) => `"${c}"`).join(', ')},
             json_format(CAST(attributes AS JSON)) AS attrs FROM ${table(lake, s)}${sample} WHERE ${where.sql}`,
      )
      .join(' UNION ALL '),
    params,
    window,
  );
  const redactor = new Redactor({ ...config.redaction, pseudonymKey: 'compliance-report-rescan' });
  const found: Cell[][] = [];
  for (const r of rows) {
    const fields: Array<[string, unknown]> = SCANNED.map((c) => [c, r[c]]);
    const attrs = r.attrs ? (JSON.parse(r.attrs) as Record<string, unknown>) : {};
    for (const [k, v] of Object.entries(attrs)) fields.push([`attributes.${k}`, v]);
    for (const [field, value] of fields) {
      const kinds = unredactedKinds(redactor, field, value);
      if (kinds.length > 0) found.push([r.object ?? '', r.time ?? '', field, kinds.join(',')]);
    }
  }
  const summary = [
    `unredacted secrets found: ${found.length}`,
    percent < 100
      ? `a random sample of ${rows.length} of the period's ${total} stored record(s) rescanned (Bernoulli ${percent.toFixed(4)}%), ${DETECTOR_SET_LABEL}`
      : `${rows.length} stored record(s) rescanned (all of the period), ${DETECTOR_SET_LABEL}`,
  ];
  for (const f of found) summary.push(`FINDING: ${f[3]} in ${f[0]} at ${f[1]} (${f[2]})`);
  return {
    title: 'Redaction verification',
    source: `the stored records of the period read through Athena (tables ${streams.map((s) => lake.athena.tables[s]).join(', ')}) and rescanned with the current detectors (src/redact)`,
    status: found.length > 0 ? 'violation' : 'ok',
    summary,
    columns: ['object', 'time', 'field', 'kind'],
    rows: found,
  };
}

export async function readRequests(
  athena: AthenaClient,
  lake: DeployedLake,
  window: Window,
): Promise<ItemBody> {
  const reads: LogFilter = { ...window, categories: ['audit'], services: [PRIVACY_SERVICE] };
  const where = whereClause(reads, 'athena');
  const rows = await athenaSelect(
    athena,
    lake,
    `SELECT to_iso8601("timestamp") AS "time", ${REQUEST_FIELDS.map(([field, as]) => `element_at(attributes, 'privacy.${field}') AS ${as}`).join(', ')}
     FROM ${auditTable(lake)} WHERE ${where.sql} AND element_at(attributes, 'privacy.action') IS NOT NULL
     ORDER BY "timestamp"`,
    where.params,
    reads,
  );
  return requestsItem(rows, `Athena: ${REQUESTS_SOURCE}`);
}

export async function readVolume(
  athena: AthenaClient,
  lake: DeployedLake,
  window: Window,
): Promise<ItemBody> {
  const streams: StreamName[] = lake.buckets.audit ? ['logs', 'audit'] : ['logs'];
  const built = buildQuery(
    { kind: 'aggregate', filter: window, groupBy: ['category', 'service'] },
    {
      dialect: 'athena',
      tables: streams.map((s) => ({ database: lake.athena.database, table: lake.athena.tables[s] })),
    },
  );
  const rows = await athenaRows(athena, built, {
    workGroup: lake.athena.workGroup,
    database: lake.athena.database,
  });
  return volumeItem(
    rows,
    'Athena, by query (the same as `loglake stats --athena --group-by category,service`)',
  );
}

// ---------------------------------------------------------------------------------------------------
// Integrity: S3 versions and checksums of the objects delivered in the period.

/** UTC dates from `since` to `until`, inclusive: the dt= partitions of a period. */
function datesOf(window: Window): string[] {
  const out: string[] = [];
  const last = new Date(window.until.getTime() - 1).toISOString().slice(0, 10);
  for (let t = Date.parse(window.since.toISOString().slice(0, 10)); ; t += DAY) {
    const d = new Date(t).toISOString().slice(0, 10);
    out.push(d);
    if (d >= last) return out;
  }
}

export async function readIntegrity(
  s3: S3Client,
  lake: DeployedLake,
  config: LogLakeConfig,
  window: Window & { readonly now: Date },
): Promise<ItemBody> {
  const summary: string[] = [];
  const rows: Cell[][] = [];
  let tampered = false;
  let notices = 0;
  const lock = lake.buckets.audit ? await objectLockOf(s3, lake.buckets.audit) : undefined;
  summary.push(
    lake.buckets.audit
      ? `Object Lock on ${lake.buckets.audit}: ${lock?.ObjectLockEnabled === 'Enabled' ? `${lock.Rule?.DefaultRetention?.Mode ?? 'no default mode'}, ${lock.Rule?.DefaultRetention?.Days ?? lockYears(lock) ?? '?'} days by default` : 'NOT ENABLED'}; locked categories: ${lockedCategories(config).join(', ') || 'none'}`
      : 'the stack has no Object Lock bucket (no category is locked)',
  );
  const dates = datesOf(window);
  for (const category of CATEGORIES) {
    const bucket = bucketOf(lake, config, category);
    const locked = bucket === lake.buckets.audit;
    for (const dt of dates) {
      const prefix = `${categoryPrefix(category)}dt=${dt}/`;
      const versions = new Map<string, Array<{ id: string; at: Date; latest: boolean; deleted: boolean }>>();
      let markers: { KeyMarker?: string; VersionIdMarker?: string } = {};
      for (;;) {
        const page = await s3.send(
          new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix, ...markers }),
        );
        const listed = [
          ...(page.Versions ?? []).map((v) => ({ v, deleted: false })),
          ...(page.DeleteMarkers ?? []).map((v) => ({ v, deleted: true })),
        ];
        for (const { v, deleted } of listed) {
          const seen = versions.get(v.Key ?? '') ?? [];
          seen.push({
            id: v.VersionId ?? 'null',
            at: v.LastModified ?? new Date(0),
            latest: v.IsLatest === true,
            deleted,
          });
          versions.set(v.Key ?? '', seen);
        }
        if (!page.IsTruncated) break;
        markers = { KeyMarker: page.NextKeyMarker, VersionIdMarker: page.NextVersionIdMarker };
      }
      for (const [key, all] of versions) {
        const written = all.filter((v) => !v.deleted).sort((a, b) => a.at.getTime() - b.at.getTime());
        const first = written[0];
        if (!first || first.at < window.since || first.at >= window.until) continue;
        const expires = first.at.getTime() + config.categories[category].expiryDays * DAY;
        const current = all.find((v) => v.latest);
        if (written.length > 1) {
          tampered = true;
          summary.push(`FINDING: changed ${bucket}/${key}: ${written.length} versions of a delivered object`);
        }
        if (current?.deleted && expires > window.now.getTime()) {
          // Compaction replaces the small objects of the logs bucket; nothing may remove a locked one.
          if (locked) {
            tampered = true;
            summary.push(`FINDING: deleted ${bucket}/${key} before its expiry`);
          } else {
            notices++;
            summary.push(
              `notice: deleted ${bucket}/${key} before its expiry (compaction, or an operator with write access)`,
            );
          }
        }
        const head = await s3.send(
          new HeadObjectCommand({
            Bucket: bucket,
            Key: key,
            VersionId: first.id === 'null' ? undefined : first.id,
            ChecksumMode: 'ENABLED',
          }),
        );
        const checksum =
          (head.ChecksumSHA256 && `sha256:${Buffer.from(head.ChecksumSHA256, 'base64').toString('hex')}`) ||
          (head.ChecksumCRC64NVME && `crc64nvme:${head.ChecksumCRC64NVME}`) ||
          (head.ChecksumCRC32C && `crc32c:${head.ChecksumCRC32C}`) ||
          (head.ChecksumCRC32 && `crc32:${head.ChecksumCRC32}`) ||
          `etag:${(head.ETag ?? '').replaceAll('"', '')}`;
        if (locked && !head.ObjectLockMode && !current?.deleted) {
          tampered = true;
          summary.push(`FINDING: ${bucket}/${key} of locked ${category} carries no Object Lock retention`);
        }
        rows.push([
          `${bucket}/${key}`,
          first.id,
          checksum,
          head.ContentLength ?? null,
          first.at.toISOString(),
          head.ObjectLockMode
            ? `${head.ObjectLockMode} until ${head.ObjectLockRetainUntilDate?.toISOString()}`
            : null,
        ]);
      }
    }
  }
  summary.splice(1, 0, `${rows.length} object(s) delivered in the period (checksums below, from S3)`);
  if (lake.buckets.audit && lockedCategories(config).length > 0 && lock?.ObjectLockEnabled !== 'Enabled') {
    tampered = true;
    summary.push(`FINDING: ${lake.buckets.audit} holds locked categories without Object Lock`);
  }
  return {
    title: 'Integrity',
    source:
      'S3 ListObjectVersions (changed and deleted objects), HeadObject with checksum mode (checksum, Object Lock retention), GetObjectLockConfiguration',
    status: tampered ? 'violation' : notices > 0 ? 'notice' : 'ok',
    summary,
    columns: ['object', 'version', 'checksum', 'bytes', 'delivered', 'object lock'],
    rows,
  };
}

// ---------------------------------------------------------------------------------------------------
// Alert coverage: the rules' state in the alarm table and the stack's CloudWatch alarms.

/** Every resource of a stack (CloudFormation ListStackResources, all pages). */
export async function stackResources(
  cfn: CloudFormationClient,
  stack: string,
): Promise<StackResourceSummary[]> {
  const out: StackResourceSummary[] = [];
  for await (const page of paginateListStackResources({ client: cfn }, { StackName: stack })) {
    out.push(...(page.StackResourceSummaries ?? []));
  }
  return out;
}

/** The newest state change of an alarm into `state` since `since`, as `time: reason`. */
async function lastTransition(
  cloudwatch: CloudWatchClient,
  alarm: string,
  state: 'ALARM' | 'OK',
  since: Date,
): Promise<string | null> {
  const { AlarmHistoryItems } = await cloudwatch.send(
    new DescribeAlarmHistoryCommand({
      AlarmName: alarm,
      HistoryItemType: 'StateUpdate',
      StartDate: since,
      ScanBy: 'TimestampDescending',
    }),
  );
  const item = (AlarmHistoryItems ?? []).find((h) => {
    try {
      return (
        (JSON.parse(h.HistoryData ?? '{}') as { newState?: { stateValue?: string } }).newState?.stateValue ===
        state
      );
    } catch {
      return h.HistorySummary?.endsWith(`to ${state}`) ?? false;
    }
  });
  return item?.Timestamp ? item.Timestamp.toISOString() : null;
}

export async function readAlertCoverage(
  clients: Pick<StackClients, 'cloudformation' | 'cloudwatch' | 'dynamodb'>,
  lake: DeployedLake,
  config: LogLakeConfig,
  since: Date,
): Promise<ItemBody> {
  const resources = await stackResources(clients.cloudformation, lake.stack);
  // A stack deployed before the state table had an output names it only among its resources.
  const stateTable =
    lake.alertStateTable ??
    resources.find(
      (r) => r.ResourceType === 'AWS::DynamoDB::Table' && /StateTable/.test(r.LogicalResourceId ?? ''),
    )?.PhysicalResourceId;
  const alarmNames = resources
    .filter((r) => r.ResourceType === 'AWS::CloudWatch::Alarm' && r.PhysicalResourceId)
    .map((r) => r.PhysicalResourceId as string);
  const names = Object.keys(config.alerts.rules).sort((a, b) => a.localeCompare(b));
  const reads = stateTable ? await readRuleStates(clients.dynamodb, stateTable, names) : [];
  const states: Record<string, CoverageState> = {};
  const denied: string[] = [];
  for (const read of reads) {
    if ('denied' in read) denied.push(read.rule);
    else if (read.stored) states[read.rule] = read.stored;
  }
  const rules = ruleCoverageRows(config.alerts.rules, states);
  const alarms: MetricAlarm[] = [];
  for (let i = 0; i < alarmNames.length; i += 100) {
    const { MetricAlarms } = await clients.cloudwatch.send(
      new DescribeAlarmsCommand({ AlarmNames: alarmNames.slice(i, i + 100) }),
    );
    alarms.push(...(MetricAlarms ?? []));
  }
  const alarmRows: Cell[][] = [];
  for (const a of alarms.sort((x, y) => (x.AlarmName ?? '').localeCompare(y.AlarmName ?? ''))) {
    const name = a.AlarmName ?? '';
    alarmRows.push([
      name,
      a.ActionsEnabled !== false,
      'cloudwatch alarm',
      null,
      a.AlarmDescription ?? `${a.Namespace}/${a.MetricName}`,
      a.StateUpdatedTimestamp?.toISOString() ?? null,
      a.StateValue === 'ALARM' ? `since ${a.StateUpdatedTimestamp?.toISOString()}` : null,
      await lastTransition(clients.cloudwatch, name, 'ALARM', since),
      await lastTransition(clients.cloudwatch, name, 'OK', since),
    ]);
  }
  return alertCoverageItem({
    source: `the rules of the configuration with their state in the alarm Lambda's DynamoDB table; the stack's CloudWatch alarms (DescribeAlarms, DescribeAlarmHistory since ${since.toISOString()})`,
    rows: [...rules, ...alarmRows],
    headline: `${rules.length} rule(s) (state from ${stateTable ?? 'no alarm state table: alerting is off'}), ${alarms.length} CloudWatch alarm(s) of the stack`,
    notices: [
      ...(stateTable ? [] : ['notice: the stack has no alerting (alerts.enabled: false)']),
      ...(denied.length > 0
        ? [
            `notice: state not readable (AccessDenied: dynamodb:GetItem on ${stateTable}, or kms:Decrypt on its key) for ${denied.join(', ')}`,
          ]
        : []),
    ],
  });
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}
