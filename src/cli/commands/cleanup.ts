/**
 * `loglake cleanup [--dry-run]`: each category's expiry enforced on the local lake (S3 lifecycle does it
 * on AWS). Lists what expired (and, with `--dry-run`, only lists it), then the next object to expire.
 * `--dry-run --stack` shows a deployed stack's lifecycle rules and what they expire (src/compliance/aws-cleanup.ts).
 */
import { type Command, Option } from 'commander';
import { z } from 'zod';
import type { StackCleanupPlan } from '../../compliance/aws-cleanup';
import type { CleanupPlan } from '../../compliance/cleanup';
import type { LogLakeConfig } from '../../config';
import { InputError } from '../../errors';
import { cliEnv } from '../env';
import { parseFlags } from '../flags';
import { formatBytes } from '../format';
import { type CliIO, processIO } from '../io';
import { dataDirOf, loadConfig, oneLake } from '../options';
import { requireLocalLake } from '../target/local';

export const cleanupFlags = z.strictObject({
  dataDir: z.string().optional(),
  config: z.string().optional(),
  dryRun: z.boolean().optional(),
  format: z.enum(['table', 'json']).optional(),
  stack: z.string().optional(),
  region: z.string().optional(),
});
export type CleanupFlags = z.output<typeof cleanupFlags>;

/** Runs (or plans) the cleanup and prints what it did; resolves with the plan. */
export async function cleanupCommand(
  flags: CleanupFlags,
  io: CliIO = processIO,
  now = new Date(),
): Promise<CleanupPlan | StackCleanupPlan> {
  const config = loadConfig(flags.config);
  if (flags.stack !== undefined) return stackCleanup(flags, flags.stack, config, io, now);
  const dataDir = dataDirOf(flags);
  requireLocalLake(dataDir);
  const { planCleanup, runCleanup } = await import('../../compliance/cleanup');
  const plan = flags.dryRun ? planCleanup(dataDir, config, now) : runCleanup(dataDir, config, now);
  if (flags.format === 'json') {
    io.stdout(`${JSON.stringify({ dryRun: Boolean(flags.dryRun), ...plan }, null, 2)}\n`);
    return plan;
  }
  const verb = flags.dryRun ? 'would delete' : 'deleted';
  const bytes = plan.expired.reduce((n, o) => n + o.bytes, 0);
  const partitions = new Set(plan.expired.map((o) => o.partition));
  for (const o of plan.expired) io.stdout(`${verb} ${o.key} (${o.category}, expired ${o.expiredAt})\n`);
  io.stderr(
    `cleanup: ${verb} ${plan.expired.length} object(s), ${formatBytes(bytes)}, in ${partitions.size} partition(s)${
      plan.next ? `; next to expire: ${plan.next.key} at ${plan.next.expiresAt}` : ''
    }\n`,
  );
  if (plan.unknown.length > 0) {
    io.stderr(
      `cleanup: left ${plan.unknown.length} object(s) outside the lake's layout: ${plan.unknown.join(', ')}\n`,
    );
  }
  return plan;
}

/** `--dry-run --stack`: the lifecycle rules in force, what is past its expiry, what they expire next. */
async function stackCleanup(
  flags: CleanupFlags,
  stack: string,
  config: LogLakeConfig,
  io: CliIO,
  now: Date,
): Promise<StackCleanupPlan> {
  if (!flags.dryRun) {
    throw new InputError(
      '--stack: S3 lifecycle rules expire the objects on AWS; `cleanup --stack` only shows them: add --dry-run',
    );
  }
  oneLake(flags);
  const region = flags.region ?? cliEnv.region;
  const [{ planStackCleanup }, { deployedLake }, aws] = await Promise.all([
    import('../../compliance/aws-cleanup'),
    import('../../compliance/aws'),
    import('../aws'),
  ]);
  const lake = deployedLake(stack, region, await aws.stackOutputs(stack, region));
  const plan = await planStackCleanup((await aws.stackEvidenceClients(region)).s3, lake, config, now);
  if (flags.format === 'json') {
    io.stdout(`${JSON.stringify({ dryRun: true, ...plan }, null, 2)}\n`);
    return plan;
  }
  for (const r of plan.rules) {
    io.stdout(
      `rule ${r.bucket} ${r.id} (${r.status}) ${r.prefix || '(whole bucket)'}: ${
        r.expirationDays !== null ? `expire after ${r.expirationDays} d` : 'no expiry'
      }${r.transitions ? `; ${r.transitions}` : ''}${
        r.noncurrentVersionDays !== null ? `; old versions after ${r.noncurrentVersionDays} d` : ''
      }\n`,
    );
  }
  for (const o of plan.expired) {
    io.stdout(`past expiry ${o.key} (${o.category}, expired ${o.expiredAt}; lifecycle removes it)\n`);
  }
  for (const n of plan.next) io.stdout(`next ${n.category}: ${n.key} at ${n.expiresAt}\n`);
  const bytes = plan.expired.reduce((n, o) => n + o.bytes, 0);
  io.stderr(
    `cleanup: ${plan.expired.length} object(s), ${formatBytes(bytes)}, past their expiry in stack ${stack}; S3 lifecycle deletes them (nothing deleted here)${
      plan.withoutRule.length > 0 ? `; no expiry rule for ${plan.withoutRule.join(', ')}` : ''
    }\n`,
  );
  return plan;
}

export function registerCleanupCommand(program: Command): void {
  program
    .command('cleanup')
    .description(
      "delete the local lake's objects past their category's expiry (recorded in the integrity log first)",
    )
    .option('--data-dir <dir>', 'the local lake (default .loglake/data or LOGLAKE_DATA_DIR)')
    .option('--config <file.json>', 'config override (the categories’ expiryDays, errorOutput.expiryDays)')
    .option('--dry-run', 'list what would be deleted, delete nothing')
    .option(
      '--stack <name>',
      'with --dry-run: the lifecycle rules of a deployed stack, what is past expiry, what expires next',
    )
    .option('--region <region>', 'AWS region of the stack (default AWS_REGION)')
    .addOption(
      new Option('--format <format>', 'one line per object (table) or json')
        .choices(['table', 'json'])
        .default('table'),
    )
    .addHelpText(
      'after',
      '\nOn AWS, S3 lifecycle rules expire the objects: `--dry-run --stack <name>` shows them.\n' +
        '\nExamples:\n  loglake cleanup --dry-run\n  loglake cleanup --data-dir /var/lib/loglake --format json\n  loglake cleanup --dry-run --stack LogLake',
    )
    .action(async (flags: unknown) => {
      await cleanupCommand(parseFlags(cleanupFlags, flags));
    });
}
