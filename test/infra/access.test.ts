/**
 * `LogLakeAccess` on a bare stack with the parts it is built from (storage, catalog, query, ingest): the
 * persona policies come from their grants, the producer policy from the streams' grant.
 */
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { LogLakeAccess } from '../../lib/access';
import { LogLakeAccessRecorder } from '../../lib/access-recorder';
import { LogLakeCatalog } from '../../lib/catalog';
import { LogLakeQuery } from '../../lib/query';
import { DEFAULT_CONFIG, type PersonaGrant } from '../../src/config';
import { pascalCase } from '../../src/outputs';
import { CATEGORIES, PERSONAS, type Persona } from '../../src/schema';
import { bareStack, policyStatementsOf, resourcesOf, template } from './helpers';
import { defaultIngest, defaultStorage } from './parts';

function build(personas: Record<Persona, PersonaGrant> = DEFAULT_CONFIG.personas, withRecorder = false) {
  const { stack } = bareStack();
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const storage = defaultStorage(stack, key);
  const { logs, audit } = storage.dataBuckets;
  const locked = CATEGORIES.filter((c) => storage.placement[c] === 'audit');
  const catalog = new LogLakeCatalog(stack, 'Catalog', {
    databaseName: 'lake',
    tables: {
      logs: { bucket: logs, categories: CATEGORIES.filter((c) => !locked.includes(c)), retentionDays: 180 },
      ...(audit && { audit: { bucket: audit, categories: locked, retentionDays: 2555 } }),
    },
  });
  const ingest = defaultIngest(stack, key, {
    logs: { bucket: logs, table: catalog.tables.logs },
    ...(audit && catalog.tables.audit && { audit: { bucket: audit, table: catalog.tables.audit } }),
  });
  const query = new LogLakeQuery(stack, 'Query', {
    name: 'lake',
    resultsBucket: storage.resultsBucket,
    encryptionKey: key,
    bytesScannedCutoffPerQuery: 10 * 1024 ** 3,
    databaseName: 'lake',
    personas: (Object.keys(personas) as Persona[]).map((persona) => ({ persona, readsLogsTable: true })),
    namedQueries: false,
  });
  const auditLane = ingest.lanes.audit;
  const recorder =
    withRecorder && auditLane
      ? new LogLakeAccessRecorder(stack, 'Recorder', {
          auditStream: auditLane.stream,
          encryptionKey: key,
          logRetentionDays: 30,
        })
      : undefined;
  new LogLakeAccess(stack, 'Access', {
    personas,
    storage,
    catalog,
    query,
    ingest,
    ...(recorder && { recorder }),
  });
  return Template.fromStack(stack);
}

describe('LogLakeAccess', () => {
  it('gives each persona a role with one managed policy and no inline policy', () => {
    const t = build();

    const roles = Object.keys(resourcesOf(t, 'AWS::IAM::Role')).filter((id) => id.startsWith('Access'));
    const managed = Object.values(resourcesOf(t, 'AWS::IAM::ManagedPolicy')).filter(
      (p) => p.Properties.Roles,
    );

    expect(roles).toHaveLength(PERSONAS.length);
    expect(managed).toHaveLength(PERSONAS.length);
    expect(Object.keys(resourcesOf(t, 'AWS::IAM::Policy')).filter((id) => id.startsWith('Access'))).toEqual(
      [],
    );
  });

  it('fills the producer policy from the streams’ grant: put records on both streams, nothing else', () => {
    expect(policyStatementsOf(build(), 'AccessProducerPolicy')).toEqual([
      {
        effect: 'Allow',
        actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
        resources: ['<IngestAuditStream>', '<IngestLogsStream>'],
        condition: '',
      },
    ]);
  });

  it('gives a persona that reads nothing only its workgroup and results, and skips writes on locked categories', () => {
    const personas = {
      ...DEFAULT_CONFIG.personas,
      ops: { read: [], write: ['runtime', 'audit'] },
    } satisfies Record<Persona, PersonaGrant>;

    const statements = policyStatementsOf(build(personas), 'AccessOpsPolicy');

    const objects = statements.filter((s) =>
      s.actions.some((a) => a.startsWith('s3:') && a.includes('Object')),
    );
    expect(objects.flatMap((s) => s.resources).sort()).toEqual([
      '<StorageLogsBucket>/logs/category=runtime/*',
      '<StorageQueryResultsBucket>/personas/ops/*',
    ]);
    expect(statements.some((s) => s.actions.some((a) => a.startsWith('glue:')))).toBe(false);
  });
});

