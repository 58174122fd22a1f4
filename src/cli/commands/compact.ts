/**
 * `loglake compact`: compact the closed hours of a local lake now, and the delivered files of an hour
 * still open once it holds 10 (the running `loglake local` does the same every minute). It takes the data directory like the pipeline does, so it refuses while a
 * pipeline runs there, and delivers whatever a crashed pipeline left in the spool first: a compaction
 * only ever reads files whose delivery committed.
 */
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { z } from 'zod';
import {
  COMPACTION_STEPS,
  type CompactionReport,
  type CompactionStep,
  DEFAULT_OPEN_MIN_FILES,
  planCompaction,
} from '../../local/compact';
import { listPartitions } from '../../local/lake-files';
import { LocalPipeline } from '../../local/pipeline';
import { dataDirTransform } from '../../local/transform';
import { parseDuration } from '../../time';
import { engineOptionsOf, MEMORY_LIMIT_HELP, memoryLimitOption } from '../engine-options';
import { cliEnv } from '../env';
import { parseFlags } from '../flags';
import { formatBytes } from '../format';
import { type CliIO, processIO } from '../io';
import { dataDirOf, intOption, loadConfig } from '../options';
import { requireLocalLake } from '../target/local';
import { DEFAULT_FLUSH_SECONDS } from './local';

const optionalMs = z.number().int().nonnegative().optional();
export const compactFlags = z.strictObject({
  dataDir: z.string().optional(),
  dryRun: z.boolean().optional(),
  closedAfter: optionalMs,
  grace: optionalMs,
  targetMib: z.number().int().positive().optional(),
  memoryLimit: z.number().int().positive().optional(),
  config: z.string().optional(),
  pseudonymKeyFile: z.string().optional(),
});
export type CompactFlags = z.output<typeof compactFlags>;

const MINUTE = 60_000;
/** The pipeline's defaults for its own 5 s flush interval. */
const DEFAULT_CLOSED_AFTER_MS = DEFAULT_FLUSH_SECONDS * 1000 + 10 * MINUTE;
const DEFAULT_GRACE_MS = 10 * MINUTE;
const DEFAULT_TARGET_MIB = 128;

/** A duration that may be zero (`0`, `0s`). */
function durationOrZero(value: string): number {
  if (/^0+\s*(ms|s|m|h|d)?$/.test(value.trim())) return 0;
  try {
    return parseDuration(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^duration: /, ''));
  }
}

const count = (n: number) => n.toLocaleString('en');

/** Run `loglake compact`; resolves with what the pass did (undefined for --dry-run). */
export async function compactCommand(
  flags: CompactFlags,
  io: CliIO = processIO,
  now: () => Date = () => new Date(),
): Promise<CompactionReport | undefined> {
  const dataDir = resolve(dataDirOf(flags));
  // A typo'd --data-dir must not become a new, empty lake that reports nothing to compact.
  requireLocalLake(dataDir);
  const settings = {
    closedAfterMs: flags.closedAfter ?? DEFAULT_CLOSED_AFTER_MS,
    graceMs: flags.grace ?? DEFAULT_GRACE_MS,
    targetFileBytes: (flags.targetMib ?? DEFAULT_TARGET_MIB) * 1024 ** 2,
    openMinFiles: DEFAULT_OPEN_MIN_FILES,
  };
  if (flags.dryRun) {
    const partitions = listPartitions(dataDir);
    const plans = planCompaction(dataDir, settings, now(), partitions);
    const files = plans.reduce((s, p) => s + p.sources.length, 0);
    const bytes = plans.reduce((s, p) => s + p.sources.reduce((b, f) => b + f.bytes, 0), 0);
    for (const p of plans) {
      io.stdout(
        `${p.partition.rel}  ${count(p.sources.length)} files, ${formatBytes(p.sources.reduce((b, f) => b + f.bytes, 0))}\n`,
      );
    }
    const pending = partitions.reduce((s, p) => s + p.markers.length, 0);
    io.stderr(
      `loglake compact: would compact ${count(plans.length)} partition(s): ${count(files)} files, ${formatBytes(bytes)}` +
        `${pending ? `; ${count(pending)} earlier compaction(s) wait for their grace period` : ''} (dry run, nothing written)\n`,
    );
    return undefined;
  }

  const config = loadConfig(flags.config);
  const pipeline = await LocalPipeline.open({
    dataDir,
    transform: dataDirTransform(config, dataDir, flags.pseudonymKeyFile),
    flushIntervalMs: DEFAULT_FLUSH_SECONDS * 1000,
    bufferBytes: Math.round(config.firehose.processorBufferSizeMiB * 1024 ** 2),
    compression: config.output.compression,
    onWarning: (m) => io.stderr(`loglake compact: ${m}\n`),
    compaction: {
      ...settings,
      // One pass, run below; no timer.
      intervalMs: 2 ** 31 - 1,
      engine: engineOptionsOf(flags),
      ...faultInjection(),
    },
  });
  let report: CompactionReport;
  try {
    if (pipeline.stats.recoveredSegments > 0) {
      io.stderr(
        `loglake compact: delivered ${pipeline.stats.recoveredSegments} spooled buffer(s) a stopped pipeline left\n`,
      );
    }
    report = await pipeline.compactNow();
  } finally {
    await pipeline.close();
  }
  const c = report.compacted;
  const sum = (f: (r: (typeof c)[number]) => number) => c.reduce((s, r) => s + f(r), 0);
  const seconds = (sum((r) => r.ms) / 1000).toFixed(1);
  io.stderr(
    c.length === 0
      ? `loglake compact: nothing to compact (every closed hour is already one file per category, and no open hour holds ${DEFAULT_OPEN_MIN_FILES} delivered files yet)\n`
      : `loglake compact: ${count(c.length)} partition(s): ${count(sum((r) => r.sourceFiles))} files (${formatBytes(sum((r) => r.sourceBytes))}) → ${count(sum((r) => r.outputFiles))} (${formatBytes(sum((r) => r.outputBytes))}), ${count(sum((r) => r.rows))} records, ${seconds} s\n`,
  );
  if (report.rolledBack > 0) {
    io.stderr(`loglake compact: undid ${report.rolledBack} compaction(s) a crash had interrupted\n`);
  }
  if (report.deletedFiles > 0)
    io.stderr(`loglake compact: deleted ${count(report.deletedFiles)} replaced file(s)\n`);
  if (report.pending > 0) {
    io.stderr(
      `loglake compact: the replaced files of ${count(report.pending)} compaction(s) are hidden from queries and deleted after the grace period by the next \`loglake compact\` or the running \`loglake local\` (--grace 0s deletes them at once)\n`,
    );
  }
  for (const f of report.failed) io.stderr(`loglake compact: ${f.partition} failed: ${f.error}\n`);
  if (report.failed.length > 0) process.exitCode = 1;
  return report;
}

