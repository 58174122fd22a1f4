/**
 * `loglake health`: the local lake's endpoint, spool backlog and its age, last delivery per stream, disk
 * usage of the data directory (warning at 80%, critical at 90%) and error-output growth. Exit 0 ok,
 * 1 warning, 2 critical, so a cron job or a container probe can act on it. With `--stack`, a deployed lake's
 * streams, data freshness, ProcessingFailed records and alarm states (src/ops/aws-health.ts).
 */
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { InputError } from '../../errors';
import type { StackHealthReport } from '../../ops/aws-health';
import type { HealthReport } from '../../ops/health';
import { cliEnv } from '../env';
import { parseFlags } from '../flags';
import { type CliIO, processIO } from '../io';
import { dataDirOf, intOption, oneLake } from '../options';
import { requireLocalLake } from '../target/local';

export const HEALTH_EXIT = { ok: 0, warning: 1, critical: 2 } as const;

export const healthFlags = z.strictObject({
  dataDir: z.string().optional(),
  port: z.number().int().optional(),
  host: z.string().optional(),
  format: z.enum(['table', 'json']).optional(),
  stack: z.string().optional(),
  region: z.string().optional(),
});
export type HealthFlags = z.output<typeof healthFlags>;

/** Checks the lake (local, or a deployed stack), prints the report, and sets the exit status from its worst check. */
export async function healthCommand(
  flags: HealthFlags,
  io: CliIO = processIO,
): Promise<HealthReport | StackHealthReport> {
  let report: HealthReport | StackHealthReport;
  if (flags.stack !== undefined) {
    oneLake(flags);
    report = await deployedHealth(flags.stack, flags.region ?? cliEnv.region);
  } else {
    const dataDir = dataDirOf(flags);
    requireLocalLake(dataDir);
    const [{ localHealth }, { DEFAULT_LOCAL_PORT }] = await Promise.all([
      import('../../ops/health'),
      import('./local'),
    ]);
    report = await localHealth(dataDir, {
      endpoint: { host: flags.host ?? '127.0.0.1', port: flags.port ?? DEFAULT_LOCAL_PORT },
    });
  }
  if (flags.format === 'json') io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  else {
    const width = Math.max(...report.checks.map((c) => c.name.length));
    for (const c of report.checks) io.stdout(`${c.status.padEnd(8)} ${c.name.padEnd(width)}  ${c.detail}\n`);
    io.stdout(`health: ${report.status}\n`);
  }
  process.exitCode = HEALTH_EXIT[report.status];
  return report;
}

async function deployedHealth(stack: string, region: string | undefined): Promise<StackHealthReport> {
  const [{ stackHealth }, aws, { FirehoseClient }, { CloudWatchClient }, { STREAMS }, { streamOutput }] =
    await Promise.all([
      import('../../ops/aws-health'),
      import('../aws'),
      import('@aws-sdk/client-firehose'),
      import('@aws-sdk/client-cloudwatch'),
      import('../../schema'),
      import('../../outputs'),
    ]);
  const outputs = await aws.stackOutputs(stack, region);
  const streams = Object.fromEntries(
    STREAMS.flatMap((s) => (outputs[streamOutput(s)] ? [[s, outputs[streamOutput(s)]]] : [])),
  );
  if (Object.keys(streams).length === 0) {
    throw new InputError(
      `--stack ${stack}: the stack has no delivery stream outputs; is it a loglake stack?`,
    );
  }
  const config = region ? { region } : {};
  const clients = {
    firehose: new FirehoseClient(config),
    cloudwatch: new CloudWatchClient(config),
    cloudformation: (await aws.stackEvidenceClients(region)).cloudformation,
  };
  try {
    return await stackHealth({ stack, streams, clients });
  } finally {
    clients.firehose.destroy();
    clients.cloudwatch.destroy();
  }
}

export function registerHealthCommand(program: Command): void {
  program
    .command('health')
    .description(
      'is the local lake healthy: endpoint, spool backlog, last deliveries, disk usage (80%/90%), error output',
    )
    .option('--data-dir <dir>', 'the local lake (default .loglake/data or LOGLAKE_DATA_DIR)')
    .option('--host <host>', 'host of the local endpoint', '127.0.0.1')
    .option(
      '--port <port>',
      'port of the local endpoint (default 4573, as `loglake local`)',
      intOption(1, 65_535),
    )
    .option(
      '--stack <name>',
      'a deployed stack: stream status, data freshness, ProcessingFailed, alarm states',
    )
    .option('--region <region>', 'AWS region of the stack (default AWS_REGION)')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .addHelpText(
      'after',
      '\nExit 0 ok, 1 warning, 2 critical (the worst check decides).\n\nExamples:\n  loglake health --data-dir /var/lib/loglake\n  loglake health --format json\n  loglake health --stack LogLake',
    )
    .action(async (flags: unknown) => {
      await healthCommand(parseFlags(healthFlags, flags));
    });
}
