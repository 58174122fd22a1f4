/**
 * `loglake grafana`: write the four dashboards for Grafana's Athena data source, with the provisioning
 * files, from the explorer's dashboard definitions (`src/ui/grafana.ts`). Where the lake is comes from the
 * flags, or from the stack's outputs with `--stack`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { resolveAthenaTarget } from '../aws';
import { parseFlags } from '../flags';
import { type CliIO, processIO } from '../io';
import { athenaTablesFor, loadConfig } from '../options';

export const grafanaFlags = z.strictObject({
  outDir: z.string().min(1),
  dashboardsPath: z.string().min(1).optional(),
  stack: z.string().optional(),
  region: z.string().optional(),
  workgroup: z.string().optional(),
  database: z.string().optional(),
  logsTable: z.string().optional(),
  auditTable: z.string().optional(),
  persona: z.string().optional(),
  datasourceUid: z.string().min(1).optional(),
  config: z.string().optional(),
});
export type GrafanaFlags = z.output<typeof grafanaFlags>;

/** Where Grafana reads the dashboards by default (its provisioning provider's `path`). */
export const DEFAULT_DASHBOARDS_PATH = '/var/lib/grafana/dashboards/loglake';

/** Writes the files; resolves with their paths. */
export async function grafanaCommand(flags: GrafanaFlags, io: CliIO = processIO): Promise<string[]> {
  const config = loadConfig(flags.config);
  const target = await resolveAthenaTarget(flags);
  const [{ DASHBOARDS }, { grafanaFiles }] = await Promise.all([
    import('../../ui/dashboards'),
    import('../../ui/grafana'),
  ]);
  const files = grafanaFiles(
    DASHBOARDS,
    {
      database: target.database,
      workGroup: target.workGroup,
      ...(target.region ? { region: target.region } : {}),
      tables: target.tables,
      tablesFor: (categories) => athenaTablesFor(categories, config, false),
      ...(flags.datasourceUid ? { datasourceUid: flags.datasourceUid } : {}),
    },
    flags.dashboardsPath ?? DEFAULT_DASHBOARDS_PATH,
  );
  const written: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    const path = resolve(join(flags.outDir, name));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    written.push(path);
  }
  io.stdout(
    `grafana: wrote ${written.length} files for workgroup ${target.workGroup}, database ${target.database}:\n${written.map((p) => `  ${p}\n`).join('')}`,
  );
  return written;
}

export function registerGrafanaCommand(program: Command, io: CliIO = processIO): void {
  program
    .command('grafana')
    .description(
      "the four dashboards as Grafana JSON for the Athena data source, with its provisioning files (every panel's SQL pruned by dt/hour)",
    )
    .requiredOption('--out-dir <dir>', 'folder to write dashboards/ and provisioning/ into')
    .option(
      '--dashboards-path <path>',
      `where Grafana will find the dashboards' JSON (the provider's path; default ${DEFAULT_DASHBOARDS_PATH})`,
    )
    .option('--stack <name>', 'read workgroup, database and tables from this stack’s outputs')
    .option('--region <region>', 'AWS region')
    .option('--workgroup <name>', 'Athena workgroup the data source runs in')
    .option('--persona <name>', 'the persona whose workgroup the data source uses (with --stack)')
    .option('--database <name>', 'Glue database')
    .option('--logs-table <name>', 'table of the logs stream (default from the stack, or logs)')
    .option('--audit-table <name>', 'table of the audit stream (default from the stack, or audit)')
    .option('--datasource-uid <uid>', 'uid of the data source the dashboards name (default loglake-athena)')
    .option('--config <file.json>', 'config override (which categories are locked in the audit table)')
    .addHelpText(
      'after',
      '\nExamples:\n  loglake grafana --stack LogLake --persona security --out-dir grafana\n  loglake grafana --workgroup loglake --database loglake --region eu-west-1 --out-dir grafana',
    )
    .action(async (raw: unknown) => {
      await grafanaCommand(parseFlags(grafanaFlags, raw), io);
    });
}
