/**
 * The Athena side of the CLI: where to query (workgroup, database, tables, region) from flags or the
 * stack's CloudFormation outputs, and the pseudonym key from the stack's Secrets Manager secret.
 * SDK clients are created once per process (one region per CLI run).
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { InputError } from '../errors';
import { alertStateTableOf, personaWorkGroupOutput, STACK_OUTPUTS } from '../outputs';
import { DynamoDbSubjectRequestStore } from '../privacy/dynamodb-requests';
import { DynamoDbSubjectKeyStore } from '../privacy/dynamodb-store';
import { searchPseudonyms } from '../privacy/lookup';
import type { SubjectRequestStore } from '../privacy/requests';
import type { SubjectKeyStore } from '../privacy/store';
import { cliEnv } from './env';

// The output keys are shared with lib/stack.ts, which writes them.
export { personaWorkGroupOutput, STACK_OUTPUTS } from '../outputs';

export interface AthenaFlags {
  readonly stack?: string;
  readonly region?: string;
  readonly workgroup?: string;
  readonly database?: string;
  readonly logsTable?: string;
  readonly auditTable?: string;
  readonly persona?: string;
  readonly pseudonymSecret?: string;
  readonly auditStream?: string;
}

export interface AthenaTarget {
  readonly region: string | undefined;
  readonly workGroup: string;
  readonly database: string;
  readonly tables: { readonly logs: string; readonly audit: string };
  readonly pseudonymSecret: string | undefined;
  /** The DynamoDB table of subject keys (stack output), for `--user` and `loglake privacy`. */
  readonly subjectKeyTable: string | undefined;
  /** The DynamoDB table of scheduled erasure requests (stack output), for `loglake subject --stack`. */
  readonly subjectRequestTable?: string | undefined;
  /**
   * The audit delivery stream (stack output, or `--audit-stream`): where the CLI's access events go when
   * the stack has no access recorder.
   */
  readonly auditStream: string | undefined;
  /** The access recorder's function URL (stack output): where the CLI's access and privacy events go. */
  readonly accessRecorderUrl?: string | undefined;
  /**
   * The alarm Lambda's state table (stack output, see `alertStateTableOf`): `null` when the stack has no
   * alerting; absent without a stack, or for a stack deployed before the output.
   */
  readonly alertStateTable?: string | null;
}

const clients: {
  athena?: AthenaClient;
  cfn?: CloudFormationClient;
  secrets?: SecretsManagerClient;
  dynamodb?: DynamoDBClient;
} = {};

export function athenaClient(region: string | undefined): AthenaClient {
  clients.athena ??= new AthenaClient(region ? { region } : {});
  return clients.athena;
}

function cfnClient(region: string | undefined): CloudFormationClient {
  clients.cfn ??= new CloudFormationClient(region ? { region } : {});
  return clients.cfn;
}

export function dynamodbClient(region: string | undefined): DynamoDBClient {
  clients.dynamodb ??= new DynamoDBClient(region ? { region } : {});
  return clients.dynamodb;
}

function secretsClient(region: string | undefined): SecretsManagerClient {
  clients.secrets ??= new SecretsManagerClient(region ? { region } : {});
  return clients.secrets;
}

/**
 * Every client `compliance-report --stack` reads evidence with, for one region (AWS_ENDPOINT_URL, read by
 * the SDK itself, points them at an emulator).
 */
export async function stackEvidenceClients(
  region: string | undefined,
): Promise<import('../compliance/aws').StackClients> {
  const [{ S3Client }, { KMSClient }, { IAMClient }, { CloudWatchClient }] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import('@aws-sdk/client-kms'),
    import('@aws-sdk/client-iam'),
    import('@aws-sdk/client-cloudwatch'),
  ]);
  const config = region ? { region } : {};
  return {
    s3: new S3Client(config),
    kms: new KMSClient(config),
    iam: new IAMClient(config),
    cloudwatch: new CloudWatchClient(config),
    cloudformation: cfnClient(region),
    dynamodb: dynamodbClient(region),
    athena: athenaClient(region),
  };
}

/** The stack's outputs by key. */
export async function stackOutputs(
  stack: string,
  region: string | undefined,
): Promise<Record<string, string>> {
  const { Stacks } = await cfnClient(region).send(new DescribeStacksCommand({ StackName: stack }));
  const outputs: Record<string, string> = {};
  for (const o of Stacks?.[0]?.Outputs ?? [])
    if (o.OutputKey && o.OutputValue) outputs[o.OutputKey] = o.OutputValue;
  return outputs;
}

