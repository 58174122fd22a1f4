/**
 * `health --stack` (src/ops/aws-health.ts) against mocked Firehose, CloudWatch and CloudFormation clients
 * (aws-sdk-client-mock): each check's status from the figures AWS reports, the worst deciding.
 */
import { CloudFormationClient, ListStackResourcesCommand } from '@aws-sdk/client-cloudformation';
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricStatisticsCommand,
} from '@aws-sdk/client-cloudwatch';
import { DescribeDeliveryStreamCommand, FirehoseClient } from '@aws-sdk/client-firehose';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { stackHealth } from '../../src/ops/aws-health';

const firehose = mockClient(FirehoseClient);
const cloudwatch = mockClient(CloudWatchClient);
const cfn = mockClient(CloudFormationClient);
const region = 'eu-west-1';
const clients = {
  firehose: new FirehoseClient({ region }),
  cloudwatch: new CloudWatchClient({ region }),
  cloudformation: new CloudFormationClient({ region }),
};
const now = new Date('2026-11-30T12:00:00Z');

function stream(status: 'ACTIVE' | 'CREATING' | 'CREATING_FAILED') {
  return {
    DeliveryStreamDescription: {
      DeliveryStreamName: 'x',
      DeliveryStreamARN: 'arn',
      DeliveryStreamStatus: status,
      DeliveryStreamType: 'DirectPut' as const,
      VersionId: '1',
      Destinations: [],
      HasMoreDestinations: false,
    },
  };
}

beforeEach(() => {
  for (const m of [firehose, cloudwatch, cfn]) m.reset();
  cfn.on(ListStackResourcesCommand).resolves({
    StackResourceSummaries: [
      {
        ResourceType: 'AWS::CloudWatch::Alarm',
        LogicalResourceId: 'A',
        PhysicalResourceId: 'freshness-alarm',
        ResourceStatus: 'CREATE_COMPLETE',
        LastUpdatedTimestamp: now,
      },
    ],
  });
});

describe('stackHealth', () => {
  it('is ok when the streams are active, fresh, without ProcessingFailed and no alarm fires', async () => {
    firehose.on(DescribeDeliveryStreamCommand).resolves(stream('ACTIVE'));
    cloudwatch.on(GetMetricStatisticsCommand).resolves({ Datapoints: [{ Maximum: 120 }, { Maximum: 60 }] });
    cloudwatch.on(GetMetricStatisticsCommand, { Namespace: 'LogLake' }).resolves({ Datapoints: [] });
    cloudwatch
      .on(DescribeAlarmsCommand)
      .resolves({ MetricAlarms: [{ AlarmName: 'freshness-alarm', StateValue: 'OK' }] });

    const r = await stackHealth({
      stack: 'LogLake',
      streams: { logs: 'l-logs', audit: 'l-audit' },
      clients,
      now,
    });

    expect(r.status).toBe('ok');
    expect(r.checks.map((c) => c.name)).toEqual([
      'stream.logs',
      'freshness.logs',
      'processing-failed.logs',
      'stream.audit',
      'freshness.audit',
      'processing-failed.audit',
      'alarms',
    ]);
    expect(r.checks[1]?.values).toEqual({ seconds: 120 });
    const metric = cloudwatch.commandCalls(GetMetricStatisticsCommand)[1]?.args[0].input;
    expect(metric?.Dimensions).toEqual([
      { Name: 'service', Value: 'loglake-transform' },
      { Name: 'Stream', Value: 'logs' },
      { Name: 'Result', Value: 'ProcessingFailed' },
    ]);
  });

  it('warns on stale data and ProcessingFailed records, and is critical on a firing alarm or a failed stream', async () => {
    firehose.on(DescribeDeliveryStreamCommand).resolves(stream('ACTIVE'));
    firehose
      .on(DescribeDeliveryStreamCommand, { DeliveryStreamName: 'l-audit' })
      .resolves(stream('CREATING_FAILED'));
    cloudwatch.on(GetMetricStatisticsCommand).resolves({ Datapoints: [{ Maximum: 1000 }] });
    cloudwatch
      .on(GetMetricStatisticsCommand, { Namespace: 'LogLake' })
      .resolves({ Datapoints: [{ Sum: 3 }, { Sum: 2 }] });
    cloudwatch.on(DescribeAlarmsCommand).resolves({
      MetricAlarms: [{ AlarmName: 'freshness-alarm', StateValue: 'ALARM', StateUpdatedTimestamp: now }],
    });

    const r = await stackHealth({
      stack: 'LogLake',
      streams: { logs: 'l-logs', audit: 'l-audit' },
      clients,
      now,
    });

    const status = Object.fromEntries(r.checks.map((c) => [c.name, c.status]));
    expect(status).toEqual({
      'stream.logs': 'ok',
      'freshness.logs': 'warning',
      'processing-failed.logs': 'warning',
      'stream.audit': 'critical',
      'freshness.audit': 'warning',
      'processing-failed.audit': 'warning',
      alarms: 'critical',
    });
    expect(r.status).toBe('critical');
    expect(r.checks.find((c) => c.name === 'processing-failed.logs')?.values).toEqual({ records: 5 });
    expect(r.checks.find((c) => c.name === 'alarms')?.detail).toBe(
      '1 of 1 alarm(s) in ALARM: freshness-alarm (since 2026-11-30T12:00:00.000Z)',
    );
  });
});
