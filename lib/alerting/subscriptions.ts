import { RemovalPolicy } from 'aws-cdk-lib';
import * as chatbot from 'aws-cdk-lib/aws-chatbot';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subs from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { type Channel, type Severity, type Subscription, severitiesAtOrAbove } from '../../src/alerts/config';
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

/** A rule channel's topic and how its messages are shaped (`chatbot`: AWS Chatbot custom notifications). */
export interface ChannelTopic {
  readonly topic: sns.Topic;
  readonly format: 'sns' | 'chatbot';
  /** The AWS Chatbot configuration of a `chatbot` channel. */
  readonly chatbot?: chatbot.SlackChannelConfiguration;
}

/**
 * One KMS-encrypted topic per channel with its endpoints subscribed; an AWS Chatbot Slack channel for a
 * `chatbot` channel, with no IAM permissions of its own (it only relays the topic's messages).
 */
export function createChannel(scope: Construct, name: string, channel: Channel, key: kms.IKey): ChannelTopic {
  const id = `Channel${pascalCase(name)}`;
  const topic = new sns.Topic(scope, `${id}Topic`, {
    displayName: `loglake alerts: ${name}`,
    masterKey: key,
    enforceSSL: true,
  });
  switch (channel.type) {
    case 'email':
      for (const address of channel.addresses) topic.addSubscription(new subs.EmailSubscription(address));
      return { topic, format: 'sns' };
    case 'chat':
      topic.addSubscription(
        new subs.UrlSubscription(channel.webhookUrl, { protocol: sns.SubscriptionProtocol.HTTPS }),
      );
      return { topic, format: 'sns' };
    case 'paging':
      topic.addSubscription(
        new subs.UrlSubscription(channel.url, {
          protocol: sns.SubscriptionProtocol.HTTPS,
          ...(channel.firingOnly
            ? { filterPolicy: { status: sns.SubscriptionFilter.stringFilter({ allowlist: ['firing'] }) } }
            : {}),
        }),
      );
      return { topic, format: 'sns' };
    case 'chatbot': {
      const config = new chatbot.SlackChannelConfiguration(scope, `${id}Chatbot`, {
        slackChannelConfigurationName: `loglake-${name}`.slice(0, 128),
        slackWorkspaceId: channel.slackWorkspaceId,
        slackChannelId: channel.slackChannelId,
        notificationTopics: [topic],
        loggingLevel: chatbot.LoggingLevel.ERROR,
      });
      config.applyRemovalPolicy(RemovalPolicy.DESTROY);
      return { topic, format: 'chatbot', chatbot: config };
    }
  }
}
