/** `loglake stats`: counts, errors and error rate per group (and time bucket). */
import type { Command } from 'commander';
import { z } from 'zod';
import { InputError } from '../../errors';
import { type AggregateRow, decodeAggregateRow } from '../../query/decode';
import { GROUP_COLUMNS, type GroupColumn } from '../../query/model';
import { formatOption, formatSchema, parseFlags, queryCommand, queryFlagsWith } from '../flags';
import { aggregateObjects, aggregateTable, formatObjects, OUTPUT_FORMATS } from '../format';
import { type CliIO, processIO } from '../io';
import { durationOption, intOption, listOption } from '../options';
import { collectRows, resolveQueryTarget } from '../target';

export const statsFlags = queryFlagsWith({
  groupBy: z.array(z.string()).optional(),
  interval: z.number().positive().optional(),
  limit: z.number().int().positive().optional(),
  format: formatSchema(OUTPUT_FORMATS),
});
export type StatsFlags = z.output<typeof statsFlags>;

/** `--group-by` values, checked against the columns a query may group by. */
export function parseGroupBy(values: readonly string[] | undefined): GroupColumn[] {
  return (values ?? ['category']).map((value) => {
    const g = value.toLowerCase();
    const column = GROUP_COLUMNS.find((c) => c === g);
    if (column === undefined) {
      throw new InputError(
        `--group-by: cannot group by ${JSON.stringify(g)}; expected one of ${GROUP_COLUMNS.join(', ')}`,
      );
    }
    return column;
  });
}

/** Prints one row per group (and bucket); resolves with the rows. */
export async function statsCommand(flags: StatsFlags, io: CliIO = processIO): Promise<AggregateRow[]> {
  const groupBy = parseGroupBy(flags.groupBy);
  const target = await resolveQueryTarget(undefined, flags, io);
  const { built, pages, done } = await target.run({
    kind: 'aggregate',
    filter: target.filter,
    groupBy,
    ...(flags.interval ? { bucketMs: flags.interval } : {}),
    ...(flags.limit ? { limit: flags.limit } : {}),
  });
  try {
    const rows = await collectRows(pages, (row) => decodeAggregateRow(built.columns, row));
    const format = flags.format ?? 'table';
    if (format === 'table') {
      if (rows.length === 0) io.stderr('no matching records\n');
      else io.stdout(aggregateTable(rows, groupBy, { width: io.columns }));
    } else {
      io.stdout(formatObjects(aggregateObjects(rows), format));
    }
    return rows;
  } finally {
    done();
  }
}

export function registerStatsCommand(program: Command): void {
  queryCommand(program, 'stats', 'counts, errors and error rate per group (and time bucket)')
    .option('--group-by <column>', `group by (${GROUP_COLUMNS.join(', ')})`, listOption)
    .option('--interval <duration>', 'also bucket by time (e.g. 5m, 1h)', durationOption)
    .option('--limit <n>', 'maximum rows', intOption(1, 100_000))
    .addOption(formatOption('table'))
    .addHelpText(
      'after',
      '\nExamples:\n  loglake stats --group-by service --since 1h\n  loglake stats --group-by level --interval 15m --format csv',
    )
    .action(async (flags: unknown) => {
      await statsCommand(parseFlags(statsFlags, flags));
    });
}