/**
 * Resolve the Athena target: explicit flags win; missing values come from the stack's outputs
 * (`--stack` or `LOGLAKE_STACK`).
 * @throws InputError naming what is missing.
 */
export async function resolveAthenaTarget(flags: AthenaFlags): Promise<AthenaTarget> {
  const region = flags.region ?? cliEnv.region;
  const stack = flags.stack ?? cliEnv.stack;
  // With a stack, its outputs are read also when the flags name the rest: they name the audit stream,
  // where the query's access event goes.
  const needOutputs = !flags.workgroup || !flags.database || stack;
  const outputs = stack && needOutputs ? await stackOutputs(stack, region) : {};
  const workGroup =
    flags.workgroup ??
    (flags.persona ? outputs[personaWorkGroupOutput(flags.persona)] : undefined) ??
    outputs[STACK_OUTPUTS.workGroup];
  const database = flags.database ?? outputs[STACK_OUTPUTS.database];
  const missing = [...(workGroup ? [] : ['--workgroup']), ...(database ? [] : ['--database'])];
  if (missing.length > 0) {
    throw new InputError(
      `--athena needs ${missing.join(' and ')}, or --stack <name> (or LOGLAKE_STACK) to read them from the stack's outputs${
        stack
          ? ` (stack ${stack} has no ${missing.join('/')} output${flags.persona ? ` for persona ${flags.persona}` : ''})`
          : ''
      }`,
    );
  }
  return {
    region,
    workGroup: workGroup as string,
    database: database as string,
    tables: {
      logs: flags.logsTable ?? outputs[STACK_OUTPUTS.logsTable] ?? 'logs',
      audit: flags.auditTable ?? outputs[STACK_OUTPUTS.auditTable] ?? 'audit',
    },
    pseudonymSecret: flags.pseudonymSecret ?? outputs[STACK_OUTPUTS.pseudonymSecret],
    subjectKeyTable: outputs[STACK_OUTPUTS.subjectKeyTable],
    subjectRequestTable: outputs[STACK_OUTPUTS.subjectRequestTable],
    auditStream: flags.auditStream ?? outputs[STACK_OUTPUTS.auditStream],
    accessRecorderUrl: outputs[STACK_OUTPUTS.accessRecorderUrl],
    // Without a stack there are no outputs to tell "no alerting" from "not named".
    ...(stack ? { alertStateTable: alertStateTableOf(outputs) } : {}),
  };
}

/** The deployment's lake key (the secret the transform Lambda reads). @throws InputError when none is known. */
export async function athenaLakeKey(target: AthenaTarget): Promise<string> {
  if (!target.pseudonymSecret) {
    throw new InputError(
      '--user on Athena needs the pseudonym key: pass --pseudonym-secret <arn> or --stack <name>',
    );
  }
  const { SecretString } = await secretsClient(target.region).send(
    new GetSecretValueCommand({ SecretId: target.pseudonymSecret }),
  );
  if (!SecretString) throw new InputError(`secret ${target.pseudonymSecret} has no string value`);
  return SecretString;
}

/** The deployment's subject key table. @throws InputError when the stack names none. */
export function athenaSubjectKeys(target: AthenaTarget): SubjectKeyStore {
  if (!target.subjectKeyTable) {
    throw new InputError(
      `--user on Athena needs the subject key table: pass --stack <name> (output ${STACK_OUTPUTS.subjectKeyTable})`,
    );
  }
  return new DynamoDbSubjectKeyStore(dynamodbClient(target.region), target.subjectKeyTable);
}

/** The deployment's erasure request table, or `undefined` for a stack deployed before it existed. */
export function athenaSubjectRequests(target: AthenaTarget): SubjectRequestStore | undefined {
  if (!target.subjectRequestTable) return undefined;
  return new DynamoDbSubjectRequestStore(dynamodbClient(target.region), target.subjectRequestTable);
}

/**
 * Raw user ids → the pseudonyms their records carry, with each subject's key from the deployment's key
 * table (found by the lake key). An erased or unknown id matches nothing.
 * @throws InputError when the secret or the table is not known.
 */
export async function athenaPseudonymizer(
  target: AthenaTarget,
): Promise<(ids: string[]) => Promise<string[]>> {
  return async (ids) => searchPseudonyms(await athenaLakeKey(target), athenaSubjectKeys(target), ids);
}
