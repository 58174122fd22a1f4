import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ALARM_ENV } from '../../lambdas/alarm/constants';
import { Alerting } from '../../lib/alerting';
import { LogLake } from '../../lib/log-lake';
import type { AlertsConfig } from '../../src/alerts/config';
import { decodeAlarmSettings } from '../../src/alerts/settings';
import { resolveConfig } from '../../src/config';
import { TRANSFORM_METRICS } from '../../src/metrics';
import {
  flat,
  policyStatementsOf,
  refTo,
  resourceNamed,
  resourcesOf,
  template as stackTemplate,
  synthStack,
} from './helpers';

/**
 * A stack of its own holding a lake without alerting and an Alerting construct built on it, as a user
 * composing their own alerting would; cdk-nag runs on it.
 */
function synth(
  alerts: AlertsConfig = resolveConfig({}).alerts,
  withAccessAudit = false,
): { template: Template; stack: Stack } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app));
  const stack = new Stack(app, 'AlertingTest', { env: { account: '123456789012', region: 'eu-west-1' } });
  const lake = new LogLake(stack, 'Lake', { config: { name: 'lake', alerts: { enabled: false } } });
  new Alerting(stack, 'Alerting', {
    lake,
    alerts,
    logRetentionDays: 30,
    ...(withAccessAudit && {
      accessAudit: {
        stream: lake.ingest.lanes.audit?.stream ?? lake.ingest.lanes.logs.stream,
        bulkReadRows: 500,
      },
    }),
  });
  app.synth();
  return { template: Template.fromStack(stack), stack };
}

type Json = Record<string, unknown>;

/** The alarm Lambda (the lake's transforms are in the same stack). */
function alarmFunction(t: Template): Json {
  const [fn] = Object.entries(t.findResources('AWS::Lambda::Function')).filter(([id]) =>
    id.startsWith('AlertingFunction'),
  );
  if (!fn) throw new Error('no alarm function');
  return fn[1].Properties as Json;
}

const alarmStatements = (t: Template) => policyStatementsOf(t, 'AlertingFunctionRoleDefaultPolicy');

/** Properties of the one resource whose logical id starts with `prefix`. */
function propertiesOf(t: Template, type: string, prefix: string): Json {
  const found = Object.entries(t.findResources(type)).find(([id]) => id.startsWith(prefix));
  if (!found) throw new Error(`no ${type} ${prefix}`);
  return found[1].Properties as Json;
}