describe('LogLakeAccess and the access audit', () => {
  it('lets every persona record its access events through the recorder’s URL, and put on no stream', () => {
    const t = build(DEFAULT_CONFIG.personas, true);

    for (const persona of PERSONAS) {
      const statements = policyStatementsOf(t, `Access${pascalCase(persona)}Policy`);
      expect(
        statements.filter((s) => s.actions.some((a) => a.startsWith('firehose:'))),
        persona,
      ).toEqual([]);
      expect(
        statements.filter((s) => s.actions.some((a) => a.startsWith('lambda:'))),
        persona,
      ).toEqual([
        {
          effect: 'Allow',
          actions: ['lambda:InvokeFunctionUrl'],
          resources: ['<RecorderFunction>'],
          condition: 'StringEquals lambda:FunctionUrlAuthType=AWS_IAM',
        },
        {
          effect: 'Allow',
          actions: ['lambda:InvokeFunction'],
          resources: ['<RecorderFunction>'],
          condition: 'Bool lambda:InvokedViaFunctionUrl=true',
        },
      ]);
    }
  });

  it('gives no persona a way to write audit events without a recorder', () => {
    const t = build();

    for (const persona of PERSONAS) {
      const writes = policyStatementsOf(t, `Access${pascalCase(persona)}Policy`).filter((s) =>
        s.actions.some((a) => a.startsWith('firehose:') || a.startsWith('lambda:')),
      );
      expect(writes, persona).toEqual([]);
    }
  });
});

describe('LogLakeAccess with alerting', () => {
  /** The persona policy's statements that name the state table or allow a DynamoDB action anywhere. */
  function stateStatements(t: Template, persona: Persona) {
    return policyStatementsOf(t, `LogLakeAccess${pascalCase(persona)}Policy`).filter(
      (s) =>
        s.resources.includes('<LogLakeAlertingStateTable>') ||
        (s.actions.some((a) => a.startsWith('dynamodb:')) && s.resources.some((r) => r.includes('*'))),
    );
  }

  const readRuleState = (rules: string[]) => ({
    effect: 'Allow',
    actions: ['dynamodb:GetItem'],
    resources: ['<LogLakeAlertingStateTable>'],
    condition: `ForAllValues:StringEquals dynamodb:LeadingKeys=${rules.map((r) => `rule#${r}`).join(',')}`,
  });

  it('lets each persona read the state of exactly the default rules over its categories', () => {
    const t = template();

    // error-rate: runtime, framework, errors, api_access; security-critical: security; bulk-read: audit;
    // volume-anomaly (no category: all) and firehose-errors (the raw error output): every category.
    expect(stateStatements(t, 'developer')).toEqual([readRuleState(['error-rate'])]);
    expect(stateStatements(t, 'ops')).toEqual([readRuleState(['error-rate', 'security-critical'])]);
    expect(stateStatements(t, 'auditor')).toEqual([readRuleState(['bulk-read', 'security-critical'])]);
    const all = ['bulk-read', 'error-rate', 'firehose-errors', 'security-critical', 'volume-anomaly'];
    expect(stateStatements(t, 'security')).toEqual([readRuleState(all)]);
    expect(stateStatements(t, 'privacy-officer')).toEqual([readRuleState(all)]);
  });

  it('decrypts the items with the table’s key through DynamoDB only', () => {
    const statements = policyStatementsOf(template(), 'LogLakeAccessDeveloperPolicy');

    expect(statements).toContainEqual({
      effect: 'Allow',
      actions: ['kms:Decrypt'],
      resources: ['<LogLakeKey>'],
      condition: 'StringEquals kms:ViaService=dynamodb.<AWS::Region>.amazonaws.com',
    });
  });

  it('grants a persona no rule when it reads none of a rule’s categories, and a disabled rule like any', () => {
    const t = template({
      override: {
        personas: { auditor: { read: ['framework'], write: [] } },
        alerts: {
          rules: {
            'security-critical': { enabled: false },
            'framework-errors': {
              description: 'framework errors',
              severity: 'low',
              kind: 'count',
              filter: { categories: ['framework'], levels: ['ERROR'] },
              groupBy: ['service'],
              windowMinutes: 5,
              threshold: 10,
            },
          },
        },
      },
    });

    expect(stateStatements(t, 'auditor')).toEqual([readRuleState(['framework-errors'])]);
    expect(stateStatements(t, 'ops')).toEqual([
      readRuleState(['error-rate', 'framework-errors', 'security-critical']),
    ]);
  });

  it('grants nothing on rule state when the stack has no alerting', () => {
    const t = template({ override: { alerts: { enabled: false } } });

    expect(PERSONAS.flatMap((p) => stateStatements(t, p))).toEqual([]);
  });
});
