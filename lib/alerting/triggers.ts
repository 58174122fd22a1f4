import { Duration, Lazy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ERROR_PREFIX } from '../../src/schema';

export interface AlarmTriggersProps {
  /** The alarm Lambda. */
  readonly target: lambda.IFunction;
  /** Where EventBridge parks events it could not deliver after its retries. */
  readonly deadLetterQueue: sqs.IQueue;
  readonly scheduleMinutes: number;
  /** The pipeline alarms whose state changes the Lambda turns into alerts; read at synth (alarms added later count). */
  readonly alarms: () => readonly cloudwatch.IAlarm[];
  /** Buckets whose new objects under the error prefix the Lambda records. */
  readonly buckets: readonly s3.IBucket[];
  /** Turn on the buckets' EventBridge notifications (off when managed elsewhere). */
  readonly enableBucketEvents: boolean;
}

/**
 * What invokes the alarm Lambda: its schedule (rule evaluation), state changes of the pipeline alarms,
 * and S3 `Object Created` events under the error prefix. All three share one target with retries and
 * the dead-letter queue.
 */
export function createAlarmTriggers(scope: Construct, props: AlarmTriggersProps): events.Rule {
  const target = new targets.LambdaFunction(props.target, {
    deadLetterQueue: props.deadLetterQueue,
    maxEventAge: Duration.hours(1),
    retryAttempts: 4,
  });
  const schedule = new events.Rule(scope, 'Schedule', {
    description: `Evaluates the loglake alert rules every ${props.scheduleMinutes} min`,
    schedule: events.Schedule.rate(Duration.minutes(props.scheduleMinutes)),
    targets: [target],
  });
  if (props.alarms().length > 0) {
    new events.Rule(scope, 'AlarmStateChangeRule', {
      description: 'State changes of the loglake pipeline alarms → alarm Lambda',
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        resources: Lazy.list({ produce: () => props.alarms().map((a) => a.alarmArn) }),
      },
      targets: [target],
    });
  }
  if (props.buckets.length > 0) {
    if (props.enableBucketEvents) for (const bucket of props.buckets) enableEventBridge(bucket);
    new events.Rule(scope, 'ErrorObjectRule', {
      description: `New objects under ${ERROR_PREFIX}/ (records Firehose could not process) → alarm Lambda`,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: props.buckets.map((b) => b.bucketName) },
          object: { key: [{ prefix: `${ERROR_PREFIX}/` }] },
        },
      },
      targets: [target],
    });
  }
  return schedule;
}

function enableEventBridge(bucket: s3.IBucket): void {
  const cfn = bucket.node.defaultChild;
  if (cfn instanceof s3.CfnBucket) {
    // Native CloudFormation property: no BucketNotifications custom resource (and its Lambda) needed.
    cfn.addPropertyOverride('NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled', true);
  } else {
    bucket.enableEventBridgeNotification();
  }
}