describe('Alerting', () => {
  let template: Template;
  beforeAll(() => {
    ({ template } = synth());
  }, 300_000);

  it('creates one KMS-encrypted topic per severity and one for security, TLS only', () => {
    template.resourceCountIs('AWS::SNS::Topic', 5);
    template.allResourcesProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlertingTopicKey'), 'Arn'] },
    });
    for (const s of ['critical', 'high', 'medium', 'low', 'security']) {
      template.hasResourceProperties('AWS::SNS::Topic', { DisplayName: `loglake ${s} alerts` });
    }
    template.resourceCountIs('AWS::SNS::TopicPolicy', 5);
    // TLS only: every topic's policy denies publishing and subscribing without it.
    for (const policy of Object.values(template.findResources('AWS::SNS::TopicPolicy'))) {
      expect(JSON.stringify(policy)).toContain('"aws:SecureTransport":"false"');
    }
  });

  it('routes the security rules to the security topic: bulk reads and CRITICAL security events', () => {
    // Act
    const vars = (alarmFunction(template).Environment as { Variables: Record<string, unknown> }).Variables;
    const settings = decodeAlarmSettings(String(vars[ALARM_ENV.settings]));

    // Assess
    expect(flat(vars[ALARM_ENV.channels])).toContain(
      '"security":{"topicArn":"<AlertingSecurityTopic>","format":"sns"}',
    );
    const routed = Object.entries(settings.rules)
      .filter(([, r]) => r.channels?.includes('security'))
      .map(([name]) => name);
    expect(routed.sort()).toEqual(['bulk-read', 'security-critical']);
    expect(
      alarmStatements(template).some(
        (s) => s.actions.includes('sns:Publish') && s.resources.includes('<AlertingSecurityTopic>'),
      ),
    ).toBe(true);
  });

  it('keeps rule state in a table encrypted with the lake key, with point-in-time recovery and TTL', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: {
        SSEEnabled: true,
        SSEType: 'KMS',
        KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LakeKey'), 'Arn'] },
      },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('runs the alarm Lambda on Node 24 arm64 with an explicit log group and a dead-letter queue', () => {
    expect(alarmFunction(template)).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      LoggingConfig: { LogGroup: { Ref: expect.stringMatching(/^AlertingFunctionLogGroup/) } },
      DeadLetterConfig: {
        TargetArn: { 'Fn::GetAtt': [expect.stringMatching(/^AlertingDeadLetterQueue/), 'Arn'] },
      },
      KmsKeyArn: { 'Fn::GetAtt': [expect.stringMatching(/^LakeKey/), 'Arn'] },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      RetentionInDays: 30,
      KmsKeyId: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 2 });
  });

  it('passes the rules, tables, buckets and topics of the lake to the function in its environment', () => {
    const vars = (alarmFunction(template).Environment as { Variables: Record<string, unknown> }).Variables;
    const settings = decodeAlarmSettings(vars[ALARM_ENV.settings] as string);
    expect(Object.keys(settings.rules).sort()).toEqual([
      'bulk-read',
      'error-rate',
      'firehose-errors',
      'security-critical',
      'volume-anomaly',
    ]);
    expect(settings.lockedCategories).toEqual(['security', 'audit']);
    expect(vars[ALARM_ENV.workgroup]).toBe('lake');
    expect(vars[ALARM_ENV.database]).toBe('lake');
    expect(vars[ALARM_ENV.searchTarget]).toBe('--athena --stack AlertingTest');
    expect(flat(vars[ALARM_ENV.tables])).toBe('{"logs":"logs","audit":"audit"}');
    expect(flat(vars[ALARM_ENV.buckets])).toBe(
      '{"<LakeStorageLogsBucket>":"logs","<LakeStorageAuditBucket>":"audit"}',
    );
    expect(flat(vars[ALARM_ENV.topics])).toContain('"critical":"<AlertingCriticalTopic>"');
  });

  it('invokes the function on the configured schedule with retries and a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 4 },
          DeadLetterConfig: { Arn: Match.anyValue() },
        }),
      ],
    });
  });

  it('lets EventBridge use the dead-letter queue’s key, for this account’s rules and its queues only', () => {
    // EventBridge puts an undeliverable event on the KMS-encrypted queue as events.amazonaws.com: the
    // queue policy CDK writes allows SendMessage, but SQS also needs the key on EventBridge's behalf.
    // The queue is on the alerting's own key, so the grant stays off the key of the log data.
    const [key] = Object.entries(template.findResources('AWS::KMS::Key')).filter(([id]) =>
      id.startsWith('AlertingTopicKey'),
    );
    if (!key) throw new Error('no topic key');
    const queue = propertiesOf(template, 'AWS::SQS::Queue', 'AlertingDeadLetterQueue');
    expect(queue.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [key[0], 'Arn'] });
    const [, lakeKey] = resourceNamed(template, 'AWS::KMS::Key', 'LakeKey');
    expect(flat(lakeKey.Properties.KeyPolicy)).not.toContain('events.amazonaws.com');
    const statements = (key[1].Properties as { KeyPolicy: { Statement: Json[] } }).KeyPolicy.Statement;
    const events = statements.filter((s) => flat(s.Principal).includes('events.amazonaws.com'));
    expect(events).toHaveLength(1);
    const [statement] = events as [Json];
    expect({ ...statement, Condition: undefined }).toEqual({
      Sid: 'EventBridgeDeadLettersForThisAccount',
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: '*',
      Condition: undefined,
    });
    const condition = statement.Condition as Record<string, Record<string, unknown>>;
    expect(
      Object.fromEntries(
        Object.entries(condition).map(([op, keys]) => [
          op,
          Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, flat(v)])),
        ]),
      ),
    ).toEqual({
      StringEquals: { 'aws:SourceAccount': '123456789012' },
      ArnLike: {
        'aws:SourceArn': 'arn:<AWS::Partition>:events:eu-west-1:123456789012:rule/*',
        'kms:EncryptionContext:aws:sqs:arn': 'arn:<AWS::Partition>:sqs:eu-west-1:123456789012:*',
      },
    });
  });

  it('routes pipeline alarm state changes and new error objects of the lake’s buckets to the function', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm State Change'],
        resources: Match.anyValue(),
      },
    });
    const rules = Object.values(
      template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { source: ['aws.s3'] } } }),
    ).map((r) => r.Properties as Json);
    expect(rules.map((r) => flat(r.EventPattern))).toEqual([
      'aws.s3 Object Created <LakeStorageLogsBucket> <LakeStorageAuditBucket> errors/',
    ]);
    for (const bucket of ['LakeStorageLogsBucket', 'LakeStorageAuditBucket']) {
      expect(propertiesOf(template, 'AWS::S3::Bucket', bucket).NotificationConfiguration, bucket).toEqual({
        EventBridgeConfiguration: { EventBridgeEnabled: true },
      });
    }
  });

  it('alarms on Firehose delivery, throttling and freshness and on transform errors, throttles and failed records, per stream', () => {
    const metric = (namespace: string, name: string) =>
      Object.keys(
        template.findResources('AWS::CloudWatch::Alarm', {
          Properties: { Namespace: namespace, MetricName: name },
        }),
      ).length;
    // logs, audit and the WAF stream (which runs the logs transform: no transform alarms of its own)
    expect(metric('AWS/Firehose', 'DeliveryToS3.Success')).toBe(3);
    expect(metric('AWS/Firehose', 'ThrottledRecords')).toBe(3);
    expect(metric('AWS/Firehose', 'DeliveryToS3.DataFreshness')).toBe(3);
    expect(metric('AWS/Lambda', 'Throttles')).toBe(2);
    expect(metric('LogLake', 'Records')).toBe(2);
    // Two transform functions, the alarm Lambda itself, the erasure executor and the compaction.
    expect(metric('AWS/Lambda', 'Errors')).toBe(5);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DeliveryToS3.DataFreshness',
      Dimensions: [
        { Name: 'DeliveryStreamName', Value: { Ref: Match.stringLikeRegexp('^LakeIngestLogsStream') } },
      ],
      Statistic: 'Maximum',
      Threshold: 900,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'DeliveryToS3.DataFreshness',
      Dimensions: [
        { Name: 'DeliveryStreamName', Value: { Ref: Match.stringLikeRegexp('^LakeIngestWafStream') } },
      ],
    });
  });

  it('watches the ProcessingFailed records under the names the transform handler emits', () => {
    // The literal names pin the contract; TRANSFORM_METRICS is what both sides import.
    expect(TRANSFORM_METRICS).toMatchObject({ namespace: 'LogLake', service: 'loglake-transform' });
    const alarms = Object.values(
      template.findResources('AWS::CloudWatch::Alarm', {
        Properties: { Namespace: TRANSFORM_METRICS.namespace, MetricName: TRANSFORM_METRICS.names.records },
      }),
    ).map((r) => r.Properties as { Dimensions: { Name: string; Value: string }[]; Statistic: string });
    expect(alarms.map((a) => a.Dimensions.map((d) => `${d.Name}=${d.Value}`).sort())).toEqual(
      ['logs', 'audit'].map((stream) => [
        'Result=ProcessingFailed',
        `Stream=${stream}`,
        'service=loglake-transform',
      ]),
    );
    expect(alarms.map((a) => a.Statistic)).toEqual(['Sum', 'Sum']);
  });

  it('alarms on parts the transform could not re-ingest (both lanes) and on audit events it could not forward (logs)', () => {
    const dims = (name: string) =>
      Object.values(
        template.findResources('AWS::CloudWatch::Alarm', {
          Properties: { Namespace: TRANSFORM_METRICS.namespace, MetricName: name },
        }),
      ).map((r) =>
        (r.Properties as { Dimensions: { Name: string; Value: string }[] }).Dimensions.map(
          (d) => `${d.Name}=${d.Value}`,
        ).sort(),
      );
    expect(dims(TRANSFORM_METRICS.names.reingestFailed)).toEqual(
      ['logs', 'audit'].map((stream) => [`Stream=${stream}`, 'service=loglake-transform']),
    );
    expect(dims(TRANSFORM_METRICS.names.auditForwardFailed)).toEqual([
      ['Stream=logs', 'service=loglake-transform'],
    ]);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: TRANSFORM_METRICS.names.reingestFailed,
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmDescription: Match.stringLikeRegexp('stored flagged'),
    });
  });

  it('sends the alarm Lambda’s own failures straight to SNS', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('alarm Lambda failed'),
      AlarmActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('HighTopic') })],
      OKActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('HighTopic') })],
    });
  });

  it('lets CloudWatch publish to the topic its alarms act on, for those alarms only', () => {
    // A topic policy replaces SNS's default one: without an allow, the alarm's action is refused.
    const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).filter(
      ([, a]) => (a.Properties as Json).AlarmActions,
    );
    expect(alarms.map(([id]) => id.replace(/[0-9A-F]{8}$/, '')).sort()).toEqual([
      'AlertingAlertingErrorsAlarm',
      'AlertingDeadLetterAlarm',
    ]);
    const publishers = Object.values(template.findResources('AWS::SNS::TopicPolicy')).flatMap((p) => {
      const props = p.Properties as { Topics: unknown[]; PolicyDocument: { Statement: Json[] } };
      return props.PolicyDocument.Statement.filter(
        (s) => s.Effect === 'Allow' && flat(s.Principal) === 'cloudwatch.amazonaws.com',
      ).map((s) => ({ topics: props.Topics.map(flat), action: s.Action, condition: flat(s.Condition) }));
    });

    expect(publishers).toHaveLength(1);
    expect(publishers[0]?.topics).toEqual(['<AlertingHighTopic>']);
    expect(publishers[0]?.action).toBe('sns:Publish');
    for (const [id] of alarms)
      expect(publishers[0]?.condition).toContain(`<${id.replace(/[0-9A-F]{8}$/, '')}>`);
    expect(publishers[0]?.condition).toContain('123456789012');
  });

  it('queries through the main workgroup only, reading category prefixes and the main results prefix', () => {
    const statements = alarmStatements(template);
    const athena = statements.filter((s) => s.actions.some((a) => a.startsWith('athena:')));
    expect(athena.map((s) => s.resources)).toEqual([[expect.stringMatching(/:workgroup\/lake$/)]]);
    const objectReads = statements
      .filter((s) => s.actions.includes('s3:GetObject'))
      .flatMap((s) => s.resources);
    expect(objectReads.sort()).toEqual(
      [
        '<LakeStorageQueryResultsBucket>/main/*',
        ...['security', 'audit'].map((c) => `<LakeStorageAuditBucket>/logs/category=${c}/*`),
        ...['debug', 'runtime', 'framework', 'errors', 'api_access', 'security', 'audit'].map(
          (c) => `<LakeStorageLogsBucket>/logs/category=${c}/*`,
        ),
      ].sort(),
    );
    expect(JSON.stringify(statements)).not.toContain('/errors/');
    const glue = statements.find((s) => s.actions.some((a) => a.startsWith('glue:')));
    expect(glue?.actions.sort()).toEqual([
      'glue:GetDatabase',
      'glue:GetPartition',
      'glue:GetPartitions',
      'glue:GetTable',
      'glue:GetTables',
    ]);
    expect(glue?.resources.map((r) => r.replace(/^.*:glue:.*?:.*?:/, '')).sort()).toEqual([
      'catalog',
      'database/lake',
      'table/lake/audit',
      'table/lake/logs',
    ]);
    const viaS3 = statements.find(
      (s) => s.condition === 'StringEquals kms:ViaService=s3.eu-west-1.amazonaws.com',
    );
    expect(viaS3?.actions).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
  });

  it('writes only its state table and publishes only to its topics', () => {
    const statements = alarmStatements(template);
    const writes = statements.filter((s) =>
      s.actions.some((a) => /^(dynamodb:(Put|Update|Delete|BatchWrite)|sns:Publish|s3:PutObject)/.test(a)),
    );
    expect(writes.flatMap((s) => s.resources).sort()).toEqual(
      [
        '<AlertingStateTable>',
        '<AlertingCriticalTopic>',
        '<AlertingHighTopic>',
        '<AlertingMediumTopic>',
        '<AlertingLowTopic>',
        '<AlertingSecurityTopic>',
        '<LakeStorageQueryResultsBucket>/main/*',
      ].sort(),
    );
  });

  it('records the rules’ queries on the audit stream when asked: stream, role and threshold in the environment, PutRecord on that stream only', () => {
    const { template: audited } = synth(resolveConfig({}).alerts, true);
    const vars = (alarmFunction(audited).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(flat(vars[ALARM_ENV.accessAudit])).toBe(
      '{"stream":"<LakeIngestAuditStream>","principal":"<AlertingFunctionRole>","bulkReadRows":500}',
    );
    const puts = alarmStatements(audited).filter((s) => s.actions.some((a) => a.startsWith('firehose:')));
    expect(puts.map((s) => [s.actions, s.resources])).toEqual([
      [['firehose:PutRecord', 'firehose:PutRecordBatch'], ['<LakeIngestAuditStream>']],
    ]);
    // Without it (the default above), no access events and no Firehose rights.
    expect(
      (alarmFunction(template).Environment as { Variables: Record<string, unknown> }).Variables,
    ).not.toHaveProperty(ALARM_ENV.accessAudit);
    expect(alarmStatements(template).some((s) => s.actions.some((a) => a.startsWith('firehose:')))).toBe(
      false,
    );
  }, 300_000);

  it('draws a dashboard of the pipeline', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });
});

