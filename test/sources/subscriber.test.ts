/**
 * The prefix subscriber's core and handler over a mocked CloudWatch Logs client (aws-sdk-client-mock):
 * what is put, left alone, reported and removed, in the cases MiniStack cannot show (its CloudWatch Logs
 * keeps no limit of two filters per group). The same paths against MiniStack's CloudWatch Logs API:
 * test/emulator/subscriber.test.ts.
 */
import {
  CloudWatchLogsClient,
  DeleteSubscriptionFilterCommand,
  DescribeLogGroupsCommand,
  DescribeSubscriptionFiltersCommand,
  LimitExceededException,
  PutSubscriptionFilterCommand,
  ResourceNotFoundException,
  type SubscriptionFilter,
} from '@aws-sdk/client-cloudwatch-logs';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SETTINGS_PROPERTY, SUBSCRIBER_ENV, SUBSCRIBER_METRICS } from '../../lambdas/subscriber/constants';
import { readEnv } from '../../lambdas/subscriber/env';
import { isLakeFilterName, subscriptionFilterName } from '../../src/sources/names';
import {
  prefixOf,
  removeAll,
  resweep,
  type SubscriberSettings,
  subscribeGroup,
  sweep,
} from '../../src/sources/subscriber';

const logs = mockClient(CloudWatchLogsClient);
const client = new CloudWatchLogsClient({ region: 'eu-west-1' });
const STREAM = 'arn:aws:firehose:eu-west-1:123456789012:deliverystream/loglake-logs';
const ROLE = 'arn:aws:iam::123456789012:role/cwl';
const SETTINGS: SubscriberSettings = {
  lakeName: 'loglake',
  destinationArn: STREAM,
  roleArn: ROLE,
  prefixes: [
    { prefix: '/aws/lambda/orders-', filterPattern: '' },
    { prefix: '/aws/lambda/orders-audit-', filterPattern: '{ $.level = "ERROR" }', category: 'audit' },
  ],
  exclude: ['/aws/lambda/orders-lake'],
};
const ours = (group: string, over: Partial<SubscriptionFilter> = {}): SubscriptionFilter => ({
  logGroupName: group,
  filterName: subscriptionFilterName('loglake'),
  filterPattern: '',
  destinationArn: STREAM,
  roleArn: ROLE,
  ...over,
});
const foreign = (group: string, name: string): SubscriptionFilter => ({
  logGroupName: group,
  filterName: name,
  filterPattern: '',
  destinationArn: 'arn:aws:lambda:eu-west-1:123456789012:function:other',
});

/** Groups and their filters, served through the mock as CloudWatch Logs would. */
function account(groups: Record<string, SubscriptionFilter[]>): void {
  logs.on(DescribeLogGroupsCommand).callsFake((input: { logGroupNamePrefix?: string }) => ({
    logGroups: Object.keys(groups)
      .filter((g) => g.startsWith(input.logGroupNamePrefix ?? ''))
      .map((logGroupName) => ({ logGroupName })),
  }));
  logs.on(DescribeSubscriptionFiltersCommand).callsFake((input: { logGroupName: string }) => {
    const filters = groups[input.logGroupName];
    if (!filters) throw new ResourceNotFoundException({ message: 'gone', $metadata: {} });
    return { subscriptionFilters: filters };
  });
}
const puts = () => logs.commandCalls(PutSubscriptionFilterCommand).map((c) => c.args[0].input);
const deletes = () =>
  logs
    .commandCalls(DeleteSubscriptionFilterCommand)
    .map((c) => [c.args[0].input.logGroupName, c.args[0].input.filterName]);

beforeEach(() => logs.reset());