/** `LOGLAKE_FAULT_COMPACT_KILL_AT=<step>[:<n>]`: SIGKILL at that step (crash tests only). */
function faultInjection(): { onStep?: (step: CompactionStep) => void } {
  const spec = cliEnv.faultCompactKillAt;
  if (!spec) return {};
  const [step, nth = '1'] = spec.split(':');
  if (!(COMPACTION_STEPS as readonly string[]).includes(step ?? '')) {
    throw new Error(`LOGLAKE_FAULT_COMPACT_KILL_AT: unknown step ${JSON.stringify(step)}`);
  }
  let seen = 0;
  return {
    onStep: (s) => {
      if (s === step && ++seen === Number(nth)) process.kill(process.pid, 'SIGKILL');
    },
  };
}

export function registerCompactCommand(program: Command): void {
  program
    .command('compact')
    .description(
      'rewrite the closed hours of the local lake into one sorted file per category and hour, and the current hour as it fills (loglake local does it every minute)',
    )
    .option('--data-dir <dir>', 'lake directory (default .loglake/data or LOGLAKE_DATA_DIR)')
    .option('--dry-run', 'list what would be compacted; write nothing')
    .option(
      '--closed-after <duration>',
      `compact an hour once it ended this long ago (default ${DEFAULT_CLOSED_AFTER_MS / 1000} s: the flush interval plus 10 minutes)`,
      durationOrZero,
    )
    .option(
      '--grace <duration>',
      'delete replaced files this long after the compaction, so running queries finish (default 10m)',
      durationOrZero,
    )
    .option(
      '--target-mib <n>',
      `size of a compacted file; larger hours get several (default ${DEFAULT_TARGET_MIB})`,
      intOption(1, 4096),
    )
    .option('--memory-limit <size>', MEMORY_LIMIT_HELP, memoryLimitOption)
    .option('--config <file.json>', 'config override (used to deliver what a stopped pipeline left)')
    .option('--pseudonym-key-file <file>', 'pseudonym key (default <data-dir>/.loglake/pseudonym.key)')
    .addHelpText(
      'after',
      '\nQueries never see a half-compacted hour or a record twice, and a kill at any point loses nothing:\nthe next run (or loglake local) finishes or undoes what was interrupted.\n\nExamples:\n  loglake compact --dry-run\n  loglake compact --data-dir .loglake/data --grace 0s',
    )
    .action(async (flags: unknown) => {
      await compactCommand(parseFlags(compactFlags, flags));
    });
}