/**
 * The alarm `prefix` of the lake's own alerting: its logical id, and the check that its state changes
 * reach the alarm Lambda (the EventBridge rule) and leave with `severity` (the function's environment).
 */
function pipelineAlarm(t: Template, prefix: string, severity: string): Json {
  const [id, alarm] = resourceNamed(t, 'AWS::CloudWatch::Alarm', `LogLakeAlerting${prefix}`);
  // No alarm action: its state change reaches SNS through EventBridge and the alarm Lambda.
  expect(alarm.Properties.AlarmActions, prefix).toBeUndefined();
  const [, stateChanges] = resourceNamed(t, 'AWS::Events::Rule', 'LogLakeAlertingAlarmStateChange');
  expect(flat(stateChanges.Properties.EventPattern), prefix).toContain(refTo(id));
  const [, fn] = resourceNamed(t, 'AWS::Lambda::Function', 'LogLakeAlertingFunction');
  const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
  // The severity is found by the kind the alarm's description ends with.
  const kind = String(alarm.Properties.AlarmDescription).match(/ \[loglake:([A-Za-z]+)\]$/)?.[1];
  expect(kind, prefix).toBeDefined();
  expect(JSON.parse(String(env[ALARM_ENV.pipelineSeverities]))[kind as string], prefix).toBe(severity);
  return alarm.Properties;
}

