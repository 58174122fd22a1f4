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
    load: async () => (await import('./local')).registerLocalCommand,
  },
  {
    name: 'search',
    summary: 'search normalized records: text in the message or stack trace, --where conditions, --context',
    load: async () => (await import('./search')).registerSearchCommand,
  },
  {
    name: 'tail',
    summary: 'follow new matching records as they arrive, until Ctrl-C',
    load: async () => (await import('./tail')).registerTailCommand,
  },
  {
    name: 'patterns',
    summary: 'the messages of a search grouped into templates, most frequent first',
    load: async () => (await import('./patterns')).registerPatternsCommand,
  },
  {
    name: 'stats',
    summary: 'counts, errors and error rate, or aggregates (--agg), per group (and time bucket)',
    load: async () => (await import('./stats')).registerStatsCommand,
  },
  {
    name: 'export',
    summary: 'write every matching record to a file or stdout (streamed, oldest first)',
    load: async () => (await import('./export')).registerExportCommand,
  },
  {
    name: 'compact',
    summary: 'rewrite the closed hours of the local lake into one sorted file per category and hour',
    load: async () => (await import('./compact')).registerCompactCommand,
  },
  {
    name: 'send',
    summary: 'ship log lines from stdin to a delivery stream (packed, retried, bounded)',
    load: async () => (await import('./send')).registerSendCommand,
  },
  {
    name: 'alerts',
    summary: 'alert rules over the lake (alerts evaluate)',
    load: async () => (await import('./alerts')).registerAlertsCommand,
  },
  {
    name: 'subject',
    summary: "a person's rights: export their logs, erase them (crypto-shredding), status, cancel",
    load: async () => (await import('./subject')).registerSubjectCommand,
  },
  {
    name: 'compliance-report',
    summary: 'evidence for ISO 27001, SOC 2 and GDPR from the lake itself; exit 3 on a policy finding',
    load: async () => (await import('./compliance-report')).registerComplianceReportCommand,
  },
  {
    name: 'config',
    summary:
      'the effective configuration, or every error with its field and the value received (config validate)',
    load: async () => (await import('./config')).registerConfigCommand,
  },
  {
    name: 'health',
    summary: 'is the local lake healthy: endpoint, spool backlog, last deliveries, disk usage, error output',
    load: async () => (await import('./health')).registerHealthCommand,
  },
  {
    name: 'cleanup',
    summary: "delete the local lake's objects past their category's expiry (--dry-run lists them)",
    load: async () => (await import('./cleanup')).registerCleanupCommand,
  },
  {
    name: 'ui',
    summary: 'the explorer in a browser: search, trace view, dashboards and alerts over the local lake',
    load: async () => (await import('./ui')).registerUiCommand,
  },
  {
    name: 'grafana',
    summary: 'write the four dashboards as Grafana JSON for the Athena data source, with provisioning',
    load: async () => (await import('./grafana')).registerGrafanaCommand,
  },
  {
    name: 'demo',
    summary:
      'run the local pipeline with sample traffic, then search and summarize it (what `npm start` runs)',
    load: async () => (await import('./demo')).registerDemoCommand,
  },
];
