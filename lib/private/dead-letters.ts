import { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sqs from 'aws-cdk-lib/aws-sqs';

/** How long the functions' dead-letter queues keep an event (SQS's maximum): then it is gone. */
export const DEAD_LETTER_RETENTION = Duration.days(14);

/** Events waiting in `queue` (Maximum over 5 minutes). */
export function metricDeadLetters(queue: sqs.IQueue, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
  return queue.metricApproximateNumberOfMessagesVisible({
    statistic: 'Maximum',
    period: Duration.minutes(5),
    ...props,
  });
}

/** Seconds the oldest event has waited in `queue` (Maximum over 5 minutes). */
export function metricOldestDeadLetterAge(
  queue: sqs.IQueue,
  props?: cloudwatch.MetricOptions,
): cloudwatch.Metric {
  return queue.metricApproximateAgeOfOldestMessage({
    statistic: 'Maximum',
    period: Duration.minutes(5),
    ...props,
  });
}