const queueName = (prefix: string) => ({
  'Fn::GetAtt': [expect.stringMatching(`^${prefix}`), 'QueueName'],
});

const SOURCES = {
  sources: {
    accessLogs: [{ bucket: 'alb-logs', format: 'alb' as const }],
    cloudWatchLogs: { logGroupPrefixes: ['/ecs/'] },
  },
};

describe('Alerting on dead-letter queues and scheduled jobs', () => {
  it('alarms when an access-log object waits in its source’s dead-letter queue, and again before SQS deletes it', () => {
    const t = stackTemplate({ override: SOURCES });

    expect(pipelineAlarm(t, 'AccessLogs0DeadLettersAlarm', 'high')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: queueName('LogLakeAccessLogs0DeadLetterQueue') }],
      Statistic: 'Maximum',
      Period: 300,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 1,
      TreatMissingData: 'notBreaching',
    });
    expect(pipelineAlarm(t, 'AccessLogs0DeadLettersExpiringAlarm', 'critical')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: queueName('LogLakeAccessLogs0DeadLetterQueue') }],
      Statistic: 'Maximum',
      // 10 days: four days before the queue's 14-day retention deletes the message.
      Threshold: 864_000,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms when a new log group’s event waits in the prefix subscriber’s dead-letter queue', () => {
    const t = stackTemplate({ override: SOURCES });

    expect(pipelineAlarm(t, 'SubscriberDeadLettersAlarm', 'high')).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: queueName('LogLakeSubscriptionsPrefixesDeadLetterQueue') }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(pipelineAlarm(t, 'SubscriberDeadLettersExpiringAlarm', 'critical')).toMatchObject({
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: queueName('LogLakeSubscriptionsPrefixesDeadLetterQueue') }],
      Threshold: 864_000,
    });
  });

  it('alarms on an access-log source added to the lake after it was built', () => {
    const { stack } = synthStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'LateBucket', 'late-logs');
    stack.lake.ingestAccessLogs(bucket, { format: 'cloudfront' });
    const t = Template.fromStack(stack);

    expect(pipelineAlarm(t, 'AccessLogs0DeadLettersAlarm', 'high')).toMatchObject({
      Dimensions: [{ Name: 'QueueName', Value: queueName('LogLakeAccessLogs0DeadLetterQueue') }],
    });
    pipelineAlarm(t, 'AccessLogs0DeadLettersExpiringAlarm', 'critical');
    const [, dashboard] = resourceNamed(t, 'AWS::CloudWatch::Dashboard', 'LogLakeAlertingDashboard');
    expect(flat(dashboard.Properties.DashboardBody)).toContain('LogLakeAlertingAccessLogs0DeadLettersAlarm');
  });

  it('alarms on failed runs of the erasure executor (high) and of the compaction (medium)', () => {
    const t = stackTemplate();

    expect(pipelineAlarm(t, 'ErasureFailedRunsAlarm', 'high')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [
        { Name: 'FunctionName', Value: { Ref: expect.stringMatching('^LogLakeErasuresExecutor') } },
      ],
      Statistic: 'Sum',
      Period: 3600,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
    });
    expect(pipelineAlarm(t, 'CompactionFailedRunsAlarm', 'medium')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [
        { Name: 'FunctionName', Value: { Ref: expect.stringMatching('^LogLakeCompactionFunction') } },
      ],
      Statistic: 'Sum',
      Period: 3600,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('creates no alarm for a construct the stack does not have', () => {
    const t = stackTemplate({ override: { compaction: { enabled: false } } });
    const ids = Object.keys(resourcesOf(t, 'AWS::CloudWatch::Alarm'));

    expect(ids.filter((id) => /DeadLetters|CompactionFailedRuns/.test(id))).toEqual([]);
    expect(ids.filter((id) => id.includes('ErasureFailedRuns'))).toHaveLength(1);
  });
});

