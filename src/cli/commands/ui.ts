/** `loglake ui`: the explorer (search, trace, dashboards, alerts) over the local lake, in a browser. */
import type { Command } from 'commander';
import { z } from 'zod';
import { cliAccessScope, describeCliAccess } from '../access';
import { parseFlags } from '../flags';
import { type CliIO, processIO } from '../io';
import { dataDirOf, intOption, loadConfig } from '../options';
import { requireLocalLake } from '../target/local';

/** Default port of the explorer (the local Firehose endpoint is 4573). */
export const DEFAULT_UI_PORT = 4574;

export const uiFlags = z.strictObject({
  dataDir: z.string().optional(),
  host: z.string().min(1).optional(),
  port: z.number().int().min(0).max(65_535).optional(),
  config: z.string().optional(),
  pseudonymKeyFile: z.string().optional(),
});
export type UiFlags = z.output<typeof uiFlags>;

export interface RunningUi {
  readonly url: string;
  /** Stop serving and release the lake. */
  stop(): Promise<void>;
}

/** Open the lake and serve the explorer; resolves once it listens. */
export async function startUi(flags: UiFlags, io: CliIO = processIO): Promise<RunningUi> {
  const dataDir = dataDirOf(flags);
  requireLocalLake(dataDir);
  const config = loadConfig(flags.config);
  const [{ UiSource }, { startUiServer }] = await Promise.all([
    import('../../ui/source'),
    import('../../ui/server'),
  ]);
  const source = await UiSource.open({
    dataDir,
    config,
    ...(flags.pseudonymKeyFile ? { pseudonymKeyFile: flags.pseudonymKeyFile } : {}),
  });
  // Every query a page runs is an access event, as the CLI's are: command `ui`, the OS user locally;
  // a page's events go into the lake as one file.
  const scope = cliAccessScope('ui');
  describeCliAccess(scope, { config });
  try {
    const server = await startUiServer({
      source,
      access: {
        scope,
        write: async (lake, events) => {
          if (lake.engine !== 'duckdb') {
            for (const e of events) await scope.sinkFor(lake).record(e);
            return;
          }
          const { LocalAccessSink } = await import('../../audit/local-sink');
          await new LocalAccessSink(lake.dataDir, config).recordAll(events);
        },
      },
      port: flags.port ?? DEFAULT_UI_PORT,
      ...(flags.host ? { host: flags.host } : {}),
      onError: (error) =>
        io.stderr(`loglake ui: request failed: ${error instanceof Error ? error.message : String(error)}\n`),
    });
    return {
      url: server.url,
      stop: async () => {
        await server.close();
        source.close();
      },
    };
  } catch (error) {
    source.close();
    throw error;
  }
}

/** Serve until SIGINT/SIGTERM. */
export async function serveUntilSignal(ui: RunningUi): Promise<void> {
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await ui.stop();
}

export function registerUiCommand(program: Command, io: CliIO = processIO): void {
  program
    .command('ui')
    .description('the explorer in a browser: search, trace view, dashboards and alerts over the local lake')
    .option('--data-dir <dir>', 'local lake directory (default .loglake/data or LOGLAKE_DATA_DIR)')
    .option('--host <address>', 'address to listen on; anything but loopback exposes your logs', '127.0.0.1')
    .option('--port <n>', 'port (0 picks a free one)', intOption(0, 65_535), DEFAULT_UI_PORT)
    .option(
      '--pseudonym-key-file <file>',
      'local pseudonym key, for the user filter (default <data-dir>/.loglake/pseudonym.key)',
    )
    .option('--config <file.json>', 'config override (categories, time tolerance, alert rules)')
    .addHelpText(
      'after',
      '\nExamples:\n  loglake ui --data-dir .loglake/demo\n  loglake ui --port 0   # a free port, printed',
    )
    .action(async (raw: unknown) => {
      const flags = parseFlags(uiFlags, raw);
      const ui = await startUi(flags, io);
      if (flags.host && !['127.0.0.1', 'localhost', '::1'].includes(flags.host)) {
        io.stderr(`loglake ui: listening on ${flags.host}: anyone who can reach it can read these logs\n`);
      }
      io.stdout(`loglake ui: explorer at ${ui.url} (Ctrl-C to stop)\n`);
      await serveUntilSignal(ui);
    });
}
