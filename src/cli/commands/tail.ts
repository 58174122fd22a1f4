/**
 * `loglake tail`: new matching records as they arrive, until Ctrl-C. Locally it wakes when the pipeline
 * delivers a file under the data directory (and every `--interval` regardless); on Athena it polls every
 * `--interval`. Each round asks for the records that arrived since the tail started (`ingest_time`)
 * with an event time in the last `--window`, so the partitions read stay a narrow, pruned range, and
 * prints those it has not printed before: a record delivered late, or by the other stream, is still
 * shown once.
 */
import { type FSWatcher, watch } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { notTailAccess, quietWhenEmpty } from '../../audit/access';
import { decodeSearchRow, type SearchRecord } from '../../query/decode';
import { type LogQuery, MAX_LIMIT } from '../../query/model';
import { DATA_PREFIX } from '../../schema';
import { formatOption, formatSchema, parseFlags, queryCommand, queryFlagsWith, textArgument } from '../flags';
import type { OutputFormat } from '../format';
import { type CliIO, processIO } from '../io';
import { dataDirOf, dialectOf, durationOption } from '../options';
import { visible } from '../table';
import { collectRows, resolveQueryTarget } from '../target';

const TAIL_FORMATS = ['table', 'ndjson'] as const satisfies readonly OutputFormat[];

export const tailFlags = queryFlagsWith({
  interval: z.number().positive().optional(),
  window: z.number().positive().optional(),
  format: formatSchema(TAIL_FORMATS),
});
export type TailFlags = z.output<typeof tailFlags>;

/** Between rounds: locally a fallback to the file watch; on Athena, each poll is a query. */
export const DEFAULT_INTERVAL_MS = { duckdb: 2_000, athena: 10_000 } as const;
/** Event times looked at: how late (after its own time) a record may arrive and still be shown. */
export const DEFAULT_WINDOW_MS = 15 * 60_000;

export interface TailOptions {
  /** Stops the tail (Ctrl-C does too). */
  readonly signal?: AbortSignal;
  /** Called after every round with the records it printed (tests wait on it). */
  readonly onRound?: (printed: readonly SearchRecord[]) => void;
}

/** Follows the matching records until stopped; resolves with how many it printed. */
export async function tailCommand(
  text: string | undefined,
  flags: TailFlags,
  io: CliIO = processIO,
  options: TailOptions = {},
): Promise<number> {
  const dialect = dialectOf(flags);
  const started = new Date();
  const target = await resolveQueryTarget(text, flags, io, started);
  // Events up to the transform's future tolerance ahead keep their time: `until` keeps that margin.
  const ahead = target.filter.until.getTime() - started.getTime();
  const interval = flags.interval ?? DEFAULT_INTERVAL_MS[dialect];
  const window = flags.window ?? DEFAULT_WINDOW_MS;
  const format = flags.format ?? 'table';

  const stop = new AbortController();
  const onSigint = () => stop.abort();
  process.once('SIGINT', onSigint);
  options.signal?.addEventListener('abort', onSigint, { once: true });
  const wake = wakeUp(dialect === 'duckdb' ? join(dataDirOf(flags), DATA_PREFIX) : undefined);
  // Printed records by identity, with how many times (identical events are each printed).
  const printed = new Map<string, { times: number; timestamp: string }>();
  let total = 0;
  try {
    io.stderr(
      `tail: following records that arrive from now on, with an event time in the last ${Math.round(window / 60_000)} min (Ctrl-C stops)\n`,
    );
    for (let round = 0; !stop.signal.aborted; round++) {
      const now = Date.now();
      const since = new Date(now - window);
      // The first poll is recorded as an access event; later ones only when they return rows, else a
      // tail of the local lake would wake on the event it just wrote, every round.
      const run = round === 0 ? target.run : (q: LogQuery) => quietWhenEmpty(() => target.run(q));
      const { built, pages, done } = await run({
        kind: 'search',
        filter: {
          ...target.filter,
          since,
          until: new Date(now + ahead),
          where: [
            ...(target.filter.where ?? []),
            { field: { column: 'ingest_time' }, op: '>=', value: started },
            // Tails' own access events are not shown: two tails would otherwise feed each other forever.
            ...notTailAccess(),
          ],
        },
        order: 'asc',
        limit: MAX_LIMIT,
      });
      let records: SearchRecord[];
      try {
        records = await collectRows(pages, (row) => decodeSearchRow(built.columns, row));
      } finally {
        done();
      }
      if (records.length === MAX_LIMIT) {
        io.stderr(`tail: more than ${MAX_LIMIT} records in the window; narrow the filter\n`);
      }
      const fresh = newRecords(records, printed);
      for (const [key, entry] of printed) if (entry.timestamp < since.toISOString()) printed.delete(key);
      if (fresh.length > 0) io.stdout(fresh.map((r) => tailLine(r, format)).join(''));
      total += fresh.length;
      options.onRound?.(fresh);
      await wake.next(interval, stop.signal);
    }
    return total;
  } finally {
    wake.close();
    process.removeListener('SIGINT', onSigint);
    options.signal?.removeEventListener('abort', onSigint);
  }
}

