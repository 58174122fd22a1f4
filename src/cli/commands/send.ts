/**
 * `loglake send`: ship stdin lines to a delivery stream through the shipper.
 *
 * Every line read is accounted for: delivered, or dropped with a reason, and the counts are printed on
 * exit (exit code 1 when anything was dropped). SIGINT/SIGTERM stop reading and deliver what was read
 * (`tail -F app.log | loglake send`, then Ctrl-C); a second signal gives up on what is still undelivered.
 * Failed sends are reported as they happen, with what went wrong (`cannot connect to …: ECONNREFUSED`).
 */
import { StringDecoder } from 'node:string_decoder';
import type { Command } from 'commander';
import { z } from 'zod';
import { firehoseClientConfig } from '../../producer/client-config';
import { DroppedLinesFile, keepDropped, refuseReadingOwnDrops } from '../../producer/dropped-file';
import { describeCallError } from '../../producer/put-batch';
import { type DropReason, Shipper, type ShipperCounters } from '../../producer/shipper';
import { cliEnv } from '../env';
import { parseFlags } from '../flags';
import { type CliIO, processIO } from '../io';
import { intOption } from '../options';

export const sendFlags = z.strictObject({
  stream: z.string(),
  endpoint: z.string().optional(),
  region: z.string().optional(),
  flushMs: z.number().int().min(10).max(600_000).optional(),
  /** Seconds to keep retrying at the end before dropping what is undelivered. */
  closeTimeout: z.number().int().min(0).max(86_400).optional(),
  /** Where dropped lines are kept, to be sent again. */
  droppedFile: z.string().min(1).optional(),
});
export type SendFlags = z.output<typeof sendFlags>;

/** What `sendLines` did: the shipper's counters and the lines it read. */
export interface SendReport extends ShipperCounters {
  /** Non-empty lines read from the input. */
  readonly linesRead: number;
  /** With `--dropped-file`: the dropped lines kept in it, and any that could not be (with why). */
  readonly droppedFile?: {
    readonly path: string;
    readonly kept: number;
    readonly lost: number;
    readonly error?: string;
  };
}

/** Stop signals for `sendLines`: `stop` ends reading (deliver what was read), `abandon` gives up on it. */
export interface SendSignals {
  readonly stop?: AbortSignal;
  readonly abandon?: AbortSignal;
}

/** Default of `--close-timeout`, seconds. */
export const DEFAULT_CLOSE_TIMEOUT_SECONDS = 30;
/** A failure that keeps repeating is reported again after this long, not on every retry. */
const REPEAT_REPORT_MS = 5_000;

/**
 * Ship every line of `input` until it ends or `signals.stop` aborts; resolves with the counts once
 * everything read is delivered or dropped (and said so on `io.stderr`).
 */
