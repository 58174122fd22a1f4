import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { type Severity, type Subscription, severitiesAtOrAbove } from '../../src/alerts/config';
import { pascalCase } from '../../src/outputs';

/** Subscribe an endpoint to every topic at or above its minimum severity (escalation). */
export function subscribe(
  scope: Construct,
  topics: Readonly<Record<Severity, sns.ITopic>>,
  s: Subscription,
): void {
  const filterPolicy = s.firingOnly
    ? { status: sns.SubscriptionFilter.stringFilter({ allowlist: ['firing'] }) }
    : undefined;
  const opts = filterPolicy ? { filterPolicy } : {};
  for (const severity of severitiesAtOrAbove(s.minSeverity)) {
    const topic = topics[severity];
    const importId = `Sub${pascalCase(severity)}${hash(s.endpoint)}`;
    switch (s.protocol) {
      case 'email':
        topic.addSubscription(new subs.EmailSubscription(s.endpoint, opts));
        break;
      case 'https':
        topic.addSubscription(
          new subs.UrlSubscription(s.endpoint, { ...opts, protocol: sns.SubscriptionProtocol.HTTPS }),
        );
        break;
      case 'sms':
        topic.addSubscription(new subs.SmsSubscription(s.endpoint, opts));
        break;
      case 'sqs':
        topic.addSubscription(
          new subs.SqsSubscription(sqs.Queue.fromQueueArn(scope, importId, s.endpoint), {
            ...opts,
            rawMessageDelivery: true,
          }),
        );
        break;
      case 'lambda':
        topic.addSubscription(
          new subs.LambdaSubscription(lambda.Function.fromFunctionArn(scope, importId, s.endpoint), opts),
        );
        break;
    }
  }
}

/** Short stable suffix for construct ids derived from an ARN. */
function hash(s: string): string {
  let h = 0;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) | 0;
  return (h >>> 0).toString(36);
}
