/**
 * `loglake compliance-report`: the evidence of issue 14 over the local lake, as Markdown, JSON (schema
 * `loglake.compliance-report/v1`, see the README) or HTML. Exit 0 when nothing breaks the policy, 3 when
 * a finding does (secrets found, retention shorter than policy, access auditing off, a tampered object),
 * so a scheduled job can act on it; 1 and 2 keep their meaning (failure, usage).
 */
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { InputError } from '../../errors';
import { parseTime } from '../../time';
import { parseFlags } from '../flags';
import { type CliIO, processIO } from '../io';
import { dataDirOf, loadConfig } from '../options';
import { openOutput, STDOUT_PATH } from '../output';
import { requireLocalLake } from '../target/local';

/** Exit status of a report with findings that break the policy. */
export const EXIT_FINDINGS = 3;

const STANDARD_CHOICES = ['iso27001', 'soc2', 'gdpr', 'all'] as const;

export const reportFlags = z.strictObject({
  standard: z.enum(STANDARD_CHOICES).optional(),
  since: z.string().optional(),
  until: z.string().optional(),
  format: z.enum(['md', 'json', 'html']).optional(),
  output: z.string().optional(),
  dataDir: z.string().optional(),
  config: z.string().optional(),
  stack: z.string().optional(),
});
export type ReportFlags = z.output<typeof reportFlags>;

export async function complianceReportCommand(flags: ReportFlags, io: CliIO = processIO, now = new Date()) {
  if (flags.stack !== undefined) {
    throw new InputError(
      '--stack: the report over a deployed stack is not built yet; run it over the local lake (--data-dir)',
    );
  }
  const config = loadConfig(flags.config);
  const since = parseTime(flags.since ?? '30d', '--since', now);
  const until = flags.until ? parseTime(flags.until, '--until', now) : now;
  if (until <= since) throw new InputError('--until must be after --since');
  const dataDir = dataDirOf(flags);
  requireLocalLake(dataDir);
  const standard = flags.standard ?? 'all';
  const [{ localComplianceReport, STANDARDS }, { reportHtml, reportMarkdown }] = await Promise.all([
    import('../../compliance/report'),
    import('../../compliance/render'),
  ]);
  const output = await openOutput(flags.output ?? STDOUT_PATH, io);
  try {
    const report = await localComplianceReport({
      dataDir,
      config,
      since,
      until,
      standards: standard === 'all' ? STANDARDS : [standard],
      now,
    });
    const format = flags.format ?? 'md';
    await output.write(
      format === 'json'
        ? `${JSON.stringify(report, null, 2)}\n`
        : format === 'html'
          ? reportHtml(report)
          : reportMarkdown(report),
    );
    await output.commit();
    io.stderr(
      `compliance-report: ${report.status}, ${report.findings.length} finding(s) breaking the policy${
        output.name === 'stdout' ? '' : `; written to ${output.name}`
      }\n`,
    );
    if (report.status === 'fail') process.exitCode = EXIT_FINDINGS;
    return report;
  } catch (error) {
    output.abort();
    throw error;
  }
}

export function registerComplianceReportCommand(program: Command): void {
  program
    .command('compliance-report')
    .description('evidence for ISO 27001, SOC 2 and GDPR from the lake itself; exit 3 on a policy finding')
    .addOption(
      new Option('--standard <standard>', 'controls to cite').choices(STANDARD_CHOICES).default('all'),
    )
    .option('--since <time>', 'start of the period: ISO-8601 or relative (30d)', '30d')
    .option('--until <time>', 'end of the period (default now)')
    .addOption(new Option('--format <format>', 'output format').choices(['md', 'json', 'html']).default('md'))
    .option('--output <file>', 'write to this file (complete or not at all); - for stdout', STDOUT_PATH)
    .option('--data-dir <dir>', 'the local lake (default .loglake/data or LOGLAKE_DATA_DIR)')
    .option('--config <file.json>', 'the configuration in force (checked against the default policy)')
    .option('--stack <name>', 'a deployed stack (not built yet: refused with a message)')
    .addHelpText(
      'after',
      '\nExit 0: nothing breaks the policy; 3: findings (secrets found, retention shorter than policy,\n' +
        'access auditing off, a tampered or missing object); 1: the report could not be made.\n' +
        '\nExamples:\n  loglake compliance-report --since 30d --format html --output report.html\n  loglake compliance-report --standard gdpr --format json',
    )
    .action(async (flags: unknown) => {
      await complianceReportCommand(parseFlags(reportFlags, flags));
    });
}
