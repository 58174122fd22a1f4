/** `loglake alerts evaluate`: the alert rules over the local lake, as the alarm Lambda runs them on Athena. */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type Alert, alertSubject, formatValue } from '../alerts/alert';
import { evaluateLocalLake } from '../alerts/local';
import type { LogLakeConfig } from '../config';
import { resolveConfig } from '../config';
import { parseTime } from '../time';

export const ALERT_FORMATS = ['table', 'json'] as const;
export type AlertFormat = (typeof ALERT_FORMATS)[number];

export interface AlertsEvaluateFlags {
  readonly dataDir: string;
  readonly at?: string;
  readonly delay?: number;
  readonly rule?: string[];
  readonly format?: AlertFormat;
}

/** One block per alert: the subject line, the window and the command that shows the events. */
export function alertsTable(alerts: readonly Alert[]): string {
  if (alerts.length === 0) return 'no alerts firing\n';
  return `${alerts
    .map((a) =>
      [
        alertSubject(a),
        `  ${a.description}`,
        `  value ${formatValue(a.value, a.unit)} > threshold ${formatValue(a.threshold, a.unit)}, window ${a.window.start} to ${a.window.end}`,
        ...(a.samples.length > 0 ? [`  samples: ${a.samples.join(' ')}`] : []),
        ...(a.search ? [`  ${a.search}`] : []),
      ].join('\n'),
    )
    .join('\n\n')}\n`;
}

/** Runs the evaluation and renders it. */
export async function alertsEvaluate(
  flags: AlertsEvaluateFlags,
  config: LogLakeConfig,
  now = new Date(),
): Promise<{ alerts: Alert[]; output: string }> {
  const alerts = await evaluateLocalLake({
    dataDir: flags.dataDir,
    config,
    at: flags.at ? parseTime(flags.at, '--at', now) : now,
    ...(flags.delay !== undefined ? { delayMinutes: flags.delay } : {}),
    ...(flags.rule?.length ? { rules: flags.rule } : {}),
  });
  const output = flags.format === 'json' ? `${JSON.stringify(alerts, null, 2)}\n` : alertsTable(alerts);
  return { alerts, output };
}

const minutes = (value: string): number => {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 60)
    throw new InvalidArgumentError('expected whole minutes from 0 to 60');
  return n;
};

/**
 * Adds `alerts evaluate` to the CLI. `loadConfig` reads `--config` (the same override file as the other
 * commands); `write` prints.
 */
export function addAlertsCommand(
  program: Command,
  options: {
    readonly defaultDataDir: string;
    readonly loadConfig?: (file: string | undefined) => LogLakeConfig;
    readonly write?: (text: string) => void;
  },
): Command {
  const alerts = program.command('alerts').description('alert rules over the lake');
  alerts
    .command('evaluate')
    .description(
      'evaluate the alert rules over the local lake and print what is firing (exit 0 either way; see --format json for scripts)',
    )
    .option('--data-dir <dir>', 'local lake directory', options.defaultDataDir)
    .option(
      '--at <time>',
      'evaluation time: ISO-8601, epoch ms, now, or relative (15m = 15 minutes ago)',
      'now',
    )
    .option(
      '--delay <minutes>',
      'minutes between the window end and --at (default: alerts.delayMinutes)',
      minutes,
    )
    .option('--rule <name...>', 'only these rules')
    .option('--config <file>', 'config override (JSON), as for the CDK app')
    .addOption(new Option('--format <format>', 'output format').choices(ALERT_FORMATS).default('table'))
    .action(async (flags: AlertsEvaluateFlags & { config?: string }) => {
      const config = options.loadConfig ? options.loadConfig(flags.config) : resolveConfig({});
      const { output } = await alertsEvaluate(flags, config);
      (options.write ?? ((t: string) => process.stdout.write(t)))(output);
    });
  return alerts;
}

/**
 * The demo's alerts hook: after the sample traffic is delivered, evaluate the rules over it and print
 * what fires. The window is made to include the minute in progress (no Firehose delay locally).
 */
export async function showDemoAlerts(
  dataDir: string,
  config: LogLakeConfig,
  write: (text: string) => void,
  now = new Date(),
): Promise<Alert[]> {
  const alerts = await evaluateLocalLake({
    dataDir,
    config,
    at: new Date(now.getTime() + 60_000),
    delayMinutes: 0,
  });
  write(`\nAlerts (loglake alerts evaluate --data-dir ${dataDir}):\n\n${alertsTable(alerts)}`);
  return alerts;
}
