/**
 * Access events of Athena queries, put on the deployment's audit delivery stream as raw records: the
 * transform Lambda normalizes and redacts them like any producer's and they land in the `audit`
 * category (the Object Lock bucket). Used by the CLI (`--stack`, `--audit-stream`) and the alarm Lambda.
 */
import { type FirehoseClient, PutRecordCommand } from '@aws-sdk/client-firehose';
import { type AccessEvent, type AccessSink, accessLogEvent } from './access';

export class FirehoseAccessSink implements AccessSink {
  /** @param client a Firehose client of the stream's region (the caller owns and destroys it) */
  constructor(
    private readonly client: FirehoseClient,
    private readonly streamName: string,
  ) {}

  async record(event: AccessEvent): Promise<void> {
    await this.client.send(
      new PutRecordCommand({
        DeliveryStreamName: this.streamName,
        Record: { Data: Buffer.from(`${JSON.stringify(accessLogEvent(event))}\n`) },
      }),
    );
  }
}
