/**
 * `loglake compliance-report`: the evidence of issue 14 over the local lake or a deployed stack (`--stack`,
 * src/compliance/aws.ts), as Markdown, JSON (schema
 * `loglake.compliance-report/v1`, see the README) or HTML. Exit 0 when nothing breaks the policy, 3 when
 * a finding does (secrets found, retention shorter than policy, access auditing off, a tampered object),
 * so a scheduled job can act on it; 1 and 2 keep their meaning (failure, usage).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { currentAccessScope } from '../../audit/access';
import type { ComplianceReport } from '../../compliance/report';
import { type ChainAnchor, parseChainAnchor } from '../../compliance/verify';
import { InputError } from '../../errors';
import { parseTime } from '../../time';
import { describeCliAccess } from '../access';
import { cliEnv } from '../env';
import { parseFlags } from '../flags';
import { type CliIO, processIO } from '../io';
import { dataDirOf, loadConfig, oneLake } from '../options';
import { openOutput, STDOUT_PATH } from '../output';
import { requireLocalLake } from '../target/local';

/** Exit status of a report with findings that break the policy. */
export const EXIT_FINDINGS = 3;

const STANDARD_CHOICES = ['iso27001', 'iso42001', 'soc2', 'gdpr', 'all'] as const;

export const reportFlags = z.strictObject({
  standard: z.enum(STANDARD_CHOICES).optional(),
  since: z.string().optional(),
  until: z.string().optional(),
  format: z.enum(['md', 'json', 'html']).optional(),
  output: z.string().optional(),
  dataDir: z.string().optional(),
  config: z.string().optional(),
  stack: z.string().optional(),
  region: z.string().optional(),
  anchor: z.string().optional(),
});
export type ReportFlags = z.output<typeof reportFlags>;

const ANCHOR_FORM = '<seq>:<64 hex digits>, as a report printed it ("next anchor: …")';

/**
 * `--anchor`: the chain head itself, or a file holding it (alone, or as `anchor` of a JSON report).
 * @throws InputError naming what was received when it is neither.
 */
export function readAnchor(value: string): ChainAnchor {
  const direct = parseChainAnchor(value);
  if (direct) return direct;
  if (!existsSync(value)) {
    throw new InputError(
      `--anchor: expected ${ANCHOR_FORM} or a file holding it; received ${JSON.stringify(value.slice(0, 80))}, which is neither`,
    );
  }
  if (!statSync(value).isFile()) throw new InputError(`--anchor: ${value} is not a file`);
  const text = readFileSync(value, 'utf8');
  let fromReport: unknown;
  try {
    fromReport = (JSON.parse(text) as { anchor?: unknown } | null)?.anchor;
  } catch {
    // Not JSON: the file holds the anchor alone.
  }
  const found = parseChainAnchor(typeof fromReport === 'string' ? fromReport : text);
  if (!found) {
    throw new InputError(
      `--anchor: ${value} holds neither ${ANCHOR_FORM} nor a JSON report with an "anchor"; it starts with ${JSON.stringify(text.trim().slice(0, 40))}`,
    );
  }
  return found;
}

export async function complianceReportCommand(flags: ReportFlags, io: CliIO = processIO, now = new Date()) {
  const config = loadConfig(flags.config);
  const since = parseTime(flags.since ?? '30d', '--since', now);
  const until = flags.until ? parseTime(flags.until, '--until', now) : now;
  if (until <= since) throw new InputError('--until must be after --since');
  oneLake(flags);
  if (flags.anchor !== undefined && flags.stack !== undefined) {
    throw new InputError(
      "--anchor checks the local lake's integrity log; a deployed stack has none (the report reads S3 versions, checksums and Object Lock instead)",
    );
  }
  const anchor = flags.anchor === undefined ? undefined : readAnchor(flags.anchor);
  const standard = flags.standard ?? 'all';
  const [{ localComplianceReport, STANDARDS }, { reportHtml, reportMarkdown }] = await Promise.all([
    import('../../compliance/report'),
    import('../../compliance/render'),
  ]);
  const common = { config, since, until, standards: standard === 'all' ? STANDARDS : [standard], now };
  let make: () => Promise<ComplianceReport>;
  if (flags.stack !== undefined) {
    const stack = flags.stack;
    const region = flags.region ?? cliEnv.region;
    const [{ stackComplianceReport, deployedLake }, aws] = await Promise.all([
      import('../../compliance/aws'),
      import('../aws'),
    ]);
    const outputs = await aws.stackOutputs(stack, region);
    const lake = deployedLake(stack, region, outputs);
    // The report's Athena reads are access events like any query's, sent to the stack's access recorder.
    describeCliAccess(currentAccessScope(), {
      config,
      persona: 'security',
      audit: {
        region,
        accessRecorderUrl: outputs[aws.STACK_OUTPUTS.accessRecorderUrl],
        auditStream: outputs[aws.STACK_OUTPUTS.auditStream],
      },
    });
    const clients = await aws.stackEvidenceClients(region);
    make = () => stackComplianceReport({ ...common, lake, clients });
  } else {
    const dataDir = dataDirOf(flags);
    requireLocalLake(dataDir);
    make = () => localComplianceReport({ ...common, dataDir, ...(anchor ? { anchor } : {}) });
  }
  const output = await openOutput(flags.output ?? STDOUT_PATH, io);
  try {
    const report = await make();
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
    if (report.anchor) {
      io.stderr(
        `compliance-report: integrity log head ${report.anchor}: keep it outside the lake, and pass it as --anchor to the next report\n`,
      );
    }
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
    .option('--stack <name>', 'a deployed stack: evidence read back with the AWS SDK and Athena')
    .option('--region <region>', 'AWS region of the stack (default AWS_REGION)')
    .option(
      '--anchor <value|file>',
      "an earlier report's integrity log head (<seq>:<hash>, or a file or JSON report holding it): a log rewritten before it is a finding",
    )
    .addHelpText(
      'after',
      '\nExit 0: nothing breaks the policy; 3: findings (secrets found, retention shorter than policy,\n' +
        'access auditing off, a tampered or missing object); 1: the report could not be made.\n' +
        '\nExamples:\n  loglake compliance-report --since 30d --format html --output report.html\n  loglake compliance-report --standard gdpr --format json\n  loglake compliance-report --anchor 41:2d1b5b20…  (the head the last report printed)\n  loglake compliance-report --stack LogLake --since 30d --format json --output evidence.json',
    )
    .action(async (flags: unknown) => {
      await complianceReportCommand(parseFlags(reportFlags, flags));
    });
}