describe('the prefix subscriber core', () => {
  it('puts the lake filter on fresh groups, leaves subscribed, excluded and full ones, and reports each', async () => {
    account({
      '/aws/lambda/orders-api': [],
      '/aws/lambda/orders-done': [ours('/aws/lambda/orders-done')],
      '/aws/lambda/orders-full': [
        foreign('/aws/lambda/orders-full', 'a'),
        foreign('/aws/lambda/orders-full', 'b'),
      ],
      '/aws/lambda/orders-lake': [],
      '/aws/lambda/orders-audit-x': [foreign('/aws/lambda/orders-audit-x', 'a')],
    });

    const report = await sweep(client, SETTINGS);

    expect(report).toEqual({
      groups: {
        '/aws/lambda/orders-api': 'subscribed',
        '/aws/lambda/orders-audit-x': 'subscribed',
        '/aws/lambda/orders-done': 'unchanged',
        '/aws/lambda/orders-full': 'full',
        '/aws/lambda/orders-lake': 'excluded',
      },
      failed: {},
    });
    expect(puts()).toEqual([
      {
        logGroupName: '/aws/lambda/orders-api',
        filterName: 'loglake-lake',
        filterPattern: '',
        destinationArn: STREAM,
        roleArn: ROLE,
      },
      {
        logGroupName: '/aws/lambda/orders-audit-x',
        filterName: 'loglake-lake.category=audit',
        filterPattern: '{ $.level = "ERROR" }',
        destinationArn: STREAM,
        roleArn: ROLE,
      },
    ]);
    expect(deletes()).toEqual([]);
  });

  it('is idempotent: a second sweep over what the first left puts nothing', async () => {
    const groups: Record<string, SubscriptionFilter[]> = {
      '/aws/lambda/orders-a': [],
      '/aws/lambda/orders-b': [],
    };
    account(groups);
    logs
      .on(PutSubscriptionFilterCommand)
      .callsFake((input: SubscriptionFilter & { logGroupName: string }) => {
        groups[input.logGroupName] = [{ ...input }];
        return {};
      });
    await sweep(client, SETTINGS);
    const first = puts().length;

    const again = await sweep(client, SETTINGS);

    expect(first).toBe(2);
    expect(puts()).toHaveLength(2);
    expect(Object.values(again.groups)).toEqual(['unchanged', 'unchanged']);
  });

  it('replaces its own filter when the category or pattern changed, deleting the old name first', async () => {
    account({
      '/aws/lambda/orders-audit-1': [
        ours('/aws/lambda/orders-audit-1'),
        foreign('/aws/lambda/orders-audit-1', 'x'),
      ],
      '/aws/lambda/orders-2': [ours('/aws/lambda/orders-2', { filterPattern: 'ERROR' })],
    });

    const report = await sweep(client, SETTINGS);

    expect(Object.values(report.groups)).toEqual(['subscribed', 'subscribed']);
    expect(deletes()).toEqual([['/aws/lambda/orders-audit-1', 'loglake-lake']]);
    expect(puts().map((p) => [p.logGroupName, p.filterName, p.filterPattern])).toEqual([
      ['/aws/lambda/orders-2', 'loglake-lake', ''],
      ['/aws/lambda/orders-audit-1', 'loglake-lake.category=audit', '{ $.level = "ERROR" }'],
    ]);
  });

  it('reports a group that reached its limit between describe and put as full, and a deleted one as gone', async () => {
    account({ '/aws/lambda/orders-race': [] });
    logs
      .on(PutSubscriptionFilterCommand)
      .rejects(new LimitExceededException({ message: 'Resource limit exceeded.', $metadata: {} }));
    expect(await subscribeGroup(client, SETTINGS, '/aws/lambda/orders-race')).toBe('full');
    expect(await subscribeGroup(client, SETTINGS, '/aws/lambda/orders-vanished')).toBe('gone');
  });

  it('collects a group that fails and goes on with the others', async () => {
    account({ '/aws/lambda/orders-a': [], '/aws/lambda/orders-b': [] });
    logs
      .on(PutSubscriptionFilterCommand, { logGroupName: '/aws/lambda/orders-a' })
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));

    const report = await sweep(client, SETTINGS);

    expect(report.failed).toEqual({
      '/aws/lambda/orders-a': 'AccessDeniedException: User is not authorized',
    });
    expect(report.groups).toEqual({ '/aws/lambda/orders-b': 'subscribed' });
  });

  it('leaves groups the account policy covers, and subscribes the ones it excludes', async () => {
    account({ '/aws/lambda/orders-a': [], '/aws/lambda/orders-b': [] });
    const settings = { ...SETTINGS, accountPolicy: { exclude: ['/aws/lambda/orders-b'] } };

    const report = await sweep(client, settings);

    expect(report.groups).toEqual({
      '/aws/lambda/orders-a': 'covered',
      '/aws/lambda/orders-b': 'subscribed',
    });
  });

  it('removes only the lake filters to its own stream, never others or excluded groups', async () => {
    account({
      '/aws/lambda/orders-a': [ours('/aws/lambda/orders-a'), foreign('/aws/lambda/orders-a', 'x')],
      '/aws/lambda/orders-audit-b': [
        ours('/aws/lambda/orders-audit-b', { filterName: 'loglake-lake.category=audit' }),
      ],
      '/aws/lambda/orders-c': [ours('/aws/lambda/orders-c', { destinationArn: `${STREAM}-other-region` })],
      '/aws/lambda/orders-lake': [ours('/aws/lambda/orders-lake')],
      '/aws/lambda/orders-d': [foreign('/aws/lambda/orders-d', 'loglake-lakes')],
    });

    const removed = await removeAll(client, SETTINGS);

    expect(removed).toEqual(['/aws/lambda/orders-a', '/aws/lambda/orders-audit-b']);
    expect(deletes()).toEqual([
      ['/aws/lambda/orders-a', 'loglake-lake'],
      ['/aws/lambda/orders-audit-b', 'loglake-lake.category=audit'],
    ]);
  });

  it('on a settings change, unsubscribes the groups of a dropped prefix and sweeps the new ones', async () => {
    account({
      '/aws/lambda/orders-a': [ours('/aws/lambda/orders-a')],
      '/ecs/api': [],
    });
    const current: SubscriberSettings = { ...SETTINGS, prefixes: [{ prefix: '/ecs/', filterPattern: '' }] };

    const report = await resweep(client, SETTINGS, current);

    expect(report.removed).toEqual(['/aws/lambda/orders-a']);
    expect(report.groups).toEqual({ '/ecs/api': 'subscribed' });
  });

  it('takes the most specific prefix, and knows its filter names from others', () => {
    expect(prefixOf(SETTINGS, '/aws/lambda/orders-audit-1')?.category).toBe('audit');
    expect(prefixOf(SETTINGS, '/aws/lambda/orders-1')?.prefix).toBe('/aws/lambda/orders-');
    expect(prefixOf(SETTINGS, '/aws/lambda/order')).toBeUndefined();
    expect(isLakeFilterName('loglake', 'loglake-lake')).toBe(true);
    expect(isLakeFilterName('loglake', 'loglake-lake.category=security')).toBe(true);
    expect(isLakeFilterName('loglake', 'loglake-lake.category=nope')).toBe(false);
    expect(isLakeFilterName('loglake', 'other-lake')).toBe(false);
  });
});