describe('Alerting environment', () => {
  it('tells the alarm Lambda one severity per kind, not per alarm: Lambda allows 4 KB of environment in all', () => {
    const few = stackTemplate();
    const many = stackTemplate({
      override: {
        sources: {
          accessLogs: [
            { bucket: 'alb-logs', format: 'alb' as const },
            { bucket: 'cdn-logs', format: 'cloudfront' as const },
          ],
        },
      },
    });
    const variables = (t: Template) =>
      (
        resourceNamed(t, 'AWS::Lambda::Function', 'LogLakeAlertingFunction')[1].Properties.Environment as {
          Variables: Record<string, unknown>;
        }
      ).Variables;
    const [, alarm] = resourceNamed(few, 'AWS::CloudWatch::Alarm', 'LogLakeAlertingLogsFreshnessAlarm');

    expect(Object.keys(resourcesOf(many, 'AWS::CloudWatch::Alarm')).length).toBeGreaterThan(
      Object.keys(resourcesOf(few, 'AWS::CloudWatch::Alarm')).length,
    );
    expect(variables(many)[ALARM_ENV.pipelineSeverities]).toBe(variables(few)[ALARM_ENV.pipelineSeverities]);
    expect(JSON.parse(String(variables(few)[ALARM_ENV.pipelineSeverities]))).toMatchObject({
      firehoseFreshness: 'high',
      firehoseDelivery: 'critical',
    });
    expect(alarm.Properties.AlarmDescription).toBe(
      'Firehose logs: the oldest undelivered record is older than 900 s [loglake:firehoseFreshness]',
    );
  });
});

