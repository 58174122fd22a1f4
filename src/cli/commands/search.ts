/** `loglake search`: matching records, newest first, as a table for people or JSON / NDJSON / CSV. */
import { type Command, Option } from 'commander';
import { z } from 'zod';
import { InputError } from '../../errors';
import {
  type ContextBlock,
  contextBlocks,
  decodeSearchRow,
  type RawRow,
  type SearchRecord,
} from '../../query/decode';
import { CONTEXT_KEYS, MAX_CONTEXT } from '../../query/model';
import { formatOption, formatSchema, parseFlags, queryCommand, queryFlagsWith, textArgument } from '../flags';
import { OUTPUT_FORMATS, RecordWriter, recordTable } from '../format';
import { type CliIO, processIO } from '../io';
import { intOption } from '../options';
import { visible } from '../table';
import { collectRows, type QueryTarget, resolveQueryTarget } from '../target';

export const searchFlags = queryFlagsWith({
  limit: z.number().int().positive().optional(),
  order: z.enum(['asc', 'desc']).optional(),
  context: z.number().int().min(0).optional(),
  contextBy: z.enum(CONTEXT_KEYS).optional(),
  format: formatSchema(OUTPUT_FORMATS),
});
export type SearchFlags = z.output<typeof searchFlags>;

/**
 * Prints matching records; no match is not an error (exit 0). Resolves with how many were printed.
 * @param onRecord - sees each record as it is printed (the demo checks them). @default none
 */
export async function searchCommand(
  text: string | undefined,
  flags: SearchFlags,
  io: CliIO = processIO,
  onRecord?: (record: SearchRecord) => void,
): Promise<number> {
  const target = await resolveQueryTarget(text, flags, io);
  if (flags.context !== undefined && flags.context > 0) {
    const blocks = await contextSearch(target, flags, flags.context, io);
    let printed = 0;
    for (const block of blocks) {
      for (const record of block.records) onRecord?.(record);
      printed += block.records.length;
    }
    return printed;
  }
  const { built, pages, done } = await target.run({
    kind: 'search',
    filter: target.filter,
    limit: flags.limit ?? 100,
    order: flags.order ?? 'desc',
  });
  try {
    const decode = (row: RawRow) => {
      const record = decodeSearchRow(built.columns, row);
      onRecord?.(record);
      return record;
    };
    const format = flags.format ?? 'table';
    if (format !== 'table')
      return await streamRecords(pages, decode, new RecordWriter(format, io.stdout), io);
    // A table sizes its columns from every row, so it needs them all (at most --limit).
    const records = await collectRows(pages, decode);
    if (records.length === 0) io.stderr('no matching records\n');
    else io.stdout(recordTable(records, { width: io.columns }));
    return records.length;
  } finally {
    done();
  }
}

/**
 * JSON, NDJSON and CSV leave page by page as the engine produces them, waiting for stdout to drain, so a
 * large `--limit` never holds its result in memory.
 */
async function streamRecords(
  pages: AsyncIterable<RawRow[]>,
  decode: (row: RawRow) => SearchRecord,
  writer: RecordWriter,
  io: CliIO,
): Promise<number> {
  for await (const page of pages) {
    await writer.write(page.map(decode));
    await io.drain?.();
  }
  await writer.end();
  return writer.written;
}

/**
 * `--context N`: the hits with up to N events before and after each one from the same service (or
 * correlation id), as blocks; overlapping neighbourhoods merge, as `grep -C` does.
 */
async function contextSearch(
  target: QueryTarget,
  flags: SearchFlags,
  n: number,
  io: CliIO,
): Promise<ContextBlock[]> {
  const format = flags.format ?? 'table';
  if (format === 'csv') {
    throw new InputError('--context: CSV has no place for blocks; use --format table, json or ndjson');
  }
  const order = flags.order ?? 'desc';
  const { built, pages, done } = await target.run({
    kind: 'context',
    filter: target.filter,
    limit: flags.limit ?? 100,
    before: n,
    after: n,
    by: flags.contextBy ?? 'service',
  });
  try {
    const rows = await collectRows(pages, (row) => row);
    const blocks = contextBlocks(built.columns, rows, order);
    if (format === 'table') {
      if (blocks.length === 0) io.stderr('no matching records\n');
      else io.stdout(contextText(blocks, flags.contextBy ?? 'service'));
    } else if (format === 'json') {
      io.stdout(`${JSON.stringify(blocks, null, 2)}\n`);
    } else {
      io.stdout(
        blocks
          .flatMap((b, block) => b.records.map((r) => `${JSON.stringify({ ...r, context_block: block })}\n`))
          .join(''),
      );
    }
    return blocks;
  } finally {
    done();
  }
}

/** Blocks as text: `>` marks a hit, blocks are separated by `--` lines naming what they share. */
export function contextText(blocks: readonly ContextBlock[], by: string): string {
  return blocks
    .map((b) =>
      [
        visible(`-- ${by}=${b.key ?? '(none)'}`),
        ...b.records.map((r) =>
          visible(
            `${r.context_hit ? '>' : ' '} ${r.timestamp}  ${r.level.padEnd(8)} ${r.service}  ${r.correlation_id ?? '-'}  ${r.message.replace(/\s*[\r\n]+\s*/g, ' ⏎ ')}`,
          ),
        ),
      ].join('\n'),
    )
    .join('\n')
    .concat('\n');
}

export function registerSearchCommand(program: Command): void {
  queryCommand(
    program,
    'search',
    'search normalized records: text in the message or stack trace, --where conditions, --context',
  )
    .argument(
      '[text]',
      'substring of the message or the stack trace (matched literally, case-insensitive unless --case-sensitive)',
    )
    .option('--limit <n>', 'maximum records (with --context: hits)', intOption(1, 100_000), 100)
    .option(
      '--context <n>',
      `also show up to n events before and after each hit from the same service (see --context-by), at most ${MAX_CONTEXT}`,
      intOption(0, MAX_CONTEXT),
    )
    .addOption(
      new Option('--context-by <key>', 'what context events share with their hit')
        .choices([...CONTEXT_KEYS])
        .default('service'),
    )
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
        '\nFree text and --regex look in the message and the stack trace.\n' +
        '\nExamples:\n  loglake search --correlation-id 5d0f179c --since 7d\n  loglake search "payment failed" --level error --service checkout --format json\n' +
        '  loglake search --where attributes.context.agent_id=agent_coder --level ERROR\n' +
        '  loglake search --regex "timed? ?out after \\d+ ?ms" --context 3\n' +
        '  loglake search --user 42 --athena --stack LogLake',
    )
    .action(async (text: unknown, flags: unknown) => {
      await searchCommand(textArgument(text), parseFlags(searchFlags, flags));
    });
}
