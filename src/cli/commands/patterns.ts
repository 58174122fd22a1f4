/** `loglake patterns`: the messages of a search grouped into templates, most frequent first. */
import type { Command } from 'commander';
import { z } from 'zod';
import {
  clusterTemplates,
  DEFAULT_SIMILARITY,
  type Pattern,
  type TemplateRow,
  templateCounts,
} from '../../patterns';
import { decodeRow } from '../../query/decode';
import { formatOption, formatSchema, parseFlags, queryCommand, queryFlagsWith, textArgument } from '../flags';
import { formatObjects, OUTPUT_FORMATS } from '../format';
import { type CliIO, processIO } from '../io';
import { intOption } from '../options';
import { visible } from '../table';
import { collectRows, resolveQueryTarget } from '../target';

export const patternsFlags = queryFlagsWith({
  limit: z.number().int().positive().optional(),
  similarity: z.number().gt(0).max(1).optional(),
  format: formatSchema(OUTPUT_FORMATS),
});
export type PatternsFlags = z.output<typeof patternsFlags>;

/** Stored templates read per query: far more than a terminal shows, few enough to cluster in memory. */
const TEMPLATES_READ = 10_000;

/** Prints the patterns of the matching events; resolves with them. */
export async function patternsCommand(
  text: string | undefined,
  flags: PatternsFlags,
  io: CliIO = processIO,
): Promise<Pattern[]> {
  const target = await resolveQueryTarget(text, flags, io);
  const { built, pages, done } = await target.run({
    kind: 'patterns',
    filter: target.filter,
    limit: TEMPLATES_READ,
  });
  try {
    const rows = await collectRows(pages, (row) => decodeRow(built.columns, row) as unknown as TemplateRow);
    const patterns = clusterTemplates(templateCounts(rows), flags.similarity ?? DEFAULT_SIMILARITY).slice(
      0,
      flags.limit ?? 50,
    );
    const format = flags.format ?? 'table';
    if (format === 'table') {
      if (patterns.length === 0) io.stderr('no matching records\n');
      else io.stdout(patternsText(patterns));
    } else {
      io.stdout(
        formatObjects(
          patterns.map((p) => ({
            pattern: p.template,
            count: p.count,
            first_seen: p.firstSeen,
            last_seen: p.lastSeen,
            example: p.example,
            templates: p.templates,
          })),
          format,
        ),
      );
    }
    return patterns;
  } finally {
    done();
  }
}

/** One block per pattern: count and times, the pattern, an example message. */
export function patternsText(patterns: readonly Pattern[]): string {
  const width = Math.max(5, ...patterns.map((p) => String(p.count).length));
  return patterns
    .map((p) =>
      [
        `${String(p.count).padStart(width)}  ${p.firstSeen ?? '-'} .. ${p.lastSeen ?? '-'}  ${visible(p.template)}`,
        ...(p.example === null
          ? []
          : [`${' '.repeat(width)}  e.g. ${visible(p.example.replace(/\s*[\r\n]+\s*/g, ' ⏎ '))}`]),
      ].join('\n'),
    )
    .join('\n')
    .concat('\n');
}

export function registerPatternsCommand(program: Command): void {
  queryCommand(program, 'patterns', 'the messages of a search grouped into templates, most frequent first')
    .argument('[text]', 'substring of the message or the stack trace, as in search')
    .option('--limit <n>', 'most patterns shown', intOption(1, 10_000), 50)
    .option(
      '--similarity <share>',
      `share of a template's words that must agree to merge it into a pattern (0-1; 1 merges only equal templates)`,
      (v: string) => Number(v),
      DEFAULT_SIMILARITY,
    )
    .addOption(formatOption('table'))
    .addHelpText(
      'after',
      '\nEach event has a template set at ingest (numbers, ids, UUIDs, hex, IPs, times and quoted text\n' +
        'masked); templates that differ in a few words are merged Drain-style, the words becoming <*>.\n' +
        '\nExamples:\n  loglake patterns --level ERROR --since 1h\n  loglake patterns --service checkout --format json',
    )
    .action(async (text: unknown, flags: unknown) => {
      await patternsCommand(textArgument(text), parseFlags(patternsFlags, flags));
    });
}
