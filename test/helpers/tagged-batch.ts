/** PutRecordBatch input for end-to-end tests: one event per id, found again by `correlation_id`. */
import { PutRecordBatchCommand } from '@aws-sdk/client-firehose';

/**
 * One JSON event per id (`correlation_id` = the id), all of `service` at time `at`, each message padded
 * with `pad` characters.
 */
export function taggedBatch(
  service: string,
  ids: readonly string[],
  at: number,
  pad = 0,
): PutRecordBatchCommand {
  return new PutRecordBatchCommand({
    DeliveryStreamName: 'logs',
    Records: ids.map((id) => ({
      Data: Buffer.from(
        `${JSON.stringify({ timestamp: new Date(at).toISOString(), level: 'INFO', service, message: `event ${id} ${'x'.repeat(pad)}`, correlation_id: id })}\n`,
      ),
    })),
  });
}
