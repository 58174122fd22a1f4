/**
 * Every `loglake` command: its name, the one line `loglake --help` shows, and how to load its definition.
 * Only the command being run is loaded (its options, then its dependencies when it runs), so start-up
 * does not pay for DuckDB, the AWS SDK or the local pipeline unless the command needs them.
 *
 * Adding a command: a file in this folder exporting `register…Command(program)`, and one line here.
 */
import type { Command } from 'commander';

export interface CommandEntry {
  /** The word after `loglake`. */
  readonly name: string;
  /** The line in `loglake --help`. */
  readonly summary: string;
  /** Adds the command, with its options and action, to `program`. */
  readonly load: () => Promise<(program: Command) => unknown>;
}

/** In the order `loglake --help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  {
    name: 'local',
    summary: 'run a Firehose-compatible endpoint and the delivery pipeline (transform → Parquet) locally',
    load: async () => (await import('../local-command')).registerLocalCommand,
  },
  {
    name: 'search',
    summary: 'search normalized records: case-insensitive text in the message plus exact filters',
    load: async () => (await import('./search')).registerSearchCommand,
  },
  {
    name: 'stats',
    summary: 'counts, errors and error rate per group (and time bucket)',
    load: async () => (await import('./stats')).registerStatsCommand,
  },
  {
    name: 'export',
    summary: 'write every matching record to a file or stdout (streamed, oldest first)',
    load: async () => (await import('./export')).registerExportCommand,
  },
  {
    name: 'send',
    summary: 'ship log lines from stdin to a delivery stream (packed, retried, bounded)',
    load: async () => (await import('../send-command')).registerSendCommand,
  },
  {
    name: 'alerts',
    summary: 'alert rules over the lake (alerts evaluate)',
    load: async () => (await import('./alerts')).registerAlertsCommand,
  },
  {
    name: 'ui',
    summary: 'the explorer in a browser: search, trace view, dashboards and alerts over the local lake',
    load: async () => (await import('./ui')).registerUiCommand,
  },
  {
    name: 'demo',
    summary:
      'run the local pipeline with sample traffic, then search and summarize it (what `npm start` runs)',
    load: async () => (await import('../demo-command')).registerDemoCommand,
  },
];
