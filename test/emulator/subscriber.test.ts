/**
 * The prefix subscriber in MiniStack: the real handler runs as a Lambda (test/helpers/emulator-lambda.ts)
 * against MiniStack's CloudWatch Logs API. It is invoked with the events it gets on AWS: the Provider's
 * custom resource requests (Create: the sweep; Update; Delete: the lake's filters taken off) and
 * CloudTrail's `CreateLogGroup` event as EventBridge delivers it; the filters are read back with
 * DescribeSubscriptionFilters.
 *
 * What MiniStack cannot do here, covered elsewhere: its EventBridge gets no CloudTrail API call events
 * (and `PutEvents` refuses `aws.*` sources), so the event is invoked directly and the rule's pattern is a
 * template assertion (test/infra/prefix-subscriptions.test.ts); its CloudWatch Logs keeps no limit of two
 * filters per group and checks no role or destination on PutSubscriptionFilter, so a race into the limit
 * is covered with a mocked client (test/sources/subscriber.test.ts); the CloudFormation custom resource and
 * the Provider framework are not deployed (the resources are made through the APIs, as in
 * access-logs.test.ts).
 */
import { randomUUID } from 'node:crypto';
import {
  CloudWatchLogsClient,
  CreateLogGroupCommand,
  DescribeSubscriptionFiltersCommand,
  PutSubscriptionFilterCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SETTINGS_PROPERTY, SUBSCRIBER_ENV } from '../../lambdas/subscriber/constants';
import type { SubscriberSettings } from '../../src/sources/subscriber';
import { acquireEmulator, EMULATOR_REGION, emulatorClientConfig, releaseEmulator } from '../helpers/emulator';
import { type DeployedFunction, deployFunction } from '../helpers/emulator-lambda';

const logs = new CloudWatchLogsClient(emulatorClientConfig);
const id = randomUUID().slice(0, 8);
const prefix = `/aws/lambda/orders-${id}-`;
const audit = `${prefix}audit-`;
const SETTINGS: SubscriberSettings = {
  lakeName: `lake${id}`,
  destinationArn: `arn:aws:firehose:${EMULATOR_REGION}:000000000000:deliverystream/lake${id}-logs`,
  roleArn: 'arn:aws:iam::000000000000:role/cloudwatch-logs',
  prefixes: [
    { prefix, filterPattern: '' },
    { prefix: audit, filterPattern: '{ $.level = "ERROR" }', category: 'audit' },
  ],
  exclude: [`${prefix}lake-own`],
};

let fn: DeployedFunction;
/** Invoked synchronously, as the Provider framework does; the function's error comes back as the result. */
const invoke = (event: unknown) => fn.invoke(event);

const customResource = (
  RequestType: 'Create' | 'Update' | 'Delete',
  settings = SETTINGS,
  old?: SubscriberSettings,
) => ({
  RequestType,
  ServiceToken: 'arn:aws:lambda:us-east-1:000000000000:function:provider',
  ResponseURL: 'https://cloudformation-custom-resource-response.invalid/',
  StackId: 'arn:aws:cloudformation:us-east-1:000000000000:stack/LogLake/1',
  RequestId: randomUUID(),
  LogicalResourceId: 'Sweep',
  ResourceType: 'Custom::LogLakePrefixSubscriptions',
  ...(RequestType !== 'Create' && { PhysicalResourceId: `lake${id}-log-group-prefixes` }),
  ResourceProperties: { ServiceToken: 'x', [SETTINGS_PROPERTY]: JSON.stringify(settings) },
  ...(old && { OldResourceProperties: { ServiceToken: 'x', [SETTINGS_PROPERTY]: JSON.stringify(old) } }),
});

/** CloudTrail's record of a CreateLogGroup call, as EventBridge delivers it. */
const createLogGroupEvent = (logGroupName: string) => ({
  version: '0',
  id: randomUUID(),
  'detail-type': 'AWS API Call via CloudTrail',
  source: 'aws.logs',
  account: '000000000000',
  time: new Date().toISOString(),
  region: EMULATOR_REGION,
  resources: [],
  detail: {
    eventVersion: '1.08',
    eventSource: 'logs.amazonaws.com',
    eventName: 'CreateLogGroup',
    awsRegion: EMULATOR_REGION,
    requestParameters: { logGroupName },
    responseElements: null,
  },
});

async function filters(logGroupName: string): Promise<Array<[string, string, string]>> {
  const out = await logs.send(new DescribeSubscriptionFiltersCommand({ logGroupName }));
  return (out.subscriptionFilters ?? [])
    .map((f): [string, string, string] => [f.filterName ?? '', f.filterPattern ?? '', f.destinationArn ?? ''])
    .sort();
}

