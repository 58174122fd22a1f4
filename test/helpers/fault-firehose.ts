/**
 * A Firehose PutRecordBatch endpoint for producer tests that injects the faults a real one shows:
 * partially failed batches (FailedPutCount), throttling, 5xx, dropped connections and slow responses.
 * It records every line it accepted, so a test can check that each one arrived at least once.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = 'none' | 'partial' | 'throttle' | 'error500' | 'drop' | 'slow';

export interface FaultFirehose {
  readonly url: string;
  /** How often each accepted line arrived. */
  readonly received: Map<string, number>;
  /** Records accepted, with their sizes. */
  readonly recordSizes: number[];
  /** Calls per fault injected. */
  readonly faults: Record<Fault, number>;
  /** Largest number of records and bytes seen in one call. */
  readonly maxCall: { records: number; bytes: number };
  close(): Promise<void>;
}

/**
 * @param pick - chooses the fault for each call (e.g. from a seeded random source).
 * @param slowMs - how long a `slow` call stalls before answering. @default 2000
 */
export async function startFaultFirehose(
  pick: (call: number) => Fault,
  slowMs = 2_000,
): Promise<FaultFirehose> {
  const received = new Map<string, number>();
  const recordSizes: number[] = [];
  const faults: Record<Fault, number> = { none: 0, partial: 0, throttle: 0, error500: 0, drop: 0, slow: 0 };
  const maxCall = { records: 0, bytes: 0 };
  let call = 0;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    try {
      for await (const c of req) chunks.push(c as Buffer);
    } catch {
      // The client gave up on the call mid-upload: nothing arrived.
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Records: Array<{ Data: string }> };
    const fault = pick(call++);
    faults[fault]++;
    const records = body.Records.map((r) => Buffer.from(r.Data, 'base64'));
    maxCall.records = Math.max(maxCall.records, records.length);
    maxCall.bytes = Math.max(
      maxCall.bytes,
      records.reduce((s, r) => s + r.length, 0),
    );
    const reply = (status: number, payload: unknown, type?: string) => {
      const text = JSON.stringify(payload);
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        ...(type ? { 'x-amzn-errortype': type } : {}),
      });
      res.end(text);
    };
    if (fault === 'drop') {
      req.socket.destroy();
      return;
    }
    if (fault === 'throttle') {
      return reply(
        400,
        { __type: 'ServiceUnavailableException', message: 'Slow down.' },
        'ServiceUnavailableException',
      );
    }
    if (fault === 'error500')
      return reply(500, { __type: 'InternalFailure', message: 'boom' }, 'InternalFailure');
    if (fault === 'slow') await new Promise((r) => setTimeout(r, slowMs));
    const accept = (record: Buffer) => {
      recordSizes.push(record.length);
      for (const line of record.toString('utf8').split('\n')) {
        if (line !== '') received.set(line, (received.get(line) ?? 0) + 1);
      }
    };
    const responses = records.map((record, i) => {
      if (fault === 'partial' && i % 2 === 0) {
        return { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' };
      }
      accept(record);
      return { RecordId: `r-${call}-${i}` };
    });
    const failed = responses.filter((r) => 'ErrorCode' in r).length;
    // A slow call may have been abandoned by the client; it still counts as delivered here, as on AWS.
    if (!res.destroyed) reply(200, { FailedPutCount: failed, Encrypted: false, RequestResponses: responses });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    recordSizes,
    faults,
    maxCall,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
