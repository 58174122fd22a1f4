/** `loglake export`: every matching record to a file (or stdout), streamed, oldest first. */
import type { Command } from 'commander';
import { z } from 'zod';
import { InterruptedError } from '../../errors';
import { decodeSearchRow } from '../../query/decode';
import { formatOption, formatSchema, parseFlags, queryCommand, queryFlagsWith, textArgument } from '../flags';
import { RecordWriter } from '../format';
import { type CliIO, processIO } from '../io';
import { intOption } from '../options';
import { openOutput, STDOUT_PATH } from '../output';
import { resolveQueryTarget } from '../target';

const EXPORT_FORMATS = ['csv', 'json', 'ndjson'] as const;

export const exportFlags = queryFlagsWith({
  output: z.string().min(1),
  limit: z.number().int().positive().optional(),
  format: formatSchema(EXPORT_FORMATS),
});
export type ExportFlags = z.output<typeof exportFlags>;

/**
 * Streams every matching record to `--output`; resolves with how many. A file appears only complete:
 * on any failure, or Ctrl-C, nothing is left under its name or as `<file>.partial`.
 */
export async function exportCommand(
  text: string | undefined,
  flags: ExportFlags,
  io: CliIO = processIO,
): Promise<number> {
  const format = flags.format ?? 'csv';
  const target = await resolveQueryTarget(text, flags, io);
  const sink = await openOutput(flags.output, io);
  let interrupted = false;
  const onSigint = () => {
    // A second Ctrl-C does not wait for the engine.
    if (interrupted) process.exit(130);
    interrupted = true;
    sink.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const { built, pages, done } = await target.run({
      kind: 'search',
      filter: target.filter,
      order: 'asc',
      ...(flags.limit ? { limit: flags.limit } : {}),
    });
    try {
      const writer = new RecordWriter(format, (t) => sink.write(t));
      for await (const page of pages) {
        if (interrupted) throw new InterruptedError(`export interrupted; ${sink.name} not written`);
        await writer.write(page.map((r) => decodeSearchRow(built.columns, r)));
      }
      await writer.end();
      await sink.commit();
      io.stderr(`exported ${writer.written} record${writer.written === 1 ? '' : 's'} to ${sink.name}\n`);
      return writer.written;
    } finally {
      done();
    }
  } catch (error) {
    sink.abort();
    if (interrupted && !(error instanceof InterruptedError)) {
      throw new InterruptedError(`export interrupted; ${sink.name} not written`, { cause: error });
    }
    throw error;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

export function registerExportCommand(program: Command): void {
  queryCommand(program, 'export', 'write every matching record to a file or stdout (streamed, oldest first)')
    .argument('[text]', 'substring of the message')
    .requiredOption(
      '--output <file>',
      `file to write (appears only when complete), or ${STDOUT_PATH} for stdout`,
    )
    .option('--limit <n>', 'maximum records (default: all)', intOption(1, 1_000_000_000))
    .addOption(formatOption('csv', EXPORT_FORMATS))
    .addHelpText(
      'after',
      '\nExamples:\n  loglake export --category audit --since 30d --format csv --output audit.csv\n  loglake export --level error --format ndjson --output - | jq .message',
    )
    .action(async (text: unknown, flags: unknown) => {
      await exportCommand(textArgument(text), parseFlags(exportFlags, flags));
    });
}
