/** `loglake send`: ship stdin lines to a delivery stream through the shipper. */
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { firehoseClientConfig } from '../producer/client-config';
import { Shipper, type ShipperCounters } from '../producer/shipper';
import { type CliIO, processIO } from './io';
import { intOption } from './options';

export interface SendFlags {
  readonly stream: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly flushMs?: number;
}

/** Ship every line of `input`; resolves with the shipper's counters. */
export async function sendLines(
  input: NodeJS.ReadableStream,
  flags: SendFlags,
  io: CliIO = processIO,
): Promise<ShipperCounters> {
  const shipper = new Shipper({
    streamName: flags.stream,
    clientConfig: firehoseClientConfig(flags, '--endpoint'),
    flushIntervalMs: flags.flushMs ?? 1_000,
    onDrop: (lines, reason, error) =>
      io.stderr(
        `loglake send: dropped ${lines} line(s): ${reason}${error instanceof Error ? ` (${error.message})` : ''}\n`,
      ),
  });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of lines) if (line.trim() !== '') await shipper.write(line);
  const c = await shipper.close();
  const dropped = Object.values(c.dropped).reduce((s, n) => s + n, 0);
  io.stderr(
    `loglake send: ${c.linesSent} line(s) in ${c.recordsSent} record(s), ${c.bytesSent} bytes (billed ${c.billedBytes}, ` +
      `${c.bytesSent ? (c.billedBytes / c.bytesSent).toFixed(3) : '1.000'}x), ${c.retried} retried, ${dropped} dropped\n`,
  );
  return c;
}

export function registerSendCommand(program: Command): void {
  program
    .command('send')
    .description('ship log lines from stdin to a delivery stream (packed, retried, bounded)')
    .requiredOption('--stream <name>', 'delivery stream (logs, audit, or the deployed stream name)')
    .option('--endpoint <url>', 'Firehose endpoint, e.g. http://127.0.0.1:4573 for `loglake local`')
    .option('--region <region>', 'AWS region (default AWS_REGION)')
    .option(
      '--flush-ms <n>',
      'send partially filled records at least this often',
      intOption(10, 600_000),
      1_000,
    )
    .addHelpText(
      'after',
      '\nExample:\n  tail -F app.log | loglake send --stream logs --endpoint http://127.0.0.1:4573',
    )
    .action(async (flags: SendFlags) => {
      const c = await sendLines(process.stdin, flags);
      if (Object.values(c.dropped).some((n) => n > 0)) process.exitCode = 1;
    });
}
