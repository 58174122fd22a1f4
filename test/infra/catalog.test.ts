/** `LogLakeCatalog` alone on a bare stack: database, projected tables, and the read grant. */
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { LogLakeCatalog } from '../../lib/catalog';
import { bareStack, type FlatStatement, policyStatementsOf, resourcesOf } from './helpers';

function build(databaseName = 'lake') {
  const { stack } = bareStack();
  const bucket = (name: string) => s3.Bucket.fromBucketName(stack, name, name);
  const catalog = new LogLakeCatalog(stack, 'Catalog', {
    databaseName,
    tables: {
      logs: { bucket: bucket('logs-bucket'), categories: ['debug', 'runtime'], retentionDays: 30 },
      audit: { bucket: bucket('audit-bucket'), categories: ['audit'], retentionDays: 2555 },
    },
  });
  const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
  return { stack, catalog, role };
}

/** The partition layout as Athena's projection template spells it. */
const LAYOUT = `logs/category=\${category}/dt=\${dt}/hour=\${hour}/`;

describe('LogLakeCatalog', () => {
  it('creates one external Parquet table per stream, projecting its categories and retention', () => {
    const { stack } = build();

    const tables = Object.values(resourcesOf(Template.fromStack(stack), 'AWS::Glue::Table')).map(
      (t) => t.Properties.TableInput as { Name: string; Parameters: Record<string, string> },
    );

    expect(
      tables.map((t) => [
        t.Name,
        t.Parameters['projection.category.values'],
        t.Parameters['projection.dt.range'],
        t.Parameters['storage.location.template'],
      ]),
    ).toEqual([
      ['logs', 'debug,runtime', 'NOW-30DAYS,NOW+1DAYS', `s3://logs-bucket/${LAYOUT}`],
      ['audit', 'audit', 'NOW-2555DAYS,NOW+1DAYS', `s3://audit-bucket/${LAYOUT}`],
    ]);
  });

  it('grants reading the database and the tables asked for, nothing else', () => {
    const { stack, catalog, role } = build();

    catalog.grantReadTables(role, ['audit']);

    expect(policyStatementsOf(Template.fromStack(stack), 'ReaderDefaultPolicy')).toEqual<FlatStatement[]>([
      {
        effect: 'Allow',
        actions: [
          'glue:GetDatabase',
          'glue:GetPartition',
          'glue:GetPartitions',
          'glue:GetTable',
          'glue:GetTables',
        ],
        resources: [
          'arn:aws:glue:eu-west-1:123456789012:catalog',
          'arn:aws:glue:eu-west-1:123456789012:database/lake',
          'arn:aws:glue:eu-west-1:123456789012:table/lake/audit',
        ],
        condition: '',
      },
    ]);
  });

  it('grants every table by default', () => {
    const { catalog, role } = build();

    const grant = catalog.grantReadTables(role);

    expect(
      grant.principalStatements.flatMap((s) => s.resources).filter((r) => r.includes(':table/')),
    ).toHaveLength(2);
  });

  it('refuses a database name Athena cannot use, naming it', () => {
    expect(() => build('My-Lake')).toThrow(/databaseName must be lowercase .* \(received My-Lake\)/);
  });
});
