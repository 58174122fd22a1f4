/**
 * The logs AWS already has, on the construct side: CloudWatch Logs subscriptions (lake.subscribe, the
 * configured log groups, the account-level policy), their role, the WAF stream, and the guard that the
 * lake never subscribes its own log groups.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { selectionCriteriaBound } from '../../lib/subscriptions';
import { subscriptionFilterName } from '../../src/sources/names';
import { flat, policyStatementsOf, refTo, resourceNamed, resourcesOf, synthStack, template } from './helpers';

type Props = Record<string, unknown>;
const streams = (t: Template) => Object.entries(resourcesOf(t, 'AWS::KinesisFirehose::DeliveryStream'));
const streamNamed = (t: Template, name: string) => {
  const found = streams(t).find(([, s]) => s.Properties.DeliveryStreamName === name);
  if (!found) throw new Error(`no stream ${name}`);
  return found;
};

describe('the WAF stream', () => {
  it('is named aws-waf-logs-<name> and runs the logs transform into the logs table and bucket', () => {
    const t = template();
    const [, waf] = streamNamed(t, 'aws-waf-logs-loglake');
    const [, logsStream] = streamNamed(t, 'loglake-logs');
    const dest = (p: Props) => p.ExtendedS3DestinationConfiguration as Props;
    const processor = (p: Props) => {
      const [first] = (dest(p).ProcessingConfiguration as { Processors: Array<{ Parameters: Props[] }> })
        .Processors;
      return JSON.stringify(first?.Parameters.find((x) => x.ParameterName === 'LambdaArn'));
    };
    expect(waf.Properties.DeliveryStreamType).toBe('DirectPut');
    expect(waf.Properties.DeliveryStreamEncryptionConfigurationInput).toEqual(
      logsStream.Properties.DeliveryStreamEncryptionConfigurationInput,
    );
    expect(processor(waf.Properties)).toBe(processor(logsStream.Properties));
    expect(flat(dest(waf.Properties).BucketARN)).toBe(flat(dest(logsStream.Properties).BucketARN));
    const table = (p: Props) => {
      const schema = (dest(p).DataFormatConversionConfiguration as { SchemaConfiguration: Props })
        .SchemaConfiguration;
      return `${flat(schema.DatabaseName)}.${flat(schema.TableName)}`;
    };
    expect(table(waf.Properties)).toBe(table(logsStream.Properties));
    expect(dest(waf.Properties).Prefix).toBe(dest(logsStream.Properties).Prefix);
  });

  it('has the Firehose metrics of its own stream and the logs transform’s, and none when left out', () => {
    const { stack } = synthStack();
    const s = Stack.of(stack);
    const dimension = (m: { dimensions?: Record<string, unknown> }) =>
      JSON.stringify(s.resolve(m.dimensions?.DeliveryStreamName));
    const lake = stack.lake;
    for (const m of ['metricIncomingRecords', 'metricThrottledRecords', 'metricDeliveryFreshness'] as const) {
      expect(dimension(lake[m]({ stream: 'waf' }))).toBe(
        JSON.stringify(s.resolve(lake.wafStream?.deliveryStreamName)),
      );
      expect(dimension(lake[m]({ stream: 'waf' }))).not.toBe(dimension(lake[m]()));
    }
    expect(lake.metricTransformErrors({ stream: 'waf' }).dimensions).toEqual(
      lake.metricTransformErrors().dimensions,
    );
    expect(lake.metricProcessingFailed({ stream: 'waf' }).dimensions).toMatchObject({ Stream: 'logs' });
    const without = synthStack({ override: { sources: { waf: { enabled: false } } } }).stack.lake;
    expect(() => without.metricIncomingRecords({ stream: 'waf' })).toThrow(/no waf stream/);
  });

  it('lets the shared transform re-ingest into it (deferred or split records go back where they came from)', () => {
    const statements = policyStatementsOf(template(), 'LogLakeIngestLogsTransformRoleDefaultPolicy');
    const puts = statements.filter((s) => s.actions.includes('firehose:PutRecordBatch'));
    const resources = puts.flatMap((s) => s.resources);
    expect(resources.some((r) => r.includes(':deliverystream/aws-waf-logs-loglake'))).toBe(true);
    expect(resources.every((r) => !r.includes('*'))).toBe(true);
  });

  it('gives the logs stream to sources that take a stream ARN (lake.logsStream)', () => {
    const { stack } = synthStack();
    const t = Template.fromStack(stack);
    const [id] = streamNamed(t, 'loglake-logs');
    expect(JSON.stringify(stack.resolve(stack.lake.logsStream.deliveryStreamArn))).toContain(id);
  });

  it('is left out when sources.waf.enabled is false', () => {
    const t = template({ override: { sources: { waf: { enabled: false } } } });
    expect(streams(t).map(([, s]) => s.Properties.DeliveryStreamName)).not.toContain('aws-waf-logs-loglake');
  });
});

describe('CloudWatch Logs subscriptions', () => {
  it('subscribe() puts a log group on the logs stream through the CloudWatch Logs role', () => {
    const { stack } = synthStack();
    const group = new logs.LogGroup(stack, 'Orders', { logGroupName: '/aws/lambda/orders' });
    stack.lake.subscribe(group);
    stack.lake.subscribe(logs.LogGroup.fromLogGroupName(stack, 'Api', '/ecs/api'), {
      category: 'framework',
      filterPattern: logs.FilterPattern.anyTerm('ERROR', 'WARN'),
    });
    const t = Template.fromStack(stack);
    const filters = Object.values(resourcesOf(t, 'AWS::Logs::SubscriptionFilter')).map((f) => f.Properties);
    expect(filters.map((f) => f.FilterName).sort()).toEqual([
      subscriptionFilterName('loglake'),
      subscriptionFilterName('loglake', 'framework'),
    ]);
    const [logsId] = streamNamed(t, 'loglake-logs');
    for (const f of filters) {
      expect(flat(f.DestinationArn)).toBe(refTo(logsId));
      expect(flat(f.RoleArn)).toMatch(/^<LogLakeSubscriptionsCloudWatchLogsRole/);
    }
    expect(filters.map((f) => f.FilterPattern).sort()).toEqual(['', '?"ERROR" ?"WARN"']);
  });

  it('the role trusts CloudWatch Logs for this account only and may only put records on the logs stream', () => {
    const { stack } = synthStack();
    stack.lake.subscribe(logs.LogGroup.fromLogGroupName(stack, 'Api', '/ecs/api'));
    const t = Template.fromStack(stack);
    const [, role] = resourceNamed(t, 'AWS::IAM::Role', 'LogLakeSubscriptionsCloudWatchLogsRole');
    const trust = (role.Properties.AssumeRolePolicyDocument as { Statement: Props[] }).Statement;
    expect(trust).toHaveLength(1);
    expect(trust[0]?.Principal).toEqual({ Service: 'logs.amazonaws.com' });
    const condition = trust[0]?.Condition as Record<string, Record<string, unknown>>;
    expect(flat(condition.StringEquals?.['aws:SourceAccount'])).toBe('<AWS::AccountId>');
    expect(flat(condition.StringLike?.['aws:SourceArn'])).toBe(
      'arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:*',
    );
    const statements = policyStatementsOf(t, 'LogLakeSubscriptionsCloudWatchLogsRoleDefaultPolicy');
    expect(statements).toHaveLength(1);
    expect(statements[0]?.actions).toEqual(['firehose:PutRecord', 'firehose:PutRecordBatch']);
    expect(statements[0]?.resources).toHaveLength(1);
    expect(statements[0]?.resources[0]).toMatch(/^<LogLakeIngestLogsStream/);
  });

  it('subscribes the configured log groups, by name or with a pattern and a category', () => {
    const t = template({
      override: {
        sources: {
          cloudWatchLogs: {
            logGroups: [
              '/aws/lambda/orders',
              { name: '/ecs/api', filterPattern: 'ERROR', category: 'errors' },
            ],
          },
        },
      },
    });
    const filters = Object.values(resourcesOf(t, 'AWS::Logs::SubscriptionFilter')).map((f) => f.Properties);
    expect(filters.map((f) => [f.LogGroupName, f.FilterName, f.FilterPattern]).sort()).toEqual([
      ['/aws/lambda/orders', 'loglake-lake', ''],
      ['/ecs/api', 'loglake-lake.category=errors', 'ERROR'],
    ]);
  });

  it('refuses a log group name CloudWatch Logs would refuse, naming the field', () => {
    expect(() =>
      template({ override: { sources: { cloudWatchLogs: { logGroups: ['bad name*'] } } } }),
    ).toThrow(/sources\.cloudWatchLogs\.logGroups\.0/);
  });

  it('has no subscription and no policy by default', () => {
    const t = template();
    expect(resourcesOf(t, 'AWS::Logs::SubscriptionFilter')).toEqual({});
    expect(resourcesOf(t, 'AWS::Logs::AccountPolicy')).toEqual({});
  });

  it('the account policy sends every other log group to the logs stream, excluding all of the lake’s own', () => {
    const { stack } = synthStack({
      override: {
        sources: { cloudWatchLogs: { accountPolicy: { enabled: true, exclude: ['/noisy/group'] } } },
      },
    });
    const t = Template.fromStack(stack);
    const [policy] = Object.values(resourcesOf(t, 'AWS::Logs::AccountPolicy')).map((p) => p.Properties);
    expect(policy).toMatchObject({
      PolicyType: 'SUBSCRIPTION_FILTER_POLICY',
      Scope: 'ALL',
      PolicyName: 'loglake-lake',
    });
    const criteria = flat(policy?.SelectionCriteria);
    expect(criteria).toMatch(/^LogGroupName NOT IN \[/);
    expect(criteria).toContain('"/noisy/group"');
    const ownGroups = Object.keys(resourcesOf(t, 'AWS::Logs::LogGroup'));
    expect(ownGroups.length).toBeGreaterThan(3);
    for (const id of ownGroups) expect(criteria).toContain(`"${refTo(id)}"`);
    const doc = flat(policy?.PolicyDocument);
    expect(doc).toContain('"DestinationArn":"<LogLakeIngestLogsStream');
    expect(doc).toContain('"RoleArn":"<LogLakeSubscriptionsCloudWatchLogsRole');
  });
});

describe('the account policy’s selection criteria fit CloudWatch Logs’ 25 KB', () => {
  it('counts literal names as written and each name resolved at deploy time as the longest allowed', () => {
    expect(selectionCriteriaBound('LogGroupName NOT IN ["/a"]')).toBe(26);
    expect(selectionCriteriaBound('LogGroupName NOT IN ["\u00ab{"Ref":"G"}\u00bb", "/é"]')).toBe(
      'LogGroupName NOT IN ["", "/é"]'.length + 1 + 512,
    );
  });

  it('fails synth when the exclusions could overflow it, naming the limit and what to do', () => {
    const exclude = Array.from(
      { length: 60 },
      (_, i) => `/team/${String(i).padStart(3, '0')}/${'x'.repeat(480)}`,
    );
    expect(() => {
      const { app } = synthStack({
        override: { sources: { cloudWatchLogs: { accountPolicy: { enabled: true, exclude } } } },
      });
      app.synth();
    }).toThrow(/selection criteria .* may take up to \d+ bytes, over CloudWatch Logs' limit of 25600/);
  });

  it('synthesizes a policy whose exclusions fit', () => {
    const exclude = Array.from({ length: 20 }, (_, i) => `/team/${i}/${'x'.repeat(480)}`);
    const { app } = synthStack({
      override: { sources: { cloudWatchLogs: { accountPolicy: { enabled: true, exclude } } } },
    });
    expect(() => app.synth()).not.toThrow();
  });
});

describe('the lake never subscribes its own log groups', () => {
  const ownGroup = (stack: Stack) => {
    const found = stack.node.findAll().find((c) => c instanceof logs.LogGroup);
    if (!(found instanceof logs.LogGroup)) throw new Error('the lake has no log group');
    return found;
  };

  it('subscribe() refuses one, naming it', () => {
    const { stack } = synthStack();
    const group = ownGroup(stack);
    expect(() => stack.lake.subscribe(group)).toThrow(/one of the lake's own log groups/);
  });

  it('fails synth for a subscription filter made without subscribe()', () => {
    const { app, stack } = synthStack();
    new logs.CfnSubscriptionFilter(stack, 'Loop', {
      logGroupName: ownGroup(stack).logGroupName,
      destinationArn: stack.lake.ingest.lanes.logs.stream.deliveryStreamArn,
      filterPattern: '',
      roleArn: stack.lake.subscriptions.role.roleArn,
    });
    expect(() => app.synth()).toThrow(/Loop subscribes the lake's own log group/);
  });

  it('fails synth for an account policy into the lake that does not exclude them', () => {
    const { app, stack } = synthStack();
    new logs.CfnAccountPolicy(stack, 'Everything', {
      policyName: 'everything',
      policyType: 'SUBSCRIPTION_FILTER_POLICY',
      scope: 'ALL',
      policyDocument: Stack.of(stack).toJsonString({
        DestinationArn: stack.lake.wafStream?.deliveryStreamArn,
        RoleArn: stack.lake.subscriptions.role.roleArn,
      }),
    });
    expect(() => app.synth()).toThrow(/Everything sends every log group to a lake stream without excluding/);
  });

  it('the account policy leaves out the log groups the stack subscribes by name (no event twice)', () => {
    const { stack } = synthStack({
      override: {
        sources: { cloudWatchLogs: { logGroups: ['/aws/lambda/orders'], accountPolicy: { enabled: true } } },
      },
    });
    stack.lake.subscribe(logs.LogGroup.fromLogGroupName(stack, 'Api', '/ecs/api'));
    const t = Template.fromStack(stack);
    const [policy] = Object.values(resourcesOf(t, 'AWS::Logs::AccountPolicy')).map((p) => p.Properties);
    const criteria = flat(policy?.SelectionCriteria);
    expect(criteria).toContain('"/aws/lambda/orders"');
    expect(criteria).toContain('"/ecs/api"');
  });

  it('lets a subscription of another log group synthesize with both nag packs', () => {
    const { app, stack } = synthStack({
      override: {
        sources: { cloudWatchLogs: { logGroups: ['/aws/lambda/orders'], accountPolicy: { enabled: true } } },
      },
    });
    stack.lake.subscribe(
      new logs.LogGroup(stack, 'Orders', {
        retention: logs.RetentionDays.ONE_WEEK,
        encryptionKey: stack.lake.key,
      }),
    );
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app));
    expect(() => app.synth()).not.toThrow();
  });
});

describe('access logs from S3', () => {
  const override = {
    sources: {
      accessLogs: [
        { bucket: 'elb-logs-123456789012', format: 'alb' as const, prefix: 'AWSLogs/123456789012/' },
      ],
    },
  };

  it('notifies the access-log function of new objects under the prefix, the source in its environment', () => {
    const t = template({ override });
    const [, notification] = Object.entries(resourcesOf(t, 'Custom::S3BucketNotifications'))[0] ?? [];
    const config = notification?.Properties.NotificationConfiguration as {
      LambdaFunctionConfigurations: Array<{ Events: string[]; Filter: unknown; LambdaFunctionArn: unknown }>;
    };
    expect(notification?.Properties.BucketName).toBe('elb-logs-123456789012');
    expect(config.LambdaFunctionConfigurations).toHaveLength(1);
    const [target] = config.LambdaFunctionConfigurations;
    expect(target?.Events).toEqual(['s3:ObjectCreated:*']);
    expect(flat(target?.Filter)).toContain('AWSLogs/123456789012/');
    expect(flat(target?.LambdaFunctionArn)).toBe('<LogLakeAccessLogs0Function>');
    const [, fn] = resourceNamed(t, 'AWS::Lambda::Function', 'LogLakeAccessLogs0Function');
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.LOGLAKE_ACCESS_LOG_SOURCE).toBe('{"format":"alb"}');
    expect(flat(env.LOGLAKE_ACCESS_LOG_STREAM)).toBe('<LogLakeIngestLogsStream>');
    expect(JSON.parse(String(env.LOGLAKE_ACCESS_LOG_RULES))).toMatchObject({ defaultCategory: 'runtime' });
  });

  it('retries twice, then dead-letters to a KMS-encrypted queue', () => {
    const t = template({ override });
    const [, fn] = resourceNamed(t, 'AWS::Lambda::Function', 'LogLakeAccessLogs0Function');
    expect(flat(fn.Properties.DeadLetterConfig)).toBe('<LogLakeAccessLogs0DeadLetterQueue>');
    const [, invoke] = resourceNamed(t, 'AWS::Lambda::EventInvokeConfig', 'LogLakeAccessLogs0Function');
    expect(invoke.Properties).toMatchObject({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 21600 });
    const [, queue] = resourceNamed(t, 'AWS::SQS::Queue', 'LogLakeAccessLogs0DeadLetterQueue');
    expect(flat(queue.Properties.KmsMasterKeyId)).toBe('<LogLakeKey>');
  });

  it('may read only the bucket under the prefix and put records only on the logs stream', () => {
    const statements = policyStatementsOf(
      template({ override }),
      'LogLakeAccessLogs0FunctionRoleDefaultPolicy',
    );
    const s3Read = statements.find((s) => s.actions.includes('s3:GetObject*'));
    expect(s3Read?.resources).toEqual([
      'arn:<AWS::Partition>:s3:::elb-logs-123456789012',
      'arn:<AWS::Partition>:s3:::elb-logs-123456789012/AWSLogs/123456789012/*',
    ]);
    expect(s3Read?.actions.some((a) => /Put|Delete/.test(a))).toBe(false);
    const put = statements.find((s) => s.actions.includes('firehose:PutRecordBatch'));
    expect(put).toMatchObject({
      actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'],
      resources: ['<LogLakeIngestLogsStream>'],
    });
    const all = statements.flatMap((s) => s.actions);
    expect(all.filter((a) => !/^(s3|firehose|logs|kms|dynamodb):/.test(a))).toEqual(['sqs:SendMessage']);
  });

  it('keeps a ledger table of the objects shipped: on demand, lake-key encrypted, point-in-time recovery, records expiring', () => {
    const t = template({ override });
    const [tableId, table] = resourceNamed(t, 'AWS::DynamoDB::Table', 'LogLakeAccessLogs0Ledger');
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'object', KeyType: 'HASH' },
        { AttributeName: 'delivery', KeyType: 'RANGE' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
    });
    expect(flat((table.Properties.SSESpecification as Props).KMSMasterKeyId)).toBe('<LogLakeKey>');
    const [, fn] = resourceNamed(t, 'AWS::Lambda::Function', 'LogLakeAccessLogs0Function');
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(flat(env.LOGLAKE_ACCESS_LOG_LEDGER)).toBe(refTo(tableId));
  });

  it('lets the function only read and conditionally update its ledger, with the lake key through DynamoDB only', () => {
    const t = template({ override });
    const [tableId] = resourceNamed(t, 'AWS::DynamoDB::Table', 'LogLakeAccessLogs0Ledger');
    const statements = policyStatementsOf(t, 'LogLakeAccessLogs0FunctionRoleDefaultPolicy');
    const onDynamoDb = statements.filter((s) => s.actions.some((a) => a.startsWith('dynamodb:')));
    expect(onDynamoDb).toEqual([
      {
        effect: 'Allow',
        actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'],
        resources: [refTo(tableId)],
        condition: '',
      },
    ]);
    const viaDynamoDb = statements.filter((s) => s.condition.includes('dynamodb.'));
    expect(viaDynamoDb).toEqual([
      {
        effect: 'Allow',
        actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
        resources: ['<LogLakeKey>'],
        condition: 'StringEquals kms:ViaService=dynamodb.<AWS::Region>.amazonaws.com',
      },
    ]);
  });

  it('refuses one of the lake’s own buckets', () => {
    const { stack } = synthStack();
    expect(() => stack.lake.ingestAccessLogs(stack.lake.dataBuckets.logs, { format: 's3' })).toThrow(
      /one of the lake's own buckets/,
    );
  });

  it('refuses a bucket name S3 would refuse and an unknown format, naming the field', () => {
    expect(() =>
      template({ override: { sources: { accessLogs: [{ bucket: 'Bad_Bucket', format: 'alb' }] } } }),
    ).toThrow(/sources\.accessLogs\.0\.bucket/);
    expect(() =>
      template({
        override: { sources: { accessLogs: [{ bucket: 'ok-bucket', format: 'nginx' as never }] } },
      }),
    ).toThrow(/sources\.accessLogs\.0\.format/);
  });

  it('has no access-log function by default', () => {
    expect(Object.keys(resourcesOf(template(), 'Custom::S3BucketNotifications'))).toEqual([]);
  });
});