const group = (name: string) => logs.send(new CreateLogGroupCommand({ logGroupName: name }));
const foreign = (logGroupName: string, filterName: string) =>
  logs.send(
    new PutSubscriptionFilterCommand({
      logGroupName,
      filterName,
      filterPattern: '',
      destinationArn: `arn:aws:lambda:${EMULATOR_REGION}:000000000000:function:other`,
    }),
  );

beforeAll(async () => {
  acquireEmulator();
  // More than one DescribeLogGroups page (50), to sweep through the paging.
  for (let i = 0; i < 55; i++) await group(`${prefix}fn-${String(i).padStart(2, '0')}`);
  await group(`${audit}payments`);
  await group(`${prefix}lake-own`);
  await group(`${prefix}full`);
  await foreign(`${prefix}full`, 'a');
  await foreign(`${prefix}full`, 'b');
  await group(`${prefix}shared`);
  await foreign(`${prefix}shared`, 'other');
  await group(`/aws/lambda/elsewhere-${id}`);
  fn = await deployFunction({
    name: `loglake-subscriber-${id}`,
    entry: 'lambdas/subscriber/index.ts',
    environment: { [SUBSCRIBER_ENV.settings]: JSON.stringify(SETTINGS) },
  });
}, 300_000);

afterAll(() => {
  releaseEmulator();
});

describe('the prefix subscriber in MiniStack', () => {
  const lakeFilter = (category?: string, pattern = '') =>
    [
      category ? `lake${id}-lake.category=${category}` : `lake${id}-lake`,
      pattern,
      SETTINGS.destinationArn,
    ] as [string, string, string];

  it('sweeps the existing groups on Create: subscribed, full ones and the lake’s own left alone', async () => {
    const { error, result } = await invoke(customResource('Create'));

    expect(error).toBeUndefined();
    expect(result).toEqual({
      PhysicalResourceId: `lake${id}-log-group-prefixes`,
      Data: { Subscribed: 57, Unchanged: 0, AtFilterLimit: 1, Covered: 0 },
    });
    expect(await filters(`${prefix}fn-00`)).toEqual([lakeFilter()]);
    expect(await filters(`${prefix}fn-54`)).toEqual([lakeFilter()]);
    expect(await filters(`${audit}payments`)).toEqual([lakeFilter('audit', '{ $.level = "ERROR" }')]);
    expect(await filters(`${prefix}lake-own`)).toEqual([]);
    expect((await filters(`${prefix}full`)).map(([name]) => name)).toEqual(['a', 'b']);
    expect((await filters(`${prefix}shared`)).map(([name]) => name)).toEqual([`lake${id}-lake`, 'other']);
    expect(await filters(`/aws/lambda/elsewhere-${id}`)).toEqual([]);
  });

  it('is idempotent: the same Create again changes nothing', async () => {
    const { result } = await invoke(customResource('Create'));

    expect(result).toMatchObject({ Data: { Subscribed: 0, Unchanged: 57, AtFilterLimit: 1 } });
    expect(await filters(`${prefix}fn-01`)).toEqual([lakeFilter()]);
  });

  it('subscribes a new group from its CreateLogGroup event, and ignores one outside the prefixes', async () => {
    await group(`${prefix}new`);
    await group(`/aws/lambda/other-${id}`);

    expect((await invoke(createLogGroupEvent(`${prefix}new`))).result).toBe('subscribed');
    expect((await invoke(createLogGroupEvent(`/aws/lambda/other-${id}`))).result).toBe('unmatched');
    expect((await invoke(createLogGroupEvent(`${prefix}lake-own`))).result).toBe('excluded');
    expect(await filters(`${prefix}new`)).toEqual([lakeFilter()]);
    expect(await filters(`/aws/lambda/other-${id}`)).toEqual([]);
  });

  it('moves the filters on Update (a category added) and takes them all off on Delete', async () => {
    const updated: SubscriberSettings = {
      ...SETTINGS,
      prefixes: [{ prefix, filterPattern: '', category: 'runtime' }],
    };
    expect((await invoke(customResource('Update', updated, SETTINGS))).error).toBeUndefined();
    expect(await filters(`${prefix}fn-02`)).toEqual([lakeFilter('runtime')]);
    expect(await filters(`${audit}payments`)).toEqual([lakeFilter('runtime')]);

    const { error, result } = await invoke(customResource('Delete', updated));

    expect(error).toBeUndefined();
    expect(result).toEqual({ PhysicalResourceId: `lake${id}-log-group-prefixes`, Data: { Removed: 58 } });
    expect(await filters(`${prefix}fn-02`)).toEqual([]);
    expect(await filters(`${prefix}new`)).toEqual([]);
    expect((await filters(`${prefix}shared`)).map(([name]) => name)).toEqual(['other']);
    expect((await filters(`${prefix}full`)).map(([name]) => name)).toEqual(['a', 'b']);
  });
});
