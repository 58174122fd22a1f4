/** `loglake local`: the Firehose-compatible endpoint and delivery pipeline on this machine. */
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { alertSubject } from '../../alerts/alert';
import { startLocalAlerting } from '../../alerts/local';
import { configSchema, DEFAULT_CONFIG, type LogLakeConfig } from '../../config';
import { userMessage } from '../../errors';
import { pseudonymKey } from '../../local/datadir';
import { LocalPipeline } from '../../local/pipeline';
import { type Endpoint, startEndpoint } from '../../local/server';
import { localTransform } from '../../local/transform';
import { SubjectKeyring } from '../../privacy/keyring';
import { LOCAL_ERASURE_INTERVAL_MS, runLocalDueErasures } from '../../privacy/local-erasures';
import { LocalSubjectKeyStore } from '../../privacy/local-store';
import type { StreamName } from '../../schema';
import { localPrincipal } from '../access';
import { parseFlags } from '../flags';
import { type CliIO, processIO } from '../io';
import { dataDirOf, intOption, loadConfig } from '../options';
import type { RunningUi } from './ui';

/** Default port of the local endpoint. */
export const DEFAULT_LOCAL_PORT = 4573;

const processorBuffer = configSchema.shape.firehose.shape.processorBufferSizeMiB;

/**
 * `--buffer-mib`: what the config accepts for `firehose.processorBufferSizeMiB` (the Lambda processor
 * buffer the local pipeline stands in for), fractions included.
 */
export function bufferMibOption(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !processorBuffer.safeParse(n).success) {
    throw new InvalidArgumentError(
      `expected a number of MiB from ${processorBuffer.minValue} to ${processorBuffer.maxValue} (as firehose.processorBufferSizeMiB in the config), e.g. 0.5`,
    );
  }
  return n;
}

export const localFlags = z.strictObject({
  port: z.number().int().min(0).max(65_535).optional(),
  host: z.string().min(1).optional(),
  dataDir: z.string().optional(),
  flushSeconds: z.number().int().min(1).max(900).optional(),
  bufferMib: processorBuffer.optional(),
  config: z.string().optional(),
  pseudonymKeyFile: z.string().optional(),
  quiet: z.boolean().optional(),
  /** `--no-alerts`: do not evaluate the alert rules while running. @default true (evaluate) */
  alerts: z.boolean().optional(),
  /** `--no-ui`: do not serve the explorer. @default true (serve it on 127.0.0.1) */
  ui: z.boolean().optional(),
  /** `--ui-port`: the explorer's port. @default 4574, or a free one when that is taken */
  uiPort: z.number().int().min(0).max(65_535).optional(),
});
export type LocalFlags = z.output<typeof localFlags>;

export interface RunningLocal {
  readonly endpoint: Endpoint;
  readonly pipeline: LocalPipeline;
  readonly dataDir: string;
  readonly config: LogLakeConfig;
  /** Stop accepting, deliver everything held, release the data directory. */
  stop(): Promise<void>;
}

/** Start the pipeline and its endpoint (used by `loglake local` and the demo). */
export async function startLocal(flags: LocalFlags, io: CliIO = processIO): Promise<RunningLocal> {
  const config = loadConfig(flags.config);
  const dataDir = resolve(dataDirOf(flags));
  const key = pseudonymKey(dataDir, flags.pseudonymKeyFile);
  const keys = LocalSubjectKeyStore.forDataDir(dataDir);
  const keyring = new SubjectKeyring(key, keys);
  const pipeline = await LocalPipeline.open({
    dataDir,
    transform: localTransform(config, key, keyring),
    flushIntervalMs: (flags.flushSeconds ?? DEFAULT_FLUSH_SECONDS) * 1000,
    bufferBytes: Math.round((flags.bufferMib ?? config.firehose.processorBufferSizeMiB) * 1024 * 1024),
    compression: config.output.compression,
    onDelivery: flags.quiet
      ? undefined
      : (stream: StreamName, segment, r) =>
          io.stderr(
            `loglake local: delivered ${stream} ${segment}: ${r.events} events in ${r.files.length} file(s)` +
              `${r.processingFailed + r.conversionFailed > 0 ? `, ${r.processingFailed + r.conversionFailed} record(s) to errors/` : ''}` +
              `${r.dropped > 0 ? `, ${r.dropped} dropped by the transform` : ''}\n`,
          ),
  });
  let endpoint: Endpoint;
  try {
    endpoint = await startEndpoint({
      pipeline,
      host: flags.host,
      port: flags.port ?? DEFAULT_LOCAL_PORT,
      // Refuse (503) rather than acknowledge records whose user ids could not be pseudonymized.
      unavailable: () => keys.problem(),
    });
  } catch (error) {
    await pipeline.close();
    throw error;
  }
  const erasures = scheduleLocalErasures(dataDir, config, io);
  return {
    endpoint,
    pipeline,
    dataDir,
    config,
    stop: async () => {
      await erasures.stop();
      await endpoint.close();
      await pipeline.close();
    },
  };
}

