/** `loglake ui`: the explorer (search, trace, dashboards, alerts) over the local lake, in a browser. */
import type { AthenaClient } from '@aws-sdk/client-athena';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { PERSONAS } from '../../schema';
import { cliAccessScope, describeCliAccess } from '../access';
import { cliEnv } from '../env';
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
  stack: z.string().optional(),
  persona: z.enum(PERSONAS).optional(),
  region: z.string().optional(),
  workgroup: z.string().optional(),
  database: z.string().optional(),
  logsTable: z.string().optional(),
  auditTable: z.string().optional(),
  pseudonymSecret: z.string().optional(),
  auditStream: z.string().optional(),
});
export type UiFlags = z.output<typeof uiFlags>;

export interface RunningUi {
  readonly url: string;
  /** Stop serving and release the lake. */
  stop(): Promise<void>;
}

/** Over Athena when a stack or workgroup is named (flags or LOGLAKE_STACK), else the local lake. */
export function uiOnAthena(flags: UiFlags): boolean {
  return Boolean(flags.stack ?? flags.workgroup ?? cliEnv.stack);
}

/** Open the lake and serve the explorer; resolves once it listens. */
export async function startUi(
  flags: UiFlags,
  io: CliIO = processIO,
  /** The Athena client (tests pass a mocked one). @default the CLI's */
  athena?: AthenaClient,
): Promise<RunningUi> {
  const config = loadConfig(flags.config);
  const [{ UiSource }, { startUiServer }] = await Promise.all([
    import('../../ui/source'),
    import('../../ui/server'),
  ]);
  // Every query a page runs is an access event, as the CLI's are: command `ui`, the OS user locally
  // (the IAM principal on AWS, the event on the audit stream); a page's local events go in one file.
  const scope = cliAccessScope('ui');
  describeCliAccess(scope, { config });
  let source: Awaited<ReturnType<typeof UiSource.open>>;
  if (uiOnAthena(flags)) {
    const { athenaClient, resolveAthenaTarget } = await import('../aws');
    const target = await resolveAthenaTarget(flags);
    if (flags.persona) scope.persona = flags.persona;
    describeCliAccess(scope, { audit: target });
    source = await UiSource.athena({
      client: athena ?? athenaClient(target.region),
      target,
      config,
      ...(flags.persona ? { persona: flags.persona } : {}),
    });
  } else {
    const dataDir = dataDirOf(flags);
    requireLocalLake(dataDir);
    source = await UiSource.open({
      dataDir,
      config,
      ...(flags.pseudonymKeyFile ? { pseudonymKeyFile: flags.pseudonymKeyFile } : {}),
    });
  }
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

/**
 * The explorer for a command that serves it beside something else (`loglake local`, `npm start`): on
 * the default port, or on a free one when that is taken (another explorer is running) and no port was
 * asked for; a port asked for that is taken is an error.
 */
export async function startUiBeside(
  flags: UiFlags,
  io: CliIO = processIO,
  portAskedFor = flags.port !== undefined,
): Promise<RunningUi> {
  const port = flags.port ?? DEFAULT_UI_PORT;
  return startUi({ ...flags, port }, io).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EADDRINUSE' || portAskedFor) throw error;
    return startUi({ ...flags, port: 0 }, io);
  });
}

/**
 * Serve until SIGINT/SIGTERM. `announce` (printing the address) runs once the handlers are in place, so
 * a Ctrl-C right after the address is shown still stops the explorer cleanly.
 */
export async function serveUntilSignal(ui: RunningUi, announce?: () => void): Promise<void> {
  const signalled = new Promise<void>((resolve) => {
    const stop = () => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  announce?.();
  await signalled;
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
    .option(
      '--stack <name>',
      'explore the deployment over Athena: workgroup, database and tables from this stack',
    )
    .addOption(
      new Option('--persona <name>', 'query as this persona (its workgroup and categories)').choices(
        PERSONAS,
      ),
    )
    .option('--region <region>', 'AWS region (Athena)')
    .option('--workgroup <name>', 'Athena workgroup (instead of the stack’s)')
    .option('--database <name>', 'Glue database (instead of the stack’s)')
    .option('--logs-table <name>', 'Athena table of the logs stream')
    .option('--audit-table <name>', 'Athena table of the audit stream')
    .option('--pseudonym-secret <arn>', 'secret holding the pseudonym key, for the user filter on Athena')
    .option(
      '--audit-stream <name>',
      'Firehose stream receiving the access events of Athena queries when the stack has no access recorder',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  loglake ui --data-dir .loglake/demo\n  loglake ui --port 0   # a free port, printed\n  loglake ui --stack LogLake --persona developer   # over Athena: bytes scanned and cost per panel',
    )
    .action(async (raw: unknown) => {
      const flags = parseFlags(uiFlags, raw);
      const ui = await startUi(flags, io);
      if (flags.host && !['127.0.0.1', 'localhost', '::1'].includes(flags.host)) {
        io.stderr(`loglake ui: listening on ${flags.host}: anyone who can reach it can read these logs\n`);
      }
      await serveUntilSignal(ui, () => io.stdout(`loglake ui: explorer at ${ui.url} (Ctrl-C to stop)\n`));
    });
}
