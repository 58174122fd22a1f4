/**
 * `LogLakeAccess` on a bare stack with the parts it is built from (storage, catalog, query, ingest): the
 * persona policies come from their grants, the producer policy from the streams' grant.
 */
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { LogLakeAccess } from '../../lib/access';
import { LogLakeCatalog } from '../../lib/catalog';
import { LogLakeQuery } from '../../lib/query';
import { DEFAULT_CONFIG, type PersonaGrant } from '../../src/config';
import { CATEGORIES, PERSONAS, type Persona } from '../../src/schema';
import { bareStack, policyStatementsOf, resourcesOf } from './helpers';
import { defaultIngest, defaultStorage } from './parts';

function build(personas: Record<Persona, PersonaGrant> = DEFAULT_CONFIG.personas) {
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
  new LogLakeAccess(stack, 'Access', { personas, storage, catalog, query, ingest });
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