/**
 * Carries out due scheduled erasures (`loglake subject erase --after`) now and once a minute while the
 * endpoint runs. A failure is reported and retried next time: the request stays pending, nothing is lost.
 */
function scheduleLocalErasures(dataDir: string, config: LogLakeConfig, io: CliIO) {
  const executor = localPrincipal();
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    running = running
      .then(() => runLocalDueErasures(dataDir, config, executor))
      .then(
        (done) => {
          for (const d of done)
            io.stderr(
              `loglake local: carried out the due erasure of subject ${d.request.subject.slice(0, 16)}\n`,
            );
        },
        (error: unknown) => {
          io.stderr(
            `loglake local: scheduled erasures not carried out yet (retried in a minute): ${(error as Error).message}\n`,
          );
        },
      );
  };
  tick();
  const timer = setInterval(tick, LOCAL_ERASURE_INTERVAL_MS);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}

/**
 * Local buffering interval. Firehose's own minimum with dynamic partitioning is 60 s; locally a few
 * seconds keeps the feedback loop short.
 */
export const DEFAULT_FLUSH_SECONDS = 5;

export function registerLocalCommand(program: Command): void {
  program
    .command('local')
    .description('run a Firehose-compatible endpoint and the delivery pipeline (transform → Parquet) locally')
    .option('--port <n>', `port on 127.0.0.1 (0 picks a free one)`, intOption(0, 65_535), DEFAULT_LOCAL_PORT)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--data-dir <dir>', 'lake and spool directory (default .loglake/data or LOGLAKE_DATA_DIR)')
    .option(
      '--flush-seconds <n>',
      'deliver buffers at least this often',
      intOption(1, 900),
      DEFAULT_FLUSH_SECONDS,
    )
    .option(
      '--buffer-mib <n>',
      `deliver a buffer once it holds this many MiB, ${processorBuffer.minValue}-${processorBuffer.maxValue} ` +
        `(default: the config's firehose.processorBufferSizeMiB, ${DEFAULT_CONFIG.firehose.processorBufferSizeMiB})`,
      bufferMibOption,
    )
    .option('--config <file.json>', 'config override (same model as the CDK app)')
    .option(
      '--pseudonym-key-file <file>',
      'HMAC key for user-id pseudonyms (default <data-dir>/.loglake/pseudonym.key, created on first run)',
    )
    .option('--quiet', 'do not print a line per delivery')
    .option(
      '--no-alerts',
      'do not evaluate the alert rules (by default: at start, then every alerts.scheduleMinutes; alerts go to stderr and <data-dir>/alerts.jsonl)',
    )
    .option(
      '--no-ui',
      'do not serve the explorer (by default it serves `loglake ui` over this lake on 127.0.0.1)',
    )
    .option(
      '--ui-port <n>',
      'port of the explorer on 127.0.0.1 (default 4574, or a free one when taken; 0 picks a free one)',
      intOption(0, 65_535),
    )
    .addHelpText(
      'after',
      [
        '',
        'Producers use the real AWS SDK with the endpoint set; region and credentials may be anything, e.g.',
        '  new FirehoseClient({ endpoint: "http://127.0.0.1:4573", region: "us-east-1",',
        '    credentials: { accessKeyId: "local", secretAccessKey: "local" } })',
        // AWS CLI v2 reads blobs as base64 unless told otherwise; v1 has no such flag (leave it out there).
        `  aws firehose put-record --endpoint-url http://127.0.0.1:4573 --region us-east-1 --no-sign-request --delivery-stream-name logs --cli-binary-format raw-in-base64-out --record '{"Data":"{\\"message\\":\\"hello\\"}\\n"}'`,
        '',
        'Records are fsync’d to the spool before they are acknowledged and replayed after a crash.',
        'SIGINT/SIGTERM deliver what is buffered, then exit.',
      ].join('\n'),
    )
    .action(async (raw: unknown) => {
      const flags = parseFlags(localFlags, raw);
      const local = await startLocal(flags);
      const host = flags.host ?? '127.0.0.1';
      if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
        processIO.stderr(
          `loglake local: warning: listening on ${host}; the endpoint checks no credentials, anyone who can reach it can write logs\n`,
        );
      }
      // The explorer over the same lake, on loopback whatever --host says (it reads every log).
      let ui: RunningUi | undefined;
      if (flags.ui !== false) {
        const { startUiBeside } = await import('./ui');
        try {
          ui = await startUiBeside({
            dataDir: local.dataDir,
            ...(flags.uiPort === undefined ? {} : { port: flags.uiPort }),
            ...(flags.config ? { config: flags.config } : {}),
            ...(flags.pseudonymKeyFile ? { pseudonymKeyFile: flags.pseudonymKeyFile } : {}),
          });
        } catch (error) {
          await local.stop();
          throw error;
        }
      }
      // The alert rules run beside the pipeline: once at start (what the lake already holds), then every
      // alerts.scheduleMinutes, over windows that end the pipeline's own delivery latency ago.
      const alerting =
        flags.alerts === false
          ? undefined
          : startLocalAlerting({
              dataDir: local.dataDir,
              config: local.config,
              flushIntervalMs: (flags.flushSeconds ?? DEFAULT_FLUSH_SECONDS) * 1000,
              print: (alert) => processIO.stderr(`loglake local: alert ${alertSubject(alert)}\n`),
              onError: (e) => processIO.stderr(`loglake local: alert evaluation failed: ${e.message}\n`),
              onDeliveryError: (e) =>
                processIO.stderr(`loglake local: alert delivery failed: ${e.message}\n`),
              onNote: (note) => processIO.stderr(`loglake local: ${note}\n`),
            });
      let stopping = false;
      const stopped = new Promise<void>((done) => {
        const stop = (signal: NodeJS.Signals) => {
          if (stopping) {
            // A second signal: leave now; the spool is replayed on the next start.
            processIO.stderr(
              `loglake local: ${signal} again, exiting without flushing (the spool is kept)\n`,
            );
            process.exit(1);
          }
          stopping = true;
          alerting?.stop();
          processIO.stderr(`loglake local: ${signal}, delivering what is buffered…\n`);
          (ui?.stop() ?? Promise.resolve())
            .then(() => local.stop())
            .then(() => {
              const s = local.pipeline.stats;
              processIO.stderr(
                `loglake local: stopped; ${s.recordsAccepted} records accepted, ${s.events} events delivered` +
                  `${s.recordsRejected > 0 ? `, ${s.recordsRejected} records refused (spool write failed, none kept)` : ''}` +
                  `${s.spoolFramesSkipped > 0 ? `, ${s.spoolFramesSkipped} damaged spool frame(s) skipped at start` : ''}\n`,
              );
              done();
            })
            .catch((error: unknown) => {
              processIO.stderr(`loglake local: shutdown failed: ${userMessage(error)}\n`);
              process.exitCode = 1;
              done();
            });
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      // The handlers are in place before anyone can learn the address: a signal right after the ready
      // line still shuts down cleanly.
      processIO.stdout(
        `loglake local ready: ${local.endpoint.url} (streams logs, audit) data dir ${local.dataDir}` +
          `${local.pipeline.stats.recoveredSegments > 0 ? ` (recovered ${local.pipeline.stats.recoveredSegments} spooled buffer(s))` : ''}\n`,
      );
      if (ui) {
        processIO.stdout(
          `loglake local: explorer at ${ui.url} (search, trace, dashboards, alerts; --no-ui to turn off)\n`,
        );
      }
      alerting
        ?.tick()
        .catch((e: unknown) =>
          processIO.stderr(
            `loglake local: alert evaluation failed: ${e instanceof Error ? e.message : String(e)}\n`,
          ),
        );
      await stopped;
    });
}
