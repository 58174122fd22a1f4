/** `LogLakeQuery` alone on a bare stack: workgroups, saved queries, and the query grant. */
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { LogLakeQuery } from '../../lib/query';
import { bareStack, type FlatStatement, policyStatementsOf, resourcesOf } from './helpers';

function build(namedQueries = true) {
  const { stack } = bareStack();
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const query = new LogLakeQuery(stack, 'Query', {
    name: 'lake',
    resultsBucket: s3.Bucket.fromBucketName(stack, 'Results', 'results-bucket'),
    encryptionKey: key,
    bytesScannedCutoffPerQuery: 10 * 1024 * 1024 * 1024,
    databaseName: 'lake',
    personas: [
      { persona: 'developer', readsLogsTable: true, categories: ['debug', 'errors'] },
      { persona: 'auditor', readsLogsTable: false },
    ],
    namedQueries,
  });
  const role = new iam.Role(stack, 'Analyst', { assumedBy: new iam.AccountRootPrincipal() });
  return { stack, query, role };
}

const ATHENA_ACTIONS = [
  'athena:BatchGetNamedQuery',
  'athena:BatchGetQueryExecution',
  'athena:GetNamedQuery',
  'athena:GetQueryExecution',
  'athena:GetQueryResults',
  'athena:GetQueryResultsStream',
  'athena:GetQueryRuntimeStatistics',
  'athena:GetWorkGroup',
  'athena:ListNamedQueries',
  'athena:ListQueryExecutions',
  'athena:StartQueryExecution',
  'athena:StopQueryExecution',
];

function queryStatements(workGroup: string, prefix: string): FlatStatement[] {
  return [
    {
      effect: 'Allow',
      actions: ATHENA_ACTIONS,
      resources: [`arn:aws:athena:eu-west-1:123456789012:workgroup/${workGroup}`],
      condition: '',
    },
    {
      effect: 'Allow',
      actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:ListMultipartUploadParts', 's3:PutObject'],
      resources: [`arn:aws:s3:::results-bucket/${prefix}*`],
      condition: '',
    },
    {
      effect: 'Allow',
      actions: ['s3:ListBucket', 's3:ListBucketMultipartUploads'],
      resources: ['arn:aws:s3:::results-bucket'],
      condition: `StringLike s3:prefix=${prefix},${prefix}*`,
    },
    {
      effect: 'Allow',
      actions: ['s3:GetBucketLocation'],
      resources: ['arn:aws:s3:::results-bucket'],
      condition: '',
    },
    {
      effect: 'Allow',
      actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
      resources: ['<Key>'],
      condition: 'StringEquals kms:ViaService=s3.eu-west-1.amazonaws.com',
    },
  ];
}

describe('LogLakeQuery', () => {
  it('creates the main workgroup and one per persona, each with its own results prefix', () => {
    const { stack } = build();

    const wgs = Object.values(resourcesOf(Template.fromStack(stack), 'AWS::Athena::WorkGroup')).map((w) => [
      w.Properties.Name,
      (w.Properties.WorkGroupConfiguration as { ResultConfiguration: { OutputLocation: string } })
        .ResultConfiguration.OutputLocation,
    ]);

    expect(wgs).toEqual([
      ['lake', 's3://results-bucket/main/'],
      ['lake-developer', 's3://results-bucket/personas/developer/'],
      ['lake-auditor', 's3://results-bucket/personas/auditor/'],
    ]);
  });

  it('saves the queries in the main workgroup and in those of personas reading the logs table', () => {
    const named = (namedQueries: boolean) =>
      Object.values(
        resourcesOf(Template.fromStack(build(namedQueries).stack), 'AWS::Athena::NamedQuery'),
      ).map((q) => q.Properties.WorkGroup);

    expect(new Set(named(true))).toEqual(new Set(['lake', 'lake-developer']));
    expect(named(false)).toEqual([]);
  });

  it('narrows a persona workgroup’s saved queries to its categories, the logs table projecting them all', () => {
    const queries = Object.values(
      resourcesOf(Template.fromStack(build().stack), 'AWS::Athena::NamedQuery'),
    ).map((q) => [q.Properties.WorkGroup as string, q.Properties.QueryString as string] as const);

    const developer = queries.filter(([wg]) => wg === 'lake-developer').map(([, sql]) => sql);
    const main = queries.filter(([wg]) => wg === 'lake').map(([, sql]) => sql);
    expect(developer).toHaveLength(3);
    for (const sql of developer) expect(sql).toMatch(/\n {2}AND category IN \('debug', 'errors'\)\n/);
    for (const sql of main) expect(sql).not.toContain('category IN');
  });

  it('grants querying in the main workgroup and its results prefix, without a persona', () => {
    const { stack, query, role } = build();

    query.grantQuery(role);

    expect(policyStatementsOf(Template.fromStack(stack), 'AnalystDefaultPolicy')).toEqual(
      queryStatements('lake', 'main/'),
    );
  });

  it('grants a persona its own workgroup and results prefix only', () => {
    const { stack, query, role } = build();

    query.grantQuery(role, 'auditor');

    expect(policyStatementsOf(Template.fromStack(stack), 'AnalystDefaultPolicy')).toEqual(
      queryStatements('lake-auditor', 'personas/auditor/'),
    );
  });

  it('refuses a persona without a workgroup', () => {
    const { query, role } = build();

    expect(() => query.grantQuery(role, 'ops')).toThrow(/persona ops has no workgroup/);
  });
});
