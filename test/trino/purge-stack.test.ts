/**
 * `loglake subject erase --purge --stack` end to end, the way a privacy officer meets it: the real CLI
 * against a stack on MiniStack (its outputs name the key and request tables, the lake key's secret and
 * the audit stream) records the request; the erasure executor (`lambdas/erase`), deployed as a Lambda on
 * MiniStack, carries it out with S3 on MiniStack and Athena on the Athena API in front of Trino (the
 * SDK's `AWS_ENDPOINT_URL_ATHENA` in its environment); then the person's rows are gone from the unlocked
 * categories' objects, the locked category is untouched, the key is destroyed and `subject status` says
 * what was done. The stack's resources are made with the SDK, its outputs by a one-resource template:
 * a whole `cdk deploy` is the deploy test's (`test/emulator/deploy.test.ts`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateDeliveryStreamCommand, FirehoseClient } from '@aws-sdk/client-firehose';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERASE_ENV } from '../../lambdas/erase/constants';
import { pseudonymKey } from '../../src/local/datadir';
import { listPartitions } from '../../src/local/lake-files';
import { STACK_OUTPUTS } from '../../src/outputs';
import { DynamoDbSubjectRequestStore } from '../../src/privacy/dynamodb-requests';
import { LocalSubjectKeyStore } from '../../src/privacy/local-store';
import { SUBJECT_KEY_ATTRIBUTES, SUBJECT_REQUEST_PARTITION_KEY } from '../../src/privacy/store';
import { subjectRef } from '../../src/privacy/subject';
import { duckdbFileList, duckdbString } from '../../src/query/duckdb';
import { loglake } from '../helpers/cli';
import { EMULATOR_ENDPOINT, EMULATOR_REGION, emulatorClientConfig } from '../helpers/emulator';
import { type DeployedFunction, deployFunction } from '../helpers/emulator-lambda';
import { withoutRecorderWarning } from '../helpers/recorder-warning';
import { envWithoutAws } from '../infra/tools';
import {
  type EmulatorBuckets,
  type LakeBucket,
  openEmulatorBuckets,
  openTierLake,
  type TierLake,
  tierPseudonyms,
} from './lake';

const UNLOCKED = ['debug', 'runtime', 'framework', 'errors', 'api_access'] as const;
const LOCKED = 'security';
const USER = 'user-1';
const id = randomBytes(4).toString('hex');
const STACK = `loglake-purge-stack-${id}`;
const cliEnv = envWithoutAws({
  AWS_ENDPOINT_URL: EMULATOR_ENDPOINT,
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: EMULATOR_REGION,
  AWS_DEFAULT_REGION: EMULATOR_REGION,
});

let lake: TierLake;
let buckets: EmulatorBuckets;
let bucket: LakeBucket;
let executor: DeployedFunction;
let work: string;
/** The person's pseudonym in the lake, and their reference under the stack's lake key. */
let A = '';
let ref = '';
let requestTable = '';
let keyTable = '';
const dynamodb = new DynamoDBClient(emulatorClientConfig);
const cfn = new CloudFormationClient(emulatorClientConfig);