/** The records of a round not printed before, marking them printed. */
export function newRecords(
  records: readonly SearchRecord[],
  printed: Map<string, { times: number; timestamp: string }>,
): SearchRecord[] {
  const inRound = new Map<string, number>();
  const fresh: SearchRecord[] = [];
  for (const r of records) {
    const key = JSON.stringify(r);
    const n = (inRound.get(key) ?? 0) + 1;
    inRound.set(key, n);
    const entry = printed.get(key);
    if (entry === undefined || entry.times < n) {
      printed.set(key, { times: n, timestamp: r.timestamp });
      fresh.push(r);
    }
  }
  return fresh;
}

export function tailLine(r: SearchRecord, format: (typeof TAIL_FORMATS)[number]): string {
  if (format === 'ndjson') return `${JSON.stringify(r)}\n`;
  const message = r.message.replace(/\s*[\r\n]+\s*/g, ' ⏎ ');
  return `${visible(`${r.timestamp}  ${r.level.padEnd(8)} ${r.category}  ${r.service}  ${r.correlation_id ?? '-'}  ${message}`)}\n`;
}

/**
 * Waits between rounds: until the interval passes, the tail is stopped, or (locally) a file is written
 * under the lake directory, so a delivery shows within a moment rather than an interval.
 */
function wakeUp(directory: string | undefined): {
  next: (ms: number, signal: AbortSignal) => Promise<void>;
  close: () => void;
} {
  let pending: (() => void) | undefined;
  let changed = false;
  let watcher: FSWatcher | undefined;
  if (directory !== undefined) {
    try {
      watcher = watch(directory, { recursive: true }, (_event, name) => {
        if (name !== null && !String(name).endsWith('.parquet')) return;
        changed = true;
        pending?.();
      });
    } catch {
      // No lake directory yet (nothing delivered): the interval alone wakes the tail until there is one.
      watcher = undefined;
    }
  }
  return {
    next: (ms, signal) =>
      new Promise<void>((resolve) => {
        if (changed || signal.aborted) {
          changed = false;
          resolve();
          return;
        }
        const finish = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', finish);
          pending = undefined;
          changed = false;
          resolve();
        };
        // A file appears in pieces (temporary name, then renamed): give it a moment to be complete.
        pending = () => setTimeout(finish, 100);
        const timer = setTimeout(finish, ms);
        signal.addEventListener('abort', finish, { once: true });
      }),
    close: () => watcher?.close(),
  };
}

export function registerTailCommand(program: Command): void {
  queryCommand(program, 'tail', 'follow new matching records as they arrive, until Ctrl-C')
    .argument('[text]', 'substring of the message or the stack trace, as in search')
    .option(
      '--interval <duration>',
      `time between rounds (default ${DEFAULT_INTERVAL_MS.duckdb / 1000} s locally, where a delivered file also wakes the tail; ${DEFAULT_INTERVAL_MS.athena / 1000} s on Athena, one query each)`,
      durationOption,
    )
    .option(
      '--window <duration>',
      `event times looked at, back from now: a record whose own time is older when it arrives is not shown (default ${DEFAULT_WINDOW_MS / 60_000}m; on Athena it is the partitions each poll reads)`,
      durationOption,
    )
    .addOption(formatOption('table', TAIL_FORMATS))
    .addHelpText(
      'after',
      '\n--since and --until are not used: the tail starts now.\n' +
        '\nExamples:\n  loglake tail --level ERROR\n  loglake tail --service checkout --where "duration_ms>1000" --format ndjson\n  loglake tail --athena --stack LogLake --category api_access --interval 30s',
    )
    .action(async (text: unknown, flags: unknown) => {
      await tailCommand(textArgument(text), parseFlags(tailFlags, flags));
    });
}
