/** `loglake alerts evaluate`: the alert rules over the local lake, as the alarm Lambda runs them on Athena. */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { z } from 'zod';
import type { Alert } from '../../alerts/alert';
import type { LogLakeConfig } from '../../config';
import { InputError } from '../../errors';
import { parseTime } from '../../time';
import { cliEnv } from '../env';
import { parseFlags } from '../flags';
import { alertsTable } from '../format';
import { type CliIO, processIO } from '../io';
import { DEFAULT_DATA_DIR, loadConfig } from '../options';
import { requireLocalLake } from '../target/local';

/** {@link LOCAL_DELIVERY_MARGIN_MS} of `src/alerts/local`, for the help text (that module loads lazily). */
const LOCAL_DELIVERY_MARGIN_S = 2;

export const ALERT_FORMATS = ['table', 'json'] as const;
export type AlertFormat = (typeof ALERT_FORMATS)[number];

export const alertsEvaluateFlags = z.strictObject({
  dataDir: z.string(),
  at: z.string().optional(),
  delay: z.number().int().min(0).optional(),
  flushSeconds: z.number().int().min(1).optional(),
  rule: z.array(z.string()).optional(),
  format: z.enum(ALERT_FORMATS).optional(),
  config: z.string().optional(),
});
export type AlertsEvaluateFlags = z.output<typeof alertsEvaluateFlags>;

/**
 * Runs the evaluation and renders it.
 * @param width - terminal width the table fits into. @default no fitting
 * @throws InputError when the lake does not exist or a `--rule` is not an enabled rule (exit 2).
 */
export async function alertsEvaluate(
  flags: AlertsEvaluateFlags,
  config: LogLakeConfig,
  now = new Date(),
  width?: number,
): Promise<{ alerts: Alert[]; output: string }> {
  const at = flags.at ? parseTime(flags.at, '--at', now) : now;
  if (flags.rule?.length) {
    const { enabledRules } = await import('../../alerts/config');
    const enabled = enabledRules(config.alerts).map((r) => r.name);
    const unknown = flags.rule.filter((r) => !enabled.includes(r));
    if (unknown.length > 0) {
      throw new InputError(
        `--rule: ${unknown.map((r) => JSON.stringify(r)).join(', ')} ${unknown.length === 1 ? 'is not an enabled rule' : 'are not enabled rules'}; enabled: ${enabled.join(', ') || 'none'}`,
      );
    }
  }
  requireLocalLake(flags.dataDir);
  const { evaluateLocalLake } = await import('../../alerts/local');
  const { DEFAULT_FLUSH_SECONDS } = await import('./local');
  const alerts = await evaluateLocalLake({
    dataDir: flags.dataDir,
    config,
    at,
    // The local pipeline delivers within its flush interval: windows end that long before --at, so
    // what it delivered a moment ago counts. --delay asks for the AWS-like delay instead.
    ...(flags.delay !== undefined
      ? { delayMinutes: flags.delay }
      : { flushIntervalMs: (flags.flushSeconds ?? DEFAULT_FLUSH_SECONDS) * 1000 }),
    ...(flags.rule?.length ? { rules: flags.rule } : {}),
  });
  const output =
    flags.format === 'json' ? `${JSON.stringify(alerts, null, 2)}\n` : alertsTable(alerts, { width });
  return { alerts, output };
}

const minutes = (value: string): number => {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 60)
    throw new InvalidArgumentError('expected whole minutes from 0 to 60');
  return n;
};

/** Adds `alerts evaluate` to the CLI. */
export function registerAlertsCommand(program: Command, io: CliIO = processIO): Command {
  const alerts = program.command('alerts').description('alert rules over the lake');
  alerts
    .command('evaluate')
    .description(
      'evaluate the alert rules over the local lake and print what is firing (exit 0 whether or not something fires; 2 when the lake or a --rule does not exist; --format json for scripts)',
    )
    .option('--data-dir <dir>', 'local lake directory', cliEnv.dataDir ?? DEFAULT_DATA_DIR)
    .option(
      '--at <time>',
      'evaluation time: ISO-8601, epoch ms, now, or relative (15m = 15 minutes ago)',
      'now',
    )
    .option(
      '--delay <minutes>',
      "minutes between the window end and --at, as the alarm Lambda waits for Firehose (default: the local pipeline's flush interval, see --flush-seconds)",
      minutes,
    )
    .option(
      '--flush-seconds <n>',
      `the local pipeline's flush interval (loglake local --flush-seconds; default 5): windows end that long, plus ${LOCAL_DELIVERY_MARGIN_S} s, before --at`,
      (v: string) => {
        const n = Number(v);
        if (!/^\d+$/.test(v.trim()) || n < 1)
          throw new InvalidArgumentError('expected whole seconds, at least 1');
        return n;
      },
    )
    .option('--rule <name...>', 'only these rules')
    .option('--config <file>', 'config override (JSON), as for the CDK app')
    .addOption(new Option('--format <format>', 'output format').choices(ALERT_FORMATS).default('table'))
    .action(async (raw: unknown) => {
      const flags = parseFlags(alertsEvaluateFlags, raw);
      const { output } = await alertsEvaluate(flags, loadConfig(flags.config), new Date(), io.columns);
      io.stdout(output);
    });
  return alerts;
}

/**
 * The demo's alerts hook: after the sample traffic is delivered, evaluate the rules over it and print
 * what fires, the minute in progress included.
 */
export async function showDemoAlerts(
  dataDir: string,
  config: LogLakeConfig,
  write: (text: string) => void,
  now = new Date(),
  width?: number,
): Promise<Alert[]> {
  const { evaluateLocalLakeNow } = await import('../../alerts/local');
  const alerts = await evaluateLocalLakeNow(dataDir, config, now);
  write(`\nAlerts (loglake alerts evaluate --data-dir ${dataDir}):\n\n${alertsTable(alerts, { width })}`);
  return alerts;
}
