/** `loglake stats`: counts, errors and error rate, or any aggregates (`--agg`), per group (and time bucket). */
import type { Command } from 'commander';
import { z } from 'zod';
import { InputError } from '../../errors';
import { type AggregateRow, decodeAggregateRow } from '../../query/decode';
import { AGG_FNS, type Aggregate, aggregateLabel, parseAggregate, parseField } from '../../query/fields';
import { GROUP_COLUMNS, type GroupKey, groupLabel } from '../../query/model';
import { formatOption, formatSchema, parseFlags, queryCommand, queryFlagsWith, repeatOption } from '../flags';
import { aggregateObjects, aggregateTable, formatObjects, OUTPUT_FORMATS } from '../format';
import { type CliIO, processIO } from '../io';
import { durationOption, intOption, listOption } from '../options';
import { collectRows, resolveQueryTarget } from '../target';

export const statsFlags = queryFlagsWith({
  groupBy: z.array(z.string()).optional(),
  agg: z.array(z.string()).optional(),
  interval: z.number().positive().optional(),
  limit: z.number().int().positive().optional(),
  format: formatSchema(OUTPUT_FORMATS),
});
export type StatsFlags = z.output<typeof statsFlags>;

/**
 * `--group-by` values: a classic group column (`service`, `level` …, any case) or any field
 * (`attributes.model`, `metrics.region`, `duration_ms`). By category when neither `--group-by` nor
 * `--agg` is given (the overview); not grouped when only `--agg` is.
 * @throws InputError naming the value.
 */
export function parseGroupBy(values: readonly string[] | undefined, aggregates = false): GroupKey[] {
  if (values === undefined || values.length === 0) return aggregates ? [] : ['category'];
  return values.map((value) => {
    const column = GROUP_COLUMNS.find((c) => c === value.trim().toLowerCase());
    if (column !== undefined) return column;
    try {
      const field = parseField(value);
      if (field.key === undefined && field.column === 'message') {
        throw new InputError('cannot group by "message"; `loglake patterns` groups messages by template');
      }
      return field;
    } catch (error) {
      throw new InputError(
        `--group-by: ${error instanceof InputError ? error.message : String(error)} (received ${JSON.stringify(value)})`,
        { cause: error },
      );
    }
  });
}

/** Prints one row per group (and bucket); resolves with the rows. */
export async function statsCommand(flags: StatsFlags, io: CliIO = processIO): Promise<AggregateRow[]> {
  const aggregates: Aggregate[] = (flags.agg ?? []).map((a) => parseAggregate(a));
  const groupBy = parseGroupBy(flags.groupBy, aggregates.length > 0);
  const target = await resolveQueryTarget(undefined, flags, io);
  const { built, pages, done } = await target.run({
    kind: 'aggregate',
    filter: target.filter,
    groupBy,
    ...(aggregates.length ? { aggregates } : {}),
    ...(flags.interval ? { bucketMs: flags.interval } : {}),
    ...(flags.limit ? { limit: flags.limit } : {}),
  });
  try {
    const rows = await collectRows(pages, (row) => decodeAggregateRow(built.columns, row));
    const format = flags.format ?? 'table';
    const labels = groupBy.map(groupLabel);
    const aggLabels = aggregates.length ? aggregates.map(aggregateLabel) : undefined;
    if (format === 'table') {
      if (rows.length === 0) io.stderr('no matching records\n');
      else io.stdout(aggregateTable(rows, labels, { width: io.columns, aggregates: aggLabels }));
    } else {
      io.stdout(formatObjects(aggregateObjects(rows, aggLabels), format));
    }
    return rows;
  } finally {
    done();
  }
}

export function registerStatsCommand(program: Command): void {
  queryCommand(
    program,
    'stats',
    'counts, errors and error rate, or aggregates (--agg), per group (and time bucket)',
  )
    .option(
      '--group-by <field>',
      `group by columns (${GROUP_COLUMNS.join(', ')} …) or fields (attributes.KEY, metrics.KEY); repeatable or comma-separated`,
      listOption,
    )
    .option(
      '--agg <FN:FIELD>',
      `an aggregate per group, repeatable: FN is one of ${AGG_FNS.join(', ')}; FIELD a numeric column, metrics.KEY or attributes.KEY (read as a number); plain "count" counts events. Percentiles are approximate on Athena (approx_percentile) and exact locally`,
      repeatOption,
    )
    .option('--interval <duration>', 'also bucket by time (e.g. 5m, 1h)', durationOption)
    .option('--limit <n>', 'maximum rows', intOption(1, 100_000))
    .addOption(formatOption('table'))
    .addHelpText(
      'after',
      '\nIn --format json, ndjson and csv each row holds the group keys and "count" (alone without --agg),\n' +
        'plus one key per aggregate named FN(FIELD) with --agg,\n' +
        'e.g. {"attributes.model":"gpt-4o","count":12,"sum(metrics.cost_usd)":0.42,"p95(duration_ms)":812.5}.\n' +
        'Errors, error rate and first/last seen are in the table only.\n' +
        '\nExamples:\n  loglake stats --group-by service --since 1h\n  loglake stats --group-by level --interval 15m --format csv\n' +
        '  loglake stats --group-by service --agg p95:duration_ms\n' +
        '  loglake stats --group-by attributes.model --agg sum:metrics.cost_usd --agg sum:metrics.tokens --agg avg:metrics.cost_usd --format json',
    )
    .action(async (flags: unknown) => {
      await statsCommand(parseFlags(statsFlags, flags));
    });
}
