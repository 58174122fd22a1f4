/**
 * `loglake cleanup [--dry-run]`: each category's expiry enforced on the local lake (S3 lifecycle does it
 * on AWS). Lists what expired (and, with `--dry-run`, only lists it), then the next object to expire.
 */
import { type Command, Option } from 'commander';
import { z } from 'zod';
import type { CleanupPlan } from '../../compliance/cleanup';
import { parseFlags } from '../flags';
import { formatBytes } from '../format';
import { type CliIO, processIO } from '../io';
import { dataDirOf, loadConfig } from '../options';
import { requireLocalLake } from '../target/local';

export const cleanupFlags = z.strictObject({
  dataDir: z.string().optional(),
  config: z.string().optional(),
  dryRun: z.boolean().optional(),
  format: z.enum(['table', 'json']).optional(),
});
export type CleanupFlags = z.output<typeof cleanupFlags>;

/** Runs (or plans) the cleanup and prints what it did; resolves with the plan. */
export async function cleanupCommand(
  flags: CleanupFlags,
  io: CliIO = processIO,
  now = new Date(),
): Promise<CleanupPlan> {
  const config = loadConfig(flags.config);
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

export function registerCleanupCommand(program: Command): void {
  program
    .command('cleanup')
    .description(
      "delete the local lake's objects past their category's expiry (recorded in the integrity log first)",
    )
    .option('--data-dir <dir>', 'the local lake (default .loglake/data or LOGLAKE_DATA_DIR)')
    .option('--config <file.json>', 'config override (the categories’ expiryDays, errorOutput.expiryDays)')
    .option('--dry-run', 'list what would be deleted, delete nothing')
    .addOption(
      new Option('--format <format>', 'one line per object (table) or json')
        .choices(['table', 'json'])
        .default('table'),
    )
    .addHelpText(
      'after',
      '\nOn AWS, S3 lifecycle rules expire the objects (see `loglake compliance-report --stack`).\n' +
        '\nExamples:\n  loglake cleanup --dry-run\n  loglake cleanup --data-dir /var/lib/loglake --format json',
    )
    .action(async (flags: unknown) => {
      await cleanupCommand(parseFlags(cleanupFlags, flags));
    });
}