describe('Alerting subscriptions', () => {
  it('escalates: a subscription gets every topic at or above its severity, with a filter for firing-only', () => {
    const alerts = resolveConfig({
      alerts: {
        subscriptions: [
          { protocol: 'email', endpoint: 'oncall@example.com', minSeverity: 'medium' },
          {
            protocol: 'https',
            endpoint: 'https://pager.example.com/hook',
            minSeverity: 'critical',
            firingOnly: true,
          },
        ],
      },
    }).alerts;
    const { template } = synth(alerts);
    template.resourceCountIs('AWS::SNS::Subscription', 4);
    expect(
      Object.keys(template.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'email' } })),
    ).toHaveLength(3);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'https',
      Endpoint: 'https://pager.example.com/hook',
      FilterPolicy: { status: ['firing'] },
      TopicArn: { Ref: Match.stringLikeRegexp('CriticalTopic') },
    });
  }, 120_000);

  it('gives each rule channel a KMS-encrypted topic, its endpoints, publish rights for the Lambda only, and an AWS Chatbot Slack channel', () => {
    // Prepare
    const alerts = resolveConfig({
      alerts: {
        channels: {
          'team-mail': { type: 'email', addresses: ['a@example.com', 'b@example.com'] },
          'team-chat': { type: 'chat', webhookUrl: 'https://chat.example.com/hook' },
          pager: { type: 'paging', url: 'https://events.example.com/sns', firingOnly: true },
          slack: { type: 'chatbot', slackWorkspaceId: 'T0123ABCD', slackChannelId: 'C0123ABCD' },
        },
        rules: {
          'error-rate': { channels: ['team-chat', 'pager'], escalation: { afterMinutes: 30 } },
        },
      },
    }).alerts;

    // Act
    const { template } = synth(alerts);

    // Assess: four severity topics, four channel topics and the security topic, all on the topic key.
    template.resourceCountIs('AWS::SNS::Topic', 9);
    template.allResourcesProperties('AWS::SNS::Topic', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlertingTopicKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::SNS::Topic', { DisplayName: 'loglake alerts: team-mail' });
    const onChannel = (name: string) => ({ Ref: Match.stringLikeRegexp(`^AlertingChannel${name}Topic`) });
    for (const address of ['a@example.com', 'b@example.com']) {
      template.hasResourceProperties('AWS::SNS::Subscription', {
        Protocol: 'email',
        Endpoint: address,
        TopicArn: onChannel('TeamMail'),
      });
    }
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'https',
      Endpoint: 'https://chat.example.com/hook',
      TopicArn: onChannel('TeamChat'),
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'https',
      Endpoint: 'https://events.example.com/sns',
      FilterPolicy: { status: ['firing'] },
      TopicArn: onChannel('Pager'),
    });
    template.hasResourceProperties('AWS::Chatbot::SlackChannelConfiguration', {
      SlackWorkspaceId: 'T0123ABCD',
      SlackChannelId: 'C0123ABCD',
      SnsTopicArns: [onChannel('Slack')],
    });
    // The Lambda publishes to every channel topic; the env tells it which topic and format.
    const published = alarmStatements(template)
      .filter((s) => s.actions.includes('sns:Publish'))
      .flatMap((s) => s.resources);
    expect(published.sort()).toEqual(
      [
        'Critical',
        'High',
        'Medium',
        'Low',
        'ChannelTeamMail',
        'ChannelTeamChat',
        'ChannelPager',
        'ChannelSlack',
        'Security',
      ]
        .map((t) => `<Alerting${t}Topic>`)
        .sort(),
    );
    const vars = (alarmFunction(template).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(flat(vars[ALARM_ENV.channels])).toContain('"slack":{"topicArn":"<AlertingChannelSlackTopic');
    expect(flat(vars[ALARM_ENV.channels])).toContain('"format":"chatbot"');
    const settings = decodeAlarmSettings(String(vars[ALARM_ENV.settings]));
    expect(settings.rules['error-rate']).toMatchObject({
      channels: ['team-chat', 'pager'],
      escalation: { afterMinutes: 30 },
    });
  }, 180_000);

  it('leaves out the pipeline alarms and their rule when they are disabled', () => {
    const alerts = resolveConfig({ alerts: { pipeline: { enabled: false } } }).alerts;
    const { template } = synth(alerts);
    // Only the alarm Lambda's own two alarms remain.
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    expect(
      Object.keys(
        template.findResources('AWS::Events::Rule', {
          Properties: { EventPattern: { source: ['aws.cloudwatch'] } },
        }),
      ),
    ).toHaveLength(0);
  }, 120_000);
});