export async function sendLines(
  input: NodeJS.ReadableStream,
  flags: SendFlags,
  io: CliIO = processIO,
  signals: SendSignals = {},
): Promise<SendReport> {
  const target = flags.endpoint ?? `Firehose (${flags.region ?? cliEnv.region ?? 'the SDK default region'})`;
  const dropErrors = new Map<DropReason, string>();
  const reported = new Map<string, { at: number; retries: number }>();
  let lastFailure: string | undefined;
  const keep = flags.droppedFile === undefined ? undefined : new DroppedLinesFile(flags.droppedFile);
  const shipper = new Shipper({
    streamName: flags.stream,
    clientConfig: firehoseClientConfig(flags, '--endpoint'),
    flushIntervalMs: flags.flushMs ?? 1_000,
    onRetry: ({ lines, attempt, delayMs, error }) => {
      const what = describeCallError(error, target);
      lastFailure = what;
      const seen = reported.get(what);
      const now = Date.now();
      if (seen && now - seen.at < REPEAT_REPORT_MS) {
        seen.retries++;
        return;
      }
      const since = seen ? ` (${seen.retries + 1} failed attempt(s) since the last report)` : '';
      reported.set(what, { at: now, retries: 0 });
      io.stderr(
        `loglake send: ${what}${since}; retrying ${lines} line(s) in ${(delayMs / 1000).toFixed(1)} s (attempt ${attempt + 1})\n`,
      );
    },
    onDrop: (lines, reason, error, data) => {
      const why =
        error !== undefined
          ? describeCallError(error, target)
          : reason === 'shutdown' && lastFailure
            ? `last error: ${lastFailure}`
            : '';
      if (why && !dropErrors.has(reason)) dropErrors.set(reason, why);
      const kept = keepDropped(keep, lines, data);
      io.stderr(`loglake send: dropped ${lines} line(s): ${reason}${why ? ` (${why})` : ''}${kept}\n`);
    },
  });
  const closeTimeoutMs = (flags.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT_SECONDS) * 1000;
  // Reading waits for room in the queue while the endpoint is down, so a signal must end it too: a
  // second one at once, the first by the deadline the close would have had. Giving up closes the
  // shipper, which drops what is undelivered and lets a waiting write go (its line dropped as well).
  const giveUp = new AbortController();
  let deadline: NodeJS.Timeout | undefined;
  const onStop = () => {
    deadline = setTimeout(() => giveUp.abort(), STOP_MAX_MS + closeTimeoutMs);
  };
  const onAbandon = () => giveUp.abort();
  giveUp.signal.addEventListener('abort', () => void shipper.close(0), { once: true });
  if (signals.stop?.aborted) onStop();
  else signals.stop?.addEventListener('abort', onStop, { once: true });
  if (signals.abandon?.aborted) onAbandon();
  else signals.abandon?.addEventListener('abort', onAbandon, { once: true });
  let linesRead: number;
  try {
    linesRead = await readLines(input, (line) => shipper.write(line), signals.stop, giveUp.signal);
  } finally {
    clearTimeout(deadline);
    signals.stop?.removeEventListener('abort', onStop);
    signals.abandon?.removeEventListener('abort', onAbandon);
  }
  if (signals.stop?.aborted && !signals.abandon?.aborted && !giveUp.signal.aborted) {
    const waiting = shipper.counters.linesAccepted - shipper.counters.linesSent;
    io.stderr(
      `loglake send: stopping; delivering the ${waiting} line(s) read but not yet sent (signal again to drop them and exit)\n`,
    );
  }
  const c = await shipper.close(closeTimeoutMs, signals.abandon);
  keep?.close();
  const report: SendReport = {
    ...c,
    linesRead,
    ...(keep
      ? {
          droppedFile: {
            path: keep.path,
            kept: keep.kept,
            lost: keep.lost,
            ...(keep.error ? { error: keep.error.message } : {}),
          },
        }
      : {}),
  };
  io.stderr(`${summary(report, dropErrors, flags.stream)}\n`);
  return report;
}

/**
 * The exit summary: read, sent, retried, dropped by reason (with the first error behind each), and
 * where dropped lines were kept (with the command that sends them again).
 */
