/**
 * The explorer's alerts page over a deployed stack (`loglake ui --stack … [--persona …]`): the rules'
 * state read from the alarm Lambda's DynamoDB table, mocked with aws-sdk-client-mock as the compliance
 * report's readers are (test/helpers/stack-mocks.ts). The table is found through the stack's outputs.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { type AthenaTarget, resolveAthenaTarget } from '../../src/cli/aws';
import { DEFAULT_CONFIG } from '../../src/config';
import { alertsPage } from '../../src/ui/pages/alerts';
import { UiSource } from '../../src/ui/source';
import { cfn, dynamodb, OUTPUTS } from '../helpers/stack-mocks';

const region = 'eu-west-1';
const TABLE = OUTPUTS.AlertStateTableName;

const target = (alertStateTable: string | null | undefined): AthenaTarget => ({
  region,
  workGroup: 'loglake',
  database: 'loglake',
  tables: { logs: 'logs', audit: 'audit' },
  pseudonymSecret: undefined,
  subjectKeyTable: undefined,
  auditStream: undefined,
  ...(alertStateTable === undefined ? {} : { alertStateTable }),
});

async function page(alertStateTable: string | null | undefined, persona?: string): Promise<string> {
  const source = await UiSource.athena({
    client: new AthenaClient({ region }),
    target: target(alertStateTable),
    config: DEFAULT_CONFIG,
    ...(persona ? { persona } : {}),
  });
  return (await alertsPage(source)).toString();
}

/** The state table's rows as `[rule, group, status, since, last value, last evaluated]`. */
function stateRows(body: string): string[][] {
  const table = /<h2 id="state">[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(body)?.[1] ?? '';
  return [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((tr) =>
    [...(tr[1] ?? '').matchAll(/<td>([\s\S]*?)<\/td>/g)].map((td) => td[1] ?? ''),
  );
}

/** The keys the page asked DynamoDB for, in order. */
const askedKeys = () =>
  dynamodb.commandCalls(GetItemCommand).map((c) => [c.args[0].input.TableName, c.args[0].input.Key?.pk?.S]);

function accessDenied(message: string): Error {
  return Object.assign(new Error(message), { name: 'AccessDeniedException' });
}

beforeEach(() => {
  dynamodb.reset();
  cfn.reset();
});

describe('alertsPage over a deployed stack', () => {
  it("shows each rule's groups with status, since, last value and last evaluation; a rule never evaluated says so", async () => {
    // Arrange
    dynamodb.on(GetItemCommand).resolves({});
    dynamodb.on(GetItemCommand, { Key: { pk: { S: 'rule#error-rate' }, sk: { S: 'state' } } }).resolves({
      Item: marshall({
        pk: 'rule#error-rate',
        sk: 'state',
        lastSlot: '2026-11-30T11:55:00.000Z',
        version: 7,
        outbox: [],
        state: {
          groups: {
            'service=shop': {
              status: 'firing',
              consecutive: 3,
              since: '2026-11-30T11:45:00.000Z',
              lastEvaluatedAt: '2026-11-30T11:55:00.000Z',
              lastValue: 0.12,
            },
          },
        },
      }),
    });
    dynamodb.on(GetItemCommand, { Key: { pk: { S: 'rule#bulk-read' } } }).resolves({
      Item: marshall({
        pk: 'rule#bulk-read',
        sk: 'state',
        lastSlot: '2026-11-30T11:55:00.000Z',
        state: { groups: {} },
      }),
    });

    // Act
    const body = await page(TABLE);

    // Assess: every rule of the config, by name, from the table the output names
    expect(stateRows(body)).toEqual([
      ['bulk-read', '—', 'quiet', '—', '—', '2026-11-30T11:55:00.000Z'],
      [
        'error-rate',
        'service=shop',
        'firing',
        '2026-11-30T11:45:00.000Z',
        '0.12',
        '2026-11-30T11:55:00.000Z',
      ],
      ['firehose-errors', '—', 'never evaluated', '—', '—', '—'],
      ['security-critical', '—', 'never evaluated', '—', '—', '—'],
      ['volume-anomaly', '—', 'never evaluated', '—', '—', '—'],
    ]);
    expect(new Set(askedKeys().map(([table]) => table))).toEqual(new Set([TABLE]));
    expect(body).toContain(`From DynamoDB table <code>${TABLE}</code>.`);
  });

  it("asks only for the rules over the persona's categories, and names the others", async () => {
    // Arrange
    dynamodb.on(GetItemCommand).resolves({});

    // Act
    const body = await page(TABLE, 'developer');

    // Assess: the developer reads debug, runtime, framework, errors and api_access: error-rate only
    expect(askedKeys()).toEqual([[TABLE, 'rule#error-rate']]);
    expect(stateRows(body).map((r) => r[0])).toEqual(['error-rate']);
    expect(body).toContain(
      'Not shown: bulk-read, firehose-errors, security-critical, volume-anomaly (over categories persona developer does not read).',
    );
  });

  it('says which permission is missing when the credentials may not read a rule, and shows the rest', async () => {
    // Arrange: a role whose LeadingKeys condition does not list security-critical
    dynamodb.on(GetItemCommand).resolves({});
    dynamodb
      .on(GetItemCommand, { Key: { pk: { S: 'rule#security-critical' } } })
      .rejects(
        accessDenied(
          'User: arn:aws:sts::111122223333:assumed-role/x/y is not authorized to perform: dynamodb:GetItem',
        ),
      );

    // Act
    const body = await page(TABLE, 'ops');

    // Assess
    expect(stateRows(body)).toEqual([
      ['error-rate', '—', 'never evaluated', '—', '—', '—'],
      ['security-critical', '—', 'not readable (see above)', '—', '—', '—'],
    ]);
    const error = /<p class="error">([\s\S]*?)<\/p>/.exec(body)?.[1] ?? '';
    expect(error).toContain('may not read the state of security-critical');
    expect(error).toContain(
      `<code>dynamodb:GetItem</code> on ${TABLE} for <code>rule#security-critical</code>`,
    );
    expect(error).toContain('<code>kms:Decrypt</code>');
    expect(error).toContain('is not authorized to perform: dynamodb:GetItem');
  });

  it('says plainly that a stack without alerting has none, reading nothing', async () => {
    // Act
    const body = await page(null);

    // Assess
    expect(body).toContain('This stack has no alerting');
    expect(stateRows(body)).toEqual([]);
    expect(dynamodb.commandCalls(GetItemCommand)).toEqual([]);
  });

  it('says how to name the table when the outputs do not', async () => {
    // Act
    const body = await page(undefined);

    // Assess
    expect(body).toContain('state table is not known: name the stack with <code>--stack</code>');
    expect(body).toContain('<code>AlertStateTableName</code> output');
    expect(dynamodb.commandCalls(GetItemCommand)).toEqual([]);
  });

  it('fails on an error other than AccessDenied', async () => {
    // Arrange
    dynamodb
      .on(GetItemCommand)
      .rejects(
        Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException' }),
      );

    // Act
    const act = page(TABLE);

    // Assess
    await expect(act).rejects.toThrow('Requested resource not found');
  });
});

describe('resolveAthenaTarget', () => {
  const outputs = (o: Record<string, string>) => ({
    Stacks: [
      {
        StackName: 'LogLake',
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE' as const,
        Outputs: Object.entries(o).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });

  it("takes the alert state table from the stack's output, and no alerting from a stack without topics", async () => {
    // Arrange
    const { AlertStateTableName: _, HighAlertTopicArn: __, ...withoutAlerting } = OUTPUTS;
    cfn.on(DescribeStacksCommand, { StackName: 'LogLake' }).resolves(outputs(OUTPUTS));
    cfn.on(DescribeStacksCommand, { StackName: 'Quiet' }).resolves(outputs(withoutAlerting));

    // Act
    const deployed = await resolveAthenaTarget({ stack: 'LogLake', region });
    const quiet = await resolveAthenaTarget({ stack: 'Quiet', region });
    const flagsOnly = await resolveAthenaTarget({ workgroup: 'wg', database: 'db', region });

    // Assess
    expect(deployed.alertStateTable).toBe(TABLE);
    expect(quiet.alertStateTable).toBeNull();
    expect(flagsOnly.alertStateTable).toBeUndefined();
  });
});