describe('the subscriber handler', () => {
  let out: string[];
  async function loadHandler() {
    vi.resetModules();
    vi.stubEnv(SUBSCRIBER_ENV.settings, JSON.stringify(SETTINGS));
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    return (await import('../../lambdas/subscriber/index')).handler;
  }
  const customResource = (
    RequestType: 'Create' | 'Update' | 'Delete',
    settings: SubscriberSettings = SETTINGS,
    old?: SubscriberSettings,
  ) =>
    ({
      RequestType,
      ServiceToken: 'arn:aws:lambda:eu-west-1:123456789012:function:provider',
      ResponseURL: 'https://example.invalid/',
      StackId: 'arn:aws:cloudformation:eu-west-1:123456789012:stack/LogLake/1',
      RequestId: 'r1',
      LogicalResourceId: 'Sweep',
      ResourceType: 'Custom::LogLakePrefixSubscriptions',
      PhysicalResourceId: 'loglake-log-group-prefixes',
      ResourceProperties: { ServiceToken: 'x', [SETTINGS_PROPERTY]: JSON.stringify(settings) },
      ...(old && { OldResourceProperties: { ServiceToken: 'x', [SETTINGS_PROPERTY]: JSON.stringify(old) } }),
    }) as CloudFormationCustomResourceEvent;

  beforeEach(() => {
    out = [];
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        out.push(String(chunk));
        return true;
      });
    }
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });
  const metric = (name: string): number[] =>
    out
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((m) => name in m)
      .map((m) => m[name] as number);

  it('sweeps on Create, answers the Provider, and counts the groups at their filter limit', async () => {
    account({
      '/aws/lambda/orders-a': [],
      '/aws/lambda/orders-full': [
        foreign('/aws/lambda/orders-full', 'a'),
        foreign('/aws/lambda/orders-full', 'b'),
      ],
    });
    const handler = await loadHandler();

    const response = await handler(customResource('Create'));

    expect(response).toEqual({
      PhysicalResourceId: 'loglake-log-group-prefixes',
      Data: { Subscribed: 1, Unchanged: 0, AtFilterLimit: 1, Covered: 0 },
    });
    expect(metric(SUBSCRIBER_METRICS.names.full)).toEqual([1]);
    expect(metric(SUBSCRIBER_METRICS.names.subscribed)).toEqual([1]);
    expect(out.join('')).toMatch(/two subscription filters of others.*orders-full/);
  });

  it('fails the deployment naming the groups it could not subscribe, after trying the rest', async () => {
    account({ '/aws/lambda/orders-a': [], '/aws/lambda/orders-b': [] });
    logs
      .on(PutSubscriptionFilterCommand, { logGroupName: '/aws/lambda/orders-b' })
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const handler = await loadHandler();

    await expect(handler(customResource('Create'))).rejects.toThrow(
      /could not subscribe 1 log group\(s\): \/aws\/lambda\/orders-b \(AccessDeniedException: denied\)/,
    );
    expect(puts().map((p) => p.logGroupName)).toEqual(['/aws/lambda/orders-a', '/aws/lambda/orders-b']);
  });

  it('removes its filters on Delete with the settings CloudFormation sends, and resweeps on Update', async () => {
    account({ '/aws/lambda/orders-a': [ours('/aws/lambda/orders-a')], '/ecs/x': [] });
    const handler = await loadHandler();

    expect(await handler(customResource('Delete'))).toEqual({
      PhysicalResourceId: 'loglake-log-group-prefixes',
      Data: { Removed: 1 },
    });
    const moved = { ...SETTINGS, prefixes: [{ prefix: '/ecs/', filterPattern: '' }] };
    await handler(customResource('Update', moved, SETTINGS));
    expect(puts().map((p) => p.logGroupName)).toEqual(['/ecs/x']);
  });

  it('subscribes the group of a CreateLogGroup event from CloudTrail, and throws on a failure so Lambda retries', async () => {
    account({ '/aws/lambda/orders-new': [] });
    const handler = await loadHandler();
    const event = (logGroupName: string) => ({
      version: '0',
      id: 'e1',
      'detail-type': 'AWS API Call via CloudTrail' as const,
      source: 'aws.logs',
      account: '123456789012',
      time: '2026-11-30T12:00:00Z',
      region: 'eu-west-1',
      resources: [],
      detail: {
        eventSource: 'logs.amazonaws.com',
        eventName: 'CreateLogGroup',
        requestParameters: { logGroupName },
      },
    });

    expect(await handler(event('/aws/lambda/orders-new'))).toBe('subscribed');
    expect(await handler(event('/aws/lambda/orders-lake'))).toBe('excluded');
    logs
      .on(DescribeSubscriptionFiltersCommand)
      .rejects(Object.assign(new Error('slow down'), { name: 'Throttling' }));
    await expect(handler(event('/aws/lambda/orders-new'))).rejects.toThrow(/slow down/);
    expect(metric(SUBSCRIBER_METRICS.names.failed)).toContain(1);
  });

  it('refuses custom resource settings it cannot read, naming the field', async () => {
    const handler = await loadHandler();
    const bad = customResource('Create');
    (bad.ResourceProperties as Record<string, string>)[SETTINGS_PROPERTY] = '{"lakeName":""}';
    await expect(handler(bad)).rejects.toThrow(/Settings\.lakeName/);
  });
});

describe('the subscriber environment', () => {
  it('reads the settings, and names the variable and the field at fault', () => {
    expect(readEnv({ [SUBSCRIBER_ENV.settings]: JSON.stringify(SETTINGS) })).toEqual(SETTINGS);
    expect(() => readEnv({})).toThrow(new RegExp(`${SUBSCRIBER_ENV.settings}.*is required`, 's'));
    const bad = { ...SETTINGS, prefixes: [{ prefix: '/x/', filterPattern: '', category: 'nope' }] };
    expect(() => readEnv({ [SUBSCRIBER_ENV.settings]: JSON.stringify(bad) })).toThrow(
      new RegExp(`${SUBSCRIBER_ENV.settings}\\.prefixes\\.0\\.category`),
    );
  });
});