export function summary(
  c: SendReport,
  dropErrors: ReadonlyMap<DropReason, string> = new Map(),
  stream = 'logs',
): string {
  const dropped = Object.values(c.dropped).reduce((s, n) => s + n, 0);
  const reasons = (Object.entries(c.dropped) as Array<[DropReason, number]>)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason} ${n}${dropErrors.has(reason) ? ` (${dropErrors.get(reason)})` : ''}`);
  const ratio = c.bytesSent ? (c.billedBytes / c.bytesSent).toFixed(3) : '1.000';
  return (
    `loglake send: read ${c.linesRead} line(s); sent ${c.linesSent} line(s) in ${c.recordsSent} record(s), ${c.bytesSent} bytes ` +
    `(billed ${c.billedBytes}, ${ratio}x); ${c.retried} record send(s) retried; dropped ${dropped}` +
    `${reasons.length > 0 ? `: ${reasons.join(', ')}` : ''}${keptNote(c.droppedFile, stream)}`
  );
}

function keptNote(file: SendReport['droppedFile'], stream: string): string {
  if (file === undefined || file.kept + file.lost === 0) return '';
  const kept =
    file.kept > 0
      ? `; ${file.kept} kept in ${file.path} (send them again: loglake send --stream ${stream} < ${file.path})`
      : '';
  const lost =
    file.lost > 0 || file.error ? `; ${file.lost} could not be kept (${file.error ?? 'unknown error'})` : '';
  return kept + lost;
}

/** After a stop signal, what is already in the pipe is still read: until it is quiet this long… */
const STOP_QUIET_MS = 100;
/** …or this long at most, when the writer keeps writing. */
const STOP_MAX_MS = 1_000;

/**
 * Feed every non-empty line of `input` to `write` (awaited: back-pressure) until the input ends or
 * `stop` aborts. After `stop`, what is already in the pipe is still read (Ctrl-C on `tail -F | loglake
 * send` ends tail too, and its last lines are in flight), then reading stops; after `giveUp`, nothing
 * more is read (what was read still goes to `write`). A last line without its newline is still a line
 * read. Resolves with the count.
 */
async function readLines(
  input: NodeJS.ReadableStream,
  write: (line: string) => Promise<void>,
  stop: AbortSignal | undefined,
  giveUp: AbortSignal,
): Promise<number> {
  const decoder = new StringDecoder('utf8');
  let wake: (() => void) | undefined;
  const poke = () => {
    wake?.();
    wake = undefined;
  };
  let ended = false;
  const onEnd = () => {
    ended = true;
    poke();
  };
  input.on('readable', poke);
  input.on('end', onEnd);
  input.on('error', onEnd);
  stop?.addEventListener('abort', poke, { once: true });
  giveUp.addEventListener('abort', poke, { once: true });
  /** Resolves on new input, its end, a stop, or after `ms`; true when it timed out. */
  const waitForInput = (ms?: number) =>
    new Promise<boolean>((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => resolve(true), ms);
      wake = () => {
        clearTimeout(timer);
        resolve(false);
      };
    });
  let rest = '';
  let count = 0;
  const take = async (text: string) => {
    for (const raw of text.split('\n')) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line.trim() === '') continue;
      count++;
      await write(line);
    }
  };
  let stopBy: number | undefined;
  try {
    for (;;) {
      while (!giveUp.aborted) {
        const chunk = input.read();
        if (chunk === null) break;
        const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
        const end = text.lastIndexOf('\n');
        rest = text.slice(end + 1);
        if (end >= 0) await take(text.slice(0, end));
      }
      if (ended || giveUp.aborted) break;
      if (stop?.aborted) {
        stopBy ??= Date.now() + STOP_MAX_MS;
        const left = stopBy - Date.now();
        if (left <= 0 || (await waitForInput(Math.min(STOP_QUIET_MS, left)))) break;
      } else {
        await waitForInput();
      }
    }
    await take(rest + decoder.end());
  } finally {
    input.off('readable', poke);
    input.off('end', onEnd);
    input.off('error', onEnd);
    stop?.removeEventListener('abort', poke);
    giveUp.removeEventListener('abort', poke);
  }
  return count;
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
    .option(
      '--close-timeout <seconds>',
      'at the end of input or on SIGINT/SIGTERM, keep retrying undelivered lines this long, then drop them',
      intOption(0, 86_400),
      DEFAULT_CLOSE_TIMEOUT_SECONDS,
    )
    .option(
      '--dropped-file <path>',
      'append every line dropped (undelivered at the close timeout, oversize, rejected) to this file, created private (0600), to send again later',
    )
    .addHelpText(
      'after',
      '\nExample:\n  tail -F app.log | loglake send --stream logs --endpoint http://127.0.0.1:4573\n\n' +
        'Ctrl-C (SIGINT) or SIGTERM stops reading and delivers every line read; a second one drops what is\n' +
        'still undelivered. The counts are printed on exit; the exit code is 1 if any line was dropped.\n' +
        'With --dropped-file f the dropped lines are kept in f, as read (unredacted): send them again with\n' +
        '`loglake send --stream logs < f` (a line whose call was cut off may then arrive twice).',
    )
    .action(async (raw: unknown) => {
      const flags = parseFlags(sendFlags, raw);
      if (flags.droppedFile !== undefined) refuseReadingOwnDrops(flags.droppedFile, 0, '--dropped-file');
      const stop = new AbortController();
      const abandon = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => {
        if (stop.signal.aborted) {
          processIO.stderr(`loglake send: ${signal} again, dropping what is undelivered\n`);
          abandon.abort();
          return;
        }
        processIO.stderr(`loglake send: ${signal}, no more input\n`);
        stop.abort();
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const c = await sendLines(process.stdin, flags, processIO, {
          stop: stop.signal,
          abandon: abandon.signal,
        });
        if (Object.values(c.dropped).some((n) => n > 0)) process.exitCode = 1;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        // stdin may still be open (the producer behind the pipe lives on); it must not keep us running.
        process.stdin.destroy();
      }
    });
}