beforeAll(async () => {
  lake = await openTierLake();
  buckets = await openEmulatorBuckets(lake, 's3purgestack');
  work = mkdtempSync(join(tmpdir(), 'loglake-purge-stack-'));
  A = (await tierPseudonyms(lake, [USER])).get(USER) ?? '';
  // One hour holding the person's rows in each of two unlocked categories, and one in the locked one.
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const chosen: Array<{ rel: string; files: string[] }> = [];
  try {
    for (const c of [...UNLOCKED, LOCKED]) {
      const wanted = c === LOCKED ? 3 : 2;
      if (chosen.length >= wanted) continue;
      for (const p of listPartitions(lake.dataDir).filter((p) => p.rel.startsWith(`logs/category=${c}/`))) {
        const files = p.visible.map((n) => join(p.abs, n));
        if (files.length === 0) continue;
        const r = await conn.runAndReadAll(
          `SELECT count(*) FROM read_parquet(${duckdbFileList(files)}, hive_partitioning = false) WHERE user_id = ${duckdbString(A)}`,
        );
        if (r.getRows()[0]?.[0] !== 0n) {
          chosen.push({ rel: p.rel, files });
          break;
        }
      }
    }
  } finally {
    conn.closeSync();
    db.closeSync();
  }
  if (chosen.length !== 3)
    throw new Error(`the tier lake has too few hours holding ${USER}: ${chosen.length}`);
  bucket = await buckets.create(
    'loglake-purge-stack',
    chosen.flatMap((p) =>
      p.files.map((f) => ({ key: `${p.rel}/${f.slice(f.lastIndexOf('/') + 1)}`, body: readFileSync(f) })),
    ),
    { versioned: true, puts: 2 },
  );

  // The stack's privacy side: key and request tables, the lake key's secret, the audit stream.
  keyTable = `loglake-subject-keys-${id}`;
  requestTable = `loglake-subject-requests-${id}`;
  for (const [TableName, key] of [
    [keyTable, SUBJECT_KEY_ATTRIBUTES.ref],
    [requestTable, SUBJECT_REQUEST_PARTITION_KEY],
  ] as const) {
    await dynamodb.send(
      new CreateTableCommand({
        TableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
      }),
    );
  }
  const lakeKey = randomBytes(32).toString('hex');
  const secrets = new SecretsManagerClient(emulatorClientConfig);
  const secret = await secrets.send(
    new CreateSecretCommand({ Name: `loglake-pseudonym-${id}`, SecretString: lakeKey }),
  );
  secrets.destroy();
  // The person's subject key as the transform stored it (the tier lake's, under the stack's reference).
  const localRef = subjectRef(pseudonymKey(lake.dataDir, undefined, false), USER);
  const subjectKey = (await LocalSubjectKeyStore.forDataDir(lake.dataDir).get([localRef])).get(localRef);
  if (!subjectKey) throw new Error(`no subject key for ${USER} in the tier lake`);
  ref = subjectRef(lakeKey, USER);
  await dynamodb.send(
    new PutItemCommand({
      TableName: keyTable,
      Item: {
        [SUBJECT_KEY_ATTRIBUTES.ref]: { S: ref },
        [SUBJECT_KEY_ATTRIBUTES.key]: { B: subjectKey },
        [SUBJECT_KEY_ATTRIBUTES.created]: { S: new Date().toISOString() },
      },
    }),
  );
  const auditBucket = `loglake-purge-stack-audit-${id}`;
  const auditStream = `loglake-purge-stack-audit-${id}`;
  await buckets.s3.send(new CreateBucketCommand({ Bucket: auditBucket }));
  const firehose = new FirehoseClient(emulatorClientConfig);
  await firehose.send(
    new CreateDeliveryStreamCommand({
      DeliveryStreamName: auditStream,
      DeliveryStreamType: 'DirectPut',
      ExtendedS3DestinationConfiguration: {
        BucketARN: `arn:aws:s3:::${auditBucket}`,
        RoleARN: 'arn:aws:iam::000000000000:role/firehose',
      },
    }),
  );
  firehose.destroy();
  // The outputs the CLI reads with --stack.
  const outputs = {
    [STACK_OUTPUTS.subjectKeyTable]: keyTable,
    [STACK_OUTPUTS.subjectRequestTable]: requestTable,
    [STACK_OUTPUTS.pseudonymSecret]: secret.ARN ?? '',
    [STACK_OUTPUTS.auditStream]: auditStream,
  };
  await cfn.send(
    new CreateStackCommand({
      StackName: STACK,
      TemplateBody: JSON.stringify({
        Resources: { Handle: { Type: 'AWS::CloudFormation::WaitConditionHandle' } },
        Outputs: Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, { Value: v }])),
      }),
    }),
  );
  for (let i = 0; ; i++) {
    const s = (await cfn.send(new DescribeStacksCommand({ StackName: STACK }))).Stacks?.[0];
    if (s?.StackStatus === 'CREATE_COMPLETE') break;
    if (i > 120 || /FAILED|ROLLBACK/.test(s?.StackStatus ?? ''))
      throw new Error(`stack ${STACK}: ${s?.StackStatus} ${s?.StackStatusReason ?? ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }

  executor = await deployFunction({
    name: `loglake-erase-${id}`,
    entry: 'lambdas/erase/index.ts',
    // Lambda's maximum, as deployed: the purge stops starting hours when 5 minutes are left.
    timeoutSeconds: 900,
    environment: {
      [ERASE_ENV.requestTable]: requestTable,
      [ERASE_ENV.keyTable]: keyTable,
      [ERASE_ENV.auditStream]: auditStream,
      [ERASE_ENV.principal]: 'arn:aws:iam::000000000000:role/loglake-erase',
      [ERASE_ENV.purge]: JSON.stringify({
        bucket: bucket.bucket,
        workgroup: 'primary',
        database: buckets.schema,
        table: bucket.table,
        categories: UNLOCKED,
        locked: [LOCKED],
        // The tier's events are from the last 31 hours.
        searchDays: Object.fromEntries(UNLOCKED.map((c) => [c, 3])),
      }),
      // The SDK's service endpoint: the executor's Athena client talks to Trino, the rest to MiniStack.
      AWS_ENDPOINT_URL_ATHENA: lake.athena.endpoint,
    },
  });
}, 600_000);

afterAll(async () => {
  await cfn.send(new DeleteStackCommand({ StackName: STACK })).catch(() => undefined);
  cfn.destroy();
  dynamodb.destroy();
  await buckets?.close();
  if (work) rmSync(work, { recursive: true, force: true });
  await lake?.close();
});

/** Every current row under a prefix as JSON text, sorted. */
async function rows(under: string): Promise<string[]> {
  return buckets.rows(
    bucket.bucket,
    (await buckets.keys(bucket.bucket, under)).map((key) => ({ key })),
  );
}

const subject = (verb: string, ...rest: string[]) =>
  loglake(
    ['subject', verb, '--user', USER, '--stack', STACK, '--persona', 'privacy-officer', ...rest],
    cliEnv,
  );

describe('subject erase --purge --stack, carried out by the executor on MiniStack with Trino as Athena', () => {
  it("removes the person's rows from the unlocked categories, keeps the locked one, destroys the key, and says so", async () => {
    // Arrange
    const unlockedBefore = (await Promise.all(UNLOCKED.map((c) => rows(`logs/category=${c}/`)))).flat();
    const lockedBefore = await rows(`logs/category=${LOCKED}/`);
    const personRows = unlockedBefore.filter((r) => r.includes(A)).length;
    const unlockedKeys = (
      await Promise.all(UNLOCKED.map((c) => buckets.keys(bucket.bucket, `logs/category=${c}/`)))
    ).flat();
    const personFiles = (await Promise.all(unlockedKeys.map((k) => rows(k)))).filter((rs) =>
      rs.some((r) => r.includes(A)),
    ).length;
    expect(personRows).toBeGreaterThan(0);
    expect(lockedBefore.some((r) => r.includes(A))).toBe(true);

    // Act 1: the privacy officer asks for the erasure with the purge.
    const erase = await subject('erase', '--reason', 'GDPR request 7', '--purge');
    const pending = await new DynamoDbSubjectRequestStore(dynamodb, requestTable).get(ref);
    // Act 2: the executor's scheduled run.
    const run = await executor.invoke({
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      time: new Date().toISOString(),
    });
    const status = await subject('status');

    // Assert
    expect(withoutRecorderWarning(erase.stderr)).toBe('');
    expect(erase.code).toBe(0);
    expect(erase.stdout).toContain(`erasure with purge of subject ${ref.slice(0, 16)} scheduled for`);
    expect(pending).toMatchObject({ state: 'pending', purge: true, pseudonym: A });
    expect(run).toEqual({ result: { erased: [{ subject: ref, destroyed: true }] } });
    const unlockedAfter = (await Promise.all(UNLOCKED.map((c) => rows(`logs/category=${c}/`)))).flat();
    expect(unlockedAfter.sort()).toEqual(unlockedBefore.filter((r) => !r.includes(A)).sort());
    expect(await rows(`logs/category=${LOCKED}/`)).toEqual(lockedBefore);
    const key = await dynamodb.send(
      new GetItemCommand({ TableName: keyTable, Key: { [SUBJECT_KEY_ATTRIBUTES.ref]: { S: ref } } }),
    );
    expect(key.Item).toBeUndefined();
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(
      `(key destroyed; purged ${personRows} row(s) from ${personFiles} file(s) of ${UNLOCKED.join(', ')}; locked categories not rewritten: ${LOCKED})`,
    );
  }, 300_000);
});
