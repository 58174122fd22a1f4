/** `loglake search`: matching records, newest first, as a table for people or JSON / NDJSON / CSV. */
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { decodeSearchRow, type SearchRecord } from '../../query/decode';
import { formatOption, formatSchema, parseFlags, queryCommand, queryFlagsWith, textArgument } from '../flags';
import { OUTPUT_FORMATS, RecordWriter, recordTable } from '../format';
import { type CliIO, processIO } from '../io';
import { intOption } from '../options';
import { collectRows, resolveQueryTarget } from '../target';

export const searchFlags = queryFlagsWith({
  limit: z.number().int().positive().optional(),
  order: z.enum(['asc', 'desc']).optional(),
  format: formatSchema(OUTPUT_FORMATS),
});
export type SearchFlags = z.output<typeof searchFlags>;

/** Prints matching records; no match is not an error (exit 0). Resolves with the records. */
export async function searchCommand(
  text: string | undefined,
  flags: SearchFlags,
  io: CliIO = processIO,
): Promise<SearchRecord[]> {
  const target = await resolveQueryTarget(text, flags, io);
  const { built, pages, done } = await target.run({
    kind: 'search',
    filter: target.filter,
    limit: flags.limit ?? 100,
    order: flags.order ?? 'desc',
  });
  try {
    const records = await collectRows(pages, (row) => decodeSearchRow(built.columns, row));
    const format = flags.format ?? 'table';
    if (format === 'table') {
      if (records.length === 0) io.stderr('no matching records\n');
      else io.stdout(recordTable(records, { width: io.columns }));
    } else {
      const writer = new RecordWriter(format, io.stdout);
      await writer.write(records);
      await writer.end();
    }
    return records;
  } finally {
    done();
  }
}

export function registerSearchCommand(program: Command): void {
  queryCommand(
    program,
    'search',
    'search normalized records: case-insensitive text in the message plus exact filters',
  )
    .argument('[text]', 'substring of the message (matched literally, case-insensitive)')
    .option('--limit <n>', 'maximum records', intOption(1, 100_000), 100)
    .addOption(
      new Option('--order <order>', 'by event time: newest first (desc) or oldest first (asc)')
        .choices(['asc', 'desc'])
        .default('desc'),
    )
    .addOption(formatOption('table'))
    .addHelpText(
      'after',
      '\nThe table fits the terminal (or COLUMNS): correlation ids whole, the message wrapped at words.\n' +
        'Scripts use --format json, ndjson or csv.\n' +
        '\nExamples:\n  loglake search --correlation-id 5d0f179c --since 7d\n  loglake search "payment failed" --level error --service checkout --format json\n  loglake search --user 42 --athena --stack LogLake',
    )
    .action(async (text: unknown, flags: unknown) => {
      await searchCommand(textArgument(text), parseFlags(searchFlags, flags));
    });
}