describe('Alerting security channel', () => {
  it('subscribes the endpoints of a `security` channel to the one security topic', () => {
    // Prepare
    const alerts = resolveConfig({
      alerts: { channels: { security: { type: 'email', addresses: ['secops@example.com'] } } },
    }).alerts;

    // Act
    const { template } = synth(alerts);

    // Assess: the channel is the security topic, not a second one beside it
    template.resourceCountIs('AWS::SNS::Topic', 5);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'secops@example.com',
      TopicArn: { Ref: Match.stringLikeRegexp('^AlertingChannelSecurityTopic') },
    });
    const vars = (alarmFunction(template).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(flat(vars[ALARM_ENV.channels])).toContain('"security":{"topicArn":"<AlertingChannelSecurityTopic');
  }, 120_000);
});

describe('LogLakeStack alert outputs', () => {
  it('names the topic of each severity, for subscribing email, chat or paging', () => {
    // Act
    const outputs = stackTemplate().findOutputs('*');

    // Assess
    for (const severity of ['Critical', 'High', 'Medium', 'Low', 'Security']) {
      expect(outputs[`${severity}AlertTopicArn`]?.Value).toEqual({
        Ref: expect.stringMatching(new RegExp(`^LogLakeAlerting${severity}Topic`)),
      });
    }
  });

  it('has no topic outputs when alerting is disabled', () => {
    // Act
    const outputs = Object.keys(stackTemplate({ override: { alerts: { enabled: false } } }).findOutputs('*'));

    // Assess
    expect(outputs.filter((o) => o.endsWith('AlertTopicArn'))).toEqual([]);
    expect(outputs).toContain('LogsStreamName');
  });
});

describe('Alerting environment size', () => {
  it('fails synth naming alerts.rules when the rules would not fit in the alarm Lambda’s 4 KB environment', () => {
    // Random descriptions: deflate cannot shrink them, as it shrinks rules that repeat one another.
    const words = (seed: number) =>
      Array.from({ length: 40 }, (_, i) => ((seed * 7919 + i * 104729) % 999_983).toString(36)).join(' ');
    const rules = (n: number) =>
      Object.fromEntries(
        Array.from({ length: n }, (_, i) => [
          `custom-${i}`,
          {
            description: words(i + 1),
            severity: 'low' as const,
            kind: 'count' as const,
            filter: { services: [`svc-${i}`] },
            windowMinutes: 5,
            threshold: 100,
          },
        ]),
      );

    const tooMany = synthStack({ override: { alerts: { rules: rules(40) } } });
    expect(() => tooMany.app.synth()).toThrow(
      /alerts\.rules: the alarm Lambda's environment needs about \d+ bytes as deployed .* over Lambda's limit of 4096/,
    );
    const few = synthStack({ override: { alerts: { rules: rules(2) } } });
    expect(() => few.app.synth()).not.toThrow();
  });
});
